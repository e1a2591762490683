"""The small CNN ``F(x; theta)`` used by ``grad`` and ``net``."""

from __future__ import annotations

from torch import nn

#: the convolution and batch norm of each number of spatial dimensions (signals 1, images 2)
_LAYERS = {1: (nn.Conv1d, nn.BatchNorm1d), 2: (nn.Conv2d, nn.BatchNorm2d)}


def _layers(spatial_dims: int) -> tuple[type[nn.Module], type[nn.Module]]:
    if spatial_dims not in _LAYERS:
        raise ValueError(f"spatial_dims must be 1 or 2, got {spatial_dims}")
    return _LAYERS[spatial_dims]


def conv_class(spatial_dims: int) -> type[nn.Module]:
    """``nn.Conv1d`` for signals, ``nn.Conv2d`` for images."""
    return _layers(spatial_dims)[0]


def norm_class(spatial_dims: int) -> type[nn.Module]:
    """``nn.BatchNorm1d`` for signals, ``nn.BatchNorm2d`` for images."""
    return _layers(spatial_dims)[1]


def small_cnn(channels: int, width: int, kernel_size: int, spatial_dims: int) -> nn.Sequential:
    """conv -> batch norm -> ReLU -> conv, hidden channels ``width`` (docs/method.md,
    Operations)."""
    conv, bn = _layers(spatial_dims)
    pad = kernel_size // 2
    return nn.Sequential(
        conv(channels, width, kernel_size, padding=pad),
        bn(width),
        nn.ReLU(),
        conv(width, channels, kernel_size, padding=pad),
    )
