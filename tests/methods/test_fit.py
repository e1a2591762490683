"""How a trial's fits run: validation every k epochs plus the last, gradients only for what a
step updates, and ``compile.search`` computing what the eager network computes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import pytorch_lightning as pl
import torch

from dasip.models.supernet import grads_only_for
from dasip.record import RECORD_FILE
from dasip.trial import run_trial

from ..conftest import FAST, ROOT, compose_cfg


class _ValidatedEpochs(pl.Callback):
    def __init__(self):
        self.epochs: dict[str, list[int]] = {}

    def on_validation_end(self, trainer, pl_module):
        self.epochs.setdefault(pl_module.phase, []).append(trainer.current_epoch + 1)


def test_validation_every_k_epochs_and_always_the_last(tmp_path):
    cfg = compose_cfg(
        overrides=["epochs=7", "retrain_epochs=4", "trainer.check_val_every_n_epoch=3"]
    )
    seen = _ValidatedEpochs()
    rec = run_trial(cfg, tmp_path, callbacks=[seen])
    assert rec.status == "ok"
    assert seen.epochs == {"search": [3, 6, 7], "retrain": [3, 4]}


def test_grads_only_for_freezes_the_rest_and_restores_it():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))
    net[1].bias.requires_grad_(False)  # frozen before: stays frozen after
    first = list(net[0].parameters())
    with grads_only_for(net, first):
        assert [p.requires_grad for p in net.parameters()] == [True, True, False, False]
        loss = net(torch.randn(5, 3)).sum()
        grads = torch.autograd.grad(loss, first)
    assert [p.requires_grad for p in net.parameters()] == [True, True, True, False]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)
    with pytest.raises(RuntimeError, match="boom"), grads_only_for(net, first):
        raise RuntimeError("boom")
    assert [p.requires_grad for p in net.parameters()] == [True, True, True, False]


@pytest.mark.slow
def test_compiled_search_finds_what_the_eager_search_finds(tmp_path):
    """``compile.search=true`` changes the speed, not the result: same genotype, PSNRs within
    0.05 dB (the noise op draws from torch's generator either way)."""
    small = ["space.n_layers=1", "ops.names=[grad,noise]", "epochs=3", "retrain_epochs=1", "seed=4",
             "hparams.alpha_warmup=false"]  # fmt: skip
    records = {}
    for compiled in ("false", "true"):
        run_dir = tmp_path / compiled
        proc = subprocess.run(
            [sys.executable, str(ROOT / "search.py"), *FAST, *small,
             f"compile.search={compiled}", f"hydra.run.dir={run_dir}"],
            capture_output=True, text=True, cwd=tmp_path, timeout=900,
            env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor")},
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        records[compiled] = json.loads((run_dir / RECORD_FILE).read_text())
        if compiled == "false":
            assert not list((tmp_path / "inductor").rglob("*.py"))
    # Inductor really compiled the supernet (no silent fallback to eager)
    assert list((tmp_path / "inductor").rglob("*.py")), "nothing compiled"
    eager, compiled = records["false"], records["true"]
    assert compiled["config"]["compile"]["search"] is True
    assert compiled["status"] == eager["status"] == "ok"
    assert compiled["genotype"] == eager["genotype"]
    assert compiled["one_shot_psnr"] == pytest.approx(eager["one_shot_psnr"], abs=0.05)
    assert compiled["arch_psnr"] == pytest.approx(eager["arch_psnr"], abs=0.05)


def test_the_fast_signal_layout_finds_what_the_convolutions_find(tmp_path, monkeypatch):
    """The matrix-product CNN and blur change the speed, not the result of a short trial: same
    genotype, PSNRs within 0.05 dB of the convolution layers they replaced."""
    from torch import nn

    from dasip.ops import cnn
    from dasip.physics import blur

    overrides = ["ops=all", "epochs=4", "retrain_epochs=2", "hparams.alpha_warmup=false", "seed=2"]
    fast = run_trial(compose_cfg(overrides=overrides), tmp_path / "fast")
    monkeypatch.setattr(cnn.SmallCNN, "forward", nn.Sequential.forward)
    monkeypatch.setattr(blur, "DENSE_MAX_LENGTH", 0)
    conv = run_trial(compose_cfg(overrides=overrides), tmp_path / "conv")
    assert fast.status == conv.status == "ok"
    assert fast.genotype == conv.genotype
    assert fast.one_shot_psnr == pytest.approx(conv.one_shot_psnr, abs=0.05)
    assert fast.arch_psnr == pytest.approx(conv.arch_psnr, abs=0.05)
