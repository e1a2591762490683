"""Search spaces: how to build a supernet, derive a network, and read an architecture."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import torch

from .cell import CellNet, CellSpace, CellSupernet
from .genotype import (
    CellGenotype,
    GenotypeError,
    SequentialGenotype,
    cell_edges,
    format_sequence,
    parse_sequence,
    prune_cell,
)
from .mixed import MixedOp
from .sequential import SequentialNet, SequentialSpace, SequentialSupernet

if TYPE_CHECKING:
    from ..ops import OpContext


@runtime_checkable
class Space(Protocol):
    """What a method and the trial need of a search space: the networks it builds and the
    architectures (genotypes) it reads, checks and draws. Spaces that can list their
    architectures (the ground truth's) also have ``size(op_names)`` and ``genotypes(op_names)``.

    A supernet (:meth:`supernet`) is trained by the search; its ``body`` gives the derived
    genotype (``derive()``), the softmax of its alphas (``alpha_probs()``) and their columns
    (``op_names``)."""

    #: the ``space.name`` the space is registered under in :data:`SPACES`
    name: str

    def candidate_ops(self, op_names: Iterable[str]) -> tuple[str, ...]:
        """``op_names`` checked for this space (``ops.names``)."""
        ...

    def supernet(self, ctx: OpContext, op_names: Sequence[str]) -> torch.nn.Module:
        """The network with every op of ``op_names`` at every position, mixed by alphas."""
        ...

    def derived(self, ctx: OpContext, genotype: Any) -> torch.nn.Module:
        """The network of one architecture, untrained."""
        ...

    def parse(self, text: str | Iterable[str], key: str = "arch") -> Any:
        """The genotype of ``text`` (``grad-net*9``), checked; errors name ``key``."""
        ...

    def check(self, genotype: Any, key: str = "arch") -> Any:
        """``genotype`` if it is an architecture of this space, else a ``GenotypeError``."""
        ...

    def uniform(self, op: str, key: str = "arch") -> Any:
        """The architecture with ``op`` everywhere (the baselines' ``grad*N``, ``net*N``)."""
        ...

    def sample(self, op_names: Sequence[str], generator: torch.Generator) -> Any:
        """An architecture drawn uniformly over ``op_names`` with ``generator``."""
        ...


SPACES: dict[str, type[Space]] = {
    "sequential": SequentialSpace,
    "cell": CellSpace,
}


def build_space(name: str, **kwargs: Any) -> Space:
    """The space ``name`` from its config block's keys. ``initial`` (the networks' initial
    estimate) is not a parameter of the space's structure: the networks read it from their
    :class:`~dasip.ops.OpContext`."""
    if name not in SPACES:
        raise ValueError(f"space.name={name!r} is unknown; allowed: {', '.join(SPACES)}")
    kwargs.pop("initial", None)
    return SPACES[name](**kwargs)


__all__ = [
    "SPACES",
    "CellGenotype",
    "CellNet",
    "CellSpace",
    "CellSupernet",
    "GenotypeError",
    "MixedOp",
    "SequentialGenotype",
    "SequentialNet",
    "SequentialSpace",
    "SequentialSupernet",
    "Space",
    "build_space",
    "cell_edges",
    "format_sequence",
    "parse_sequence",
    "prune_cell",
]
