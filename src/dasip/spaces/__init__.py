"""Search spaces: how to build a supernet, derive a network, and read an architecture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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

SPACES: dict[str, Callable[..., Any]] = {
    "sequential": SequentialSpace,
    "cell": CellSpace,
}


def build_space(name: str, **kwargs: Any):
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
    "build_space",
    "cell_edges",
    "format_sequence",
    "parse_sequence",
    "prune_cell",
]
