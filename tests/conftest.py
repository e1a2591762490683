"""Shared fixtures: compose the real Hydra config with small, fast settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

#: overrides that make a trial take a second or two
FAST = [
    "logger=none",
    "trainer.enable_progress_bar=false",
    "data.batch_size=16",
    "data.batches_per_epoch=3",
    "data.val_size=64",
    "data.eval_batch_size=64",
    "ops.width=4",
    "epochs=2",
    "retrain_epochs=1",
]


def compose_cfg(config_name: str = "search", overrides: list[str] | None = None, fast: bool = True):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(
            config_name=config_name, overrides=(FAST if fast else []) + (overrides or [])
        )


@pytest.fixture
def cfg_factory():
    return compose_cfg


@pytest.fixture(autouse=True)
def _torch_threads():
    torch.set_num_threads(1)
    yield
