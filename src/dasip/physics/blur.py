"""Gaussian blur with zero ("same") padding, and blur followed by subsampling."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .base import LinearOperator

#: signals up to this length are blurred by a dense matrix product rather than a convolution:
#: for short signals (the paper's 50 samples) oneDNN's 1D convolution costs ~0.2 ms of call and
#: layout overhead, a ``(batch, n) x (n, n)`` product a few microseconds
DENSE_MAX_LENGTH = 512


def gaussian_kernel1d(kernel_size: int, sigma: float) -> torch.Tensor:
    """Normalised Gaussian kernel of odd length ``kernel_size``, ``sigma`` in samples."""
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    t = torch.arange(kernel_size, dtype=torch.float64) - (kernel_size - 1) / 2
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


class Blur1d(LinearOperator):
    """1D Gaussian blur ``A x = k * x`` with zero padding, output the size of the input.

    ``sigma`` is given in units of the signal's grid variable; ``spacing`` is the grid step, so
    the kernel's width in samples is ``sigma / spacing`` (docs/method.md, Problems: ``sigma_b = 0.2`` on the grid
    ``w`` of step ``pi/49`` is about 3.1 samples). The adjoint of a zero-padded correlation is
    the transposed convolution with the same kernel.
    """

    spatial_dims = 1

    def __init__(self, kernel_size: int = 7, sigma: float = 0.2, spacing: float = math.pi / 49):
        super().__init__()
        if spacing <= 0:
            raise ValueError(f"spacing must be positive, got {spacing}")
        self.kernel_size = kernel_size
        self.sigma = sigma
        self.spacing = spacing
        kernel = gaussian_kernel1d(kernel_size, sigma / spacing).to(torch.get_default_dtype())
        self.register_buffer("kernel", kernel.view(1, 1, -1), persistent=False)

    @property
    def padding(self) -> int:
        return self.kernel_size // 2

    def _k(self, x: torch.Tensor) -> torch.Tensor:
        return self.kernel.to(dtype=x.dtype)

    def matrix(self, n: int, like: torch.Tensor) -> torch.Tensor:
        """The ``n x n`` matrix ``M`` of the blur (``A x = M x``), banded Toeplitz, in the
        dtype and on the device of ``like``; made once per length, dtype and device."""
        key = (n, like.dtype, like.device)
        cache = self.__dict__.setdefault("_matrices", {})
        if key not in cache:
            k = self._k(like)[0, 0]
            offset = torch.arange(n, device=like.device)
            offset = offset[None, :] - offset[:, None] + self.padding  # j - i + pad
            inside = (offset >= 0) & (offset < self.kernel_size)
            cache[key] = torch.where(inside, k[offset.clamp(0, self.kernel_size - 1)], 0)
        return cache[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        if n <= DENSE_MAX_LENGTH:
            return x @ self.matrix(n, x).t()
        b, c = x.shape[:2]
        out = F.conv1d(x.reshape(b * c, 1, -1), self._k(x), padding=self.padding)
        return out.reshape(b, c, -1)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        n = y.shape[-1]
        if n <= DENSE_MAX_LENGTH:
            return y @ self.matrix(n, y)
        b, c = y.shape[:2]
        out = F.conv_transpose1d(y.reshape(b * c, 1, -1), self._k(y), padding=self.padding)
        return out.reshape(b, c, -1)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, sigma={self.sigma}, spacing={self.spacing:.5g}"


class Downsample1d(LinearOperator):
    """Blur, then keep every ``factor``-th sample (indices ``0, factor, 2 factor, ...``).

    The adjoint zero-fills the kept samples back onto the full grid, then applies the blur's
    adjoint. For 50 samples and ``factor=4`` this keeps 13 measurements.
    """

    spatial_dims = 1

    def __init__(
        self,
        factor: int = 4,
        kernel_size: int = 7,
        sigma: float = 0.2,
        spacing: float = math.pi / 49,
        signal_length: int = 50,
    ):
        super().__init__()
        if factor < 1:
            raise ValueError(f"factor must be >= 1, got {factor}")
        self.factor = factor
        self.signal_length = signal_length
        self.blur = Blur1d(kernel_size, sigma, spacing)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blur(x)[..., :: self.factor]

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        n = self.signal_length
        expected = len(range(0, n, self.factor))
        if y.shape[-1] != expected:
            raise ValueError(
                f"Downsample1d.adjoint expects {expected} measurements for a signal of length "
                f"{n}, got {y.shape[-1]}"
            )
        if n <= DENSE_MAX_LENGTH:
            return y @ self.blur.matrix(n, y)[:: self.factor]
        full = y.new_zeros(*y.shape[:-1], n)
        full = full.index_copy(-1, torch.arange(0, n, self.factor, device=y.device), y)
        return self.blur.adjoint(full)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, signal_length={self.signal_length}"


class Identity(LinearOperator):
    """``A = I``: denoising of signals (``spatial_dims=1``) or images (``2``)."""

    def __init__(self, spatial_dims: int = 1):
        super().__init__()
        if spatial_dims not in (1, 2):
            raise ValueError(f"spatial_dims must be 1 or 2, got {spatial_dims!r}")
        self.spatial_dims = spatial_dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y
