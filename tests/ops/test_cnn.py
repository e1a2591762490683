"""The small CNN's signal path (matrix products, channels last) computes exactly what the
plain convolution stack computes: outputs, gradients and batch-norm statistics."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dasip.ops.cnn import SmallCNN, small_cnn


def _pair(channels: int, width: int, k: int) -> tuple[SmallCNN, nn.Sequential]:
    torch.manual_seed(0)
    fast = small_cnn(channels, width, k, spatial_dims=1).double()
    with torch.no_grad():  # non-trivial batch-norm affine parameters
        fast[1].weight.uniform_(0.5, 1.5)
        fast[1].bias.uniform_(-0.5, 0.5)
    ref = small_cnn(channels, width, k, spatial_dims=1).double()
    ref.load_state_dict(fast.state_dict())
    return fast, ref


@pytest.mark.parametrize(("channels", "width", "k"), [(1, 8, 3), (1, 6, 5), (2, 4, 3), (1, 3, 1)])
def test_signal_path_equals_the_convolution_stack(channels, width, k):
    fast, ref = _pair(channels, width, k)
    x = torch.randn(5, channels, 17, dtype=torch.float64, requires_grad=True)
    for train in (True, False):
        fast.train(train)
        ref.train(train)
        a = fast(x)
        b = nn.Sequential.forward(ref, x)  # the plain stack: Conv1d, BatchNorm1d, ReLU, Conv1d
        assert a.shape == b.shape == x.shape
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
        ga = torch.autograd.grad(a.sin().sum(), [x, *fast.parameters()])
        gb = torch.autograd.grad(b.sin().sum(), [x, *ref.parameters()])
        for u, v in zip(ga, gb, strict=True):
            torch.testing.assert_close(u, v, rtol=0, atol=1e-11)
    # training mode updated both running statistics alike
    torch.testing.assert_close(fast[1].running_mean, ref[1].running_mean, rtol=0, atol=1e-14)
    torch.testing.assert_close(fast[1].running_var, ref[1].running_var, rtol=0, atol=1e-14)
    assert int(fast[1].num_batches_tracked) == int(ref[1].num_batches_tracked) == 1


def test_state_dict_is_the_plain_stacks():
    """Checkpoints written before the fast path load unchanged: same keys, same shapes."""
    fast = small_cnn(1, 8, 3, spatial_dims=1)
    ref = nn.Sequential(nn.Conv1d(1, 8, 3, padding=1), nn.BatchNorm1d(8), nn.ReLU(),
                        nn.Conv1d(8, 1, 3, padding=1))  # fmt: skip
    assert {k: v.shape for k, v in fast.state_dict().items()} == {
        k: v.shape for k, v in ref.state_dict().items()
    }
    ref.load_state_dict(fast.state_dict())


def test_images_keep_the_convolution_path():
    cnn = small_cnn(1, 4, 3, spatial_dims=2).eval()
    x = torch.randn(2, 1, 6, 7)
    torch.testing.assert_close(cnn(x), nn.Sequential.forward(cnn, x))
