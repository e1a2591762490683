"""Time one full default DAS trial (search + retrain) on the CPU.

    python benchmarks/bench_trial.py [--epochs 50] [--retrain-epochs 50] [--threads N] [overrides...]

Prints seconds per search step (one alpha step + one weight step, validation included), per
retraining step, and per trial. Results are recorded in docs/benchmarks.md.
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
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--retrain-epochs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. data=downsampling")
    args = ap.parse_args()

    import torch
    from hydra import compose, initialize_config_dir

    from dasip.trial import run_trial

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = [
        "logger=none",
        "trainer.enable_progress_bar=false",
        f"epochs={args.epochs}",
        f"retrain_epochs={args.retrain_epochs}",
        *args.overrides,
    ]
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="search", overrides=overrides)
    steps = cfg.data.batches_per_epoch
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rec = run_trial(cfg, tmp)
        wall = time.perf_counter() - t0
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"overrides: {' '.join(overrides)}")
    print(
        f"status={rec.status} genotype={rec.genotype} one_shot={rec.one_shot_psnr:.2f} dB "
        f"arch={rec.arch_psnr:.2f} dB"
    )
    print(
        f"search:  {rec.search_time_s:7.2f} s  = {1000 * rec.search_time_s / (args.epochs * steps):6.1f} ms/step "
        f"({args.epochs} epochs x {steps} steps, alpha+weight step, per-epoch validation)"
    )
    print(
        f"retrain: {rec.train_time_s:7.2f} s  = {1000 * rec.train_time_s / (args.retrain_epochs * steps):6.1f} ms/step"
    )
    print(f"trial:   {wall:7.2f} s  wall (record total {rec.total_time_s:.2f} s)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
