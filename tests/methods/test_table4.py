"""``+experiment=table4`` and ``table4_quick``: the image grid, every job a valid trial."""

import itertools

import pytest

from dasip.config import is_checked, leaves
from dasip.trial import build

from .test_experiments import _compose_job, _jobs


def test_table4_grid_is_methods_x_data_x_three_seeds():
    jobs = _jobs("table4", [])
    assert len(jobs) == 3 * 2 * 3
    assert {(j["method"], j["data"], j["seed"]) for j in jobs} == set(
        itertools.product(
            ["das", "random_sampling", "nets_only"], ["bsds_denoise", "bsds_blur"], "012"
        )
    )


@pytest.mark.parametrize("experiment", ["table4", "table4_quick"])
def test_every_job_of_table4_is_a_valid_image_trial(experiment, tmp_path):
    jobs = _jobs(experiment, [])
    assert len(jobs) == (18 if experiment == "table4" else 6)
    for job in [j for j in jobs if j["seed"] == "0"]:  # the seeds change nothing else
        cfg = _compose_job(experiment, job)
        assert cfg.study == experiment and cfg.ops.name == "good"
        assert cfg.space.name == "sequential" and cfg.data.name.startswith("bsds_")
        ctx = build(cfg, tmp_path)
        assert ctx.operator.spatial_dims == 2
        assert all(
            is_checked(k) for k, _ in leaves(cfg) if k.split(".")[0] not in ("trainer", "logger")
        )
        if experiment == "table4_quick":
            assert cfg.epochs <= 2 and cfg.data.batch_size <= 16 and not cfg.logger
        else:
            assert cfg.space.n_layers == 10 and cfg.data.patch_size == 40
    dncnn = _compose_job(experiment, {**jobs[0], "method": "dncnn"})
    assert build(dncnn, tmp_path).method.phases(dncnn)[0].name == "retrain"
