"""The sequential search space: ``x0 = A^T y``; 10 layers; ``x_hat = x0 + x10``
(docs/method.md, Search spaces)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

import torch
from torch import nn

from ..checks import integer
from ..ops import OPS, OpContext, build_op, check_op_names
from .genotype import GenotypeError, SequentialGenotype, parse_sequence
from .mixed import AlphaSupernet, GlobalResidual, MixedOp


class SequentialSupernet(AlphaSupernet):
    """Every layer mixes all candidate ops with ``softmax(alpha[layer])``."""

    def __init__(self, ctx: OpContext, op_names: Sequence[str], n_layers: int):
        super().__init__()
        self.op_names = tuple(op_names)
        self.layers = nn.ModuleList(
            MixedOp([build_op(n, ctx) for n in self.op_names]) for _ in range(n_layers)
        )
        self.operator = ctx.operator
        self.initial = ctx.initial
        self.alpha = nn.Parameter(1e-3 * torch.randn(n_layers, len(self.op_names)))

    def body(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        weights = self.mix(self.alpha)
        residual = not self.mixing.sums_to_one
        for layer, w in zip(self.layers, weights, strict=True):
            # a candidate maps the estimate to a new one; with weights that need not sum to
            # one, x + sum_i w_i (o_i(x) - x), so that small weights mean a small update, not a
            # shrunken estimate (with a softmax the two forms are equal)
            x = layer(x, y, w) + (1 - w.sum()) * x if residual else layer(x, y, w)
        return x

    def alpha_probs(self) -> torch.Tensor:
        """``softmax(alpha)`` per layer (the mixing's weights), shape ``(n_layers, n_ops)``."""
        return self.mixing.probs(self.alpha)

    def derive(self) -> SequentialGenotype:
        """The argmax op of every layer (the mixing's rule)."""
        idx = self.mixing.choose(self.alpha_probs())
        return SequentialGenotype(tuple(self.op_names[i] for i in idx))


class SequentialNet(GlobalResidual):
    """A derived network: one fixed op per layer."""

    def __init__(self, ctx: OpContext, genotype: SequentialGenotype):
        super().__init__()
        self.genotype = genotype
        self.layers = nn.ModuleList(build_op(n, ctx) for n in genotype.ops)
        self.operator = ctx.operator
        self.initial = ctx.initial

    def body(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, y)
        return x


class SequentialSpace:
    """Builds supernets and derived nets, and parses, samples and checks genotypes."""

    name = "sequential"
    #: ops that make no sense as a layer of a chain
    excluded_ops = frozenset({"zero"})

    def __init__(self, n_layers: int = 10):
        self.n_layers = integer("space.n_layers", n_layers, 1)

    def candidate_ops(self, op_names: Iterable[str]) -> tuple[str, ...]:
        names = check_op_names(op_names)
        bad = [n for n in names if n in self.excluded_ops]
        if bad:
            raise ValueError(
                f"ops.names: {bad} cannot be used in the sequential space; allowed: "
                f"{', '.join(n for n in OPS if n not in self.excluded_ops)}"
            )
        return tuple(names)

    def supernet(self, ctx: OpContext, op_names: Sequence[str]) -> SequentialSupernet:
        return SequentialSupernet(ctx, self.candidate_ops(op_names), self.n_layers)

    def derived(self, ctx: OpContext, genotype: SequentialGenotype) -> SequentialNet:
        return SequentialNet(ctx, self.check(genotype))

    def parse(self, text: str | Iterable[str], key: str = "arch") -> SequentialGenotype:
        return self.check(SequentialGenotype(parse_sequence(text, key)), key)

    def check(self, genotype: SequentialGenotype, key: str = "arch") -> SequentialGenotype:
        allowed = [n for n in OPS if n not in self.excluded_ops]
        for i, op in enumerate(genotype.ops):
            if op not in allowed:
                raise GenotypeError(
                    f"{key}={genotype}: layer {i} has unknown op {op!r}; allowed: "
                    f"{', '.join(allowed)}"
                )
        if len(genotype) != self.n_layers:
            raise GenotypeError(
                f"{key}={genotype} has {len(genotype)} layers, but space.n_layers="
                f"{self.n_layers}; give exactly {self.n_layers} ops, e.g. 'grad*{self.n_layers}'"
            )
        return genotype

    def uniform(self, op: str, key: str = "arch") -> SequentialGenotype:
        """Every layer ``op``: the baselines "Learnable Grad. only" (``grad*n_layers``) and "Nets
        only" (``net*...``)."""
        return self.check(SequentialGenotype((op,) * self.n_layers), key)

    def sample(self, op_names: Sequence[str], generator: torch.Generator) -> SequentialGenotype:
        """An architecture drawn uniformly: each layer's op uniform over ``op_names``."""
        names = self.candidate_ops(op_names)
        idx = torch.randint(len(names), (self.n_layers,), generator=generator).tolist()
        return SequentialGenotype(tuple(names[i] for i in idx))

    def size(self, op_names: Sequence[str]) -> int:
        """How many architectures the space has over ``op_names``: ``len(op_names) ** n_layers``."""
        return len(self.candidate_ops(op_names)) ** self.n_layers

    def genotypes(self, op_names: Sequence[str]) -> Iterator[SequentialGenotype]:
        """Every architecture over ``op_names``, in a fixed order: the ops of each layer in the
        order of ``op_names``, the first layer varying slowest (``grad*10``, ``grad*9-net``, ...
        for ``[grad, net]``). The ground truth (:mod:`dasip.ground_truth`) numbers them so."""
        names = self.candidate_ops(op_names)
        for ops in itertools.product(names, repeat=self.n_layers):
            yield SequentialGenotype(ops)
