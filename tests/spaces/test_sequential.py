import pytest
import torch

from dasip.ops import OpContext
from dasip.physics import Blur1d
from dasip.spaces import (
    GenotypeError,
    SequentialGenotype,
    SequentialSpace,
    format_sequence,
    parse_sequence,
)


@pytest.fixture
def space():
    return SequentialSpace(10)


@pytest.mark.parametrize(
    "text,ops",
    [
        ("grad*10", ("grad",) * 10),
        ("grad-net*9", ("grad",) + ("net",) * 9),
        ("grad,net*9", ("grad",) + ("net",) * 9),
        ("grad+net*9", ("grad",) + ("net",) * 9),
        (["grad"] + ["net*9"], ("grad",) + ("net",) * 9),
        ("noise-roll-grad*2-net*6", ("noise", "roll", "grad", "grad") + ("net",) * 6),
    ],
)
def test_parse(space, text, ops):
    assert space.parse(text).ops == ops


def test_round_trip(space):
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        geno = space.sample(["grad", "net", "roll", "noise"], g)
        assert space.parse(str(geno)) == geno
        assert parse_sequence(format_sequence(geno.ops)) == geno.ops
    assert str(SequentialGenotype(("grad", "grad", "net"))) == "grad*2-net"


@pytest.mark.parametrize(
    "text,match",
    [
        ("grad*9", r"has 9 layers, but space.n_layers=10"),
        ("grad*11", r"has 11 layers"),
        ("grad-nett*9", r"layer 1 has unknown op 'nett'; allowed: grad, net, roll, noise"),
        ("grad*x-net", r"cannot read token 'grad\*x'"),
        ("", r"is empty"),
        ("zero*10", r"unknown op 'zero'"),
    ],
)
def test_malformed_arch_rejected(space, text, match):
    with pytest.raises(GenotypeError, match=match):
        space.parse(text)


def test_supernet_and_derived_shapes(space):
    ctx = OpContext(Blur1d(), width=4)
    sup = space.supernet(ctx, ["grad", "net", "roll", "noise"])
    assert sup.alpha.shape == (10, 4)
    assert float(sup.alpha.abs().max()) < 0.01  # 1e-3 * randn
    y = torch.randn(3, 1, 50)
    assert sup(y).shape == (3, 1, 50)
    geno = sup.derive()
    assert len(geno) == 10
    net = space.derived(ctx, geno)
    assert net(y).shape == (3, 1, 50)
    assert set(map(id, sup.weight_parameters())).isdisjoint({id(sup.alpha)})


def test_supernet_mixes_with_softmax_weights(space):
    ctx = OpContext(Blur1d(), width=4)
    sup = SequentialSpace(1).supernet(ctx, ["grad", "roll"])
    with torch.no_grad():
        sup.alpha.copy_(torch.tensor([[0.3, -0.2]]))
    sup.eval()
    y = torch.randn(5, 1, 50)
    x0 = ctx.operator.adjoint(y)
    w = torch.softmax(torch.tensor([0.3, -0.2]), 0)
    grad_op, roll_op = sup.layers[0].ops
    expected = x0 + w[0] * grad_op(x0, y) + w[1] * roll_op(x0, y)
    assert torch.allclose(sup(y), expected, atol=1e-6)


def test_derive_is_argmax(space):
    sup = SequentialSpace(3).supernet(OpContext(Blur1d(), width=4), ["grad", "net", "roll"])
    with torch.no_grad():
        sup.alpha.copy_(torch.tensor([[0, 1, 0], [2, 0, 0], [0, 0, 3.0]]))
    assert sup.derive().ops == ("net", "grad", "roll")


def test_initial_zero_starts_the_network_from_zero(cfg_factory, tmp_path):
    """``space.initial=zero``: ``x_hat = 0 + body(0, y)``; the default starts from ``A^T y``."""
    from dasip.trial import TrialContext

    nets = {}
    for initial in ("adjoint", "zero"):
        ctx = TrialContext(cfg_factory(overrides=[f"space.initial={initial}"]), tmp_path)
        torch.manual_seed(0)
        net = ctx.space.derived(ctx.op_context(), ctx.space.parse("grad*10")).eval()
        assert net.initial == initial
        nets[initial] = (net, ctx.operator)
    y = torch.randn(3, 1, 50)
    with torch.no_grad():
        for initial, (net, operator) in nets.items():
            x0 = operator.adjoint(y) if initial == "adjoint" else torch.zeros(3, 1, 50)
            torch.testing.assert_close(net(y), x0 + net.body(x0, y))
        assert not torch.allclose(nets["adjoint"][0](y), nets["zero"][0](y))


def test_uniform_puts_one_op_on_every_layer(space):
    assert str(space.uniform("grad")) == "grad*10" and space.uniform("net").ops == ("net",) * 10
    with pytest.raises(GenotypeError, match=r"layer 0 has unknown op 'zero'"):
        space.uniform("zero")  # no zero layer in a chain
