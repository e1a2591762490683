"""Architectures drawn uniformly from a space, reproducibly from the trial's seed.

The draws come from their own random stream of the seed (``ARCH_STREAM``), independent of the
data streams and of the weight initialisation, so ``random_sampling`` with seed ``s`` trains
the first of the architectures that ``random_search`` with seed ``s`` draws.

With ``method.score=table`` the drawn architectures are not trained: their PSNR is read from
the ground-truth table of the space (:mod:`dasip.ground_truth`), which trained every
architecture under the trial's config; the record says so (``extra.score``, ``extra.lookup``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from omegaconf import OmegaConf

from .. import config as C
from .. import schema as S
from ..data import make_generator
from .base import TrainedArchitecture

if TYPE_CHECKING:
    from ..trial import TrialContext

#: ``method.score``: train the drawn architectures, or read their PSNR from a ground-truth table
SCORES = S.choice("train", "table")

#: stream id of the architecture draws (the data use 0: train, 1: alpha, 2: validation)
ARCH_STREAM = 3


def draw_architectures(ctx: TrialContext, k: int) -> list[Any]:
    """``k`` genotypes drawn uniformly (with replacement) from ``ctx.space`` over the trial's
    op set, via the space's own ``sample``: each draw is uniform over the space's genotypes."""
    generator = make_generator(ctx.seed, ARCH_STREAM)
    return [ctx.space.sample(ctx.op_names, generator) for _ in range(k)]


def check_score(ctx: TrialContext) -> None:
    """``method.score=table``: the table exists, covers the space and was trained under this
    trial's config (less method, seed and search epochs), before any work. Keeps it in
    ``ctx.table``."""
    ctx.table = None
    conf = ctx.method_conf  # RandomSamplingConf, RandomSearchConf
    if conf.score != "table":
        return
    from .. import ground_truth as GT

    try:
        ctx.table = GT.table_for_config(OmegaConf.to_container(ctx.cfg, resolve=True), conf.table)
    except GT.GroundTruthError as e:
        raise C.ConfigError(f"method.score=table: {e}".splitlines()[0]) from e


def score_architecture(ctx: TrialContext, genotype: Any, **train: Any) -> TrainedArchitecture:
    """``genotype`` trained and scored (:meth:`TrialContext.train_architecture` with ``train``),
    or with ``method.score=table`` its row of the ground-truth table: its PSNR and status, no
    network, no time spent."""
    table = getattr(ctx, "table", None)
    if table is None:
        return ctx.train_architecture(genotype, **train)
    row = table.loc[str(genotype)]
    psnr = float(row["arch_psnr"])
    status = str(row["status"]) if math.isfinite(psnr) else "diverged"
    return TrainedArchitecture(genotype, psnr, status, 0.0, None)  # type: ignore[arg-type]


def lookup_extra(ctx: TrialContext) -> dict[str, Any]:
    """What a record says about how its architectures were scored."""
    table = getattr(ctx, "table", None)
    if table is None:
        return {}
    prov = table.attrs.get("provenance") or {}
    return {
        "score": "table",
        "lookup": {
            "table": table.attrs.get("path"),
            "config_hash": prov.get("config_hash"),
            "table_seed": prov.get("seed"),
            "commit": prov.get("commit"),
        },
    }
