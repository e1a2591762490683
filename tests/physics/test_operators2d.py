"""2D operators: exact adjoints in float64, "same" zero padding, the Gaussian kernel."""

import pytest
import torch
import torch.nn.functional as F

from dasip.physics import Blur2d, Identity, add_noise
from dasip.physics.blur import IdentityConf
from dasip.physics.blur2d import Blur2dConf


def _adjoint_gap(op, shape, seed: int = 0) -> float:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(3, 1, *shape, generator=g, dtype=torch.float64)
    ax = op(x)
    u = torch.randn(ax.shape, generator=g, dtype=torch.float64)
    lhs, rhs = (ax * u).sum(), (x * op.adjoint(u)).sum()
    # relative to ||A x|| ||u||: the inner product itself may be small by cancellation
    return float((lhs - rhs).abs() / (ax.norm() * u.norm()))


@pytest.mark.parametrize(
    "op",
    [Blur2d(), Blur2d(kernel_size=5, sigma=0.8), Blur2d(kernel_size=7, sigma=3.0), Identity(2)],
)
@pytest.mark.parametrize("shape", [(20, 31), (9, 9), (40, 40)])
def test_every_2d_adjoint_is_exact_in_float64(op, shape):
    assert _adjoint_gap(op.double(), shape) < 1e-14


def test_blur2d_adjoint_is_the_transpose_of_its_matrix():
    op, (h, w) = Blur2d(kernel_size=5, sigma=1.0).double(), (6, 7)
    eye = torch.eye(h * w, dtype=torch.float64).view(h * w, 1, h, w)
    A = op(eye).view(h * w, -1).T  # column j = A e_j
    At = op.adjoint(eye).view(h * w, -1)  # row i = A^T e_i
    assert torch.allclose(At, A, atol=1e-15)


def test_blur2d_is_the_full_2d_zero_padded_gaussian_convolution():
    op = Blur2d(kernel_size=7, sigma=1.6).double()
    x = torch.randn(2, 1, 15, 12, dtype=torch.float64)
    k = op.full_kernel().view(1, 1, 7, 7)
    assert torch.allclose(op(x), F.conv2d(x, k, padding=3), atol=1e-14)
    t = torch.arange(7, dtype=torch.float64) - 3
    g = torch.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * 1.6**2))
    assert torch.allclose(op.full_kernel(), g / g.sum(), atol=1e-15)  # sigma in pixels


def test_blur2d_keeps_the_shape_and_pads_with_zeros():
    op = Blur2d(kernel_size=5, sigma=1.0)
    x = torch.ones(2, 1, 16, 11)
    out = op(x)
    assert out.shape == x.shape
    assert torch.allclose(out[..., 2:-2, 2:-2], torch.ones(()))  # inside: the kernel sums to 1
    assert float(out[0, 0, 0, 0]) < 0.6  # the corner sees zeros beyond the image
    impulse = torch.zeros(1, 1, 9, 9)
    impulse[0, 0, 4, 4] = 1
    assert torch.allclose(op(impulse)[0, 0, 2:7, 2:7], op.full_kernel().float())


@pytest.mark.parametrize(
    "kwargs,match",
    [({"kernel_size": 4}, "odd"), ({"kernel_size": 0}, "odd"), ({"sigma": 0}, "sigma")],
)
def test_blur2d_rejects_bad_kernels(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Blur2dConf(**{"kernel_size": 25, "sigma": 1.6, **kwargs})


def test_identity_on_images_and_its_dimensions():
    x = torch.randn(2, 1, 5, 6)
    assert torch.equal(Identity(2)(x), x) and Identity(2).spatial_dims == 2
    assert Blur2d().spatial_dims == 2
    with pytest.raises(ValueError, match="spatial_dims=3 is not allowed; allowed: 1, 2"):
        IdentityConf(spatial_dims=3)


def test_noise_on_images_has_the_std_and_follows_the_generator():
    y = torch.zeros(64, 1, 32, 32)
    a = add_noise(y, 25 / 255, torch.Generator().manual_seed(3))
    b = add_noise(y, 25 / 255, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and float(a.std()) == pytest.approx(25 / 255, rel=0.01)
