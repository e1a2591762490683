"""The one integer check, used by the config rules, the spaces and the sweeper alike (the
lowest layer: it imports nothing of dasip)."""

from __future__ import annotations

import os
from typing import Any


def cores() -> int:
    """The CPU cores this process may run on (its affinity where the OS says, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def integer(
    key: str, value: Any, low: int | None = None, odd: bool = False, high: int | None = None
) -> int:
    """``value`` if it is an integer (``>= low``, ``<= high``, odd if ``odd``); else a
    ``ValueError`` that names the key, the value and what is allowed."""
    if (
        not is_int(value)
        or (low is not None and value < low)
        or (high is not None and value > high)
        or (odd and value % 2 == 0)
    ):
        what = "an odd integer" if odd else "an integer"
        if low is not None and high is not None:
            allowed = f"{what} from {low} to {high}"
        elif low is not None:
            allowed = f"{what} >= {low}"
        else:
            allowed = what if high is None else f"{what} <= {high}"
        raise ValueError(f"{key}={value!r} is not allowed; allowed: {allowed}")
    return value
