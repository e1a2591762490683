"""Second-order DARTS: the finite-difference Hessian-vector product and the unrolled alpha
gradient against autograd, exact restoration of the supernet, and the search step itself."""

import pytest
import torch
from torch.func import functional_call

from dasip.data import cosine_signals
from dasip.metrics import reconstruction_loss
from dasip.models import HParams, SupernetModule
from dasip.models.unrolled import RngState, finite_difference_hvp, unrolled_alpha_grads
from dasip.ops import OpContext
from dasip.physics import Blur1d, add_noise
from dasip.spaces import SequentialSpace

ALL_OPS = ["grad", "net", "roll", "noise"]


def _supernet(dtype=torch.float64, n_layers=3, seed=0, ops=ALL_OPS):
    """A small supernet (by default over all ops: BN, ReLU, roll and noise), alphas spread out."""
    torch.manual_seed(seed)
    op = Blur1d()
    body = SequentialSpace(n_layers).supernet(OpContext(op, width=4), ops).to(dtype)
    with torch.no_grad():
        body.alpha.normal_()
    return body, op


def _batches(op, dtype=torch.float64, n=2, size=16):
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(n):
        x = cosine_signals(size, 50, g, dtype=dtype)
        out.append((x, add_noise(op(x), 0.01, g)))
    return out


def _loss_fn(body):
    return lambda batch: reconstruction_loss(body(batch[1]), batch[0])


def _rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


def test_finite_difference_hvp_matches_double_backward():
    body, op = _supernet()
    (batch,) = _batches(op, n=1)
    loss_fn = _loss_fn(body)
    weights, alphas = body.weight_parameters(), body.arch_parameters()
    v = [torch.randn_like(w) for w in weights]
    torch.manual_seed(5)
    rng = RngState.capture(torch.device("cpu"))
    fd = finite_difference_hvp(body, loss_fn, batch, v, eps=1e-4)
    # exact: d/dalpha <dL/dw, v> by double backward, under the same noise-op draws
    rng.restore()
    gw = torch.autograd.grad(loss_fn(batch), weights, create_graph=True)
    exact = torch.autograd.grad(sum((g * u).sum() for g, u in zip(gw, v, strict=True)), alphas)
    assert exact[0].abs().max() > 1.0  # a real, non-trivial product
    assert _rel_err(fd[0], exact[0]) < 1e-6


def test_unrolled_alpha_gradient_matches_autograd_through_the_virtual_step():
    """The full second-order gradient d/dalpha L_v(w - xi (dL_t/dw + wd w), alpha), computed
    exactly by autograd through the virtual step, against the finite-difference version."""
    body, op = _supernet()
    train_batch, alpha_batch = _batches(op)
    loss_fn = _loss_fn(body)
    xi, wd = 0.05, 1e-3
    torch.manual_seed(7)
    rng = RngState.capture(torch.device("cpu"))
    step = unrolled_alpha_grads(
        body, loss_fn, train_batch, alpha_batch, xi, eps=1e-4, weight_decay=wd
    )

    rng.restore()
    params = dict(body.named_parameters())
    names = [n for n in params if n != "alpha"]
    gw = torch.autograd.grad(loss_fn(train_batch), [params[n] for n in names], create_graph=True)
    virtual = {n: params[n] - xi * (g + wd * params[n]) for n, g in zip(names, gw, strict=True)}
    virtual["alpha"] = params["alpha"]
    x, y = alpha_batch
    val_loss = reconstruction_loss(functional_call(body, virtual, (y,)), x)
    exact = torch.autograd.grad(val_loss, params["alpha"])[0]
    first_order = torch.autograd.grad(loss_fn(alpha_batch), params["alpha"])[0]

    assert _rel_err(step.alpha_grads[0], exact) < 1e-6
    assert float(step.val_loss) == pytest.approx(float(val_loss.detach()), rel=1e-10)
    assert _rel_err(first_order, exact) > 0.1  # the second-order term matters here


def test_unrolled_step_restores_weights_buffers_and_random_stream():
    body, op = _supernet(torch.float32)
    train_batch, alpha_batch = _batches(op, torch.float32)
    loss_fn = _loss_fn(body)
    loss_fn(train_batch)  # move the BN running stats off their init
    before = {k: v.clone() for k, v in body.state_dict().items()}
    torch.manual_seed(3)
    unrolled_alpha_grads(body, loss_fn, train_batch, alpha_batch, xi=0.1, eps=0.01)
    after_step = torch.rand(4)
    for k, v in body.state_dict().items():
        assert torch.equal(v, before[k]), k  # weights, alpha, BN running stats: bit for bit
    assert all(p.grad is None for p in body.parameters())
    # the random stream continues as after the two real passes (L_t at w, L_v at w')
    torch.manual_seed(3)
    loss_fn(train_batch)
    loss_fn(alpha_batch)
    assert torch.equal(torch.rand(4), after_step)


def _one_alpha_step(order, xi=None):
    # without the noise op: a second-order step draws the noise of its L_t pass first, so the
    # alpha batch would see other noise than in a first-order step
    body, op = _supernet(torch.float32, seed=0, ops=["grad", "net", "roll"])
    train_batch, alpha_batch = _batches(op, torch.float32)
    hp = HParams(param_lr=0.05, alpha_lr=0.1, alpha_optimizer="gd", alpha_weight_decay=0.0)
    module = SupernetModule(body, hp, epochs=1, steps_per_epoch=1, order=order, xi=xi)
    opt = torch.optim.SGD(body.arch_parameters(), lr=hp.alpha_lr)
    start = body.alpha.detach().clone()
    torch.manual_seed(11)
    module.alpha_step(alpha_batch, train_batch, opt)
    assert module.alpha_steps == 1
    return start, body.alpha.detach().clone()


def test_second_order_step_moves_alpha_differently_from_first_order():
    start1, first = _one_alpha_step(order=1)
    start2, second = _one_alpha_step(order=2)  # xi = the weight learning rate (0.05)
    assert torch.equal(start1, start2)
    d1, d2 = first - start1, second - start2
    assert d1.abs().max() > 1e-3 and d2.abs().max() > 1e-3
    assert _rel_err(d2, d1) > 0.05
    # with a vanishing virtual step the second-order step falls back to the first-order one
    _, tiny = _one_alpha_step(order=2, xi=1e-9)
    assert torch.allclose(tiny - start1, d1, rtol=1e-3, atol=1e-6)


def test_xi_defaults_to_the_current_weight_learning_rate():
    body, _ = _supernet(torch.float32)
    hp = HParams(param_lr=0.01, param_warmup=True, warmup_epochs=2)
    module = SupernetModule(body, hp, epochs=4, steps_per_epoch=5, order=2)
    assert module.current_xi() == pytest.approx(0.01 / 10)  # warm-up: step 0 of 10
    module.steps_done = 50
    assert module.current_xi() == pytest.approx(0.01)
    assert SupernetModule(body, hp, 4, 5, order=2, xi=0.3).current_xi() == 0.3
    with pytest.raises(ValueError, match="order=3"):
        SupernetModule(body, hp, 4, 5, order=3)
