"""``conf/setup/``: readings of the paper's open details, and the calibration preset that
trains the fixed baselines under each of them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from dasip.record import flatten, read_record
from dasip.study import load_records

from ..conftest import CONF, FAST, ROOT, compose_cfg
from .test_experiments import _compose_job, _jobs

#: the defaults of the keys that the operator readings change
DEFAULT_OPERATOR = {
    ("data.operator.normalize", "sum"), ("data.operator.sigma_unit", "grid"),
    ("data.operator.padding", "zero"), ("space.initial", "adjoint"), ("data.noise_std", 0.01),
}  # fmt: skip
#: what each reading changes against the defaults, and nothing else
READINGS = {
    "default": {},
    "sgd_mean": {"hparams.param_optimizer": "sgd", "loss.reduction": "mean"},
    "sgd_sum": {"hparams.param_optimizer": "sgd"},
    "adam_mean": {"loss.reduction": "mean"},
    "noise_high": {"data.noise_std": 0.10},
    "zero_init": {"space.initial": "zero"},
    "sgd_mean_noise_high": {
        "hparams.param_optimizer": "sgd", "loss.reduction": "mean", "data.noise_std": 0.10,
    },
    "sgd_mean_zero_init": {
        "hparams.param_optimizer": "sgd", "loss.reduction": "mean", "space.initial": "zero",
    },
}  # fmt: skip
#: the operator readings that pass (or come near) the paper's floors (python -m dasip.floor)
OPERATOR_READINGS = {
    "samples_density_valid": ("density", "samples", "valid", "scaled_adjoint", 0.316),
    "samples_valid": ("sum", "samples", "valid", "adjoint", 0.316),
    "samples_valid_noise10": ("sum", "samples", "valid", "adjoint", 0.1),
    "grid_valid": ("sum", "grid", "valid", "adjoint", 0.316),
}
for _name, (_norm, _unit, _pad, _init, _noise) in OPERATOR_READINGS.items():
    _keys = {
        "data.operator.normalize": _norm, "data.operator.sigma_unit": _unit,
        "data.operator.padding": _pad, "space.initial": _init, "data.noise_std": _noise,
    }  # fmt: skip
    READINGS[_name] = {k: v for k, v in _keys.items() if (k, v) not in DEFAULT_OPERATOR}
    READINGS[f"{_name}_sgd_mean"] = {**READINGS[_name], **READINGS["sgd_mean"]}
# the reading closest to the paper's Table 1 (docs/reproduction.md)
READINGS["paper"] = READINGS["samples_density_valid"]


def test_every_reading_is_a_setup_and_changes_only_its_keys():
    assert {p.stem for p in (CONF / "setup").glob("*.yaml")} == set(READINGS)
    base = flatten(OmegaConf.to_container(compose_cfg(), resolve=True))
    for name, changes in READINGS.items():
        cfg = flatten(
            OmegaConf.to_container(compose_cfg(overrides=[f"setup={name}"]), resolve=True)
        )
        diff = {k: v for k, v in cfg.items() if base.get(k) != v}
        assert diff == {**changes, **({"setup": name} if name != "default" else {})}, name


def test_calibration_grid_is_readings_x_baselines_x_data_x_seeds():
    jobs = _jobs("calibration", [])
    # every reading of the first calibration (not paper, not the floor's operator readings)
    assert len(jobs) == (len(READINGS) - 1 - 2 * len(OPERATOR_READINGS)) * 2 * 2 * 5
    assert {j["method"] for j in jobs} == {"grad_only", "nets_only"}
    for job in _jobs("calibration_quick", []):
        cfg = _compose_job("calibration_quick", job)
        assert cfg.setup == job["setup"] and cfg.study == "calibration"


def test_floor_calibration_grid_is_the_operator_readings_trained_two_ways():
    jobs = _jobs("calibration_floor", [])
    setups = {j["setup"] for j in jobs}
    assert setups == set(OPERATOR_READINGS) | {f"{r}_sgd_mean" for r in OPERATOR_READINGS}
    assert len(jobs) == len(setups) * 2 * 2 * 10
    assert jobs[0]["setup"] == "samples_density_valid"  # the closest reading runs first


@pytest.mark.slow
def test_calibration_quick_runs_and_reports_by_reading(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "search.py"), "-m", "+experiment=calibration_quick", *FAST,
         "data=blur", f"hydra.sweep.dir={sweep}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = [read_record(p.parent) for p in sweep.glob("*/record.json")]
    assert sorted((r["config"]["setup"], r["method"]) for r in records) == sorted(
        (s, m) for s in ("default", "sgd_mean") for m in ("grad_only", "nets_only")
    )
    assert all(r["status"] == "ok" for r in records)
    sgd = [r for r in records if r["config"]["setup"] == "sgd_mean"]
    assert all(r["config"]["hparams"]["param_optimizer"] == "sgd" for r in sgd)
    df = load_records([sweep])
    out = subprocess.run(
        [sys.executable, str(ROOT / "report.py"), str(sweep), "--by", "method,data,setup",
         "--out", str(tmp_path / "report")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert (
        len(df) == 4 and "sgd_mean" in out.stdout + (tmp_path / "report" / "index.md").read_text()
    )
