"""``ground_truth``: train every architecture of one chunk of the space (``method.chunk`` of
``method.chunks``) with the architecture-validation protocol, one row each, for the ground-truth
table of :mod:`dasip.ground_truth` (docs/ground_truth.md).

The rows go to the run directory's ``ground_truth_rows.csv`` as each training finishes; a job
started again in the same directory (a resumed sweep) trains only the architectures without a
row of the same config, so a finished row is never recomputed. The record keeps the chunk's best
architecture as its genotype and ``extra.ground_truth`` (how many rows, trained now, resumed).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from omegaconf import OmegaConf

from .. import config as C
from .. import ground_truth as GT
from .. import schema as S
from .base import MethodResult, Phase
from .das_single import SPACE_NAMES

if TYPE_CHECKING:
    from ..trial import TrialContext

log = logging.getLogger(__name__)


def phases(cfg) -> list[Phase]:
    """One training per architecture of the chunk, or of ``method.genotypes`` (an upper bound:
    a resumed job trains fewer)."""
    if cfg.method.get("genotypes"):
        fits = len(cfg.method.genotypes)
    else:
        space = C.build_space_from_config(cfg)
        fits = math.ceil(space.size(cfg.ops.names) / int(cfg.method.chunks))
    return [Phase("candidates", int(cfg.retrain_epochs), fits=fits, reports="arch_psnr")]


def check(ctx: TrialContext) -> None:
    """The chunk exists and the space can be enumerated, before any work."""
    conf: GroundTruthConf = ctx.method_conf
    chunk, chunks = conf.chunk, conf.chunks
    if conf.genotypes:
        if chunks != 1:
            raise C.ConfigError(
                f"method.genotypes is not allowed with method.chunks={chunks}; allowed: "
                "method.chunks=1 (the list is the job's architectures)"
            )
        with C.errors_name("method.genotypes"):
            for text in conf.genotypes:
                ctx.space.parse(text, key="method.genotypes")
        return
    if chunk >= chunks:
        raise C.ConfigError(
            f"method.chunk={chunk} is not allowed with method.chunks={chunks}; allowed: "
            f"0 ... {chunks - 1}"
        )
    try:
        size = len(GT.space_genotypes(_config(ctx)))
    except GT.GroundTruthError as e:
        raise C.ConfigError(str(e)) from e
    if chunks > size:
        raise C.ConfigError(
            f"method.chunks={chunks} is more than the space's {size} architectures; allowed: "
            f"1 ... {size}"
        )


def _config(ctx: TrialContext) -> dict:
    return OmegaConf.to_container(ctx.cfg, resolve=True)


def _genotypes(ctx: TrialContext, config: dict, chunk: int, chunks: int) -> list[str]:
    """The job's architectures: ``method.genotypes`` (canonical strings, each once, in the given
    order), else chunk ``chunk`` of ``chunks`` of the enumerated space."""
    given = ctx.method_conf.genotypes
    if given:
        return list(dict.fromkeys(str(ctx.space.parse(g, key="method.genotypes")) for g in given))
    return GT.chunk_of(GT.space_genotypes(config), chunk, chunks)


def run(ctx: TrialContext) -> MethodResult:
    cfg = ctx.cfg
    config = _config(ctx)
    digest = GT.config_hash(config)
    chunk, chunks = ctx.method_conf.chunk, ctx.method_conf.chunks
    genotypes = _genotypes(ctx, config, chunk, chunks)
    (ctx.run_dir / GT.JOB_FILE).write_text(
        json.dumps(
            {"config_hash": digest, "chunk": chunk, "chunks": chunks, "seed": ctx.seed,
             "genotypes": len(genotypes), "threads": torch.get_num_threads(), "config": config},
            indent=1, default=str,
        )
    )  # fmt: skip
    rows_path = ctx.run_dir / GT.ROWS_FILE
    rows = GT.read_rows(rows_path)
    stale = rows[rows["config_hash"] != digest]
    if len(stale):  # rows of another config in this directory: not ours to keep
        log.warning("dropping %d row(s) of another config from %s", len(stale), rows_path)
        rows = rows[rows["config_hash"] == digest]
        rows_path.unlink()
        for row in rows.to_dict("records"):
            GT.append_row(rows_path, row)
    done = set(rows["genotype"]) & set(genotypes)
    todo = [g for g in genotypes if g not in done]
    version = GT._version()
    print(
        f"[dasip] ground truth chunk {chunk}/{chunks}: {len(genotypes)} architectures, "
        f"{len(done)} already done, {len(todo)} to train ({cfg.retrain_epochs} epochs each)",
        flush=True,
    )
    start = time.perf_counter()
    for i, text in enumerate(todo):
        trained = ctx.train_architecture(
            ctx.space.parse(text), log_prefix=f"candidate/{i}/", phase="candidates", phase_index=i
        )
        GT.append_row(
            rows_path,
            {"genotype": text, "arch_psnr": trained.psnr, "status": trained.status,
             "train_time_s": trained.seconds, "seed": ctx.seed, "config_hash": digest,
             "dasip_version": version},
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        eta = elapsed / (i + 1) * (len(todo) - i - 1)
        print(
            f"[dasip] ground truth {len(done) + i + 1}/{len(genotypes)} {text} "
            f"arch_psnr={trained.psnr:.2f} dB ({trained.seconds:.1f}s, eta {eta / 60:.1f} min)",
            flush=True,
        )
    rows = GT.read_rows(rows_path)
    rows = rows[rows["config_hash"] == digest]
    rows = rows[rows["genotype"].isin(genotypes)]
    psnr = rows["arch_psnr"].astype(float)
    finite = psnr[psnr.map(math.isfinite)]
    best = rows.loc[finite.idxmax()] if len(finite) else None
    extra = {
        "ground_truth": {
            "rows": GT.ROWS_FILE, "chunk": chunk, "chunks": chunks, "config_hash": digest,
            "genotypes": len(genotypes), "trained": len(todo), "resumed": len(done),
            "diverged": int((rows["status"] != "ok").sum()),
        }
    }  # fmt: skip
    return MethodResult(
        genotype=None if best is None else str(best["genotype"]),
        arch_psnr=None if best is None else float(best["arch_psnr"]),
        status="ok" if best is not None else "diverged",
        train_time_s=time.perf_counter() - start,
        retrain_epochs=int(cfg.retrain_epochs),
        extra=extra,
    )


# -- schema: ``dasip/conf/method/ground_truth.yaml`` -------------------------------------------
GENOTYPES = S.Rule(
    lambda v: (
        v is None or (isinstance(v, list) and len(v) > 0 and all(isinstance(g, str) for g in v))
    ),
    "null, or a non-empty list of genotypes, e.g. [grad*10,net*10]",
)


@dataclass
class GroundTruthConf(S.Schema):
    """``method=ground_truth``'s keys (the chunk against the chunks: :func:`check`)."""

    name: str = S.key("ground_truth", S.text())
    chunk: int = S.key(rule=S.integer(min=0))
    chunks: int = S.key(rule=S.integer(min=1))
    spaces: list[str] = S.key(rule=SPACE_NAMES)
    #: the architectures to train instead of a chunk (a table's seed noise: docs/ground_truth.md)
    genotypes: list[str] | None = S.key(None, GENOTYPES)


S.store("method", "base_ground_truth", GroundTruthConf)
