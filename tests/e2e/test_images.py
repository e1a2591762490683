"""Image trials from the command line: DAS and DnCNN on the BSDS-layout test folder, each
writing its record and its picture; and the picture itself."""

import math

import pytest
import torch
from PIL import Image
from pytorch_lightning.loggers import WandbLogger as LightningWandbLogger

from dasip.data.pictures import reconstruct
from dasip.record import read_record
from dasip.trial import build, write_picture

from ..conftest import compose_cfg
from .test_entry_points import _run

SMALL = ["data.patch_size=16", "data.val_patch_size=24", "data.val_size=8", "data.pictures=3"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "script,args,method",
    [
        ("search.py", ["data=bsds_blur", "ops=good", "data.operator.kernel_size=9"], "das"),
        ("train.py", ["data=bsds_denoise", "method=dncnn", "method.depth=5"], "dncnn"),
    ],
)
def test_image_trial_from_the_command_line_writes_record_and_picture(
    tmp_path, script, args, method
):
    run = tmp_path / "run"
    out = _run(script, [*args, *SMALL, f"hydra.run.dir={run}"], tmp_path)
    assert f"[dasip] {method} " in out.stdout
    rec = read_record(run)
    assert rec["status"] == "ok" and rec["method"] == method and math.isfinite(rec["arch_psnr"])
    assert rec["extra"]["picture"] == "val_images.png"
    with Image.open(run / "val_images.png") as im:
        assert im.format == "PNG" and im.height > im.width  # three columns, three rows
    assert (run / "model.pt").is_file()


class FakeWandbLogger(LightningWandbLogger):  # the runner recognises W&B by the logger's class
    def __init__(self):  # no W&B run
        self.images = []

    def log_image(self, key, images):
        self.images.append((key, images))


def test_the_picture_shows_truth_measurement_and_reconstruction(tmp_path):
    overrides = ["data=bsds_blur", "data.operator.kernel_size=9", *SMALL]
    ctx = build(compose_cfg(overrides=overrides), tmp_path)
    genotype = ctx.space.parse("grad*10")
    net = ctx.space.derived(ctx.op_context(), genotype)
    lg = FakeWandbLogger()
    assert write_picture(ctx, net, [lg]) == "val_images.png"
    assert lg.images == [("val/pictures", [str(tmp_path / "val_images.png")])]
    with Image.open(tmp_path / "val_images.png") as im:
        size = im.size
    assert size[1] > size[0]
    assert net.training  # the network is left in the mode it was in
    x, y = ctx.validation_set()
    net.eval()
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(0)
        expected = net(y[:3])
    assert torch.equal(reconstruct(net, y[:3], "cpu"), expected)  # scored as evaluate_psnr does
