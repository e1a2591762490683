"""A tiny ground truth: the sequential space of 3 layers over the good ops (8 architectures),
1 epoch of 3 small batches each, trained in two chunks and collected into a table."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dasip import ground_truth as GT
from dasip.trial import run_trial

from ..conftest import compose_cfg

#: the tiny space of every test here (with the fast settings of tests/conftest.py)
TINY = ["ops=good", "space.n_layers=3", "seed=0"]


def gt_cfg(*overrides: str):
    return compose_cfg(overrides=["method=ground_truth", *TINY, *overrides])


@pytest.fixture(scope="package")
def tiny_table(tmp_path_factory) -> Path:
    """The collected table of the tiny space (its sweep is beside it, in ``sweep/``)."""
    root = tmp_path_factory.mktemp("gt")
    # one thread, as every test (tests/conftest.py): results change with the number of threads,
    # and this fixture may run before the per-test setting
    torch.set_num_threads(1)
    for chunk in (0, 1):
        run_trial(gt_cfg("method.chunks=2", f"method.chunk={chunk}"), root / "sweep" / str(chunk))
    return GT.collect([root / "sweep"], root=root / "tables", command="test")
