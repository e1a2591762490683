"""Gaussian blur (zero padding by default; other readings of its ends), and blur followed by
subsampling."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import schema as S
from .base import LinearOperator

#: signals up to this length are blurred by a dense matrix product rather than a convolution:
#: for short signals (the paper's 50 samples) oneDNN's 1D convolution costs ~0.2 ms of call and
#: layout overhead, a ``(batch, n) x (n, n)`` product a few microseconds
DENSE_MAX_LENGTH = 512


#: how the taps of the Gaussian kernel are scaled (``data.operator.normalize``)
KERNEL_NORMALIZATIONS = ("sum", "density")
#: the unit of ``sigma`` (``data.operator.sigma_unit``)
SIGMA_UNITS = ("grid", "samples")
#: how the blur treats the signal's ends (``data.operator.padding``)
PADDINGS = ("zero", "reflect", "circular", "valid")


def gaussian_kernel1d(kernel_size: int, sigma: float, normalize: str = "sum") -> torch.Tensor:
    """Gaussian kernel of odd length ``kernel_size``, ``sigma`` in samples.

    ``normalize="sum"``: the taps sum to 1 (a blur that keeps a constant signal);
    ``"density"``: the Gaussian probability density sampled at the taps, not renormalised
    (for ``sigma`` of about 3.1 samples the 7 taps sum to about 0.74; docs/method.md). The
    arguments' ranges are the operators' schemas' (:class:`Blur1dConf`)."""
    t = torch.arange(kernel_size, dtype=torch.float64) - (kernel_size - 1) / 2
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    if normalize == "density":
        return k / (math.sqrt(2 * math.pi) * sigma)
    return k / k.sum()


class Blur1d(LinearOperator):
    """1D Gaussian blur ``A x = k * x``.

    ``sigma`` is given in units of the signal's grid variable (``sigma_unit="grid"``; ``spacing``
    is the grid step, so the kernel's width in samples is ``sigma / spacing``: ``sigma_b = 0.2``
    on the grid ``w`` of step ``pi/49`` is about 3.1 samples) or in samples
    (``sigma_unit="samples"``). ``normalize`` scales the taps (:func:`gaussian_kernel1d`).
    ``padding`` says what lies beyond the signal's ends: ``zero`` (the default), ``reflect``
    (mirrored without repeating the end sample), ``circular`` (periodic), each with an output
    the size of the input, or ``valid`` (no padding: ``n - kernel_size + 1`` outputs). These
    are readings of the paper's open details (docs/method.md, Problems).

    The operator is the banded matrix ``M`` (:meth:`matrix`), and the adjoint is ``M^T``, so it
    is exact under every padding. Long signals with zero padding use a convolution and its
    transposed convolution instead of the dense matrix.
    """

    spatial_dims = 1

    def __init__(
        self,
        kernel_size: int = 7,
        sigma: float = 0.2,
        spacing: float = math.pi / 49,
        normalize: str = "sum",
        sigma_unit: str = "grid",
        padding: str = "zero",
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.sigma = sigma
        self.spacing = spacing
        self.normalize = normalize
        self.sigma_unit = sigma_unit
        self.padding_mode = padding
        width = sigma / spacing if sigma_unit == "grid" else sigma
        kernel = gaussian_kernel1d(kernel_size, width, normalize).to(torch.get_default_dtype())
        self.register_buffer("kernel", kernel.view(1, 1, -1), persistent=False)

    @property
    def padding(self) -> int:
        return self.kernel_size // 2

    def _k(self, x: torch.Tensor) -> torch.Tensor:
        return self.kernel.to(dtype=x.dtype)

    def output_length(self, n: int) -> int:
        """The number of samples of ``A x`` for a signal of ``n`` samples."""
        if self.padding_mode == "valid":
            if n < self.kernel_size:
                raise ValueError(
                    f"padding=valid needs signals of at least kernel_size={self.kernel_size} "
                    f"samples, got {n}"
                )
            return n - self.kernel_size + 1
        return n

    def _source(self, i: torch.Tensor, n: int) -> torch.Tensor:
        """The input index that padded index ``i`` (possibly outside ``[0, n)``) reads, or -1
        where it reads a zero."""
        if self.padding_mode == "circular":
            return i % n
        if self.padding_mode == "reflect":
            period = 2 * (n - 1) if n > 1 else 1
            j = i.abs() % period
            return torch.where(j >= n, period - j, j)
        return torch.where((i >= 0) & (i < n), i, -1)

    def matrix(self, n: int, like: torch.Tensor) -> torch.Tensor:
        """The ``m x n`` matrix ``M`` of the blur (``A x = M x``; ``m = n`` except with
        ``padding=valid``), in the dtype and on the device of ``like``; made once per length,
        dtype and device."""
        key = (n, like.dtype, like.device)
        cache = self.__dict__.setdefault("_matrices", {})
        if key not in cache:
            k = self._k(like)[0, 0].to(torch.float64).cpu()  # cpu: built once there, then moved
            m = self.output_length(n)
            start = self.kernel_size - 1 - self.padding if self.padding_mode == "valid" else 0
            rows = torch.arange(m) + start
            taps = torch.arange(self.kernel_size)
            src = self._source(rows[:, None] + taps[None, :] - self.padding, n)  # (m, K)
            out = torch.zeros(m, n + 1, dtype=torch.float64)  # column n collects the zeros
            out.index_put_((rows[:, None].expand_as(src) - start, src.where(src >= 0, n)),
                           k.expand_as(src), accumulate=True)  # fmt: skip
            cache[key] = out[:, :n].to(dtype=like.dtype, device=like.device)
        return cache[key]

    def _dense(self, n: int) -> bool:
        return n <= DENSE_MAX_LENGTH or self.padding_mode != "zero"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        if self._dense(n):
            return x @ self.matrix(n, x).t()
        b, c = x.shape[:2]
        out = F.conv1d(x.reshape(b * c, 1, -1), self._k(x), padding=self.padding)
        return out.reshape(b, c, -1)

    def adjoint(self, y: torch.Tensor, n: int | None = None) -> torch.Tensor:
        """``A^T y``; ``n``, the signal's length, is needed only with ``padding=valid``."""
        m = y.shape[-1]
        if n is None:
            n = m + self.kernel_size - 1 if self.padding_mode == "valid" else m
        if self._dense(n):
            return y @ self.matrix(n, y)
        b, c = y.shape[:2]
        out = F.conv_transpose1d(y.reshape(b * c, 1, -1), self._k(y), padding=self.padding)
        return out.reshape(b, c, -1)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, sigma={self.sigma} ({self.sigma_unit}), "
            f"spacing={self.spacing:.5g}, normalize={self.normalize}, padding={self.padding_mode}"
        )


class Downsample1d(LinearOperator):
    """Blur, then keep every ``factor``-th sample (indices ``0, factor, 2 factor, ...``) of the
    blurred signal.

    The adjoint zero-fills the kept samples back onto the blur's output, then applies the blur's
    adjoint. For 50 samples, zero padding and ``factor=4`` this keeps 13 measurements. The
    blur's readings (``normalize``, ``sigma_unit``, ``padding``) are :class:`Blur1d`'s.
    """

    spatial_dims = 1

    def __init__(
        self,
        factor: int = 4,
        kernel_size: int = 7,
        sigma: float = 0.2,
        spacing: float = math.pi / 49,
        signal_length: int = 50,
        normalize: str = "sum",
        sigma_unit: str = "grid",
        padding: str = "zero",
    ):
        super().__init__()
        self.factor = factor
        self.signal_length = signal_length
        self.blur = Blur1d(kernel_size, sigma, spacing, normalize, sigma_unit, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blur(x)[..., :: self.factor]

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        n = self.signal_length
        m = self.blur.output_length(n)
        expected = len(range(0, m, self.factor))
        if y.shape[-1] != expected:
            raise ValueError(
                f"Downsample1d.adjoint expects {expected} measurements for a signal of length "
                f"{n}, got {y.shape[-1]}"
            )
        if self.blur._dense(n):
            return y @ self.blur.matrix(n, y)[:: self.factor]
        full = y.new_zeros(*y.shape[:-1], m)
        full = full.index_copy(-1, torch.arange(0, m, self.factor, device=y.device), y)
        return self.blur.adjoint(full, n)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, signal_length={self.signal_length}"


class Identity(LinearOperator):
    """``A = I``: denoising of signals (``spatial_dims=1``) or images (``2``)."""

    def __init__(self, spatial_dims: int = 1):
        super().__init__()
        self.spatial_dims = spatial_dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y


# -- schemas: ``data.operator`` of the data options (``dasip/conf/data/*.yaml``) ---------------
#: the blur's keys' rules (:class:`Blur1dConf`, :class:`Downsample1dConf`, Blur2d's)
KERNEL_SIZE = S.integer(min=1, odd=True)
POSITIVE = S.number(gt=0)


@dataclass
class Blur1dConf(S.Schema):
    """:class:`Blur1d`'s keys (``data.operator`` of ``data=blur``)."""

    _target_: str = "dasip.physics.Blur1d"
    kernel_size: int = S.key(rule=KERNEL_SIZE)
    sigma: float = S.key(rule=POSITIVE)
    spacing: float = S.key(rule=POSITIVE)
    normalize: str = S.key(rule=S.choice(*KERNEL_NORMALIZATIONS))
    sigma_unit: str = S.key(rule=S.choice(*SIGMA_UNITS))
    padding: str = S.key(rule=S.choice(*PADDINGS))


@dataclass
class Downsample1dConf(Blur1dConf):
    """:class:`Downsample1d`'s keys (``data.operator`` of ``data=downsampling``): :class:`Blur1d`'s,
    the factor and the signal length."""

    _target_: str = "dasip.physics.Downsample1d"
    factor: int = S.key(rule=S.integer(min=1))
    signal_length: int = S.key(rule=S.integer(min=1))


@dataclass
class IdentityConf(S.Schema):
    """:class:`Identity`'s keys (``data.operator`` of ``data=bsds_denoise``)."""

    _target_: str = "dasip.physics.Identity"
    spatial_dims: int = S.key(rule=S.choice(1, 2))


S.store("data/operator", "base_blur1d", Blur1dConf)
S.store("data/operator", "base_downsample1d", Downsample1dConf)
S.store("data/operator", "base_identity", IdentityConf)
