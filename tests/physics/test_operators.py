import math

import pytest
import torch

from dasip.physics import (
    Blur1d,
    Downsample1d,
    Identity,
    add_noise,
    gaussian_kernel1d,
)
from dasip.physics.blur import Blur1dConf, Downsample1dConf


def _adjoint_gap(op, n: int, seed: int = 0) -> float:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(8, 1, n, generator=g, dtype=torch.float64)
    ax = op(x)
    u = torch.randn(ax.shape, generator=g, dtype=torch.float64)
    lhs = (ax * u).sum()
    rhs = (x * op.adjoint(u)).sum()
    return float((lhs - rhs).abs() / lhs.abs().clamp_min(1e-12))


@pytest.mark.parametrize("op", [Blur1d(), Downsample1d(), Identity(), Downsample1d(factor=3)])
def test_adjoint_is_exact(op):
    op = op.double()
    assert _adjoint_gap(op, 50) < 1e-13


def test_adjoint_exact_in_float32_to_float_precision():
    op = Blur1d()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 1, 50, generator=g)
    u = torch.randn(16, 1, 50, generator=g)
    lhs, rhs = (op(x) * u).sum(), (x * op.adjoint(u)).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-5, atol=1e-4)


def test_adjoint_matches_explicit_matrix_transpose():
    op = Downsample1d().double()
    eye = torch.eye(50, dtype=torch.float64).view(50, 1, 50)
    A = op(eye).view(50, -1).T  # (13, 50): column j = A e_j
    eye_m = torch.eye(A.shape[0], dtype=torch.float64).view(A.shape[0], 1, -1)
    At = op.adjoint(eye_m).view(A.shape[0], 50)  # row i = A^T e_i
    assert torch.allclose(At, A, atol=1e-15)


def test_output_sizes():
    x = torch.randn(4, 1, 50)
    assert Blur1d()(x).shape == (4, 1, 50)
    assert Downsample1d()(x).shape == (4, 1, 13)
    assert Downsample1d().measurement_shape((50,)) == (13,)
    assert Downsample1d().adjoint(torch.randn(4, 1, 13)).shape == (4, 1, 50)


def test_downsampling_keeps_every_fourth_blurred_sample():
    x = torch.randn(2, 1, 50)
    assert torch.equal(Downsample1d()(x), Blur1d()(x)[..., 0::4])


def test_blur_kernel_width_in_grid_units():
    op = Blur1d(kernel_size=7, sigma=0.2, spacing=math.pi / 49)
    expected = gaussian_kernel1d(7, 0.2 / (math.pi / 49)).float()
    assert torch.allclose(op.kernel.flatten(), expected)
    assert abs(float(op.kernel.sum()) - 1.0) < 1e-6
    # sigma of about 3.1 samples: the kernel is wide, its edge weights are still large
    assert 0.6 < float(op.kernel.flatten()[0] / op.kernel.flatten()[3]) < 0.85


def test_blur_zero_padding_at_edges():
    x = torch.ones(1, 1, 50)
    y = Blur1d()(x)
    assert y[0, 0, 25] == pytest.approx(1.0, abs=1e-6)
    assert y[0, 0, 0] < 0.8  # zero padding loses mass at the border


def test_noise_is_seeded_and_has_the_right_std():
    y = torch.zeros(1000, 1, 50)
    a = add_noise(y, 0.01, torch.Generator().manual_seed(3))
    b = add_noise(y, 0.01, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert float(a.std()) == pytest.approx(0.01, rel=0.02)


#: a valid Blur1d config (the operator's schema checks the keys)
BLUR1D = dict(kernel_size=7, sigma=0.2, spacing=0.064, normalize="sum", sigma_unit="grid",
              padding="zero")  # fmt: skip


def test_bad_kernel_rejected():
    with pytest.raises(ValueError, match="kernel_size=6 is not allowed; allowed: an odd integer"):
        Blur1dConf(**{**BLUR1D, "kernel_size": 6})


@pytest.mark.parametrize("n", [50, 37, 600])
def test_dense_and_convolution_paths_agree(n, monkeypatch):
    """Short signals are blurred by a dense matrix product, long ones by a convolution: the
    same operator either way (and each path's adjoint exact)."""
    from dasip.physics import blur

    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 2, n, generator=g, dtype=torch.float64)
    ops = [Blur1d(kernel_size=9, sigma=0.3).double(), Downsample1d(3, signal_length=n).double()]
    first = [(op(x), op.adjoint(op(x))) for op in ops]
    monkeypatch.setattr(blur, "DENSE_MAX_LENGTH", 10**6 if n > 512 else 0)  # the other path
    for op, (ax, atax) in zip(ops, first, strict=True):
        torch.testing.assert_close(op(x), ax, rtol=0, atol=1e-14)
        torch.testing.assert_close(op.adjoint(ax), atax, rtol=0, atol=1e-14)
        assert _adjoint_gap(op, n) < 1e-13


def test_dense_matrix_follows_dtype():
    """The matrix is made per length, dtype and device: a float64 call after a float32 one
    computes in float64."""
    op = Blur1d()
    x32 = torch.randn(2, 1, 50)
    op(x32)
    x64 = x32.double()
    out = op(x64)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), op(x32))
    assert _adjoint_gap(op, 50) < 1e-13


# -- readings of the paper's open details (data.operator.*, space.initial) ----------------------
READINGS = [
    dict(normalize=nz, sigma_unit=unit, padding=pad)
    for nz in ("sum", "density")
    for unit in ("grid", "samples")
    for pad in ("zero", "reflect", "circular", "valid")
]


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: "-".join(r.values()))
def test_every_reading_keeps_an_exact_adjoint(reading):
    for op in (Blur1d(**reading), Downsample1d(**reading), Downsample1d(3, **reading)):
        assert _adjoint_gap(op.double(), 50) < 1e-13, op


def _dense(op, n=50):
    eye = torch.eye(n, dtype=torch.float64).view(n, 1, n)
    return op.double()(eye)[:, 0, :].T  # (m, n): column j = A e_j


def test_paddings_as_matrices():
    """Each padding's matrix, checked on a 9-sample signal against what the padding means."""
    k = gaussian_kernel1d(3, 1.0).tolist()
    n = 9
    rows = {
        pad: _dense(Blur1d(3, 1.0, 1.0, padding=pad), n)
        for pad in ("zero", "reflect", "circular", "valid")
    }
    assert rows["zero"][0].tolist() == pytest.approx([k[1], k[2]] + [0] * 7)
    assert rows["reflect"][0].tolist() == pytest.approx([k[1], 2 * k[2]] + [0] * 7)  # x_-1 = x_1
    assert rows["circular"][0].tolist() == pytest.approx([k[1], k[2]] + [0] * 6 + [k[0]])
    assert rows["valid"].shape == (n - 2, n)
    assert rows["valid"][0].tolist() == pytest.approx([k[0], k[1], k[2]] + [0] * 6)
    for pad in ("reflect", "circular"):  # a kernel that sums to 1 keeps a constant signal
        assert torch.allclose(rows[pad].sum(1), torch.ones(n, dtype=torch.float64))


def test_density_kernel_is_the_sampled_gaussian_density():
    """sigma_b = 0.2 on the grid of step pi/49 is about 3.1 samples: the density's 7 taps sum
    to about 0.74 (docs/method.md)."""
    op = Blur1d(normalize="density")
    s = 0.2 / (math.pi / 49)
    assert float(op.kernel.sum()) == pytest.approx(0.74, abs=0.005)
    assert float(op.kernel.flatten()[3]) == pytest.approx(
        1 / (math.sqrt(2 * math.pi) * s), rel=1e-6
    )
    assert float(Blur1d(sigma=2.0, sigma_unit="samples").kernel.flatten()[3]) == pytest.approx(
        float(gaussian_kernel1d(7, 2.0)[3]), rel=1e-6
    )


def test_valid_downsampling_measures_fewer_samples():
    op = Downsample1d(padding="valid")
    assert op.measurement_shape((50,)) == (11,)  # 44 blurred samples, every 4th
    assert op.adjoint(torch.randn(2, 1, 11)).shape == (2, 1, 50)
    with pytest.raises(ValueError, match="expects 11"):
        op.adjoint(torch.randn(2, 1, 13))


def test_bad_readings_rejected():
    with pytest.raises(ValueError, match="padding='same'"):
        Blur1dConf(**{**BLUR1D, "padding": "same"})
    with pytest.raises(ValueError, match="sigma_unit"):
        Downsample1dConf(**{**BLUR1D, "sigma_unit": "pixels", "factor": 4, "signal_length": 50})
    with pytest.raises(ValueError, match="normalize"):
        Blur1dConf(**{**BLUR1D, "normalize": "max"})


@pytest.mark.parametrize(
    "op", [Blur1d(normalize="density"), Downsample1d(), Downsample1d(padding="valid")]
)
def test_initial_estimates(op):
    op = op.double()
    A = _dense(op)
    g = torch.Generator().manual_seed(0)
    y = torch.randn(5, 1, A.shape[0], generator=g, dtype=torch.float64)
    flat = y[:, 0, :]
    torch.testing.assert_close(op.initial_estimate(y, "adjoint")[:, 0], flat @ A)
    assert not op.initial_estimate(y, "zero").any()
    L = torch.linalg.eigvalsh(A.T @ A).max()
    torch.testing.assert_close(op.initial_estimate(y, "scaled_adjoint")[:, 0], flat @ A / L)
    weight = torch.ones(A.shape[0], dtype=torch.float64) @ A
    expected = torch.where(weight > 0, (flat @ A) / weight.clamp_min(1e-300), 0)  # unseen: 0
    torch.testing.assert_close(op.initial_estimate(y, "normalized_adjoint")[:, 0], expected)
    torch.testing.assert_close(op.initial_estimate(y, "pinv")[:, 0], flat @ torch.linalg.pinv(A).T)
    with pytest.raises(ValueError, match="space.initial='lsq'"):
        op.initial_estimate(y, "lsq")
