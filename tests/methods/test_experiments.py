"""``conf/experiment/``: one preset per paper table; its multirun grid, and a tiny real sweep."""

import itertools
import json
import math
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser

from dasip.record import RECORD_FILE
from dasip.trial import build

from ..conftest import CONF, FAST, ROOT

TABLE1_METHODS = {"das", "das_single", "random_sampling", "random_search", "grad_only", "nets_only"}
TABLE3_HPARAMS = {"H1", "H2", "BOHB-one-shot-Blur", "BOHB-one-shot-DS", "BOHB-Blur"}
TABLE5_HPARAMS = {"H1", "H2", "BOHB-Non-Seq-one-shot-Blur", "BOHB-Non-Seq-Blur"}
FIGURE7_HPARAMS = {"BOHB-one-shot-Blur", "BOHB-one-shot-DS", "BOHB-Blur", "BOHB-DAS-single"}
OPS = ["good", "all"]
DATA = ["blur", "downsampling"]


def _jobs(experiment: str, cli: list[str]) -> list[dict[str, str]]:
    """The jobs of ``search.py -m +experiment=<experiment> <cli>``, as the basic sweeper makes
    them: the preset's ``hydra.sweeper.params`` first, command-line overrides win."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("search", overrides=[f"+experiment={experiment}"], return_hydra_config=True)
    assert cfg.hydra.sweeper._target_.endswith("BasicSweeper")
    params = [f"{k}={v}" for k, v in cfg.hydra.sweeper.params.items()]
    overrides = OverridesParser.create().parse_overrides(params + cli)
    (batch,) = BasicSweeper.split_arguments(overrides, None)
    return [dict(o.split("=", 1) for o in job) for job in batch]


def _compose_job(experiment: str, job: dict[str, str]):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(
            "search", [f"+experiment={experiment}", *(f"{k}={v}" for k, v in job.items())]
        )


def test_table1_grid_is_methods_x_ops_x_data_x_seeds():
    jobs = _jobs("table1", ["seed=range(75)"])
    assert len(jobs) == 6 * 2 * 2 * 75
    grid = {(j["method"], j["ops"], j["data"], j["seed"]) for j in jobs}
    assert grid == set(
        itertools.product(
            TABLE1_METHODS, ["good", "all"], ["blur", "downsampling"], map(str, range(75))
        )
    )


def test_table3_grid_is_hparams_x_ops_x_data_for_das():
    jobs = _jobs("table3", ["seed=range(3)"])
    assert {(j["hparams"], j["ops"], j["data"]) for j in jobs} == set(
        itertools.product(TABLE3_HPARAMS, OPS, DATA)
    )
    assert len(jobs) == 5 * 2 * 2 * 3


def test_table5_grid_is_hparams_x_ops_for_das_in_the_cell_space_on_blur():
    jobs = _jobs("table5", ["seed=range(3)"])
    assert {(j["hparams"], j["ops"]) for j in jobs} == set(itertools.product(TABLE5_HPARAMS, OPS))
    assert len(jobs) == 4 * 2 * 3
    cfg = _compose_job("table5", jobs[0])
    assert (cfg.method.name, cfg.space.name, cfg.data.name) == ("das", "cell", "blur")


def test_figure7_grid_is_das_and_das_single_x_bohb_presets_x_ops_x_data():
    jobs = _jobs("figure7", ["seed=range(3)"])
    assert {(j["method"], j["hparams"], j["ops"], j["data"]) for j in jobs} == set(
        itertools.product(["das", "das_single"], FIGURE7_HPARAMS, OPS, DATA)
    )
    assert len(jobs) == 2 * 4 * 2 * 2 * 3


PRESETS = ["table1", "table3", "table5", "figure7"]


@pytest.mark.parametrize("experiment", PRESETS + [f"{p}_quick" for p in PRESETS])
def test_every_job_of_a_preset_is_a_valid_trial(experiment):
    jobs = _jobs(experiment, ["seed=0"])
    settings = set()
    for job in jobs:
        cfg = _compose_job(experiment, job)
        build(cfg, "unused")
        assert cfg.study == experiment
        settings.add((cfg.method.name, cfg.ops.name, cfg.data.name, cfg.hparams.name))
        if experiment.startswith(("table3", "table5")):
            assert cfg.method.name == "das"
        if experiment.endswith("_quick"):
            assert cfg.epochs <= 5 and cfg.data.val_size <= 256 and not cfg.logger
            assert cfg.hparams.warmup_epochs == 1
        else:
            assert cfg.epochs == 50 and cfg.data.val_size == 2432
    assert len(settings) == len(jobs)


def _report_by(experiment: str) -> list[str]:
    """The ``--by`` keys of the ``report.py`` line in a preset's header comment."""
    text = (CONF / "experiment" / f"{experiment}.yaml").read_text()
    (line,) = [ln for ln in text.splitlines() if ln.startswith("#") and "report.py" in ln]
    return line.split("--by", 1)[1].split()[0].split(",")


@pytest.mark.parametrize("experiment", ["table3", "table5", "figure7"])
def test_the_documented_report_line_has_one_setting_per_cell_of_the_paper(experiment):
    """The preset's ``report.py --by`` keys tell every setting of the grid apart (no two cells
    of the paper's table merge into one row), and name only the record's setting fields."""
    by = _report_by(experiment)
    assert _report_by(f"{experiment}_quick") == by
    assert set(by) <= {"method", "space", "ops", "data", "hparams"}, by
    jobs = _jobs(experiment, ["seed=0"])
    swept = set(jobs[0])
    assert swept - {"seed"} <= set(by), f"--by {by} merges the settings of {swept - set(by)}"
    assert len({tuple(j.get(k) for k in by) for j in jobs}) == len(jobs)


def test_quick_presets_sweep_a_few_seeds_and_the_command_line_wins():
    assert {j["seed"] for j in _jobs("table1_quick", [])} == {"0", "1"}
    assert len(_jobs("table1_quick", [])) == 6 * 2 * 2 * 2
    jobs = _jobs("table1_quick", ["seed=7", "ops=all", "data=blur"])
    assert {j["method"] for j in jobs} == TABLE1_METHODS and len(jobs) == 6


@pytest.mark.slow
def test_tiny_experiment_multirun_runs_every_method_once(tmp_path):
    """The real entry point: one sweep over every method of Table 1, one record per job."""
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "search.py"), "-m", "+experiment=table1_quick", *FAST,
         "seed=0", "ops=all", "data=blur",
         f"hydra.sweep.dir={sweep}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = [json.loads(p.read_text()) for p in sorted(sweep.glob(f"*/{RECORD_FILE}"))]
    assert len(records) == 6
    assert {r["method"] for r in records} == TABLE1_METHODS
    keys = set(records[0])
    for r in records:
        assert set(r) == keys  # the same record for every method
        assert r["status"] == "ok" and r["study"] == "table1_quick", r
        assert (r["data"], r["ops"], r["seed"]) == ("blur", "all", 0)
        assert math.isfinite(r["arch_psnr"]) and r["train_time_s"] > 0
        has_one_shot = r["method"] in ("das", "das_single")
        assert (r["one_shot_psnr"] is not None) == has_one_shot
        searches = r["method"] in ("das", "das_single", "random_search")
        assert (r["search_time_s"] > 0.01) == searches, r["method"]
    # das_single pre-trained into the default cache under the start directory
    assert len(list((tmp_path / ".cache" / "dasip" / "pretrained").glob("*.pt"))) == 2
