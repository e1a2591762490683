import pytest
import torch

from dasip.ops import OPS, OpContext, build_op, check_op_names
from dasip.physics import Blur1d, Downsample1d


@pytest.fixture
def ctx():
    return OpContext(Blur1d(), width=8)


def test_every_op_keeps_the_shape(ctx):
    x, y = torch.randn(4, 1, 50), torch.randn(4, 1, 50)
    for name in OPS:
        assert build_op(name, ctx)(x, y).shape == x.shape, name


def test_grad_is_a_gradient_step_plus_learned_term(ctx):
    op = build_op("grad", ctx)
    x, y = torch.randn(4, 1, 50), torch.randn(4, 1, 50)
    A = ctx.operator
    expected = x - 0.5 * A.adjoint(A(x) - y) - 0.5 * op.net(x)
    assert torch.allclose(op(x, y), expected, atol=1e-6)
    assert op.tau.requires_grad and float(op.tau) == 0.5


def test_grad_with_downsampling_uses_measurements_of_13():
    op = build_op("grad", OpContext(Downsample1d(), width=4))
    out = op(torch.randn(2, 1, 50), torch.randn(2, 1, 13))
    assert out.shape == (2, 1, 50)


def test_net_is_the_cnn(ctx):
    op = build_op("net", ctx)
    x = torch.randn(4, 1, 50)
    assert torch.equal(op(x, x), op.net(x))
    kinds = [type(m).__name__ for m in op.net]
    assert kinds == ["Conv1d", "BatchNorm1d", "ReLU", "Conv1d"]
    assert op.net[0].out_channels == 8


def test_roll_shifts_batch_and_space(ctx):
    op = build_op("roll", ctx)
    x = torch.arange(3 * 5, dtype=torch.float32).view(3, 1, 5)
    out = op(x, x)
    assert torch.equal(out[1, 0], torch.roll(x[0, 0], 1))  # sample 1 gets sample 0, shifted
    mild = build_op("roll", OpContext(Blur1d(), roll_dims="spatial"))(x, x)
    assert torch.equal(mild[1, 0], torch.roll(x[1, 0], 1))


def test_roll_rejects_unknown_dims():
    with pytest.raises(ValueError, match="batch_spatial"):
        build_op("roll", OpContext(Blur1d(), roll_dims="time"))


def test_noise_is_fresh_every_call_with_the_configured_std(ctx):
    op = build_op("noise", ctx)
    x = y = torch.zeros(256, 1, 50)
    a, b = op(x, y), op(x, y)
    assert not torch.equal(a, b)
    assert float(a.std()) == pytest.approx(0.10, rel=0.05)


def test_zero(ctx):
    x = torch.randn(2, 1, 50)
    assert torch.equal(build_op("zero", ctx)(x, x), torch.zeros_like(x))


def test_unknown_op_rejected_naming_the_allowed():
    with pytest.raises(
        ValueError, match=r"unknown op 'conv'; allowed: grad, net, roll, noise, zero"
    ):
        check_op_names(["grad", "conv"])
    with pytest.raises(ValueError, match="twice"):
        check_op_names(["grad", "grad"])


def test_ops_do_not_write_into_their_inputs(ctx):
    x, y = torch.randn(4, 1, 50), torch.randn(4, 1, 50)
    x0, y0 = x.clone(), y.clone()
    for name in OPS:
        build_op(name, ctx)(x, y)
    assert torch.equal(x, x0) and torch.equal(y, y0)


def test_roll_flat_rolls_the_flattened_tensor():
    x = torch.arange(3 * 5, dtype=torch.float32).view(3, 1, 5)
    out = build_op("roll", OpContext(Blur1d(), roll_dims="flat"))(x, x)
    assert torch.equal(out.flatten(), torch.roll(x.flatten(), 1))
    assert out[1, 0, 0] == x[0, 0, -1]  # the last sample of one signal opens the next


def test_noise_inside_the_step_is_scaled_by_tau():
    x, y = torch.zeros(512, 1, 50), torch.zeros(512, 1, 50)
    outside = build_op("noise", OpContext(Blur1d(), tau_init=0.5, noise_std=0.2))
    inside = build_op(
        "noise", OpContext(Blur1d(), tau_init=0.5, noise_std=0.2, noise_placement="inside")
    )
    assert float(outside(x, y).std()) == pytest.approx(0.2, rel=0.03)
    assert float(inside(x, y).std()) == pytest.approx(0.1, rel=0.03)
    with pytest.raises(ValueError, match="noise_placement"):
        build_op("noise", OpContext(Blur1d(), noise_placement="before"))


def test_noise_at_eval_off_makes_scoring_a_plain_step():
    x, y = torch.randn(4, 1, 50), torch.randn(4, 1, 50)
    op = build_op("noise", OpContext(Blur1d(), noise_at_eval=False)).eval()
    step = x - 0.5 * op.operator.normal(x, y)
    assert torch.equal(op(x, y), step)
    assert not torch.equal(op.train()(x, y), step)  # training still draws noise
    assert not torch.equal(build_op("noise", OpContext(Blur1d())).eval()(x, y), step)
