"""The cell search space: supernet, derivation rule, genotype string form."""

import pytest
import torch

from dasip.config import ConfigError
from dasip.ops import OpContext
from dasip.physics import Blur1d
from dasip.spaces import (
    SPACES,
    CellGenotype,
    CellSpace,
    GenotypeError,
    SequentialGenotype,
    cell_edges,
    prune_cell,
)
from dasip.trial import build

from ..conftest import compose_cfg

ALL = ["grad", "net", "roll", "noise"]
WIDTH = 4


@pytest.fixture
def ctx():
    return OpContext(Blur1d(), width=WIDTH)


def _cnn_params(c: int, w: int, k: int) -> int:
    """conv(c->w, k) + batch norm(w) + conv(w->c, k), with biases."""
    return (c * w * k + w) + 2 * w + (w * c * k + c)


def _op_params(name: str, c: int = 1, w: int = WIDTH, k: int = 3) -> int:
    return {
        "grad": 1 + _cnn_params(c, w, k),  # tau + F
        "net": _cnn_params(c, w, k),
        "noise": 1,  # tau
        "roll": 0,
        "zero": 0,
    }[name]


def _count(params) -> int:
    return sum(p.numel() for p in params)


# -- supernet ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "n_cells,n_states,merge_k", [(2, 5, 1), (1, 1, 1), (1, 2, 3), (3, 4, 1), (2, 5, 3)]
)
def test_supernet_edge_and_parameter_counts_match_the_formula(ctx, n_cells, n_states, merge_k):
    space = CellSpace(n_cells=n_cells, n_states=n_states, merge_kernel_size=merge_k)
    sup = space.supernet(ctx, ALL)
    n_edges = n_states * (n_states + 1) // 2  # 1 + 2 + ... + n_states
    assert space.n_edges == n_edges and len(cell_edges(n_states)) == n_edges
    assert sup.op_names == ("grad", "net", "roll", "noise", "zero")
    assert [len(cell.edges) for cell in sup.cells] == [n_edges] * n_cells
    assert all(len(edge.ops) == 5 for cell in sup.cells for edge in cell.edges)
    assert sup.alpha.shape == (n_cells * n_edges, 5)
    assert sup.alpha_probs().shape == (n_cells * n_edges, 5)
    n_merged = min(2, n_states)
    merge = n_merged * 1 * merge_k + 1  # conv(n_merged -> 1 channel, merge_k) + bias
    per_edge = sum(_op_params(n) for n in sup.op_names)
    assert _count(sup.weight_parameters()) == n_cells * (n_edges * per_edge + merge)
    assert _count(sup.arch_parameters()) == n_cells * n_edges * 5
    assert _count(sup.parameters()) == _count(sup.weight_parameters()) + sup.alpha.numel()
    assert float(sup.alpha.detach().abs().max()) < 0.01  # 1e-3 * randn


def test_default_cell_has_15_edges_per_cell_and_30_in_all(ctx):
    sup = CellSpace().supernet(ctx, ["grad", "net"])
    assert sup.alpha.shape == (30, 3) and sup.op_names == ("grad", "net", "zero")
    assert [(i, j) for i, j in cell_edges(5)][:6] == [
        (0, 1),
        (0, 2),
        (1, 2),
        (0, 3),
        (1, 3),
        (2, 3),
    ]


def test_supernet_computes_the_cell_formula(ctx):
    """One cell, two states: s1 = o01(x0); s2 = o02(x0) + o12(s1); x_hat = x0 + merge(s1, s2)."""
    sup = CellSpace(n_cells=1, n_states=2).supernet(ctx, ["grad", "roll"])
    alpha = torch.tensor([[0.3, -0.2, 0.1], [0.0, 1.0, -1.0], [2.0, 0.5, 0.0]])
    with torch.no_grad():
        sup.alpha.copy_(alpha)
    sup.eval()
    y = torch.randn(4, 1, 50)
    x0 = ctx.operator.adjoint(y)
    w = torch.softmax(alpha, dim=-1)
    cell = sup.cells[0]

    def mixed(e, x):
        grad_op, roll_op, _zero = cell.edges[e].ops
        return w[e, 0] * grad_op(x, y) + w[e, 1] * roll_op(x, y)  # zero adds nothing

    s1 = mixed(0, x0)
    s2 = mixed(1, x0) + mixed(2, s1)
    expected = x0 + cell.merge(torch.cat([s1, s2], dim=1))
    assert torch.allclose(sup(y), expected, atol=1e-6)


def test_supernet_runs_and_splits_alpha_from_weights(ctx):
    sup = CellSpace().supernet(ctx, ALL)
    y = torch.randn(3, 1, 50)
    out = sup(y)
    assert out.shape == y.shape
    out.pow(2).sum().backward()
    assert sup.alpha.grad is not None and sup.alpha.grad.abs().sum() > 0
    assert {id(p) for p in sup.weight_parameters()}.isdisjoint({id(sup.alpha)})
    merge_ids = {id(p) for cell in sup.cells for p in cell.merge.parameters()}
    assert merge_ids <= {id(p) for p in sup.weight_parameters()}


def test_derive_is_the_argmax_of_every_edge_zero_included(ctx):
    sup = CellSpace(n_cells=2, n_states=2).supernet(ctx, ["grad", "net"])
    rows = torch.tensor(
        [[3.0, 0, 0], [0, 3.0, 0], [0, 0, 3.0], [0, 0, 3.0], [3.0, 0, 0], [0, 3.0, 0]]
    )
    with torch.no_grad():
        sup.alpha.copy_(rows)
    g = sup.derive()
    assert g == CellGenotype(2, (("grad", "net", "zero"), ("zero", "grad", "net")))
    assert str(g) == "grad-net-zero/zero-grad-net"


def test_edges_lists_nonzero_edges_as_cell_src_dst_op():
    g = CellGenotype(2, (("grad", "net", "zero"), ("zero", "grad", "net")))
    assert g.n_cells == 2 and g.n_states == 2
    assert g.edges() == [(0, 0, 1, "grad"), (0, 0, 2, "net"), (1, 0, 2, "grad"), (1, 1, 2, "net")]


def test_shared_alphas_derive_identical_cells(ctx):
    space = CellSpace(n_cells=2, n_states=3, share_alphas=True)
    sup = space.supernet(ctx, ["grad", "net"])
    assert sup.alpha.shape == (6, 3)
    probs = sup.alpha_probs()
    assert probs.shape == (12, 3) and torch.equal(probs[:6], probs[6:])
    g = sup.derive()
    assert g.cells[0] == g.cells[1]
    assert sup(torch.randn(2, 1, 50)).shape == (2, 1, 50)


# -- derivation rule ---------------------------------------------------------------------------
def test_prune_rule_dead_states_cascade_and_useless_states_are_dropped():
    # 3 states, outputs = states 2 and 3; edges: (0,1) (0,2) (1,2) (0,3) (1,3) (2,3)
    # state 1 has no incoming edge: dead, so its edges (1,2) and (1,3) are dropped too
    ops = ["zero", "grad", "net", "zero", "roll", "noise"]
    live, outs = prune_cell(ops, 3)
    assert live == [(0, 2, "grad"), (2, 3, "noise")] and outs == {2, 3}
    # 4 states, outputs = 3 and 4: state 1 feeds only state 2, which feeds nothing -> pruned
    ops4 = ["grad", "zero", "net"] + ["grad", "zero", "zero"] + ["zero", "zero", "zero", "zero"]
    live, outs = prune_cell(ops4, 4)
    assert live == [(0, 3, "grad")] and outs == {3}
    # every edge zero: nothing is built, both outputs dead
    assert prune_cell(["zero"] * 15, 5) == ([], set())


def test_derived_cell_with_zero_edges_builds_runs_and_follows_the_rule(ctx):
    space = CellSpace(n_cells=1, n_states=3)
    g = space.parse("zero-grad-net-zero-roll-noise")
    net = space.derived(ctx, g)
    cell = net.cells[0]
    assert cell.links == [(0, 2), (2, 3)]  # the dead state 1 and its out-edges are not built
    assert [type(m).__name__ for m in cell.edges] == ["GradStep", "NoisyGradStep"]
    net.eval()
    y = torch.randn(5, 1, 50)
    x0 = ctx.operator.adjoint(y)
    torch.manual_seed(0)
    out = net(y)
    assert out.shape == y.shape and torch.isfinite(out).all()
    torch.manual_seed(0)
    s2 = cell.edges[0](x0, y)
    s3 = cell.edges[1](s2, y)
    assert torch.allclose(out, x0 + cell.merge(torch.cat([s2, s3], dim=1)), atol=1e-6)


def test_derived_default_cells_with_zero_edges_run(ctx):
    space = CellSpace()
    gen = torch.Generator().manual_seed(1)
    y = torch.randn(4, 1, 50)
    n_zero = 0
    for _ in range(5):
        g = space.sample(ALL, gen)
        n_zero += sum(op == "zero" for cell in g.cells for op in cell)
        net = space.derived(ctx, g)
        out = net(y)
        assert out.shape == y.shape and torch.isfinite(out).all()
        out.pow(2).sum().backward()
        built = sum(len(c.edges) for c in net.cells)
        assert built == len(g.live_edges()) <= len(g.edges())
    assert n_zero > 0


def test_all_zero_cells_reduce_to_the_residual_plus_a_constant(ctx):
    space = CellSpace()
    net = space.derived(ctx, space.parse("zero*30"))
    assert sum(len(c.edges) for c in net.cells) == 0
    y = torch.randn(3, 1, 50)
    x0 = ctx.operator.adjoint(y)
    bias = net.cells[1].merge.bias
    assert torch.allclose(net(y), x0 + bias.view(1, 1, 1), atol=1e-6)


# -- genotype string form ----------------------------------------------------------------------
def test_round_trip():
    space = CellSpace()
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        g = space.sample(ALL, gen)
        text = str(g)
        assert set(text) <= set("abcdefghijklmnopqrstuvwxyz0123456789-*/")  # no quoting needed
        assert space.parse(text) == g
        assert CellGenotype.from_string(text) == g  # n_states inferred
        assert space.parse(g.to_list()) == g
    assert str(CellGenotype(2, (("grad",) * 3, ("net", "zero", "zero")))) == "grad*3/net-zero*2"


@pytest.mark.parametrize(
    "text",
    ["grad*15/grad*15", "grad*30", ["grad*15", "grad*15"], ["grad"] * 30, "grad*10-grad*5/grad*15"],
)
def test_equivalent_forms(text):
    assert CellSpace().parse(text) == CellGenotype(5, (("grad",) * 15,) * 2)


@pytest.mark.parametrize(
    "text,match",
    [
        (
            "grad*15/grad*3-nett-grad*11",
            r"cell 1, edge 3 \(state 3 <- node 0\) has unknown op 'nett'; "
            r"allowed: grad, net, roll, noise, zero",
        ),
        ("conv-grad*14/grad*15", r"cell 0, edge 0 \(state 1 <- node 0\) has unknown op 'conv'"),
        ("grad*14/grad*15", r"cell 0 has 14 edge ops, but n_states=5 needs 15"),
        ("grad*15/grad*16", r"cell 1 has 16 edge ops"),
        ("grad*15", r"has 1 cell\(s\), but space.n_cells=2; separate cells with '/'"),
        ("grad*29", r"has 1 cell\(s\), but space.n_cells=2"),
        ("grad*15/grad*15/grad*15", r"has 3 cell\(s\)"),
        ("grad*15/", r"arch \(cell 1\)='' is empty"),
        ("grad*x/grad*15", r"arch \(cell 0\)='grad\*x': cannot read token 'grad\*x'"),
        ("", r"is empty"),
    ],
)
def test_malformed_cell_genotypes_rejected_naming_the_edge(text, match):
    with pytest.raises(GenotypeError, match=match):
        CellSpace().parse(text)


def test_check_rejects_genotypes_of_another_shape_or_space():
    space = CellSpace()
    with pytest.raises(GenotypeError, match=r"2 cell\(s\) of 3 states, but space.n_cells=2"):
        space.check(CellGenotype(3, (("grad",) * 6,) * 2))
    with pytest.raises(GenotypeError, match="not a cell genotype"):
        space.check(SequentialGenotype(("grad",) * 10))
    with pytest.raises(GenotypeError, match="fits no number of states"):
        CellGenotype.from_string("grad*4/grad*4")


def test_to_dot_draws_live_and_pruned_edges():
    g = CellSpace(n_cells=1, n_states=3).parse("zero-grad-net-zero-roll-noise")
    dot = g.to_dot()
    assert dot.startswith('digraph "genotype" {') and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    assert 'c0_n0 -> c0_n2 [label="grad", color="#0072B2"' in dot
    assert 'c0_n2 -> c0_n3 [label="noise", color="#D55E00"' in dot
    assert 'c0_n1 -> c0_n2 [label="net", style=dotted' in dot  # from the dead state 1
    assert "c0_n0 -> c0_n1" not in dot  # a zero edge is not drawn
    assert "x0 -> c0_n0;" in dot and "c0_out -> xhat;" in dot
    assert "net" not in g.to_dot(show_pruned=False)


# -- sampling ------------------------------------------------------------------------------------
def test_sample_is_uniform_over_the_op_set_plus_zero_and_seeded():
    space = CellSpace()
    a = space.sample(["grad", "net"], torch.Generator().manual_seed(3))
    b = space.sample(["grad", "net"], torch.Generator().manual_seed(3))
    assert a == b and space.check(a) is a
    gen = torch.Generator().manual_seed(0)
    ops = [
        op for _ in range(40) for cell in space.sample(["grad", "net"], gen).cells for op in cell
    ]
    counts = {n: ops.count(n) for n in set(ops)}
    assert set(counts) == {"grad", "net", "zero"}
    assert all(abs(c / len(ops) - 1 / 3) < 0.05 for c in counts.values()), counts


def test_uniform_puts_one_op_on_every_edge_of_every_cell(ctx):
    space = CellSpace(n_cells=3, n_states=4)
    g = space.uniform("net")
    assert str(g) == "net*10/net*10/net*10" and g.n_cells == 3 and g.n_states == 4
    assert g.cells == (("net",) * 10,) * 3
    assert len(g.live_edges()) == 30  # nothing is pruned: the net builds every edge
    assert str(CellSpace().uniform("grad")) == "grad*15/grad*15"
    with pytest.raises(GenotypeError, match=r"method.arch=conv\*15.*unknown op 'conv'"):
        CellSpace().uniform("conv", key="method.arch")


def test_candidate_ops_add_zero_once():
    space = CellSpace()
    assert space.candidate_ops(["grad", "net"]) == ("grad", "net", "zero")
    assert space.candidate_ops(["zero", "grad"]) == ("grad", "zero")
    with pytest.raises(ValueError, match="unknown op 'conv'"):
        space.candidate_ops(["grad", "conv"])


# -- configuration -------------------------------------------------------------------------------
def test_cell_space_config():
    cfg = compose_cfg(overrides=["space=cell"])
    build(cfg, "unused")
    assert SPACES["cell"] is CellSpace
    assert cfg.space.name == "cell" and cfg.space.n_cells == 2 and cfg.space.n_states == 5
    assert cfg.study == "das-blur-cell"


@pytest.mark.parametrize(
    "override,match",
    [
        ("space.n_states=0", r"space.n_states=0 is not allowed; allowed: an integer >= 1"),
        ("space.n_cells=-1", r"space.n_cells=-1 is not allowed; allowed: an integer >= 1"),
        ("space.n_cells=two", r"space.n_cells=two is not allowed; allowed: an integer"),
        ("space.merge_kernel_size=2", r"space.merge_kernel_size=2 is not allowed; allowed: an odd"),
        ("space.share_alphas=maybe", r"space.share_alphas=maybe is not allowed; allowed: true"),
        ("arch=grad*15/nett*15", r"cell 1, edge 0 \(state 1 <- node 0\) has unknown op 'nett'"),
        ("arch=grad*10", r"has 1 cell\(s\), but space.n_cells=2"),
        (
            "ops.names=[grad,conv]",
            r"ops.names=\['grad', 'conv'\] is not allowed; allowed: a list of at least 1 distinct "
            r"names of grad, net, roll, noise, zero",
        ),
    ],
)
def test_bad_cell_config_rejected_with_key_and_allowed(override, match):
    with pytest.raises(ConfigError, match=match):  # a type: when composed; a range: when built
        build(compose_cfg(overrides=["space=cell", override]), "unused")


def test_cell_config_accepts_zero_in_the_op_set():
    cfg = compose_cfg(overrides=["space=cell", "ops.names=[grad,zero]", "arch=grad*30"])
    build(cfg, "unused")
