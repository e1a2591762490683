"""``method=dncnn``: the standard DnCNN as an external baseline, on the trial's data."""

import math

import pytest
import torch

from dasip.methods import METHODS
from dasip.methods.dncnn import DnCNN
from dasip.physics import Blur2d, Identity
from dasip.record import read_record
from dasip.trial import build, evaluate_checkpoint, run_trial

from ..conftest import compose_cfg


def test_dncnn_is_the_published_network():
    net = DnCNN(Identity(2))
    convs = [m for m in net.residual if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in net.residual if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(convs) == 17 and len(norms) == 15
    assert {c.out_channels for c in convs[:-1]} == {64} and convs[-1].out_channels == 1
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert sum(p.numel() for p in net.parameters()) == 556_097  # DnCNN-S
    assert type(DnCNN(Identity(1), depth=3, width=8).residual[0]).__name__ == "Conv1d"


def test_dncnn_learns_the_residual_of_the_back_projection():
    op = Blur2d(5, 1.0)
    net = DnCNN(op, depth=3, width=4).eval()
    y = torch.randn(2, 1, 12, 12)
    x0 = op.adjoint(y)
    assert torch.allclose(net(y), x0 - net.residual(x0))
    torch.nn.init.zeros_(net.residual[-1].weight)
    torch.nn.init.zeros_(net.residual[-1].bias)
    assert torch.allclose(net(y), x0)  # D = 0: the estimate is A^T y


def test_dncnn_trial_on_images_writes_its_record_and_picture(tmp_path):
    overrides = [
        "method=dncnn", "method.depth=4", "method.width=8", "data=bsds_denoise",
        "data.patch_size=16", "data.val_patch_size=16", "data.pictures=2", "retrain_epochs=2",
    ]  # fmt: skip
    assert [p.name for p in build(compose_cfg(overrides=overrides), tmp_path).phases] == ["retrain"]
    rec = run_trial(compose_cfg(overrides=overrides), tmp_path)
    assert rec.status == "ok" and rec.method == "dncnn" and rec.genotype is None
    assert math.isfinite(rec.arch_psnr) and rec.one_shot_psnr is None
    assert rec.extra["depth"] == 4 and rec.extra["picture"] == "val_images.png"
    assert read_record(tmp_path)["extra"]["network"] == "dncnn"
    assert (tmp_path / "val_images.png").stat().st_size > 1000 and (tmp_path / "model.pt").is_file()
    assert "dncnn" in METHODS
    # evaluate.py checkpoint=: the saved network (no genotype) loads and scores what it scored
    assert evaluate_checkpoint(compose_cfg("evaluate"), tmp_path) == pytest.approx(
        rec.arch_psnr, abs=1e-4
    )
