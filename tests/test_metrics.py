"""PSNR per sample with a fixed peak, and the two loss reductions, against hand computation."""

import math

import pytest
import torch

from dasip.metrics import psnr_per_sample, reconstruction_loss


@pytest.mark.parametrize("shape", [(5, 1, 50), (4, 1, 8, 6)])
@pytest.mark.parametrize("data_range", [1.0, 2.5])
def test_psnr_is_10_log10_of_peak_squared_over_each_samples_mse(shape, data_range):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(shape, generator=g, dtype=torch.float64)
    x_hat = x + 0.05 * torch.randn(shape, generator=g, dtype=torch.float64)
    got = psnr_per_sample(x_hat, x, data_range)
    assert got.shape == (shape[0],) and got.dtype == torch.float64
    for i in range(shape[0]):
        mse = sum(float(v) ** 2 for v in (x_hat[i] - x[i]).flatten()) / x[i].numel()
        assert float(got[i]) == pytest.approx(
            10 * math.log10(data_range**2 / mse), rel=1e-7
        )  # torchmetrics takes log10(R) in float32


def test_a_perfect_reconstruction_has_infinite_psnr():
    x = torch.rand(2, 1, 10)
    assert torch.isinf(psnr_per_sample(x, x)).all()


def test_loss_reductions():
    x = torch.zeros(2, 1, 3)
    x_hat = torch.tensor([[[1.0, 2.0, 2.0]], [[0.0, 0.0, 3.0]]])
    # sum over each signal (1+4+4=9, 9), mean over the batch; or the mean over all elements
    assert float(reconstruction_loss(x_hat, x, "sum")) == pytest.approx(9.0)
    assert float(reconstruction_loss(x_hat, x, "mean")) == pytest.approx(18.0 / 6)
    with pytest.raises(ValueError, match="allowed: sum, mean"):
        reconstruction_loss(x_hat, x, "median")


def test_per_signal_psnr_peaks_are_computed_as_documented():
    x = torch.tensor([[[0.5, -2.0, 1.0, 0.0]], [[3.0, 1.0, 2.0, 2.0]]], dtype=torch.float64)
    x_hat = x + torch.tensor([[[0.1, 0.0, -0.1, 0.0]], [[0.0, 0.2, 0.0, 0.0]]], dtype=torch.float64)
    mse = torch.tensor([0.02 / 4, 0.04 / 4], dtype=torch.float64)
    expect = {
        1.0: 10 * torch.log10(1.0 / mse),
        "max": 10 * torch.log10(torch.tensor([2.0**2, 3.0**2], dtype=torch.float64) / mse),
        "range": 10 * torch.log10(torch.tensor([3.0**2, 2.0**2], dtype=torch.float64) / mse),
    }
    for peak, want in expect.items():
        torch.testing.assert_close(psnr_per_sample(x_hat, x, peak), want)
    with pytest.raises(ValueError, match="psnr.data_range='peak'"):
        psnr_per_sample(x_hat, x, "peak")
