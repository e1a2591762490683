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
    0.05 dB (the noise op draws from torch's generator either way), the same Hessian
    eigenvalues (their double backward runs eagerly inside the compiled network)."""
    small = ["space.n_layers=2", "ops.names=[grad,noise]", "epochs=3", "retrain_epochs=1", "seed=4",
             "hparams.alpha_warmup=false", "method.hessian=true", "method.hessian_iters=3"]  # fmt: skip
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
    # Inductor really compiled the supernet's blocks (no silent fallback to eager)
    assert list((tmp_path / "inductor").rglob("*.py")), "nothing compiled"
    eager, compiled = records["false"], records["true"]
    assert compiled["config"]["compile"]["search"] is True
    assert (eager["extra"]["compiled"], compiled["extra"]["compiled"]) == ([], ["search"])
    assert "compiling 2 blocks" in (tmp_path / "true" / "search.log").read_text()
    assert compiled["status"] == eager["status"] == "ok"
    assert compiled["genotype"] == eager["genotype"]
    assert compiled["one_shot_psnr"] == pytest.approx(eager["one_shot_psnr"], abs=0.05)
    assert compiled["arch_psnr"] == pytest.approx(eager["arch_psnr"], abs=0.05)
    values = eager["extra"]["hessian_eigenvalues"]
    assert len(values) == 3 and all(v > 0 for v in values)
    assert compiled["extra"]["hessian_eigenvalues"] == pytest.approx(values, rel=1e-3)


def test_compile_units_are_the_repeated_blocks():
    """A supernet compiles its mixed ops, a derived network its ops, anything else whole: blocks
    of one kind share their compiled graphs."""
    from dasip.ops import OpContext, Operation
    from dasip.physics import Blur1d
    from dasip.spaces import CellSpace, SequentialSpace
    from dasip.spaces.mixed import MixedOp
    from dasip.trial.compile import compile_units

    ctx = OpContext(Blur1d(), width=4)
    space = SequentialSpace(3)
    units = compile_units(space.supernet(ctx, ["grad", "net", "roll"]))
    assert len(units) == 3 and all(isinstance(u, MixedOp) for u in units)
    derived = space.derived(ctx, space.parse("grad-net-roll"))
    assert compile_units(derived) == list(derived.layers)
    assert all(
        isinstance(u, MixedOp) for u in compile_units(CellSpace().supernet(ctx, ["grad", "zero"]))
    )
    plain = torch.nn.Sequential(torch.nn.Linear(2, 2))
    assert compile_units(plain) == [plain]
    assert not any(isinstance(u, Operation) for u in units)


def test_auto_compiles_long_cpu_searches_only(monkeypatch):
    from dasip.trial import compile as policy

    cpu = torch.device("cpu")
    assert policy.auto_compile(950, 500, cpu)[0] is (policy.cpp_compiler() is not None)
    assert policy.auto_compile(499, 500, cpu) == (
        False,
        "auto: eager, 499 steps < compile.min_steps=500",
    )
    assert policy.auto_compile(950, 500, torch.device("cuda", 0))[0] is False
    monkeypatch.setattr(policy, "cpp_compiler", lambda: None)
    assert policy.auto_compile(950, 500, cpu) == (
        False,
        "auto: eager, no C++ compiler for Inductor found",
    )
    monkeypatch.setattr(policy, "can_run_eagerly_inside_compiled", lambda: False)
    assert "older than 2.6" in policy.auto_compile(950, 500, cpu)[1]


def test_auto_decides_per_fit_from_its_steps(tmp_path, monkeypatch):
    """``compile.search=auto`` (the default) compiles a search of ``compile.min_steps`` steps or
    more, never a retraining (``compile.retrain=false``), and the record says what it compiled."""
    from dasip.trial import build, context
    from dasip.trial import compile as policy

    compiled = []
    monkeypatch.setattr(context, "compile_in_place", lambda net: compiled.append(net) or 1)
    monkeypatch.setattr(policy, "cpp_compiler", lambda: "g++")
    cfg = compose_cfg(overrides=["compile.min_steps=6"])  # FAST: 2 epochs x 3 batches
    assert cfg.compile.search == "auto" and cfg.compile.retrain is False
    ctx = build(cfg, tmp_path)
    assert ctx.compile_decision("search", 2) == (True, "auto: 6 steps >= compile.min_steps=6")
    assert ctx.compile_decision("search", 1)[0] is False
    assert ctx.compile_decision("retrain", 100) == (False, "false")
    rec = run_trial(cfg, tmp_path / "run")
    assert rec.status == "ok" and rec.extra["compiled"] == ["search"] and len(compiled) == 1
    rec = run_trial(compose_cfg(overrides=["compile.min_steps=7"]), tmp_path / "run7")
    assert rec.extra["compiled"] == [] and len(compiled) == 1


def test_hessian_with_compile_needs_a_torch_that_runs_eagerly_inside(monkeypatch, tmp_path):
    from dasip.config import ConfigError
    from dasip.trial import build
    from dasip.trial import compile as policy

    monkeypatch.setattr(policy, "can_run_eagerly_inside_compiled", lambda: False)
    cfg = compose_cfg(overrides=["compile.search=true", "method.hessian=true"])
    with pytest.raises(ConfigError, match=r"compile\.search=true cannot track the Hessian"):
        build(cfg, tmp_path)
    build(compose_cfg(overrides=["compile.search=auto", "method.hessian=true"]), tmp_path)
    build(compose_cfg(overrides=["compile.search=true"]), tmp_path)


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
