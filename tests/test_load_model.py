"""``dasip.load_model``: a finished run's network, ready for ``model(y)`` in another project."""

import math

import pytest
import torch

import dasip
from dasip.config import ConfigError
from dasip.metrics import evaluate_psnr
from dasip.trial import MODEL_FILE, build, run_trial

from .conftest import compose_cfg


def test_load_model_reproduces_the_recorded_psnr(tmp_path):
    run = tmp_path / "run"
    record = run_trial(compose_cfg("train", ["arch=grad*2-net*7-grad", "seed=3"]), run)
    assert record.status == "ok" and math.isfinite(record.arch_psnr)

    model, genotype, config = dasip.load_model(run)
    assert genotype == record.genotype == "grad*2-net*7-grad"
    assert not model.training and config.seed == 3
    x, y = build(config, tmp_path / "scoring").validation_set()
    with torch.no_grad():
        assert model(y[:4]).shape == x[:4].shape
    # the project's own scoring of model(y) on the run's validation set is the record's PSNR
    psnr = evaluate_psnr(model, x, y, config.data.eval_batch_size, config.psnr.data_range)
    assert psnr == pytest.approx(record.arch_psnr, abs=1e-4)
    # the model.pt file itself works too, and an untrained network does not score the same
    assert dasip.load_model(run / MODEL_FILE).genotype == genotype
    fresh = build(config, tmp_path / "fresh")
    untrained = fresh.space.derived(fresh.op_context(), fresh.space.parse(genotype))
    assert evaluate_psnr(untrained, x, y, 64, 1.0) != pytest.approx(psnr, abs=1e-3)


def test_load_model_names_a_bad_run_dir(tmp_path):
    with pytest.raises(ConfigError, match=r"^run_dir=.*nowhere: no such file$"):
        dasip.load_model(tmp_path / "nowhere")
    (tmp_path / MODEL_FILE).write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"^run_dir=.*: not a dasip model.pt"):
        dasip.load_model(tmp_path)


def test_evaluate_takes_a_records_problem_into_its_typed_config(tmp_path):
    """``evaluate.py record=RUN``: the run's data, loss and psnr blocks replace evaluate.py's,
    the typed ones (loss, psnr) keeping their schema, and the result builds as a trial."""
    from omegaconf import OmegaConf

    from dasip.config import LossConf, PsnrConf
    from dasip.record import RECORD_FILE
    from dasip.trial import config_from_record

    overrides = ["arch=grad*10", "data=downsampling", "loss.reduction=mean", "psnr.data_range=max"]
    run_trial(compose_cfg("train", overrides), tmp_path / "run")
    cfg = config_from_record(compose_cfg("evaluate"), tmp_path / "run" / RECORD_FILE)
    assert (cfg.data.name, cfg.loss.reduction, cfg.psnr.data_range) == (
        "downsampling",
        "mean",
        "max",
    )
    assert OmegaConf.get_type(cfg.loss) is LossConf and OmegaConf.get_type(cfg.psnr) is PsnrConf
    assert cfg.arch == "grad*10"
    assert build(cfg, tmp_path / "eval").data.name == "downsampling"
