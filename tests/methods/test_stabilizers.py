"""``method=das method.variant=...``: config keys, trials and records of the DARTS stabilizers,
the ``stabilizers`` presets, and a report that sets the variants side by side."""

import itertools
import json
import subprocess
import sys

import pandas as pd
import pytest

from dasip.config import PASSTHROUGH, ConfigError, is_checked, leaves
from dasip.models.variants import VARIANTS
from dasip.study import load_records, setting_table
from dasip.trial import build, run_trial

from ..conftest import FAST, ROOT, compose_cfg
from .test_experiments import _compose_job, _jobs


@pytest.mark.parametrize(
    "override,match",
    [
        ("method.variant=drnas", r"^method.variant='drnas' is not allowed; allowed: darts, darts_es"),
        ("method.es_ratio=1", r"^method.es_ratio=1.0 is not allowed; allowed: a finite number > 1"),  # a float key: 1.0
        ("method.fair_threshold=1.0", r"^method.fair_threshold=1.0 is not allowed; allowed: a finite number > 0 and < 1"),
        ("method.hessian_iters=0", r"^method.hessian_iters=0 is not allowed"),
        ("method.es_window=0", r"^method.es_window=0 is not allowed"),
    ],
)  # fmt: skip
def test_bad_variant_keys_rejected_naming_the_key(override, match):
    with pytest.raises(ConfigError, match=match):
        build(compose_cfg(overrides=[override]), "unused")


@pytest.mark.parametrize(
    "overrides,match",
    [
        (["method.variant=fair", "method.order=2"], r"^method.variant='fair' is not allowed with method.order=2; allowed: darts, darts_es"),
        (["method.variant=gdas", "method.order=2"], r"^method.variant='gdas' is not allowed with method.order=2"),
        (["method.gdas_tau_min=5", "method.gdas_tau_max=1"], r"^method.gdas_tau_min=5.0 is above method.gdas_tau_max=1.0"),
    ],
)  # fmt: skip
def test_variant_keys_that_do_not_go_together_are_rejected(overrides, match, tmp_path):
    cfg = compose_cfg(overrides=overrides)
    with pytest.raises(ConfigError, match=match):
        build(cfg, "unused")
    with pytest.raises(ConfigError):  # before any work: the trial writes nothing
        run_trial(cfg, tmp_path)
    assert not (tmp_path / "record.json").exists()


def test_the_default_is_the_papers_das_and_its_record_says_so(tmp_path):
    cfg = compose_cfg()
    assert cfg.method.variant == "darts" and cfg.method.hessian is False
    rec = run_trial(cfg, tmp_path)
    assert rec.status == "ok" and rec.extra["variant"] == "darts"
    assert "hessian_eigenvalues" not in rec.extra and "es_stop_epoch" not in rec.extra


def test_variants_in_the_cell_space_write_their_records(tmp_path):
    """Every variant runs a (tiny) cell-space trial; the record carries the variant, and the
    Hessian eigenvalue trajectory (one finite value per epoch) where it is tracked."""
    for variant in VARIANTS:
        cfg = compose_cfg(
            overrides=[
                "space=cell", "space.n_states=2", "hparams.warmup_epochs=0", "save_model=false",
                f"method.variant={variant}", "method.hessian=true", "method.hessian_iters=3",
            ]
        )  # fmt: skip
        rec = json.loads(run_trial(cfg, tmp_path / variant).to_json())
        assert rec["status"] == "ok", rec["error"]
        assert rec["extra"]["variant"] == variant
        eigs = rec["extra"]["hessian_eigenvalues"]
        assert len(eigs) == cfg.epochs and all(isinstance(v, float) for v in eigs)
        assert ("es_stop_epoch" in rec["extra"]) == (variant == "darts_es")
        assert ("fair_below_threshold" in rec["extra"]) == (variant == "fair")
        if variant == "fair":
            assert all(0 < p < 1 for row in rec["alpha_probs"] for p in row)  # sigmoids


def test_stabilizers_grid_is_variants_x_ops_x_data_and_every_job_is_a_valid_trial():
    jobs = _jobs("stabilizers", ["seed=range(3)"])
    assert len(jobs) == 5 * 2 * 2 * 3
    grid = {(j["method.variant"], j["ops"], j["data"]) for j in jobs}
    assert grid == set(itertools.product(VARIANTS, ["good", "all"], ["blur", "downsampling"]))
    for experiment in ("stabilizers", "stabilizers_quick"):
        for job in _jobs(experiment, ["seed=0", "ops=all", "data=blur"]):
            cfg = _compose_job(experiment, job)
            build(cfg, "unused")
            assert cfg.method.name == "das" and cfg.hparams.name == "H1" and cfg.method.hessian
            assert cfg.study == experiment
            for key, _ in leaves(cfg):
                assert key.split(".")[0] in PASSTHROUGH or is_checked(key), key
    quick = _compose_job("stabilizers_quick", {})
    assert quick.epochs <= 5 and quick.method.es_window == 1 and not quick.logger
    assert {j["seed"] for j in _jobs("stabilizers_quick", [])} == {"0", "1"}


def _record(variant, seed, arch_psnr):
    return {
        "study": "s", "seed": seed, "method": "das", "data": "blur", "ops": "all",
        "space": "sequential", "hparams": "H1", "status": "ok", "one_shot_psnr": 20.0 + seed,
        "arch_psnr": arch_psnr, "created": "2026-01-01T00:00:00+00:00",
        "config": {"seed": seed, "method": {"name": "das", "variant": variant}},
    }  # fmt: skip


def test_report_sets_the_variants_side_by_side(tmp_path):
    """The setting's method names the variant (plain DAS stays ``das``), so the table has one
    row per variant; records without a variant key (older runs) are plain DAS."""
    old = _record("darts", 9, 20.0)
    del old["config"]["method"]["variant"]
    records = [old] + [
        _record(v, s, 20.0 + i + s) for i, v in enumerate(VARIANTS) for s in range(2)
    ]
    for i, rec in enumerate(records):
        (tmp_path / str(i)).mkdir()
        (tmp_path / str(i) / "record.json").write_text(json.dumps(rec))
    table = setting_table(load_records(tmp_path))
    methods = dict(zip(table["method"], table["trials"], strict=True))
    assert methods == {
        "das": 3, "das-darts_es": 2, "das-sdarts_rs": 2, "das-fair": 2, "das-gdas": 2
    }  # fmt: skip
    assert table.set_index("method").loc["das-fair", "max"] == pytest.approx(20.0 + 3 + 1)


@pytest.mark.slow
def test_stabilizers_quick_multirun_and_report(tmp_path):
    """The real entry point: one seed of every variant, then report.py on the sweep."""
    sweep = tmp_path / "sweep"
    cmd = [
        sys.executable, "search.py", "-m", "+experiment=stabilizers_quick", "seed=0",
        "ops=all", "data=blur", f"hydra.sweep.dir={sweep}", *FAST[1:],
    ]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=600)
    recs = [json.loads(p.read_text()) for p in sorted(sweep.rglob("record.json"))]
    assert sorted(r["extra"]["variant"] for r in recs) == sorted(VARIANTS)
    assert all(r["status"] == "ok" and r["extra"]["hessian_eigenvalues"] for r in recs)
    out = subprocess.run(
        [sys.executable, "report.py", str(sweep), "--n-boot", "50", "--no-pictures"],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    table = (sweep / "report" / "table.md").read_text()
    for v in VARIANTS[1:]:
        assert f"das-{v}" in table, out.stdout
    # every variant tracked the eigenvalue: the trajectories of all five, plain DAS too
    hessian = pd.read_csv(sweep / "report" / "hessian.csv")
    assert set(hessian["method"]) == {"das", *(f"das-{v}" for v in VARIANTS[1:])}
    assert "](hessian.png)" in (sweep / "report" / "index.md").read_text()
