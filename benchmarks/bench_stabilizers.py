"""The extra cost per search step of each DAS search variant, relative to plain DAS, in one run.

    python benchmarks/bench_stabilizers.py [--steps 20] [--rounds 2] [--threads 1] [overrides...]

Each variant searches the default supernet (``data=blur ops=all space=sequential``, batch 128,
width 32) for ``--steps`` steps (alpha step + weight step, no alpha warm-up, no validation);
the variants take turns for ``--rounds`` rounds and each keeps its fastest round, so a busy
moment of a shared machine hits them alike. ``darts+hessian`` is plain DAS with the eigenvalue
estimate after every epoch (one estimate per 19 steps, as in a default search): its per-step
figure includes that estimate's share. Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

os.environ.setdefault("WANDB_MODE", "disabled")
#: (label, method overrides); the first is the baseline
RUNS = (
    ("darts", ["method.variant=darts"]),
    ("darts+hessian", ["method.variant=darts", "method.hessian=true"]),
    ("darts_es", ["method.variant=darts_es"]),
    ("sdarts_rs", ["method.variant=sdarts_rs"]),
    ("fair", ["method.variant=fair"]),
    ("gdas", ["method.variant=gdas"]),
)


def time_search(cfg, steps: int) -> float:
    """Seconds per step of ``steps`` search steps (epochs of the config's batches per epoch)."""
    import pytorch_lightning as pl

    from dasip.models import SupernetModule
    from dasip.models.variants import Variant
    from dasip.trial import build

    ctx = build(cfg, tempfile.mkdtemp(prefix="dasip-bench-"))
    pl.seed_everything(0, verbose=False)
    body = ctx.space.supernet(ctx.op_context(), ctx.op_names)
    variant = Variant.from_config(cfg.method)
    x, y = ctx.validation_set()
    n = int(cfg.data.batch_size)
    module = SupernetModule(
        body,
        ctx.hparams,
        **ctx.search_module_kwargs(),
        variant=variant,
        hessian_batch=(x[:n], y[:n]) if variant.tracks_hessian else None,
    )
    epochs = steps // cfg.data.batches_per_epoch
    trainer = ctx.trainer(epochs)  # the trial's own Trainer (no validation: see main's overrides)
    start = time.perf_counter()
    trainer.fit(module, datamodule=ctx.data)
    return (time.perf_counter() - start) / (epochs * cfg.data.batches_per_epoch)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", type=int, default=38, help="search steps per variant and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. space=cell")
    args = ap.parse_args()

    import logging

    import torch
    from hydra import compose, initialize_config_dir

    from dasip import CONF_DIR

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    torch.set_num_threads(args.threads)
    base = ["logger=none", "hparams.alpha_warmup=false", "trainer.enable_progress_bar=false",
            "+trainer.limit_val_batches=0", *args.overrides]  # fmt: skip
    cfgs = {}
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for label, overrides in RUNS:
            cfgs[label] = compose(config_name="search", overrides=base + overrides)
    steps = max(args.steps, cfgs["darts"].data.batches_per_epoch)
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for label, cfg in cfgs.items():
            t = time_search(cfg, steps)
            best[label] = min(best.get(label, float("inf")), t)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; overrides: {' '.join(base)}"
    )
    print(f"{steps} steps per variant and round, best of {args.rounds} rounds")
    print("| variant | ms per search step | relative to darts |")
    print("|---|---:|---:|")
    for label, t in best.items():
        print(f"| {label} | {1000 * t:.1f} | {t / best['darts']:.2f}x |")


if __name__ == "__main__":
    main()
