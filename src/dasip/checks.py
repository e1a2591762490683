"""The one integer check, used by the config rules, the spaces and the sweeper alike (the
lowest layer: it imports nothing of dasip)."""

from __future__ import annotations

from typing import Any


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def integer(key: str, value: Any, low: int | None = None, odd: bool = False) -> int:
    """``value`` if it is an integer (``>= low``, odd if ``odd``); else a ``ValueError`` that
    names the key, the value and what is allowed."""
    if not is_int(value) or (low is not None and value < low) or (odd and value % 2 == 0):
        what = "an odd integer" if odd else "an integer"
        allowed = f"{what} >= {low}" if low is not None else what
        raise ValueError(f"{key}={value!r} is not allowed; allowed: {allowed}")
    return value
