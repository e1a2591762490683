import math

import torch

from dasip.data import SignalDataModule, cosine_signals, make_generator, signal_grid
from dasip.physics import Blur1d


def test_grid():
    w = signal_grid(50)
    assert len(w) == 50
    assert float(w[0]) == -math.pi / 2 and float(w[-1]) == math.pi / 2


def test_signals_are_cosines_of_the_spec():
    x = cosine_signals(64, 50, make_generator(0, 0), dtype=torch.float64)
    assert x.shape == (64, 1, 50)
    # each signal is cos(f w + ox) + oy: its second differences match -f^2 (cos part) roughly,
    # and its range never exceeds 2 around its offset
    spread = x.amax(-1) - x.amin(-1)
    assert bool((spread <= 2 + 1e-9).all())


def test_same_seed_same_stream_and_streams_are_independent():
    a = cosine_signals(8, 50, make_generator(5, 0))
    b = cosine_signals(8, 50, make_generator(5, 0))
    c = cosine_signals(8, 50, make_generator(5, 1))
    d = cosine_signals(8, 50, make_generator(6, 0))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a, d)


def _dm(seed, **kw):
    return SignalDataModule(
        Blur1d(),
        seed=seed,
        batch_size=16,
        batches_per_epoch=3,
        val_size=32,
        with_alpha_stream=True,
        **kw,
    )


def test_datamodule_determinism_and_fresh_batches():
    b1 = [b for b in _dm(1).train_dataloader()]
    b2 = [b for b in _dm(1).train_dataloader()]
    assert len(b1) == 3
    for u, v in zip(b1, b2, strict=True):
        assert torch.equal(u["train"][0], v["train"][0])
        assert torch.equal(u["alpha"][1], v["alpha"][1])
    # alpha stream is not the training stream; batches are new every step
    assert not torch.allclose(b1[0]["train"][0], b1[0]["alpha"][0])
    assert not torch.allclose(b1[0]["train"][0], b1[1]["train"][0])


def test_epochs_continue_the_stream_and_every_fit_starts_afresh():
    dm = _dm(1)
    loader = dm.train_dataloader()  # Lightning asks once per fit, then iterates every epoch
    first = next(iter(loader))["train"][0]
    second_epoch_first = next(iter(loader))["train"][0]
    assert not torch.allclose(first, second_epoch_first)
    # the next fit of the same trial (e.g. the retraining after the search) starts from the seed
    assert torch.equal(next(iter(dm.train_dataloader()))["train"][0], first)


def test_alpha_batches_only_for_modules_that_take_them():
    from types import SimpleNamespace

    dm = SignalDataModule(Blur1d(), seed=0, batch_size=4, batches_per_epoch=1, val_size=8)
    assert set(next(iter(dm.train_dataloader()))) == {"train"}
    dm.trainer = SimpleNamespace(lightning_module=SimpleNamespace(uses_alpha_batches=True))
    assert set(next(iter(dm.train_dataloader()))) == {"train", "alpha"}


def test_validation_set_identical_for_every_trial_seed():
    v1 = _dm(1).validation_set()
    v2 = _dm(99).validation_set()
    assert torch.equal(v1[0], v2[0]) and torch.equal(v1[1], v2[1])
    assert not torch.equal(_dm(1, val_seed=7).validation_set()[0], v1[0])


def test_measurements_are_blurred_plus_noise():
    dm = _dm(0)
    x, y = next(iter(dm.train_dataloader()))["train"]
    residual = y - Blur1d()(x)
    assert abs(float(residual.std()) - 0.01) < 0.002
