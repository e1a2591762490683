"""Trials per hour of a small study: one trial at a time (Hydra's basic launcher, torch's
default threads) against ``hydra/launcher=local`` (one trial per core, one thread each), in one
run so that both see the same machine.

    python benchmarks/bench_study.py [--trials 6] [--epochs 5] [--retrain-epochs 5] [overrides...]

With ``--jobs 1,4,8`` it runs the study under ``hydra/launcher=local`` once per number of
concurrent trials instead (``hydra.launcher.n_jobs``): on a GPU machine, how many trials should
share the device (``benchmarks/device_check.sh`` runs it with ``trainer.accelerator=gpu``).

Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def study(launcher: list[str], args: argparse.Namespace, sweep: Path) -> float:
    cmd = [
        sys.executable, str(ROOT / "search.py"), "-m", f"seed=range({args.trials})",
        "logger=none", "trainer.enable_progress_bar=false", "save_model=false",
        f"epochs={args.epochs}", f"retrain_epochs={args.retrain_epochs}",
        f"hydra.sweep.dir={sweep}", *launcher, *args.overrides,
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"}
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"study failed ({' '.join(launcher) or 'basic launcher'}):\n{proc.stderr[-3000:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--retrain-epochs", type=int, default=5)
    ap.add_argument("--jobs", default="", help="e.g. 1,4,8: concurrent trials to compare")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. data=downsampling")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(
        f"study: {args.trials} DAS trials, {args.epochs} search + {args.retrain_epochs} retrain epochs"
    )
    if args.jobs:
        jobs = [int(j) for j in args.jobs.split(",")]
        with tempfile.TemporaryDirectory() as tmp:
            times = {
                j: study(
                    ["hydra/launcher=local", f"hydra.launcher.n_jobs={j}"],
                    args,
                    Path(tmp) / f"j{j}",
                )
                for j in jobs
            }
        for j, s in times.items():
            print(
                f"{j:2d} concurrent trials {s:7.1f} s  = {3600 * args.trials / s:7.1f} trials/hour"
                f"  ({times[jobs[0]] / s:.2f}x vs {jobs[0]})"
            )
        return
    with tempfile.TemporaryDirectory() as tmp:
        seq = study([], args, Path(tmp) / "sequential")
        par = study(["hydra/launcher=local"], args, Path(tmp) / "local")
    for name, s in (("one at a time (basic launcher)", seq), ("hydra/launcher=local", par)):
        print(f"{name:32s} {s:7.1f} s  = {3600 * args.trials / s:7.1f} trials/hour")
    print(f"speed-up: {seq / par:.2f}x")


if __name__ == "__main__":
    main()
