"""BSDS300 natural images (docs/images.md): the dataset's own folder layout, grayscale in [0, 1],
random training patches drawn on the fly, a fixed validation set of test-image crops.

Nothing is downloaded: the folder ``data.root`` must hold the extracted archive, and a missing
or malformed folder stops the trial when it is built, before any work, with a message naming
the expected layout and where BSDS300 is published.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import schema as S
from ..physics import LinearOperator
from .datamodule import DataConf, SignalDataModule, shorter_than_operator

#: where the Berkeley Segmentation Dataset is published
BSDS_URL = "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/bsds/"
SPLITS = ("train", "test")
LAYOUT = (
    "expected <data.root>/BSDS300/iids_train.txt and iids_test.txt (one image id a line; 200 and "
    "100 ids) and <data.root>/BSDS300/images/train/<id>.jpg, images/test/<id>.jpg, as in the "
    f"archive BSDS300-images.tgz published at {BSDS_URL} (extract it into data.root)"
)


class BSDSError(ValueError):
    """The BSDS300 folder is missing or malformed."""


def split_paths(root: str | Path, split: str) -> tuple[Path, Path]:
    """``(iids file, image folder)`` of ``split`` under ``root``."""
    base = Path(root) / "BSDS300"
    return base / f"iids_{split}.txt", base / "images" / split


def read_ids(root: str | Path, split: str) -> list[str]:
    """The image ids of ``split``, checked against the folder: every id has its JPEG."""
    ids_file, folder = split_paths(root, split)
    if not Path(root).is_dir():
        raise BSDSError(
            f"data.root={str(root)!r} is not a folder ({Path(root).resolve()}); {LAYOUT}"
        )
    if not ids_file.is_file():
        raise BSDSError(f"data.root={str(root)!r}: {ids_file} is missing; {LAYOUT}")
    ids = [line.strip() for line in ids_file.read_text().splitlines() if line.strip()]
    if not ids:
        raise BSDSError(f"data.root={str(root)!r}: {ids_file} lists no image ids; {LAYOUT}")
    missing = [i for i in ids if not (folder / f"{i}.jpg").is_file()]
    if missing:
        raise BSDSError(
            f"data.root={str(root)!r}: {len(missing)} image(s) of {ids_file.name} are missing, "
            f"e.g. {folder / (missing[0] + '.jpg')}; {LAYOUT}"
        )
    return ids


def decode_gray(path: Path) -> torch.Tensor:
    """A JPEG as a grayscale ``uint8`` tensor ``(H, W)`` (PIL's ITU-R 601-2 luma)."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as im:
            return torch.from_numpy(np.array(im.convert("L"), dtype=np.uint8))
    except Exception as e:
        raise BSDSError(
            f"data.root: cannot read image {path} ({type(e).__name__}: {e}); {LAYOUT}"
        ) from e


def load_split(
    root: str | Path, split: str, cache_dir: str | Path | None = None
) -> tuple[list[str], list[torch.Tensor]]:
    """The ids and grayscale ``uint8`` images of ``split``, decoded once and cached as a tensor
    file in ``cache_dir`` (keyed by the folder, the ids and each file's size and time, so an
    edited folder is decoded again)."""
    ids = read_ids(root, split)
    _, folder = split_paths(root, split)
    paths = [folder / f"{i}.jpg" for i in ids]
    cache = None
    if cache_dir is not None:
        key = hashlib.sha256(str(Path(root).resolve()).encode())
        for p in paths:
            st = p.stat()
            key.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
        cache = Path(cache_dir) / f"bsds300-{split}-{key.hexdigest()[:16]}.pt"
        if cache.is_file():
            try:
                blob = torch.load(cache, weights_only=True)
                if blob["ids"] == ids:
                    return ids, list(blob["images"])
            except Exception:  # a broken cache file is decoded again
                pass
    images = [decode_gray(p) for p in paths]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        torch.save({"ids": ids, "images": images}, tmp)
        tmp.replace(cache)  # atomic: trials that share the cache never read half a file
    return ids, images


def crops(
    images: Sequence[torch.Tensor], index: torch.Tensor, where: torch.Tensor, size: int
) -> torch.Tensor:
    """``(B, 1, size, size)`` crops in [0, 1]: crop ``b`` of image ``index[b]`` at the relative
    position ``where[b]`` (two numbers in [0, 1): row, column of the top-left corner)."""
    out = []
    for i, (r, c) in zip(index.tolist(), where.tolist(), strict=True):
        img = images[i]
        top = int(r * (img.shape[0] - size + 1))
        left = int(c * (img.shape[1] - size + 1))
        out.append(img[top : top + size, left : left + size])
    return (torch.stack(out).unsqueeze(1).to(torch.get_default_dtype())) / 255.0


class BSDSDataModule(SignalDataModule):
    """BSDS300 images through ``A`` with fresh noise, in the streams of :class:`SignalDataModule`.

    - training (``train`` and ``alpha`` streams of the trial's seed): ``batch_size`` random
      ``patch_size`` patches of the 200 training images per batch, each from a uniformly drawn
      image at a uniform position, and fresh noise;
    - validation: ``val_size`` crops of ``val_patch_size`` from the 100 test images (image
      ``k mod 100`` for crop ``k``, so every test image is used evenly, at a position drawn from
      ``val_seed``), with their noise: a function of ``val_seed`` alone.
    """

    def __init__(
        self,
        operator: LinearOperator,
        seed: int,
        root: str,
        name: str = "bsds",
        patch_size: int = 40,
        noise_std: float = 25 / 255,
        batch_size: int = 128,
        batches_per_epoch: int = 100,
        val_size: int = 200,
        val_patch_size: int = 64,
        val_seed: int = 0,
        eval_batch_size: int = 100,
        cache_dir: str | None = None,
        pictures: int = 4,
        with_alpha_stream: bool = False,
    ):
        if operator.spatial_dims != 2:
            raise ValueError(
                f"data.operator: BSDS300 images need a 2D operator, got {type(operator).__name__} "
                f"with spatial_dims={operator.spatial_dims}; e.g. dasip.physics.Blur2d, or "
                "dasip.physics.Identity with spatial_dims: 2"
            )
        super().__init__(
            operator,
            seed,
            name=name,
            n=patch_size,
            noise_std=noise_std,
            batch_size=batch_size,
            batches_per_epoch=batches_per_epoch,
            val_size=val_size,
            val_seed=val_seed,
            eval_batch_size=eval_batch_size,
            with_alpha_stream=with_alpha_stream,
        )
        self.root = root
        self.patch_size = patch_size
        self.val_patch_size = val_patch_size
        self.pictures = pictures
        self.train_ids, self.train_images = load_split(root, "train", cache_dir)
        self.test_ids, self.test_images = load_split(root, "test", cache_dir)
        for split, images, key, size in (
            ("train", self.train_images, "data.patch_size", patch_size),
            ("test", self.test_images, "data.val_patch_size", val_patch_size),
        ):
            small = min(min(img.shape) for img in images)
            if small < size:
                raise ValueError(
                    f"{key}={size} is larger than the smallest {split} image side ({small} px) "
                    f"in data.root={root!r}; allowed: {key} <= {small}"
                )

    def sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        index = torch.randint(len(self.train_images), (batch_size,), generator=generator)
        where = torch.rand(batch_size, 2, generator=generator, dtype=torch.float64)
        return crops(self.train_images, index, where, self.patch_size)

    def validation_sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        index = torch.arange(batch_size) % len(self.test_images)
        where = torch.rand(batch_size, 2, generator=generator, dtype=torch.float64)
        return crops(self.test_images, index, where, self.val_patch_size)


@dataclass
class BSDSDataConf(DataConf):
    """:class:`BSDSDataModule`'s keys (``dasip/conf/data/bsds_*.yaml``): :class:`DataConf`'s,
    the image folder, the patch sizes, the cache and the pictures."""

    _target_: str = "dasip.data.BSDSDataModule"
    root: str = S.key(rule=S.text())
    patch_size: int = S.key(rule=S.integer(min=1))
    val_patch_size: int = S.key(rule=S.integer(min=1))
    cache_dir: str | None = S.key(rule=S.text(nullable=True))
    pictures: int = S.key(rule=S.integer(min=0))
    operator: Any = S.key()

    def check(self) -> None:
        shorter_than_operator(self, "patch_size", self.patch_size)
        shorter_than_operator(self, "val_patch_size", self.val_patch_size)


S.store("data", "base_bsds", BSDSDataConf)


def write_stand_in(
    root: str | Path, n_train: int = 6, n_test: int = 4, size: tuple[int, int] = (48, 64)
) -> Path:
    """A folder in the BSDS300 layout (colour JPEGs and the ``iids`` files) made of crops of the
    sample images matplotlib ships, for tests and benchmarks on machines without the dataset.
    Images alternate landscape ``size`` and portrait, as BSDS300's 481x321 and 321x481 do.
    Not BSDS300: PSNR on it says nothing about the paper's numbers."""
    import numpy as np
    from matplotlib import cbook
    from PIL import Image

    sources = []
    for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png"):
        with Image.open(cbook.get_sample_data(name, asfileobj=False)) as im:
            im = im.convert("RGB")
            scale = max(max(size) / min(im.size), 1.0)  # big enough for both orientations
            if scale > 1:
                im = im.resize((round(im.width * scale) + 1, round(im.height * scale) + 1))
            sources.append(np.asarray(im))
    rng = np.random.default_rng(0)
    base = Path(root) / "BSDS300"
    for split, count, first in (("train", n_train, 100000), ("test", n_test, 200000)):
        folder = base / "images" / split
        folder.mkdir(parents=True, exist_ok=True)
        ids = [str(first + 7 * k) for k in range(count)]
        for k, image_id in enumerate(ids):
            h, w = size if k % 2 == 0 else size[::-1]
            src = sources[k % len(sources)]
            top = int(rng.integers(0, src.shape[0] - h + 1))
            left = int(rng.integers(0, src.shape[1] - w + 1))
            crop = np.ascontiguousarray(src[top : top + h, left : left + w])
            Image.fromarray(crop).save(folder / f"{image_id}.jpg", quality=90)
        (base / f"iids_{split}.txt").write_text("\n".join(ids) + "\n")
    return Path(root)
