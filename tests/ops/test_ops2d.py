"""The ops on images ``(batch, 1, H, W)``: ``spatial_dims`` comes from the operator."""

import pytest
import torch

from dasip.ops import OPS, OpContext, build_op
from dasip.physics import Blur2d, Identity


@pytest.fixture
def ctx():
    return OpContext(Blur2d(5, 1.0), spatial_dims=2, width=4)


def test_every_op_keeps_the_image_shape(ctx):
    x, y = torch.randn(3, 1, 12, 10), torch.randn(3, 1, 12, 10)
    for name in OPS:
        assert build_op(name, ctx)(x, y).shape == x.shape, name


def test_net_and_grad_use_2d_convolutions(ctx):
    kinds = [type(m).__name__ for m in build_op("net", ctx).net]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d"]
    grad = build_op("grad", ctx)
    assert type(grad.net[0]).__name__ == "Conv2d"
    x, y = torch.randn(2, 1, 9, 9), torch.randn(2, 1, 9, 9)
    A = ctx.operator
    expected = x - 0.5 * (A.adjoint(A(x) - y) + grad.net(x))
    assert torch.allclose(grad(x, y), expected, atol=1e-6)


def test_roll_moves_batch_rows_and_columns(ctx):
    x = torch.arange(3 * 4 * 5, dtype=torch.float32).view(3, 1, 4, 5)
    out = build_op("roll", ctx)(x, x)
    for b in range(3):
        for i in range(4):
            for j in range(5):  # sample b, pixel (i, j) comes from sample b-1, pixel (i-1, j-1)
                assert out[b, 0, i, j] == x[(b - 1) % 3, 0, (i - 1) % 4, (j - 1) % 5]
    mild = build_op("roll", OpContext(Identity(2), spatial_dims=2, roll_dims="spatial"))(x, x)
    assert torch.equal(mild, torch.roll(x, (1, 1), (2, 3)))


def test_noise_on_images_is_fresh_with_the_configured_std():
    op = build_op("noise", OpContext(Identity(2), spatial_dims=2, noise_std=0.1))
    x = torch.zeros(8, 1, 32, 32)
    a, b = op(x, x), op(x, x)
    assert not torch.equal(a, b) and float(a.std()) == pytest.approx(0.1, rel=0.05)
