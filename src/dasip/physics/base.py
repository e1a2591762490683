"""Linear forward operators ``A`` with exact adjoints ``A^T``."""

from __future__ import annotations

import torch
from torch import nn


class LinearOperator(nn.Module):
    """A linear measurement operator acting on batches shaped ``(B, C, *spatial)``.

    Subclasses implement :meth:`forward` (``A x``) and :meth:`adjoint` (``A^T y``); the adjoint
    must be exact, since the ``grad`` op computes ``A^T (A x - y)``.
    """

    #: number of spatial dimensions of a signal (1 for 1D signals, 2 for images)
    spatial_dims: int = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def measurement_shape(self, signal_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Spatial shape of ``A x`` for a signal of spatial shape ``signal_shape``."""
        x = torch.zeros(1, 1, *signal_shape, dtype=self._dtype())
        return tuple(self.forward(x).shape[2:])

    def normal(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Gradient of the data term ``0.5 ||A x - y||^2``: ``A^T (A x - y)``."""
        return self.adjoint(self.forward(x) - y)

    def _dtype(self) -> torch.dtype:
        for b in self.buffers():
            return b.dtype
        return torch.get_default_dtype()
