"""The small CNN ``F(x; theta)`` used by ``grad`` and ``net``."""

from __future__ import annotations

from torch import nn

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}


def small_cnn(channels: int, width: int, kernel_size: int, spatial_dims: int) -> nn.Sequential:
    """conv -> batch norm -> ReLU -> conv, hidden channels ``width`` (SPEC 2)."""
    if spatial_dims not in _CONV:
        raise ValueError(f"spatial_dims must be 1 or 2, got {spatial_dims}")
    conv, bn = _CONV[spatial_dims], _BN[spatial_dims]
    pad = kernel_size // 2
    return nn.Sequential(
        conv(channels, width, kernel_size, padding=pad),
        bn(width),
        nn.ReLU(),
        conv(width, channels, kernel_size, padding=pad),
    )
