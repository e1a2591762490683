import pytest
import pytorch_lightning as pl
import torch

from dasip.data import SignalDataModule
from dasip.models import ArchitectureModule, HParams, SupernetModule
from dasip.models.optim import alpha_frozen, alpha_lr_factor, alpha_optimizer, param_lr_factor
from dasip.ops import OpContext
from dasip.physics import Blur1d
from dasip.spaces import SequentialSpace


def _trainer(epochs, callbacks=None):
    return pl.Trainer(
        callbacks=callbacks,
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )


def _search(ops, hp, epochs=4, n_layers=4, seed=0, **ctx):
    pl.seed_everything(seed, verbose=False)
    op = Blur1d()
    body = SequentialSpace(n_layers).supernet(OpContext(op, width=8, **ctx), ops)
    module = SupernetModule(body, hp, epochs=epochs, steps_per_epoch=10)
    dm = SignalDataModule(op, seed=seed, batch_size=32, batches_per_epoch=10, val_size=128)
    _trainer(epochs).fit(module, datamodule=dm)
    return body, module


@pytest.mark.parametrize("seed", [0, 1])
def test_search_finds_the_good_op_when_the_other_is_harmful(seed):
    """{grad, noise} on blur, with the noise op made loud (sigma_op = 1): every layer that picks
    noise adds unit noise to the estimate, so DAS must put the highest alpha on grad everywhere."""
    hp = HParams(alpha_lr=0.05, alpha_optimizer="adam", alpha_warmup=False, alpha_scheduler="none")
    body, module = _search(["grad", "noise"], hp, seed=seed, noise_std=1.0)
    probs = body.alpha_probs()
    assert body.derive().ops == ("grad",) * 4
    assert bool((probs[:, 0] > 0.8).all()), probs
    assert module.alpha_steps == 40


def test_alpha_warmup_freezes_alpha():
    hp = HParams(alpha_warmup=True, warmup_epochs=2, alpha_lr=0.05, alpha_optimizer="adam")
    pl.seed_everything(0, verbose=False)
    body, module = _search(["grad", "roll"], hp, epochs=2)
    assert module.alpha_steps == 0
    pl.seed_everything(0, verbose=False)
    untouched = SequentialSpace(4).supernet(OpContext(Blur1d(), width=8), ["grad", "roll"])
    assert torch.equal(body.alpha.detach(), untouched.alpha.detach())


def test_schedules():
    hp = HParams(param_warmup=True, warmup_epochs=10, alpha_scheduler="linear")
    assert param_lr_factor(0, 19, hp) == pytest.approx(1 / 190)
    assert param_lr_factor(189, 19, hp) == 1.0
    assert param_lr_factor(500, 19, hp) == 1.0
    assert param_lr_factor(0, 19, HParams(param_warmup=False)) == 1.0
    assert alpha_lr_factor(0, 100, hp) == 1.0
    assert alpha_lr_factor(50, 100, hp) == pytest.approx(0.5)
    assert alpha_lr_factor(100, 100, hp) == 0.0
    assert alpha_lr_factor(50, 100, HParams(alpha_scheduler="none")) == 1.0
    assert alpha_frozen(9, HParams(alpha_warmup=True)) and not alpha_frozen(10, HParams())
    assert not alpha_frozen(0, HParams(alpha_warmup=False))


def test_gd_is_plain_sgd_and_adam_is_adam():
    p = [torch.nn.Parameter(torch.zeros(2))]
    gd = alpha_optimizer(p, HParams(alpha_optimizer="gd", alpha_lr=0.1, alpha_weight_decay=0.0))
    assert isinstance(gd, torch.optim.SGD) and gd.param_groups[0]["momentum"] == 0
    p[0].grad = torch.tensor([1.0, -2.0])
    gd.step()
    assert torch.allclose(p[0].detach(), torch.tensor([-0.1, 0.2]))
    assert isinstance(alpha_optimizer(p, HParams(alpha_optimizer="adam")), torch.optim.Adam)


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"param_lr": -1e-3}, "param_lr=-0.001 is not allowed; allowed: a finite number > 0"),
        ({"alpha_lr": 0}, "alpha_lr=0 is not allowed; allowed: a finite number > 0"),
        ({"alpha_optimizer": "sgdm"}, "allowed: adam, gd"),
        ({"alpha_scheduler": "cosine"}, "allowed: linear, none"),
        ({"alpha_weight_decay": -1}, "allowed: a finite number >= 0"),
    ],
)
def test_bad_hparams_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        HParams.from_config({**HParams().to_dict(), **kw})


def test_architecture_module_trains_and_improves():
    pl.seed_everything(0, verbose=False)
    op = Blur1d()
    space = SequentialSpace(3)
    net = space.derived(OpContext(op, width=8), space.parse("grad*3"))
    module = ArchitectureModule(net, HParams(param_lr=1e-2), steps_per_epoch=10)
    dm = SignalDataModule(
        op, seed=0, batch_size=32, batches_per_epoch=10, val_size=128, with_alpha_stream=False
    )
    _trainer(1).fit(module, datamodule=dm)
    first = module.last_val_psnr
    _trainer(4).fit(module, datamodule=dm)
    assert module.last_val_psnr > first


def test_diverging_search_is_flagged_not_raised():
    hp = HParams(param_lr=1e6, alpha_warmup=False)
    body, module = _search(["grad", "net"], hp, epochs=3)
    assert module.diverged


def test_per_epoch_validation_psnr_equals_the_final_score_and_spares_training_rng():
    """The logged per-epoch PSNR is the score evaluate_psnr gives (noise op seeded alike), and
    validating does not change what training draws next."""
    from dasip.metrics import evaluate_psnr

    hp = HParams(alpha_lr=0.05, alpha_optimizer="adam", alpha_warmup=False)
    body, module = _search(["grad", "noise"], hp, epochs=2)
    op = body.operator
    dm = SignalDataModule(op, seed=0, batch_size=32, batches_per_epoch=10, val_size=128)
    x, y = dm.validation_set()
    assert module.last_val_psnr == pytest.approx(evaluate_psnr(body, x, y, 128), abs=1e-9)

    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    module.on_validation_epoch_start()
    torch.randn(10)  # a noise draw during validation
    module._psnr_count = 0
    module.on_validation_epoch_end()
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_the_sgd_reading_of_the_weight_optimizer_takes_a_hand_computed_first_step(momentum):
    """hparams.param_optimizer=sgd builds SGD (momentum, L2 weight decay); its first step is
    w - lr * (grad + wd * w) (the momentum buffer starts as the first gradient)."""
    from dasip.models.optim import weight_optimizer

    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    hp = HParams(param_optimizer="sgd", param_momentum=momentum, param_lr=0.1,
                 param_weight_decay=0.01)  # fmt: skip
    opt = weight_optimizer([w], hp)
    assert type(opt) is torch.optim.SGD and opt.defaults["momentum"] == momentum
    (w**2).sum().backward()  # grad = 2 w
    opt.step()
    start = torch.tensor([1.0, -2.0])
    assert torch.allclose(w.detach(), start - 0.1 * (2 * start + 0.01 * start))
    assert type(weight_optimizer([w], HParams())) is torch.optim.Adam  # the default reading
    with pytest.raises(ValueError, match="param_optimizer='rmsprop'"):
        HParams.from_config({"param_optimizer": "rmsprop"})
