"""Linear forward operators ``A`` with exact adjoints ``A^T``."""

from __future__ import annotations

import torch
from torch import nn

#: the initial estimates ``x0`` a network may start from (``space.initial``; docs/method.md)
INITIAL_ESTIMATES = ("adjoint", "zero", "scaled_adjoint", "normalized_adjoint", "pinv")


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

    def initial_estimate(self, y: torch.Tensor, kind: str = "adjoint") -> torch.Tensor:
        """The initial estimate ``x0`` of the signal from the measurement ``y``:

        - ``adjoint``: ``A^T y``;
        - ``zero``: ``0`` (the measurement then enters through the ops);
        - ``scaled_adjoint``: ``A^T y / ||A||^2``, one gradient step on ``0.5 ||A x - y||^2``
          from ``x = 0`` with the largest step that never diverges (``1 / L``);
        - ``normalized_adjoint``: ``A^T y / A^T 1``, each sample the weighted mean of the
          measurements that see it (normalised convolution; for subsampling, an interpolation);
        - ``pinv``: ``A^+ y``, the least-squares solution of least norm (1D signals only: the
          dense pseudo-inverse is made once per signal length).
        """
        if kind not in INITIAL_ESTIMATES:
            raise ValueError(f"space.initial={kind!r}; allowed: {', '.join(INITIAL_ESTIMATES)}")
        if kind == "pinv":
            return self._pinv(y)
        x0 = self.adjoint(y)
        if kind == "zero":
            return torch.zeros_like(x0)
        if kind == "scaled_adjoint":
            return x0 / self._lipschitz(x0)
        if kind == "normalized_adjoint":
            weight = self.adjoint(torch.ones_like(y[:1]))
            return x0 / torch.where(weight.abs() > 1e-12, weight, torch.ones_like(weight))
        return x0

    def _cached(self, name: str, like: torch.Tensor, make) -> torch.Tensor:
        key = (name, tuple(like.shape[1:]), like.dtype, like.device)
        cache = self.__dict__.setdefault("_estimates", {})
        if key not in cache:
            with torch.no_grad():
                cache[key] = make()
        return cache[key]

    def dense_matrix(self, x: torch.Tensor) -> torch.Tensor:
        """The ``m x n`` matrix of ``A`` (float64) for 1D signals shaped like ``x[0]``."""
        n = x.shape[-1]
        eye = torch.eye(n, dtype=torch.float64, device=x.device).view(n, 1, n)
        return self.forward(eye)[:, 0, :].t()  # column j = A e_j

    def _lipschitz(self, x: torch.Tensor) -> torch.Tensor:
        """``L = ||A^T A||_2`` for signals shaped like ``x[0]``, made once per shape, dtype and
        device: exactly from the dense matrix for 1D signals, by power iteration from a fixed
        start (500 steps) otherwise."""

        def make() -> torch.Tensor:
            if self.spatial_dims == 1:
                a = self.dense_matrix(x)
                return torch.linalg.eigvalsh(a.t() @ a).max().to(x.dtype)
            g = torch.Generator().manual_seed(0)
            v = torch.randn((1, *x.shape[1:]), generator=g, dtype=torch.float64)
            v = v.to(dtype=x.dtype, device=x.device)
            lam = torch.ones((), dtype=x.dtype, device=x.device)
            for _ in range(500):
                w = self.adjoint(self.forward(v))
                lam = w.norm()
                v = w / lam
            return lam

        return self._cached("lipschitz", x, make)

    def _pinv(self, y: torch.Tensor) -> torch.Tensor:
        if self.spatial_dims != 1:
            raise ValueError("space.initial=pinv needs a 1D operator (a dense pseudo-inverse)")

        def make() -> torch.Tensor:
            a = self.dense_matrix(self.adjoint(y[:1]))
            return torch.linalg.pinv(a).t().to(y.dtype)  # (m, n): x0 = y @ this

        return y @ self._cached("pinv", y, make)

    def _dtype(self) -> torch.dtype:
        for b in self.buffers():
            return b.dtype
        return torch.get_default_dtype()
