"""The DARTS mixed operation: a weighted sum of all candidates, and the mixings that turn a row
of ``alpha`` into those weights (DARTS' softmax, Fair DARTS' sigmoids, GDAS' Gumbel samples)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from .. import schema as S
from ..ops import Operation
from ..physics.base import INITIAL_ESTIMATES


class Mixing:
    """DARTS: a layer's weights are ``softmax(alpha)`` of its row; the derived op is the argmax.

    A mixing is what a search variant changes in a supernet (docs/method.md, Search variants):
    ``weights`` mixes in the forward pass, ``probs`` is what the record keeps (``alpha_probs``)
    and ``choose`` derives one candidate per row from ``probs``.
    """

    name = "softmax"
    #: whether a row's weights sum to one; where they need not (Fair DARTS), a sequential layer
    #: mixes its candidates' updates of the estimate, not the estimates themselves
    sums_to_one = True

    def weights(self, alpha: torch.Tensor, training: bool) -> torch.Tensor:
        return torch.softmax(alpha, dim=-1)

    def probs(self, alpha: torch.Tensor) -> torch.Tensor:
        return torch.softmax(alpha.detach(), dim=-1)

    def choose(self, probs: torch.Tensor, zero_index: int | None = None) -> list[int]:
        """The candidate of every row: the argmax (the first on a tie)."""
        return probs.argmax(dim=-1).tolist()


class SigmoidMixing(Mixing):
    """Fair DARTS (Chu et al. 2020): every candidate has its own weight ``sigmoid(alpha)``, no
    competition between them. Derivation by ``threshold``: a row keeps its highest weight where
    that weight reaches the threshold; a row whose weights are all below it becomes ``zero``
    (an absent edge) where ``zero`` is a candidate (the cell space), and keeps its highest
    weight otherwise (a sequential layer cannot be absent; :meth:`below` lists such rows)."""

    name = "sigmoid"
    sums_to_one = False

    def __init__(self, threshold: float = 0.85):
        self.threshold = threshold

    def weights(self, alpha: torch.Tensor, training: bool) -> torch.Tensor:
        return torch.sigmoid(alpha)

    def probs(self, alpha: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(alpha.detach())

    def below(self, probs: torch.Tensor) -> list[int]:
        """The rows whose every weight is below the threshold."""
        return torch.nonzero(probs.max(dim=-1).values < self.threshold).flatten().tolist()

    def choose(self, probs: torch.Tensor, zero_index: int | None = None) -> list[int]:
        idx = probs.argmax(dim=-1).tolist()
        if zero_index is not None:
            for row in self.below(probs):
                idx[row] = zero_index
        return idx


class GumbelMixing(Mixing):
    """GDAS (Dong & Yang 2019): in training, every row draws one candidate from
    ``softmax(alpha)`` by the Gumbel-max trick at temperature ``tau`` and uses it alone (a
    one-hot weight), with the straight-through gradient of ``softmax((alpha + g) / tau)``. In
    eval mode (the one-shot PSNR) every row uses its most likely candidate. The record keeps
    ``softmax(alpha)``, the sampling probabilities; the derived op is their argmax."""

    name = "gumbel"

    def __init__(self, tau: float = 10.0):
        self.tau = tau

    def weights(self, alpha: torch.Tensor, training: bool) -> torch.Tensor:
        if training:
            return nn.functional.gumbel_softmax(alpha, tau=self.tau, hard=True, dim=-1)
        index = alpha.argmax(dim=-1, keepdim=True)
        return torch.zeros_like(alpha).scatter(-1, index, 1.0)


class MixedOp(nn.Module):
    """``o(x) = sum_t w_t o_t(x)``; the weights ``w`` are passed in (the space owns alpha)."""

    def __init__(self, ops: Iterable[Operation]):
        super().__init__()
        self.ops = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = torch.stack([op(x, y) for op in self.ops])
        return (weights.view(-1, *([1] * x.dim())) * out).sum(0)


class GlobalResidual(nn.Module):
    """Every network of every space: ``x0 = A^T y``, the space's layers or cells map ``x0`` (and
    ``y``) to ``x_L``, and ``x_hat = x0 + x_L`` (the global residual of DnCNN-like networks;
    docs/method.md, Search spaces). ``initial`` names another initial estimate
    (:meth:`~dasip.physics.LinearOperator.initial_estimate`: ``zero``, a scaled or normalised
    adjoint, the pseudo-inverse). Subclasses set ``operator`` and ``initial`` and
    implement :meth:`body`."""

    operator: nn.Module
    initial: str = "adjoint"

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        x0 = self.operator.initial_estimate(y, self.initial)
        return x0 + self.body(x0, y)

    def body(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


class AlphaSupernet(GlobalResidual):
    """A supernet body whose architecture parameters are one tensor ``alpha``; everything else
    is a weight. Spaces subclass it and add ``op_names``, ``alpha_probs()`` and ``derive()``."""

    alpha: nn.Parameter
    #: how a row of ``alpha`` becomes the weights of its candidates (a search variant's choice)
    mixing: Mixing = Mixing()
    #: added to the weights while set: SDARTS-RS' random perturbation during a weight step
    perturbation: torch.Tensor | None = None

    def mix(self, alpha: torch.Tensor) -> torch.Tensor:
        """The weights of every row of ``alpha`` (same shape) under the current mixing, plus the
        perturbation while one is set."""
        weights = self.mixing.weights(alpha, self.training)
        return weights if self.perturbation is None else weights + self.perturbation

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alpha]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if name != "alpha"]


# -- schemas: ``dasip/conf/space/*.yaml`` ------------------------------------------------------
#: ``space.initial``: the networks' initial estimate (:attr:`GlobalResidual.initial`)
INITIAL = S.choice(*INITIAL_ESTIMATES)


@dataclass
class SequentialConf(S.Schema):
    """:class:`~dasip.spaces.SequentialSpace`'s keys (``space=sequential``). The name is
    checked by :func:`dasip.spaces.build_space`, the structure's ranges by the space's
    constructor, which reads them."""

    name: str = "sequential"
    n_layers: int = S.key()
    initial: str = S.key(rule=INITIAL)


@dataclass
class CellConf(S.Schema):
    """:class:`~dasip.spaces.CellSpace`'s keys (``space=cell``); as :class:`SequentialConf`."""

    name: str = "cell"
    n_cells: int = S.key()
    n_states: int = S.key()
    merge_kernel_size: int = S.key()
    share_alphas: bool = S.key()
    initial: str = S.key(rule=INITIAL)


S.store("space", "base_sequential", SequentialConf)
S.store("space", "base_cell", CellConf)
