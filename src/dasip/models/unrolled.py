"""Second-order DARTS (Liu et al., 2019, eqs. 6-8): the architecture gradient through one
unrolled, virtual weight step, with the Hessian-vector product by central finite differences.

For weights ``w``, architecture ``alpha``, training loss ``L_t`` and alpha-batch loss ``L_v``:

    w'        = w - xi * (dL_t/dw (w, alpha) + wd * w)          (virtual step, not applied)
    grad      = dL_v/dalpha (w', alpha) - xi * H v,   v = dL_v/dw (w', alpha)
    H v       = d^2 L_t / (dalpha dw) v
             ~= (dL_t/dalpha (w + R v) - dL_t/dalpha (w - R v)) / (2 R),   R = eps / ||v||

Everything a virtual pass could disturb is put back exactly afterwards (see :func:`preserved`):
the weights (copied back, not "un-stepped", so no rounding error remains), the buffers (batch
norm running statistics: virtual passes must not leak into the eval-mode statistics that the
one-shot PSNR uses) and the random number generator (the passes at ``w``, ``w + R v`` and
``w - R v`` see the same ``noise``-op draws, so the finite difference measures the weights'
effect and not fresh noise; afterwards the stream continues as after the ``L_v`` pass).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

LossFn = Callable[[Any], torch.Tensor]


@dataclass
class RngState:
    """The CPU generator state and, for a CUDA device, that device's generator state."""

    cpu: torch.Tensor
    device: torch.device
    cuda: torch.Tensor | None = None

    @classmethod
    def capture(cls, device: torch.device) -> RngState:
        cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        return cls(torch.get_rng_state(), device, cuda)

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda, self.device)


@contextlib.contextmanager
def preserved(net: nn.Module, weights: Sequence[torch.Tensor]) -> Iterator[None]:
    """Restore ``weights`` and every buffer of ``net`` bit for bit on exit."""
    saved_w = [w.detach().clone() for w in weights]
    saved_b = [b.detach().clone() for b in net.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for w, s in zip(weights, saved_w, strict=True):
                w.copy_(s)
            for b, s in zip(net.buffers(), saved_b, strict=True):
                b.copy_(s)


def _grads(loss: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """``d loss / d params``, zeros for parameters the loss does not use."""
    grads = torch.autograd.grad(loss, list(params), allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]


def _norm(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.sqrt(sum((t.detach().double() ** 2).sum() for t in tensors))


def finite_difference_hvp(
    net: nn.Module,
    loss_fn: LossFn,
    batch: Any,
    vector: Sequence[torch.Tensor],
    eps: float = 0.01,
    rng: RngState | None = None,
) -> list[torch.Tensor]:
    """``d^2 L / (d alpha d w) @ vector`` by central differences of ``dL/dalpha`` at
    ``w +- R vector``, ``R = eps / ||vector||`` (DARTS' ``_hessian_vector_product``).

    ``net`` exposes ``weight_parameters()`` and ``arch_parameters()``; ``loss_fn(batch)`` runs it.
    Both passes start from the generator state ``rng`` (default: the state on entry). Weights and
    buffers are restored exactly; the generator is left as after one pass.
    """
    weights = list(net.weight_parameters())
    alphas = list(net.arch_parameters())
    norm = _norm(vector)
    if not bool(torch.isfinite(norm)) or float(norm) == 0.0:
        return [torch.zeros_like(a) for a in alphas]
    radius = eps / float(norm)
    rng = rng or RngState.capture(alphas[0].device)
    grads: list[list[torch.Tensor]] = []
    with preserved(net, weights):
        base = [w.detach().clone() for w in weights]
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for w, w0, v in zip(weights, base, vector, strict=True):
                    w.copy_(w0 + (sign * radius) * v)
            rng.restore()
            grads.append(_grads(loss_fn(batch), alphas))
    return [(gp - gn) / (2 * radius) for gp, gn in zip(*grads, strict=True)]


@dataclass
class UnrolledStep:
    """The result of :func:`unrolled_alpha_grads`."""

    alpha_grads: list[torch.Tensor]
    #: ``L_v(w', alpha)``: the alpha-batch loss after the virtual step
    val_loss: torch.Tensor
    #: ``L_t(w, alpha)``: the training loss that the virtual step descends
    train_loss: torch.Tensor


def unrolled_alpha_grads(
    net: nn.Module,
    loss_fn: LossFn,
    train_batch: Any,
    alpha_batch: Any,
    xi: float,
    eps: float = 0.01,
    weight_decay: float = 0.0,
) -> UnrolledStep:
    """The second-order DARTS gradient of ``alpha`` (module docstring). Nothing is applied: the
    weights, buffers and ``.grad`` fields of ``net`` are as before; the caller steps alpha."""
    weights = list(net.weight_parameters())
    alphas = list(net.arch_parameters())
    device = alphas[0].device
    rng_train = RngState.capture(device)
    with preserved(net, weights):
        base = [w.detach().clone() for w in weights]
        train_loss = loss_fn(train_batch)
        g_train = _grads(train_loss, weights)
        with torch.no_grad():  # w' = w - xi (dL_t/dw + wd w)
            for w, w0, g in zip(weights, base, g_train, strict=True):
                w.copy_(w0 - xi * (g + weight_decay * w0))
        val_loss = loss_fn(alpha_batch)
        g_val = _grads(val_loss, alphas + weights)
        rng_after = RngState.capture(device)
        with torch.no_grad():
            for w, w0 in zip(weights, base, strict=True):
                w.copy_(w0)
        d_alpha, v = g_val[: len(alphas)], g_val[len(alphas) :]
        hvp = finite_difference_hvp(net, loss_fn, train_batch, v, eps, rng=rng_train)
    rng_after.restore()
    grads = [da - xi * h for da, h in zip(d_alpha, hvp, strict=True)]
    return UnrolledStep(grads, val_loss.detach(), train_loss.detach())
