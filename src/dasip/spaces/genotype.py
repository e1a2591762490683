"""Genotypes: what an architecture is, as data with a string form for the command line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\*(\d+))?$")
#: separators accepted between tokens; ``-`` is canonical (no quoting needed in Hydra overrides)
_SEPARATORS = re.compile(r"[-,+\s]+")


class GenotypeError(ValueError):
    """A malformed or invalid architecture string."""


@dataclass(frozen=True)
class SequentialGenotype:
    """The op of each layer of the sequential space, first layer first."""

    ops: tuple[str, ...]

    def __str__(self) -> str:
        return format_sequence(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def to_list(self) -> list[str]:
        return list(self.ops)


def format_sequence(ops: Sequence[str]) -> str:
    """Run-length form, e.g. ``('grad', 'net', 'net') -> 'grad-net*2'``."""
    parts: list[str] = []
    i = 0
    while i < len(ops):
        j = i
        while j < len(ops) and ops[j] == ops[i]:
            j += 1
        n = j - i
        parts.append(ops[i] if n == 1 else f"{ops[i]}*{n}")
        i = j
    return "-".join(parts)


def parse_sequence(text: str | Iterable[str], key: str = "arch") -> tuple[str, ...]:
    """Parse ``'grad-net*9'`` (also ``,``/``+``-separated, or a list of tokens) into op names.

    Raises :class:`GenotypeError` naming ``key`` and the offending token.
    """
    tokens = [t for t in _SEPARATORS.split(text.strip())] if isinstance(text, str) else list(text)
    tokens = [str(t).strip() for t in tokens if str(t).strip()]
    if not tokens:
        raise GenotypeError(f"{key}={text!r} is empty; expected e.g. 'grad-net*9'")
    ops: list[str] = []
    for tok in tokens:
        m = _TOKEN.match(tok)
        if not m:
            raise GenotypeError(
                f"{key}={text!r}: cannot read token {tok!r}; expected OP or OP*COUNT, "
                f"e.g. 'grad-net*9'"
            )
        count = int(m.group(2)) if m.group(2) else 1
        if count < 1:
            raise GenotypeError(f"{key}={text!r}: token {tok!r} repeats an op {count} times")
        ops.extend([m.group(1)] * count)
    return tuple(ops)
