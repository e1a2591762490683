"""Search spaces: how to build a supernet, derive a network, and read an architecture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .genotype import GenotypeError, SequentialGenotype, format_sequence, parse_sequence
from .mixed import MixedOp
from .sequential import SequentialNet, SequentialSpace, SequentialSupernet

SPACES: dict[str, Callable[..., Any]] = {
    "sequential": SequentialSpace,
}


def build_space(name: str, **kwargs: Any):
    if name not in SPACES:
        raise ValueError(f"space.name={name!r} is unknown; allowed: {', '.join(SPACES)}")
    return SPACES[name](**kwargs)


__all__ = [
    "SPACES",
    "GenotypeError",
    "MixedOp",
    "SequentialGenotype",
    "SequentialNet",
    "SequentialSpace",
    "SequentialSupernet",
    "build_space",
    "format_sequence",
    "parse_sequence",
]
