"""Shared fixtures: compose the real Hydra config with small, fast settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

import dasip.config  # noqa: F401 - registers the config schemas the configs name
from dasip import CONF_DIR

ROOT = Path(__file__).resolve().parents[1]
CONF = CONF_DIR  # src/dasip/conf: the package ships its configs

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

#: overrides that make a trial take a second or two
FAST = [
    "logger=none",
    "num_threads=1",  # tiny tensors: a second thread only adds synchronisation (and on a busy machine, waits)
    "trainer.enable_progress_bar=false",
    "data.batch_size=16",
    "data.batches_per_epoch=3",
    "data.val_size=64",
    "data.eval_batch_size=64",
    "ops.width=4",
    "epochs=2",
    "retrain_epochs=1",
]


def job_dir(sweep: Path, **keys) -> Path:
    """The one job folder of multirun ``sweep`` whose name (its overrides, ``k=v`` joined by
    ``,``) holds every ``key=value`` of ``keys`` (dots in keys as ``__``)."""
    wanted = [f"{k.replace('__', '.')}={v}" for k, v in keys.items()]
    found = [
        p for p in sweep.iterdir()
        if p.is_dir() and not p.name.startswith(".") and all(w in p.name.split(",") for w in wanted)
    ]  # fmt: skip
    assert len(found) == 1, (wanted, [p.name for p in sweep.iterdir()])
    return found[0]


def compose_cfg(config_name: str = "search", overrides: list[str] | None = None, fast: bool = True):
    """The composed config; a value of the wrong type (a schema's, ``data.n=abc``) raises the
    :class:`~dasip.config.ConfigError` that the command line prints."""
    from dasip.schema import compose_error

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        try:
            return compose(
                config_name=config_name, overrides=(FAST if fast else []) + (overrides or [])
            )
        except Exception as e:
            error = compose_error(e)
            if error is None:
                raise
            raise error from e


@pytest.fixture
def cfg_factory():
    return compose_cfg


@pytest.fixture(scope="session", autouse=True)
def bsds_root(tmp_path_factory):
    """A BSDS300-layout folder of stand-in images (matplotlib's samples, 6 train / 4 test, 72x96
    and 96x72) that the ``data=bsds_*`` configs read through ``DASIP_DATA_ROOT``."""
    from dasip.data import write_stand_in

    root = write_stand_in(tmp_path_factory.mktemp("bsds"), n_train=6, n_test=4, size=(72, 96))
    before = os.environ.get("DASIP_DATA_ROOT")
    os.environ["DASIP_DATA_ROOT"] = str(root)
    yield root
    if before is None:
        os.environ.pop("DASIP_DATA_ROOT", None)
    else:
        os.environ["DASIP_DATA_ROOT"] = before


@pytest.fixture(autouse=True)
def _torch_threads():
    torch.set_num_threads(1)
    yield
