"""The seed noise of a ground-truth table: how much of the spread between architectures is the
seed's.

A table trains every architecture once, with one seed. Some of the architectures (the ``best``
best and ``drawn`` more drawn from the rest) are trained again with other seeds under the same
config (the ``ground_truth`` method with ``method.genotypes``: its rows carry the table's config
hash, which leaves out the seed), and :func:`noise_report` sets the PSNR's spread over seeds
against the spread over architectures.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import ROWS_FILE, GroundTruthError, read_rows


def selection(table: pd.DataFrame, best: int = 20, drawn: int = 20, seed: int = 0) -> list[str]:
    """The ``best`` architectures of ``table`` by PSNR, then ``drawn`` more drawn uniformly
    (with ``seed``) from the others with a finite PSNR: the same list for the same table."""
    psnr = table["arch_psnr"].astype(float)
    finite = psnr[psnr.map(math.isfinite)].sort_values(ascending=False, kind="stable")
    if best < 0 or drawn < 0 or best + drawn == 0:
        raise GroundTruthError(f"--best {best} --random {drawn}: allowed: >= 0, not both 0")
    top = list(finite.index[:best])
    rest = list(finite.index[best:])
    if drawn > len(rest):
        raise GroundTruthError(
            f"--random {drawn}: the table has only {len(rest)} other architectures with a PSNR"
        )
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(rest), size=drawn, replace=False)) if drawn else []
    return top + [rest[i] for i in picked]


def command(
    table: pd.DataFrame,
    genotypes: Sequence[str],
    seeds: Sequence[int],
    experiment: str = "ground_truth",
    sweep_dir: str | None = None,
) -> str:
    """The multirun that trains ``genotypes`` with each of ``seeds`` under the table's config."""
    prov = table.attrs.get("provenance") or {}
    missing = [k for k in ("data", "setup", "ops", "n_layers", "hparams", "retrain_epochs") if
               k not in prov]  # fmt: skip
    if missing:
        raise GroundTruthError(
            f"{table.attrs.get('path')}: its sidecar lacks {', '.join(missing)}; collect it again"
        )
    name = prov.get("name") or Path(str(table.attrs.get("path"))).name.split(".")[0]
    args = [
        "python", "search.py", "-m", f"+experiment={experiment}", f"data={prov['data']}",
        f"setup={prov['setup']}", f"ops={prov['ops']}", f"space.n_layers={prov['n_layers']}",
        f"hparams={prov['hparams']}", f"retrain_epochs={prov['retrain_epochs']}",
        f"seed={','.join(str(s) for s in seeds)}", "method.chunks=1", "method.chunk=0",
        f"method.genotypes=[{','.join(genotypes)}]",
        f"hydra.sweep.dir={sweep_dir or f'multirun/ground_truth/{name}-noise'}",
    ]  # fmt: skip
    threads = prov.get("threads") or []
    if len(threads) == 1:  # a PSNR changes with the thread count: train as the table did
        args.insert(-1, f"num_threads={threads[0]}")
    return shlex.join(args)


def read_noise_rows(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Every row of the ground-truth jobs under ``paths``."""
    files = []
    for p in map(Path, paths):
        if not p.exists():
            raise GroundTruthError(f"{p}: no such file or directory")
        files += [p / ROWS_FILE] if (p / ROWS_FILE).is_file() else sorted(p.rglob(ROWS_FILE))
    if not files:
        raise GroundTruthError(f"no {ROWS_FILE} under {', '.join(map(str, paths))}")
    return pd.concat([read_rows(f) for f in files], ignore_index=True)


def noise_report(
    table: pd.DataFrame, rows: pd.DataFrame, genotypes: Sequence[str]
) -> dict[str, Any]:
    """The table's PSNR and the rows' PSNRs of each of ``genotypes`` over seeds, and the summary:
    the per-architecture standard deviation over seeds against the standard deviation over the
    table's architectures, Spearman's rho between the table's seed and the other seeds' mean,
    and how many of the best stay the best."""
    from scipy import stats

    prov = table.attrs.get("provenance") or {}
    digest = prov.get("config_hash")
    table_seed = prov.get("seed")
    other = rows[rows["config_hash"] != digest]
    if len(other):
        raise GroundTruthError(
            f"{len(other)} row(s) were trained under another config than the table's "
            f"({digest}): {sorted(set(other['config_hash']))}; train them with the command that "
            "python -m dasip.ground_truth noise prints"
        )
    rows = rows[rows["genotype"].isin(genotypes) & (rows["seed"] != table_seed)]
    rows = rows.drop_duplicates(["genotype", "seed"], keep="last")
    per = []
    for g in genotypes:
        mine = rows[rows["genotype"] == g].sort_values("seed")
        psnrs = [float(table.loc[g, "arch_psnr"]), *map(float, mine["arch_psnr"])]
        finite = [v for v in psnrs if math.isfinite(v)]
        per.append({
            "genotype": g, "table_psnr": psnrs[0], "seeds": [table_seed, *map(int, mine["seed"])],
            "psnrs": psnrs, "mean": float(np.mean(finite)) if finite else None,
            "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else None,
        })  # fmt: skip
    stds = [p["std"] for p in per if p["std"] is not None]
    psnr = table["arch_psnr"].astype(float)
    spread = float(psnr[psnr.map(math.isfinite)].std(ddof=1))
    redone = [p for p in per if len(p["psnrs"]) > 1]
    others = [float(np.mean(p["psnrs"][1:])) for p in redone]
    rho = stats.spearmanr([p["table_psnr"] for p in redone], others)[0] if len(redone) > 2 else None
    return {
        "table": table.attrs.get("path"),
        "config_hash": digest,
        "architectures": len(per),
        "retrained": len(redone),
        "seeds_per_architecture": sorted({len(p["psnrs"]) for p in per}),
        "std_over_seeds_median": float(np.median(stds)) if stds else None,
        "std_over_seeds_max": float(np.max(stds)) if stds else None,
        "std_over_architectures": spread,
        "spearman_table_vs_other_seeds": None if rho is None else float(rho),
        "per_architecture": per,
    }


def top_kept(report: dict[str, Any], best: int) -> int | None:
    """Of the first ``best`` architectures (the table's best), how many are still among the
    ``best`` highest by the other seeds' mean PSNR."""
    per = report["per_architecture"]
    if best == 0 or any(len(p["psnrs"]) < 2 for p in per):
        return None
    by_others = sorted(per, key=lambda p: -float(np.mean(p["psnrs"][1:])))
    return len({p["genotype"] for p in per[:best]} & {p["genotype"] for p in by_others[:best]})
