"""A study against the ground truth (``dasip-report --ground-truth``, docs/ground_truth.md):
where each trial's architecture ranks among every architecture of the space trained under the
same config (:mod:`dasip.ground_truth`): its rank, percentile and regret, per setting, and the
distribution of all architectures' PSNRs with each setting's picks marked."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import ground_truth as GT
from .records import StudyError, with_settings
from .tables import setting_label

#: ``--ground-truth`` without a value: each trial's own table (its data, setup, ops, space)
AUTO = "auto"
#: the per-trial columns besides the setting keys
TRIAL_COLUMNS = ("seed", "genotype", "status", "arch_psnr", "table", "table_psnr", "rank",
                 "n_architectures", "percentile", "regret", "best_psnr", "source")  # fmt: skip


@dataclass
class GroundTruthPart:
    """The ground-truth section of a report: one row per trial found in a table (``trials``),
    their summary per setting and table (``table``), one figure per table and the notes."""

    trials: pd.DataFrame
    table: pd.DataFrame
    figures: dict[str, Figure] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def placement(psnr: float, all_psnrs: np.ndarray) -> dict[str, float]:
    """Where ``psnr`` (a table PSNR) stands among ``all_psnrs`` (the table's; NaN, a diverged
    training, counts as the worst): ``rank`` 1 + how many are better; ``percentile`` the share
    (%) that are not better (100: the best); ``regret`` the best PSNR minus ``psnr`` (dB)."""
    values = np.where(np.isfinite(all_psnrs), all_psnrs, -np.inf)
    mine = psnr if math.isfinite(psnr) else -np.inf
    better = int((values > mine).sum())
    best = float(values.max())
    return {
        "rank": better + 1,
        "n_architectures": len(values),
        "percentile": 100.0 * (len(values) - better) / len(values),
        "regret": best - psnr if math.isfinite(psnr) else math.nan,
        "best_psnr": best,
    }


def _tables_for(df: pd.DataFrame, spec: str, notes: list[str]) -> list[pd.DataFrame | None]:
    """The table of every trial of ``df`` (``None`` where it has none), with notes on why not."""
    fixed = None if spec == AUTO else GT.find_table(spec)
    fixed_name = None
    if fixed is not None:
        fixed_name = (fixed.attrs.get("provenance") or {}).get("name") or fixed.attrs["name"]
    cache: dict[str, pd.DataFrame | None] = {}
    out: list[pd.DataFrame | None] = []
    unnamed = other = 0
    for config in df["config"]:
        try:
            name = GT.name_of_config(config or {})
        except (KeyError, TypeError):
            unnamed += 1
            out.append(None)
            continue
        if fixed is not None:
            other += name != fixed_name
            out.append(fixed if name == fixed_name else None)
            continue
        if name not in cache:
            c = config
            try:
                cache[name] = GT.load(c["data"]["name"], c.get("setup") or "default",
                                      ops=c["ops"]["name"], n_layers=c["space"]["n_layers"])  # fmt: skip
            except GT.MissingTable:
                cache[name] = None
                notes.append(f"no ground-truth table {name!r}: its trials are left out")
        out.append(cache[name])
    if unnamed:
        notes.append(f"{unnamed} trial(s) have no data/setup/ops/space in their config: left out")
    if other:
        notes.append(f"{other} trial(s) are of another data, setup, op set or space than the "
                     f"table {fixed_name!r}: left out")  # fmt: skip
    return out


def ground_truth_part(df: pd.DataFrame, by: list[str], spec: str) -> GroundTruthPart:
    """Rank, percentile and regret of every trial whose genotype is in its table, per setting of
    ``by`` (median and quartiles), and the figures. Raises :class:`StudyError` when no trial
    can be placed."""
    notes: list[str] = []
    try:
        tables = _tables_for(df, spec, notes)
    except GT.GroundTruthError as e:
        raise StudyError(f"--ground-truth {spec}: {e}") from e
    df = with_settings(df, by)
    rows, hashes = [], 0
    lookups = 0
    for (_, trial), table in zip(df.iterrows(), tables, strict=True):
        genotype = trial.get("genotype")
        if table is None or not isinstance(genotype, str) or genotype not in table.index:
            continue
        psnrs = table["arch_psnr"].to_numpy(float)
        own = float(table.loc[genotype, "arch_psnr"])
        config = trial.get("config") or {}
        hashes += GT.config_hash(config) != (table.attrs.get("provenance") or {}).get(
            "config_hash", GT.config_hash(config)
        )
        lookups += (trial.get("extra") or {}).get("score") == "table"
        rows.append({
            **{k: trial[k] for k in by},
            "seed": trial["seed"], "genotype": genotype, "status": trial["status"],
            "arch_psnr": trial["arch_psnr"], "table": table.attrs["name"], "table_psnr": own,
            **placement(own, psnrs), "source": trial.get("source"),
        })  # fmt: skip
    if not rows:
        raise StudyError(
            f"--ground-truth {spec}: no trial's genotype is in a ground-truth table"
            + (f" ({'; '.join(notes)})" if notes else "")
        )
    trials = pd.DataFrame(rows, columns=[*by, *TRIAL_COLUMNS])
    left = len(df) - len(trials)
    if left:
        notes.append(f"{left} of {len(df)} trial(s) have no genotype in a table: not placed")
    if hashes:
        notes.append(
            f"{hashes} placed trial(s) were retrained under another config than their table's "
            "(e.g. other epochs or hyperparameters): their place is their genotype's in the table"
        )
    if lookups:
        notes.append(f"{lookups} placed trial(s) read their PSNR from a table (method.score=table)")
    part = GroundTruthPart(trials=trials, table=setting_summary(trials, by), notes=notes)
    for name, g in trials.groupby("table", sort=True):
        table = next(t for t in tables if t is not None and t.attrs["name"] == name)
        part.figures[str(name)] = distribution_figure(table, g, by)
    return part


def setting_summary(trials: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per setting and table: how many trials were placed, the median and quartiles of their
    rank, percentile and regret, the largest regret and how many found the best architecture."""
    rows = []
    for keys, g in trials.groupby([*by, "table"], sort=True, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        row: dict[str, Any] = dict(zip([*by, "table"], keys, strict=True))
        row["n_architectures"] = int(g["n_architectures"].iloc[0])
        row["trials"] = len(g)
        for col in ("rank", "percentile", "regret"):
            v = g[col].astype(float)
            row[f"{col}_median"] = v.median()
            row[f"{col}_q25"] = v.quantile(0.25)
            row[f"{col}_q75"] = v.quantile(0.75)
        row["regret_max"] = g["regret"].astype(float).max()
        row["found_best"] = int((g["rank"] == 1).sum())
        row["best_psnr"] = float(g["best_psnr"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def display_summary(summary: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The summary as shown: ``median [q25, q75]`` cells, 2 decimals (rank 1)."""
    from .tables import _with_interval, fmt

    out = pd.DataFrame({k: summary[k].map(str) for k in [*by, "table"]})
    out["trials"] = summary["trials"].map(str)
    out["of"] = summary["n_architectures"].map(str)
    for col in ("rank", "percentile", "regret"):
        out[f"{col} [q25, q75]"] = _with_interval(
            summary[f"{col}_median"], summary[f"{col}_q25"], summary[f"{col}_q75"]
        )
    out["max regret"] = summary["regret_max"].map(fmt)
    out["found best"] = summary["found_best"].map(str)
    out["best (dB)"] = summary["best_psnr"].map(fmt)
    return out


def distribution_figure(table: pd.DataFrame, trials: pd.DataFrame, by: list[str]) -> Figure:
    """The histogram of every architecture's table PSNR, and below it each setting's picks (the
    table PSNR of each trial's architecture), one row per setting; the best as a line."""
    psnr = table["arch_psnr"].astype(float)
    finite = psnr[np.isfinite(psnr)]
    groups = list(trials.groupby(by, sort=True)) if by else [((), trials)]
    fig = Figure(figsize=(8, 3.2 + 0.3 * len(groups)), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, max(1, 0.4 * len(groups))])
    top.hist(finite, bins=min(60, max(10, len(finite) // 10)), color="#9aa5b1")
    top.set_ylabel("architectures")
    top.set_title(f"{table.attrs['name']}: {len(psnr)} architectures "
                  f"({len(psnr) - len(finite)} without PSNR)", fontsize=10)  # fmt: skip
    labels = []
    for i, (keys, g) in enumerate(groups):
        keys = keys if isinstance(keys, tuple) else (keys,)
        labels.append(setting_label(dict(zip(by, keys, strict=True))))
        x = g["table_psnr"].astype(float)
        bottom.scatter(x, np.full(len(x), i), s=30, alpha=0.6, marker="|", linewidths=2)
        median = x.median()
        if math.isfinite(median):
            bottom.scatter([median], [i], s=40, color="black", marker="D", zorder=3)
    for ax in (top, bottom):
        if len(finite):
            ax.axvline(finite.max(), color="#c0392b", linestyle="--", linewidth=1)
    bottom.set_yticks(range(len(labels)), labels, fontsize=8)
    bottom.set_ylim(-0.6, len(labels) - 0.4)
    bottom.set_xlabel("architecture validation PSNR in the table (dB); ◆ median pick, "
                      "-- best")  # fmt: skip
    return fig
