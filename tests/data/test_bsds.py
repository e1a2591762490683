"""The BSDS300 loader on a folder in the real layout written at test time (``bsds_root``: colour
JPEGs cropped from matplotlib's sample images, with the ``iids`` files)."""

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from dasip.config import ConfigError
from dasip.data import BSDS_URL, BSDSDataModule, BSDSError
from dasip.data.bsds import load_split
from dasip.physics import Blur1d, Blur2d, Identity
from dasip.trial import build

from ..conftest import compose_cfg


def _dm(root, seed=0, **kw):
    kw = {"patch_size": 24, "batch_size": 8, "val_size": 6, "val_patch_size": 32, **kw}
    return BSDSDataModule(Identity(2), seed, str(root), **kw)


def _batches(dm, n=2):
    loader = iter(dm.train_dataloader())
    return [next(loader) for _ in range(n)]


def test_splits_shapes_and_grayscale_range(bsds_root):
    dm = _dm(bsds_root)
    assert len(dm.train_images) == 6 and len(dm.test_images) == 4
    assert dm.train_ids == (bsds_root / "BSDS300/iids_train.txt").read_text().split()
    assert {tuple(i.shape) for i in dm.train_images} == {(72, 96), (96, 72)}  # both orientations
    assert all(i.dtype == torch.uint8 for i in dm.train_images)
    rgb = np.asarray(Image.open(bsds_root / f"BSDS300/images/train/{dm.train_ids[0]}.jpg"))
    assert rgb.ndim == 3  # colour on disk, gray in memory (PIL's luma)
    luma = np.asarray(
        Image.open(bsds_root / f"BSDS300/images/train/{dm.train_ids[0]}.jpg").convert("L")
    )
    assert np.array_equal(dm.train_images[0].numpy(), luma)
    x, y = dm.stream(0).next()
    assert x.shape == y.shape == (8, 1, 24, 24) and x.dtype == torch.float32
    assert float(x.min()) >= 0 and float(x.max()) <= 1 and float(x.std()) > 0.01
    assert float((y - x).std()) == pytest.approx(25 / 255, rel=0.15)  # A = I: y - x is the noise
    xv, yv = dm.validation_set()
    assert xv.shape == yv.shape == (6, 1, 32, 32)


def test_patches_are_crops_of_the_training_images(bsds_root):
    dm = _dm(bsds_root)
    x, _ = dm.stream(0).next()
    pixels = [(img.float() / 255) for img in dm.train_images]
    for patch in x[:, 0]:
        found = any(
            bool((img.unfold(0, 24, 1).unfold(1, 24, 1) == patch).all(-1).all(-1).any())
            for img in pixels
        )
        assert found


def test_same_seed_same_patches_and_noise_fresh_every_fit(bsds_root):
    a, b, c = _dm(bsds_root, seed=3), _dm(bsds_root, seed=3), _dm(bsds_root, seed=4)
    first, second = _batches(a)
    assert all(
        torch.equal(u, v) for u, v in zip(first["train"], _batches(b)[0]["train"], strict=True)
    )
    assert not torch.equal(first["train"][0], second["train"][0])  # new patches every batch
    assert not torch.equal(first["train"][0], _batches(c)[0]["train"][0])
    again = _batches(a)[0]["train"]  # a new fit starts the stream afresh from the seed
    assert torch.equal(again[1], first["train"][1])


def test_train_and_alpha_streams_are_independent(bsds_root):
    dm = _dm(bsds_root, with_alpha_stream=True)
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == {"train", "alpha"}
    assert not torch.equal(batch["train"][0], batch["alpha"][0])


def test_validation_depends_on_val_seed_alone(bsds_root):
    v1, v2 = _dm(bsds_root, seed=1).validation_set(), _dm(bsds_root, seed=99).validation_set()
    assert torch.equal(v1[0], v2[0]) and torch.equal(v1[1], v2[1])
    other = _dm(bsds_root, seed=1, val_seed=7).validation_set()
    assert not torch.equal(other[0], v1[0])
    # crops cycle through the test images: crop k comes from test image k mod 4
    test = [img.float() / 255 for img in _dm(bsds_root).test_images]
    for k, crop in enumerate(v1[0][:, 0]):
        windows = test[k % 4].unfold(0, 32, 1).unfold(1, 32, 1)
        assert bool((windows == crop).all(-1).all(-1).any())


def test_blur_measurements_go_through_the_operator(bsds_root):
    dm = BSDSDataModule(Blur2d(5, 1.0), 0, str(bsds_root), patch_size=24, noise_std=0.0)
    x, y = dm.stream(0).next(4)
    assert torch.allclose(y, Blur2d(5, 1.0)(x))


def test_decoded_images_are_cached_and_an_edit_invalidates_the_cache(bsds_root, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(bsds_root, root)
    cache = tmp_path / "cache"
    ids, images = load_split(root, "test", cache)
    files = list(cache.glob("bsds300-test-*.pt"))
    assert len(files) == 1
    torch.save({"ids": ids, "images": [torch.zeros_like(i) for i in images]}, files[0])
    assert float(load_split(root, "test", cache)[1][0].sum()) == 0  # read from the cache
    Image.new("RGB", (96, 72), (255, 255, 255)).save(root / f"BSDS300/images/test/{ids[0]}.jpg")
    fresh = load_split(root, "test", cache)[1][0]
    assert fresh.shape == (72, 96) and bool((fresh == 255).all())  # decoded again


@pytest.mark.parametrize(
    "damage,match",
    [
        ("no_folder", r"data.root='.*' is not a folder"),
        ("no_iids", r"iids_train.txt is missing"),
        ("empty_iids", r"iids_test.txt lists no image ids"),
        ("missing_image", r"1 image\(s\) of iids_train.txt are missing, e.g. .*100007.jpg"),
        ("unreadable", r"cannot read image .*200000.jpg"),
    ],
)
def test_a_missing_or_malformed_folder_names_the_layout_and_the_source(
    bsds_root, tmp_path, damage, match
):
    root = tmp_path / "copy"
    if damage != "no_folder":
        shutil.copytree(bsds_root, root)
    base = root / "BSDS300"
    if damage == "no_iids":
        (base / "iids_train.txt").unlink()
    elif damage == "empty_iids":
        (base / "iids_test.txt").write_text("\n")
    elif damage == "missing_image":
        (base / "images/train/100007.jpg").unlink()
    elif damage == "unreadable":
        (base / "images/test/200000.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(BSDSError, match=match) as info:
        _dm(root)
    message = str(info.value)
    assert "BSDS300/images/train/<id>.jpg" in message and BSDS_URL in message
    assert "\n" not in message


def test_a_bad_folder_stops_the_trial_before_any_work(tmp_path):
    cfg = compose_cfg(overrides=["data=bsds_denoise", f"data.root={tmp_path / 'nowhere'}"])
    with pytest.raises(ConfigError, match=r"^data: data.root=.*is not a folder.*" + BSDS_URL):
        build(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_patches_larger_than_the_images_and_1d_operators_are_refused(bsds_root):
    with pytest.raises(ValueError, match=r"data.patch_size=80 is larger than the smallest train"):
        _dm(bsds_root, patch_size=80)
    with pytest.raises(ValueError, match=r"data.val_patch_size=73 is larger"):
        _dm(bsds_root, val_patch_size=73)
    with pytest.raises(ValueError, match=r"data.operator: BSDS300 images need a 2D operator"):
        BSDSDataModule(Blur1d(), 0, str(bsds_root))
