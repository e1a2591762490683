"""The cell space end to end: the real config, a few steps, one record per trial."""

import math
import subprocess
import sys

import pytest
import torch

from dasip.methods import METHODS
from dasip.record import read_record
from dasip.spaces import CellSpace
from dasip.trial import evaluate_checkpoint, run_trial

from ..conftest import CONF, FAST, ROOT, compose_cfg

CELL = ["space=cell", "seed=2"]


def test_tiny_cell_search_writes_a_record(tmp_path):
    cfg = compose_cfg(overrides=[*CELL, "hparams=BOHB-Non-Seq-one-shot-Blur"])
    rec = run_trial(cfg, tmp_path)
    d = read_record(tmp_path)
    assert d["status"] == "ok" and d["method"] == "das" and d["space"] == "cell"
    assert d["hparams"] == "BOHB-Non-Seq-one-shot-Blur"
    assert math.isfinite(d["one_shot_psnr"]) and math.isfinite(d["arch_psnr"])
    # one row of softmax(alpha) per edge of both cells, one column per op of the set plus zero
    assert len(d["alpha_probs"]) == 30 and {len(r) for r in d["alpha_probs"]} == {5}
    assert all(abs(sum(r) - 1) < 1e-5 for r in d["alpha_probs"])
    assert d["extra"]["alpha_steps"] == 6  # no alpha warm-up in the cell presets: every step
    space = CellSpace()
    genotype = space.parse(d["genotype"])
    assert str(genotype) == rec.genotype and d["config"]["space"]["n_states"] == 5
    # the derived cell is the argmax of the recorded alphas, zero included
    names = ["grad", "net", "roll", "noise", "zero"]
    argmax = [names[max(range(5), key=r.__getitem__)] for r in d["alpha_probs"]]
    assert [op for cell in genotype.cells for op in cell] == argmax
    # the saved model is the derived cell network and scores as recorded
    assert evaluate_checkpoint(cfg, tmp_path) == pytest.approx(d["arch_psnr"], abs=1e-4)


@pytest.mark.parametrize("method", ["fixed", "random_sampling", "random_search"])
def test_other_methods_work_in_the_cell_space(tmp_path, method):
    if method not in METHODS:
        pytest.skip(f"method {method} is not registered yet")
    overrides = [*CELL, f"method={method}", "ops=good"]
    if method == "fixed":
        overrides.append("arch=grad-zero*14/net-zero-net*13")
    if method == "random_search":
        overrides.append("method.k=2")
    d = run_trial(compose_cfg("train" if method == "fixed" else "search", overrides), tmp_path)
    assert d.status == "ok" and d.space == "cell" and math.isfinite(d.arch_psnr)
    g = CellSpace().parse(d.genotype)
    assert {op for cell in g.cells for op in cell} <= {"grad", "net", "zero"}
    if method == "fixed":
        assert d.genotype == "grad-zero*14/net-zero-net*13"
        # cell 0: state 1 reaches no output, so nothing is built; cell 1: all 14 net edges
        state = torch.load(tmp_path / "model.pt", weights_only=False)["state_dict"]
        assert not any(k.startswith("cells.0.edges.") for k in state)
        assert {k.split(".")[3] for k in state if k.startswith("cells.1.edges.")} == {
            str(e) for e in range(14)
        }


@pytest.mark.parametrize("method,op", [("grad_only", "grad"), ("nets_only", "net")])
def test_baselines_put_their_op_on_every_edge_of_every_cell(tmp_path, method, op):
    """Table 2's "Learnable Grad. only" and "Nets only" rows: one op on all 2 x 15 edges."""
    d = run_trial(compose_cfg(overrides=[*CELL, f"method={method}", "ops=all"]), tmp_path)
    assert d.status == "ok" and d.method == method and d.space == "cell"
    assert d.genotype == f"{op}*15/{op}*15" and d.one_shot_psnr is None
    assert math.isfinite(d.arch_psnr) and d.search_time_s == 0
    assert read_record(tmp_path)["config"]["method"]["arch"] == d.genotype
    # every edge built: nothing of an all-op cell is pruned
    state = torch.load(tmp_path / "model.pt", weights_only=False)["state_dict"]
    for c in (0, 1):
        edges = {k.split(".")[3] for k in state if k.startswith(f"cells.{c}.edges.")}
        assert edges == {str(e) for e in range(15)}


@pytest.mark.slow
def test_train_and_evaluate_py_accept_a_cell_genotype_unquoted(tmp_path):
    arch = "grad-net-zero*13/net*2-zero*13"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *FAST, "space=cell", f"arch={arch}",
         f"hydra.run.dir={tmp_path}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"genotype={arch} " in proc.stdout
    rec = read_record(tmp_path)
    assert rec["space"] == "cell" and rec["genotype"] == arch and math.isfinite(rec["arch_psnr"])

    bad = subprocess.run(
        [sys.executable, str(ROOT / "evaluate.py"), *FAST, "space=cell",
         "arch=grad*15/grad*7-conv-grad*7", f"hydra.run.dir={tmp_path / 'bad'}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "cell 1, edge 7 (state 4 <- node 1) has unknown op 'conv'" in bad.stderr
    assert "Epoch" not in bad.stdout + bad.stderr


def _table2_jobs(experiment: str, cli: list[str]) -> list[list[str]]:
    """The jobs of ``search.py -m +experiment=<experiment> <cli>``, expanded by Hydra's own basic
    sweeper logic: the preset's ``hydra.sweeper.params`` first, the command line wins."""
    from hydra import compose, initialize_config_dir
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("search", overrides=[f"+experiment={experiment}"], return_hydra_config=True)
    params = [f"{k}={v}" for k, v in cfg.hydra.sweeper.params.items()]
    (jobs,) = BasicSweeper.split_arguments(
        OverridesParser.create().parse_overrides(params + cli), None
    )
    return jobs


@pytest.mark.parametrize("experiment", ["table2", "table2_quick"])
def test_table2_grid_is_methods_x_ops_x_data_in_the_cell_space(experiment):
    """``+experiment=table2`` sweeps the paper's cell-space grid; every job is a valid trial."""
    from hydra import compose, initialize_config_dir

    from dasip.trial import build

    jobs = _table2_jobs(experiment, ["seed=0"])
    settings = set()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        for job in jobs:
            cfg = compose("search", overrides=[f"+experiment={experiment}", *job])
            assert cfg.space.name == "cell" and cfg.study == experiment
            assert cfg.hparams.name == "H1"
            build(cfg, "unused")
            settings.add((cfg.method.name, cfg.ops.name, cfg.data.name))
    # the paper's rows (DAS, random sampling, the two fixed baselines) and dasip's random search
    assert len(jobs) == 20 and settings == {
        (m, o, d)
        for m in ("das", "random_sampling", "random_search", "grad_only", "nets_only")
        for o in ("good", "all")
        for d in ("blur", "downsampling")
    }
    if experiment == "table2_quick":
        assert len(_table2_jobs(experiment, [])) == 40  # seeds 0 and 1
    # the cell presets as a further axis, from the command line
    jobs = _table2_jobs(
        experiment, ["seed=range(2)", "hparams=H1,BOHB-Non-Seq-one-shot-Blur,BOHB-Non-Seq-Blur"]
    )
    assert len(jobs) == 20 * 3 * 2
