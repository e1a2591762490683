"""Hessian tracking (RobustDARTS): power iteration against known and explicit eigenvalues, and
DARTS-ES' early-stopping rule on synthetic trajectories and in a search."""

import pytest
import pytorch_lightning as pl
import torch
from torch.func import functional_call

from dasip.data import SignalDataModule, cosine_signals
from dasip.metrics import reconstruction_loss
from dasip.models import HParams, SupernetModule
from dasip.models import supernet as supernet_module
from dasip.models.hessian import alpha_hessian_eigenvalue, eigenvalue_grew, power_iteration
from dasip.models.variants import Variant
from dasip.ops import OpContext
from dasip.physics import Blur1d, add_noise
from dasip.spaces import SequentialSpace

from .test_search import _trainer


def test_power_iteration_finds_the_top_eigenvalue_of_a_known_quadratic():
    """``f(a) = a^T H a / 2`` over two tensors (a 2x2 and a 3-vector, 7 unknowns) with
    eigenvalues chosen by hand, largest magnitude 5; the Hessian-vector product by autograd."""
    g = torch.Generator().manual_seed(3)
    q, _ = torch.linalg.qr(torch.randn(7, 7, generator=g, dtype=torch.float64))
    eig = torch.tensor([5.0, 2.0, -1.5, 0.5, 0.1, 1.0, -0.2], dtype=torch.float64)
    h = q @ torch.diag(eig) @ q.T
    a = [torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)]
    a.append(torch.zeros(3, dtype=torch.float64, requires_grad=True))

    def hvp(v):
        flat = torch.cat([t.reshape(-1) for t in a])
        (grad,) = torch.autograd.grad(0.5 * flat @ h @ flat, [flat], create_graph=True)
        vec = torch.cat([t.reshape(-1) for t in v])
        out = torch.autograd.grad(grad @ vec, a)
        return out

    assert power_iteration(hvp, a, iters=60) == pytest.approx(5.0, rel=1e-6)
    # a dominant negative eigenvalue is found with its sign
    h2 = -h
    assert power_iteration(lambda v: _matvec(h2, v), a, iters=60) == pytest.approx(-5.0, rel=1e-6)


def _matvec(h, v):
    vec = torch.cat([t.reshape(-1) for t in v])
    out = h @ vec
    return [out[:4].reshape(2, 2), out[4:]]


def _tiny_supernet():
    torch.manual_seed(0)
    op = Blur1d()
    body = SequentialSpace(3).supernet(OpContext(op, width=4), ["grad", "net", "roll", "noise"])
    body = body.to(torch.float64)
    with torch.no_grad():
        body.alpha.normal_()
    g = torch.Generator().manual_seed(1)
    x = cosine_signals(16, 50, g, dtype=torch.float64)
    return body, (x, add_noise(op(x), 0.01, g))


def test_power_iteration_agrees_with_the_explicit_hessian_of_a_tiny_supernet():
    """The eigenvalue from Hessian-vector products equals the dominant eigenvalue of the full
    Hessian (autograd's double backward, formed explicitly) of the supernet's loss w.r.t. alpha,
    to 1e-3; batch norm statistics and the random stream are left as they were."""
    body, batch = _tiny_supernet()
    x, y = batch

    def loss_of(alpha):
        torch.manual_seed(0)  # the noise ops draw what the tracked pass draws
        return reconstruction_loss(functional_call(body, {"alpha": alpha}, (y,)), x)

    alpha = body.alpha.detach().clone()
    buffers = [b.clone() for b in body.buffers()]
    hess = torch.autograd.functional.hessian(loss_of, alpha).reshape(alpha.numel(), -1)
    eigs = torch.linalg.eigvalsh(hess)
    dominant = float(eigs[eigs.abs().argmax()])
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    for b, saved in zip(body.buffers(), buffers, strict=True):
        b.copy_(saved)  # the explicit pass above ran in train mode too
    value = alpha_hessian_eigenvalue(
        body, lambda b: reconstruction_loss(body(b[1]), b[0]), batch, 200
    )
    assert value == pytest.approx(dominant, rel=1e-3)
    assert abs(dominant) > 1e-3  # a real curvature, not a vanishing one
    assert torch.equal(torch.rand(3), expected_next)
    for b, saved in zip(body.buffers(), buffers, strict=True):
        assert torch.equal(b, saved)


@pytest.mark.parametrize(
    "trajectory,stops",
    [
        ([1.0] * 10, False),  # flat
        ([1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.03, 0.97, 1.02, 1.0], False),  # flat with noise
        ([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9], True),  # grows: 1.7 / 1.2 > 1.3
        ([1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4, 1.45], False),  # grows 1.16x only
        ([1.0] * 9, False),  # fewer than two windows
        ([5.0, 4.0, 3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], False),  # shrinks
    ],
)
def test_early_stopping_rule_on_synthetic_trajectories(trajectory, stops):
    assert eigenvalue_grew(trajectory, window=5, ratio=1.3) is stops


def test_early_stopping_rule_window_and_ratio():
    grows = [1.0, 1.0, 1.5, 1.5]
    assert eigenvalue_grew(grows, window=2, ratio=1.3)
    assert not eigenvalue_grew(grows, window=2, ratio=1.6)
    assert not eigenvalue_grew(grows, window=3, ratio=1.3)  # needs 6 entries
    assert not eigenvalue_grew([-1.0, -1.0, 1.0, 1.0], window=2, ratio=1.3)  # no positive base


def _es_search(trajectory, epochs=8, window=2, monkeypatch=None):
    """A DARTS-ES search whose eigenvalue estimates are replaced by ``trajectory``; returns the
    module and alpha at the end of every epoch (as the search left it, before the module's own
    epoch-end hook)."""
    values = iter(trajectory)
    monkeypatch.setattr(supernet_module, "alpha_hessian_eigenvalue", lambda *a, **k: next(values))
    pl.seed_everything(0, verbose=False)
    op = Blur1d()
    body = SequentialSpace(2).supernet(OpContext(op, width=4), ["grad", "noise"])
    hp = HParams(alpha_lr=0.05, alpha_optimizer="adam", alpha_warmup=False)
    dm = SignalDataModule(op, seed=0, batch_size=8, batches_per_epoch=2, val_size=16)
    module = SupernetModule(
        body,
        hp,
        epochs=epochs,
        steps_per_epoch=2,
        variant=Variant("darts_es", es_window=window, es_ratio=1.3),
        hessian_batch=dm.validation_set(),
    )
    alphas = {}

    class Snap(pl.Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            alphas[trainer.current_epoch] = body.alpha.detach().clone()

    _trainer(epochs, callbacks=[Snap()]).fit(module, datamodule=dm)
    return module, body, alphas


def test_darts_es_stops_when_the_eigenvalue_grows_and_returns_the_earlier_supernet(monkeypatch):
    """Eigenvalues 1, 1, 1, 1, 2, ...: after epoch 4 the last window (1, 2) averages 1.5 > 1.3 x
    the one before (1, 1): the search stops there and returns the supernet of epoch 4 - 2."""
    module, body, alphas = _es_search([1.0] * 4 + [2.0] * 10, monkeypatch=monkeypatch)
    assert module.es_stop_epoch == 4 and module.es_return_epoch == 2
    assert sorted(alphas) == [0, 1, 2, 3, 4]  # no epoch after the stop
    assert module.alpha_steps == 5 * 2
    assert torch.equal(body.alpha.detach(), alphas[2])
    assert not torch.equal(alphas[4], alphas[2])
    extra = module.search_extra()
    assert extra["es_stop_epoch"] == 4 and extra["hessian_eigenvalues"] == [1.0] * 4 + [2.0]


def test_darts_es_runs_to_the_end_on_a_flat_trajectory(monkeypatch):
    module, body, alphas = _es_search([1.0] * 8, monkeypatch=monkeypatch)
    assert module.es_stop_epoch is None and sorted(alphas) == list(range(8))
    assert torch.equal(body.alpha.detach(), alphas[7])
    assert module.search_extra()["es_stop_epoch"] is None
