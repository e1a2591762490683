"""The sequential and cell spaces run unchanged on images, and a DAS search on a 2D problem with
a known best op finds it (as the 1D one in tests/test_devices.py)."""

import pytest
import torch

from dasip.trial import build, run_trial

from ..conftest import compose_cfg

IMAGES = ["data=bsds_denoise", "data.patch_size=16", "data.val_patch_size=16", "ops.width=4"]


@pytest.mark.parametrize(
    "space", [["space=sequential", "space.n_layers=3"], ["space=cell", "space.n_states=2"]]
)
def test_supernet_and_derived_net_map_images_to_images(tmp_path, space):
    ctx = build(compose_cfg(overrides=[*IMAGES, *space]), tmp_path)
    assert ctx.operator.spatial_dims == 2
    x, y = next(iter(ctx.data.train_dataloader()))["train"]
    assert x.shape == (16, 1, 16, 16)
    supernet = ctx.space.supernet(ctx.op_context(), ctx.op_names)
    assert supernet(y).shape == x.shape
    genotype = ctx.space.sample(ctx.op_names, torch.Generator().manual_seed(0))
    assert ctx.space.derived(ctx.op_context(), genotype)(y).shape == x.shape


#: {grad, noise} with a loud noise op (sigma_op = 1): every layer must pick grad
KNOWN_BEST_2D = [
    *IMAGES,
    "space.n_layers=3",
    "ops.names=[grad,noise]",
    "ops.noise_std=1.0",
    "hparams.alpha_lr=0.05",
    "hparams.alpha_optimizer=adam",
    "hparams.alpha_warmup=false",
    "hparams.alpha_scheduler=none",
    "epochs=4",
    "retrain_epochs=1",
    "data.batches_per_epoch=8",
    "data.batch_size=16",
    "data.val_size=16",
    "trainer.accelerator=cpu",
]


def test_das_on_images_finds_the_known_best_op(tmp_path):
    rec = run_trial(compose_cfg(overrides=KNOWN_BEST_2D), tmp_path)
    assert rec.status == "ok" and rec.genotype == "grad*3", rec.alpha_probs
    assert all(p[0] > 0.8 for p in rec.alpha_probs), rec.alpha_probs


@pytest.mark.parametrize(
    "method",
    [
        ["method=das", "method.order=2"],
        ["method=das_single"],
        ["method=random_sampling"],
        ["method=random_search", "method.k=2"],
    ],
    ids=["das-order2", "das_single", "random_sampling", "random_search"],
)
def test_every_search_method_runs_on_images(tmp_path, method):
    """The methods of the image experiment beyond first-order DAS: a tiny trial each, on 2D
    patches, with a genotype of the good ops and a finite architecture PSNR."""
    overrides = [*IMAGES, "space.n_layers=3", "ops=good", "ops.width=4", "data.val_size=16",
                 "data.pictures=0", *method]  # fmt: skip
    rec = run_trial(compose_cfg(overrides=overrides), tmp_path)
    assert rec.status == "ok" and rec.data == "bsds_denoise", rec.error
    ops = build(compose_cfg(overrides=overrides), tmp_path).space.parse(rec.genotype).ops
    assert len(ops) == 3 and set(ops) <= {"grad", "net"}, rec.genotype
    assert torch.isfinite(torch.tensor(rec.arch_psnr)) and rec.arch_psnr > 0
    if method[0].startswith("method=das"):  # the one-shot methods score the trained supernet
        assert torch.isfinite(torch.tensor(rec.one_shot_psnr))
