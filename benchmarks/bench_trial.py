"""Time one full default DAS trial (search + retrain) on this machine, side by side with the
eager path of the first release, in one run (these machines are noisy: compare within a run).

    python benchmarks/bench_trial.py [--epochs 50] [--retrain-epochs 50] [--threads N]
                                     [--paths first,eager,default,default] [--cold]
                                     [overrides...]

Paths (a path named twice runs twice, in the same process):
  first     the first release's step: 1D convolutions (oneDNN) in the small CNNs and the blur,
            supernet validation every epoch (reproduced here by switching those pieces back)
  eager     today's step without compiling (``compile.search=false``): the CNNs and the blur
            as matrix products, validation every ``trainer.check_val_every_n_epoch`` epochs
            (the one-shot score is computed after the search either way)
  default   today's defaults: ``compile.search=auto`` compiles the supernet's blocks on the
            CPU (its compile time is part of the search time; a second ``default`` in the same
            process reuses the compiled graphs, as every later trial of a multirun does)

``--cold`` points Inductor's on-disk cache (``TORCHINDUCTOR_CACHE_DIR``) at an empty folder, so
the first compile starts from nothing, as on a fresh machine.

Prints seconds per search step (one alpha step + one weight step, validation included), per
retraining step and per trial for each path, and the ratios to ``first``. Results are recorded
in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator

os.environ.setdefault("WANDB_MODE", "disabled")
PATHS = ("first", "eager", "default")


@contextlib.contextmanager
def first_release() -> Iterator[list[str]]:
    """The first release's eager step: convolution layers in ``F`` and in the blur, and
    validation every epoch."""
    from torch import nn

    from dasip.ops import cnn
    from dasip.physics import blur

    forward, dense = cnn.SmallCNN.forward, blur.DENSE_MAX_LENGTH
    cnn.SmallCNN.forward, blur.DENSE_MAX_LENGTH = nn.Sequential.forward, 0
    try:
        yield ["trainer.check_val_every_n_epoch=1", "compile.search=false"]
    finally:
        cnn.SmallCNN.forward, blur.DENSE_MAX_LENGTH = forward, dense


def run(path: str, overrides: list[str]):
    from hydra import compose, initialize_config_dir

    from dasip import CONF_DIR
    from dasip.trial import run_trial

    ctx = first_release() if path == "first" else contextlib.nullcontext([])
    with ctx as extra:
        if path == "eager":
            extra = ["compile.search=false"]
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="search", overrides=[*overrides, *extra])
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            rec = run_trial(cfg, tmp)
            return rec, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--retrain-epochs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument(
        "--paths", default="first,eager,default,default", help=f"comma-separated, of {PATHS}"
    )
    ap.add_argument("--cold", action="store_true", help="start from an empty Inductor cache")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. data=downsampling")
    args = ap.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    if not paths or any(p not in PATHS for p in paths):
        ap.error(f"--paths {args.paths!r}: choose from {', '.join(PATHS)}")

    if args.cold:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-cold-")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = [
        "logger=none",
        "trainer.enable_progress_bar=false",
        f"epochs={args.epochs}",
        f"retrain_epochs={args.retrain_epochs}",
        *args.overrides,
    ]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"overrides: {' '.join(overrides)}")
    rows = {}
    for i, path in enumerate(paths):
        rec, wall = run(path, overrides)
        label = path if path not in paths[:i] else f"{path}#{paths[:i].count(path) + 1}"
        steps = rec.config["data"]["batches_per_epoch"]
        search_ms = 1000 * rec.search_time_s / (args.epochs * steps)
        retrain_ms = 1000 * rec.train_time_s / max(1, args.retrain_epochs * steps)
        rows[label] = (rec.search_time_s, wall)
        print(
            f"{label:9s} status={rec.status} genotype={rec.genotype} "
            f"one_shot={rec.one_shot_psnr:.2f} dB arch={rec.arch_psnr:.2f} dB "
            f"compiled={rec.extra.get('compiled')}\n"
            f"          search {rec.search_time_s:7.2f} s = {search_ms:6.1f} ms/step | "
            f"retrain {rec.train_time_s:6.2f} s = {retrain_ms:5.1f} ms/step | trial {wall:7.2f} s"
        )
        sys.stdout.flush()
    for base in ("first", "eager"):
        if base not in rows:
            continue
        base_search, base_wall = rows[base]
        for path, (search, wall) in rows.items():
            if path != base and not (base == "eager" and path == "first"):
                print(
                    f"{path} vs {base}: search {base_search / search:.2f}x faster, "
                    f"trial {base_wall / wall:.2f}x faster"
                )


if __name__ == "__main__":
    main()
