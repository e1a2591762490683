"""2D Gaussian blur of an image with zero ("same") padding (docs/images.md)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import schema as S
from .base import LinearOperator
from .blur import KERNEL_SIZE, POSITIVE, gaussian_kernel1d


class Blur2d(LinearOperator):
    """``A x = k * x`` for images ``(B, C, H, W)``, output the size of the input.

    The kernel is the isotropic Gaussian of odd size ``kernel_size`` with ``sigma`` in pixels,
    normalised to sum 1. It is separable, so ``A`` is a zero-padded correlation along the rows
    followed by one along the columns; zero padding commutes with the split (the first pass
    is zero wherever the image is), so this equals the full 2D zero-padded correlation. The
    adjoint is the transposed convolution of each pass.
    """

    spatial_dims = 2

    def __init__(self, kernel_size: int = 25, sigma: float = 1.6):
        super().__init__()
        self.kernel_size = kernel_size
        self.sigma = sigma
        k = gaussian_kernel1d(kernel_size, sigma).to(torch.get_default_dtype())
        self.register_buffer("kernel", k, persistent=False)

    def _passes(self, x: torch.Tensor) -> tuple[tuple[torch.Tensor, tuple[int, int]], ...]:
        k, p = self.kernel.to(dtype=x.dtype), self.kernel_size // 2
        return ((k.view(1, 1, -1, 1), (p, 0)), (k.view(1, 1, 1, -1), (0, p)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        out = x.reshape(b * c, 1, h, w)
        for k, pad in self._passes(x):
            out = F.conv2d(out, k, padding=pad)
        return out.reshape(b, c, h, w)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        b, c, h, w = y.shape
        out = y.reshape(b * c, 1, h, w)
        for k, pad in reversed(self._passes(y)):
            out = F.conv_transpose2d(out, k, padding=pad)
        return out.reshape(b, c, h, w)

    def full_kernel(self) -> torch.Tensor:
        """The 2D kernel ``k k^T`` (``kernel_size x kernel_size``), e.g. for pictures."""
        return torch.outer(self.kernel, self.kernel)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, sigma={self.sigma}"


@dataclass
class Blur2dConf(S.Schema):
    """:class:`Blur2d`'s keys (``data.operator`` of ``data=bsds_blur``)."""

    _target_: str = "dasip.physics.Blur2d"
    kernel_size: int = S.key(rule=KERNEL_SIZE)
    sigma: float = S.key(rule=POSITIVE)


S.store("data/operator", "base_blur2d", Blur2dConf)
