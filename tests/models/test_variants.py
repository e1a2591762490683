"""Search variants (``method.variant``): SDARTS-RS' perturbation, Fair DARTS' loss and
derivation, GDAS' sampler, Hessian tracking that changes nothing, and the known-best-op
problem solved by every variant."""

import pytest
import pytorch_lightning as pl
import torch

from dasip.data import SignalDataModule
from dasip.data.datamodule import ALPHA_STREAM, TRAIN_STREAM
from dasip.models import HParams, SupernetModule
from dasip.models.variants import VARIANTS, Variant
from dasip.ops import OpContext
from dasip.physics import Blur1d
from dasip.spaces import CellSpace, SequentialSpace
from dasip.spaces.mixed import GumbelMixing, SigmoidMixing

from .test_search import _trainer


def _module(variant, n_layers=3, ops=("grad", "net", "noise"), epochs=2, **kw):
    pl.seed_everything(0, verbose=False)
    op = Blur1d()
    body = SequentialSpace(n_layers).supernet(OpContext(op, width=4), list(ops))
    dm = SignalDataModule(op, seed=0, batch_size=8, batches_per_epoch=2, val_size=16)
    hp = HParams(alpha_lr=0.05, alpha_optimizer="adam", alpha_warmup=False)
    variant = Variant(variant, **kw)
    module = SupernetModule(
        body, hp, epochs=epochs, steps_per_epoch=2, variant=variant,
        hessian_batch=dm.validation_set() if variant.tracks_hessian else None,
    )  # fmt: skip
    return body, module, dm


def test_sdarts_perturbation_only_in_the_weight_step_and_within_its_radius():
    eps = 0.05
    body, module, dm = _module("sdarts_rs", sdarts_epsilon=eps)
    seen = []  # the first layer's mixing weights, as every forward pass handed them
    body.layers[0].register_forward_hook(lambda mod, args, out: seen.append(args[2].detach()))
    opt_w = torch.optim.SGD(body.weight_parameters(), lr=1e-3)
    opt_a = torch.optim.SGD(body.arch_parameters(), lr=1e-3)
    train, alpha = dm.stream(TRAIN_STREAM), dm.stream(ALPHA_STREAM)
    deltas = []
    for _ in range(20):
        before = torch.softmax(body.alpha.detach()[0], -1)
        module.alpha_step(alpha.next(), None, opt_a)
        assert torch.equal(seen[-1], before)  # the alpha step mixes with the plain softmax
        clean = torch.softmax(body.alpha.detach()[0], -1)
        module.weight_step(train.next(), opt_w)
        deltas.append(seen[-1] - clean)
        assert body.perturbation is None  # set only while the weight step runs
    deltas = torch.stack(deltas)
    assert float(deltas.abs().max()) <= eps * (1 + 1e-6)
    assert float(deltas.abs().max()) > 0.8 * eps  # the noise fills its radius
    assert float(deltas.abs().min()) > 0  # every weight of every weight step is perturbed


def test_fair_darts_mixes_by_independent_sigmoids_and_its_zero_one_loss_pushes_to_0_or_1():
    body, module, dm = _module("fair", fair_zero_one_weight=10.0)
    with torch.no_grad():
        body.alpha.copy_(torch.tensor([[0.5, -0.3, 2.0], [0.0, 0.0, 0.0], [-1.0, 1.0, 3.0]]))
    seen = []
    body.layers[2].register_forward_hook(lambda mod, args, out: seen.append(args[2].detach()))
    body(dm.validation_set()[1])
    assert torch.allclose(seen[-1], torch.sigmoid(torch.tensor([-1.0, 1.0, 3.0])))
    assert float(seen[-1].sum()) > 1.5  # not normalised: the candidates do not compete
    assert torch.allclose(body.alpha_probs(), torch.sigmoid(body.alpha.detach()))
    v = module.variant
    assert float(v.alpha_penalty(torch.zeros(3, 3))) == 0.0  # all weights 1/2: the worst
    assert float(v.alpha_penalty(torch.full((3, 3), 50.0))) == pytest.approx(-2.5)  # -w/4: best
    alpha = torch.tensor([0.3, -0.2, 0.0], requires_grad=True)
    (grad,) = torch.autograd.grad(v.alpha_penalty(alpha), alpha)
    assert grad[0] < 0 and grad[1] > 0  # descending moves each weight away from 1/2


def test_a_fair_darts_layer_mixes_its_candidates_updates_of_the_estimate():
    """In a chain, Fair DARTS' layer is ``x + sum_i sigmoid(a_i) (o_i(x) - x)``: weights near 0
    leave the estimate as it is instead of shrinking it; DARTS' softmax layer is unchanged
    (``sum_i w_i o_i(x)``, the same thing when the weights sum to one)."""
    for variant in ("fair", "darts"):
        body, _, dm = _module(variant, n_layers=1, ops=("grad", "net"))
        body.eval()
        with torch.no_grad():
            body.alpha.copy_(torch.tensor([[-0.4, 1.2]]))
        y = dm.validation_set()[1][:4]
        x = body.operator.adjoint(y)
        outs = [op(x, y) for op in body.layers[0].ops]
        w = body.mix(body.alpha).detach()[0]
        mixed = sum(wi * o for wi, o in zip(w, outs, strict=True))
        expected = x + sum(wi * (o - x) for wi, o in zip(w, outs, strict=True))
        if variant == "darts":
            assert torch.allclose(expected, mixed, atol=1e-6)
        else:
            assert float(w.sum()) != pytest.approx(1.0) and not torch.allclose(expected, mixed)
        assert torch.allclose(body.body(x, y), expected, atol=1e-6), variant


def test_fair_darts_threshold_derivation():
    mixing = SigmoidMixing(threshold=0.85)
    probs = torch.tensor([[0.9, 0.2, 0.95], [0.5, 0.84, 0.1], [0.86, 0.1, 0.2]])
    assert mixing.below(probs) == [1]
    # a sequential layer cannot be absent: it keeps its highest weight
    assert mixing.choose(probs) == [2, 1, 0]
    # where zero is a candidate (the cell space), a row all below the threshold is zero
    assert mixing.choose(probs, zero_index=2) == [2, 2, 0]
    body = CellSpace(n_cells=1, n_states=2).supernet(
        OpContext(Blur1d(), width=4), ["grad", "net"]
    )  # edges 1<-0, 2<-0, 2<-1; candidates grad, net, zero
    body.mixing = mixing
    with torch.no_grad():
        body.alpha.copy_(torch.tensor([[3.0, 0.0, -3.0], [0.0, 1.0, 0.5], [-2.0, 2.5, 0.0]]))
    assert body.derive().cells == (("grad", "zero", "net"),)


def test_gumbel_sampler_follows_softmax_alpha_at_temperature_one():
    """20000 rows sampled at tau = 1 from softmax(alpha) = (0.5, 0.3, 0.15, 0.05): one op each,
    and the frequencies within 0.012 of the probabilities (> 3 standard errors)."""
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    alpha = probs.log().repeat(20000, 1).requires_grad_()
    torch.manual_seed(0)
    w = GumbelMixing(tau=1.0).weights(alpha, training=True)
    assert torch.equal(w.detach().sum(-1), torch.ones(20000))
    assert set(w.detach().unique().tolist()) == {0.0, 1.0}
    freq = w.detach().mean(0)
    assert torch.allclose(freq, probs, atol=0.012), freq
    # straight-through: every alpha of a row gets a gradient, not only the sampled one's
    (grad,) = torch.autograd.grad((w * torch.arange(4.0)).sum(), alpha)
    assert bool((grad != 0).all())
    # eval mode: the most likely op, deterministically
    assert torch.equal(GumbelMixing(1.0).weights(alpha[:2], False), torch.eye(4)[[0, 0]])


def test_gdas_temperature_schedule_and_one_op_per_layer_in_the_search():
    v = Variant("gdas", gdas_tau_max=10.0, gdas_tau_min=0.1)
    assert v.tau(0, 50) == 10.0 and v.tau(49, 50) == pytest.approx(0.1)
    assert v.tau(0, 1) == 10.0
    assert 0.1 < v.tau(25, 50) < 10.0
    body, module, dm = _module("gdas", epochs=3)
    seen = []
    body.layers[1].register_forward_hook(
        lambda mod, args, out: seen.append((mod.training, args[2].detach()))
    )
    _trainer(3).fit(module, datamodule=dm)
    assert body.mixing.tau == pytest.approx(0.1)  # the last epoch's
    train = [w for training, w in seen if training]
    assert len(train) == 3 * 2 * 2  # an alpha and a weight pass per step
    assert all(sorted(w.tolist()) == [0.0, 0.0, 1.0] for w in train)
    assert len({tuple(w.tolist()) for w in train}) > 1  # sampled, not fixed


def test_hessian_tracking_changes_nothing_in_the_search():
    """DAS with and without the eigenvalue estimate after every epoch: the same alphas and
    weights bit for bit (the estimate restores buffers and random streams)."""
    runs = []
    for hessian in (False, True):
        body, module, dm = _module("darts", hessian=hessian, hessian_iters=3, epochs=3)
        _trainer(3).fit(module, datamodule=dm)
        runs.append((body.state_dict(), module))
    (plain, _), (tracked, module) = runs
    assert all(torch.equal(plain[k], tracked[k]) for k in plain)
    assert len(module.eigenvalues) == 3 and all(v == v for v in module.eigenvalues)
    assert module.search_extra()["hessian_eigenvalues"] == module.eigenvalues


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_finds_the_known_best_op(variant):
    """The problem built to have a best op ({grad, noise}, noise loud): every variant rejects
    noise at every layer. The softmax and Gumbel variants derive grad everywhere; Fair DARTS,
    whose weights do not compete, drives every noise weight towards 0 and keeps grad where it
    keeps an op (a row above the threshold); a row it leaves below the threshold asks for no
    update at all, which a chain of ops cannot express."""
    pl.seed_everything(0, verbose=False)
    op = Blur1d()
    body = SequentialSpace(4).supernet(OpContext(op, width=8, noise_std=1.0), ["grad", "noise"])
    dm = SignalDataModule(op, seed=0, batch_size=32, batches_per_epoch=10, val_size=128)
    hp = HParams(alpha_lr=0.05, alpha_optimizer="adam", alpha_warmup=False, alpha_scheduler="none")
    v = Variant(variant, es_window=2, hessian_iters=5)
    module = SupernetModule(
        body, hp, epochs=4, steps_per_epoch=10, variant=v,
        hessian_batch=dm.validation_set() if v.tracks_hessian else None,
    )  # fmt: skip
    _trainer(4).fit(module, datamodule=dm)
    probs = body.alpha_probs()
    if variant == "fair":
        grad, noise = probs[:, 0], probs[:, 1]
        assert bool((noise < 0.5).all()), probs  # rejected everywhere
        kept = body.mixing.below(probs)
        kept = [row for row in range(4) if row not in kept]
        assert kept and all(body.derive().ops[row] == "grad" for row in kept), probs
        assert bool((grad[kept] > noise[kept]).all())
    else:
        assert body.derive().ops == ("grad",) * 4, probs
    assert module.search_extra()["variant"] == variant
