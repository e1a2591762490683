"""Time one image search step and one image retraining step on this machine (docs/benchmarks.md,
Images).

    python benchmarks/bench_images.py [--data bsds_denoise] [--steps 5] [--threads N] [overrides...]

Runs a DAS trial of ``--steps`` search steps and ``--steps`` retraining steps at the data
config's default patch size and batch (40x40, 128 patches), op width and space, and prints
milliseconds per step (search: one alpha step + one weight step; retrain: one weight step) and
the projected cost of ``+experiment=table4``. Reads BSDS300 from ``$DASIP_DATA_ROOT`` (or
``./data``) when it is there; otherwise times on a stand-in folder of the same image size (the
timing does not depend on the pixels).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("WANDB_MODE", "disabled")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", default="bsds_denoise", choices=["bsds_denoise", "bsds_blur"])
    ap.add_argument("--steps", type=int, default=4, help="search and retraining steps timed")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. ops.width=16")
    args = ap.parse_args()

    import torch
    from hydra import compose, initialize_config_dir

    from dasip import CONF_DIR
    from dasip.data import write_stand_in
    from dasip.trial import run_trial

    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = tempfile.TemporaryDirectory()
    root = Path(os.environ.get("DASIP_DATA_ROOT", "data"))
    real = (root / "BSDS300" / "iids_train.txt").is_file()
    if not real:
        root = write_stand_in(Path(tmp.name) / "bsds", n_train=20, n_test=10, size=(321, 481))
    base = [
        f"data={args.data}",
        f"data.root={root}",
        "data.cache_dir=null",
        "data.pictures=0",
        "ops=good",
        "logger=none",
        "save_model=false",
        "trainer.enable_progress_bar=false",
        "trainer.num_sanity_val_steps=0",
        "+trainer.limit_val_batches=0",
        "epochs=1",
        "retrain_epochs=1",
        *args.overrides,
    ]

    def trial(steps: int, *extra: str):
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("search", overrides=[*base, f"data.batches_per_epoch={steps}", *extra])
        return run_trial(cfg, Path(tmp.name) / f"run{len(os.listdir(tmp.name))}")

    # trials of 1 and 1 + steps steps: the difference is the steps alone (no set-up, no
    # scoring). Search: DAS; retraining: grad*10 (what DAS derives most on images, the
    # dearest architecture of the good ops), the same network in both trials.
    t0 = time.perf_counter()
    fixed = ("method=fixed", "arch=grad*10")
    search = [trial(n).search_time_s for n in (1, 1 + args.steps)]
    train = [trial(n, *fixed).train_time_s for n in (1, 1 + args.steps)]
    wall = time.perf_counter() - t0
    search_ms = 1000 * (search[1] - search[0]) / args.steps
    train_ms = 1000 * (train[1] - train[0]) / args.steps
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        full = compose("search", overrides=["+experiment=table4", f"data={args.data}"])
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"data: {'BSDS300' if real else 'stand-in images'} ({args.data})"
    )
    print(f"overrides: {' '.join(base[1:])}")
    print(f"search step:  {search_ms:8.1f} ms (one alpha step + one weight step)")
    print(f"retrain step: {train_ms:8.1f} ms (one weight step of grad*10)")
    steps = int(full.data.batches_per_epoch)
    search_h = search_ms * full.epochs * steps / 3.6e6
    train_h = train_ms * full.retrain_epochs * steps / 3.6e6
    print(
        f"table4 ({full.epochs} + {full.retrain_epochs} epochs x {steps} steps of "
        f"{full.data.batch_size} patches): a DAS trial about {search_h + train_h:.1f} h, a "
        f"training (random sampling, nets_only) about {train_h:.1f} h, without validation"
    )
    print(f"benchmark wall time {wall:.1f} s")
    sys.stdout.flush()
    tmp.cleanup()


if __name__ == "__main__":
    main()
