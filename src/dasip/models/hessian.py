"""The dominant eigenvalue of the Hessian of the validation loss with respect to ``alpha``
(RobustDARTS, Zela et al. 2020), and DARTS-ES' early-stopping rule on its trajectory.

The eigenvalue comes from power iteration on Hessian-vector products (autograd's double
backward through one forward pass): the Hessian itself is never formed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from ..checkpoints import set_torch_rng_state, torch_rng_state
from .unrolled import preserved

#: the generator seed of the power iteration's start vector and of the pass's ``noise`` ops, so
#: that every epoch's estimate looks at the same function of the current parameters
HESSIAN_SEED = 0

Vectors = Sequence[torch.Tensor]


def _dot(a: Vectors, b: Vectors) -> torch.Tensor:
    return sum((x * y).sum() for x, y in zip(a, b, strict=True))


def power_iteration(
    matvec: Callable[[list[torch.Tensor]], Vectors],
    like: Vectors,
    iters: int = 20,
    seed: int = HESSIAN_SEED,
) -> float:
    """The eigenvalue of largest magnitude of the symmetric linear map ``matvec`` on tensors
    shaped as ``like``: ``iters`` steps of ``v <- M v / ||M v||`` from a seeded random start,
    then the Rayleigh quotient ``v^T M v``. The global random stream is not touched."""
    g = torch.Generator().manual_seed(seed)
    v = [torch.randn(t.shape, generator=g, dtype=t.dtype).to(t.device) for t in like]
    norm = torch.sqrt(_dot(v, v))
    v = [t / norm for t in v]
    eigenvalue = 0.0
    for _ in range(iters):
        mv = [t.detach() for t in matvec(v)]
        eigenvalue = float(_dot(v, mv))
        norm = torch.sqrt(_dot(mv, mv))
        if not bool(torch.isfinite(norm)) or float(norm) == 0.0:
            return eigenvalue if bool(torch.isfinite(norm)) else float("nan")
        v = [t / norm for t in mv]
    return float(_dot(v, [t.detach() for t in matvec(v)]))


def can_run_eagerly_inside_compiled() -> bool:
    """Whether this torch can run a compiled network eagerly for a while
    (``torch.compiler.set_stance``, torch 2.6+): :func:`eagerly` needs it, and so does the
    eigenvalue of a compiled supernet (its double backward)."""
    return hasattr(torch.compiler, "set_stance")


@contextmanager
def eagerly() -> Iterator[None]:
    """Compiled modules (``compile.search``) run eagerly inside the block: a compiled graph has
    no double backward. Without :func:`can_run_eagerly_inside_compiled` nothing changes (the
    trial's config check keeps compiled networks away from this)."""
    if not can_run_eagerly_inside_compiled():
        yield
        return
    with torch.compiler.set_stance("force_eager"):
        yield


def alpha_hessian_eigenvalue(
    net: nn.Module, loss_fn: Callable[[Any], torch.Tensor], batch: Any, iters: int = 20
) -> float:
    """The dominant eigenvalue of ``d^2 loss_fn(batch) / d alpha^2`` at the current parameters.

    ``net`` exposes ``arch_parameters()``; ``loss_fn(batch)`` runs it. One forward pass (its
    ``noise`` ops draw from a generator seeded with :data:`HESSIAN_SEED`), then one double
    backward per iteration. The buffers (batch norm statistics) and the random streams are as
    before afterwards, so tracking the eigenvalue changes nothing in the search.
    """
    alphas = list(net.arch_parameters())
    saved = torch_rng_state()
    try:
        with preserved(net, []), torch.enable_grad(), eagerly():
            torch.manual_seed(HESSIAN_SEED)
            loss = loss_fn(batch)
            grads = torch.autograd.grad(loss, alphas, create_graph=True)

            def hvp(v: list[torch.Tensor]) -> Vectors:
                return torch.autograd.grad(grads, alphas, grad_outputs=v, retain_graph=True)

            return power_iteration(hvp, alphas, iters)
    finally:
        set_torch_rng_state(saved)


def eigenvalue_grew(trajectory: Sequence[float], window: int = 5, ratio: float = 1.3) -> bool:
    """DARTS-ES' rule: the mean eigenvalue of the last ``window`` entries exceeds ``ratio``
    times the mean of the ``window`` entries before them (RobustDARTS stops when
    ``mean_{i-k} / mean_i < 0.75``). Fewer than ``2 * window`` entries, a non-positive earlier
    mean or a non-finite value never stop."""
    if len(trajectory) < 2 * window:
        return False
    recent = sum(trajectory[-window:]) / window
    before = sum(trajectory[-2 * window : -window]) / window
    if not (torch.isfinite(torch.tensor([recent, before])).all() and before > 0):
        return False
    return recent > ratio * before
