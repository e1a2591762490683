"""The Hessian eigenvalue trajectories of a study (``extra.hessian_eigenvalues``, written by DAS
with ``method.hessian=true``; docs/method.md, Search variants) against the quality of the final
architectures: does the curvature of the search predict a bad architecture (RobustDARTS)?

A trial's final architecture is **good** when its architecture PSNR is at or above the median
architecture PSNR of the scored trials of its panel (its setting, with a trajectory), **bad**
when below, **unscored** when it has no finite architecture PSNR (docs/study.md, Figures).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .options import DEFAULT_OPTIONS, ReportOptions
from .records import with_settings
from .stats import _groups
from .tables import setting_label

#: the record's key of the trajectory (one value per search epoch)
TRAJECTORY_KEY = "hessian_eigenvalues"
#: the outcome of a trial's final architecture, in the figure's order
OUTCOMES = ("good", "bad", "unscored")
_COLORS = dict(zip(OUTCOMES, [sns.color_palette("colorblind")[i] for i in (0, 3, 7)], strict=True))
X_LABEL = "search epoch"
Y_LABEL = "dominant Hessian eigenvalue (α)"
CAPTION = (
    "Dominant eigenvalue of the Hessian of the search loss with respect to alpha, after each "
    "search epoch, one line per trial, one panel per setting; thick lines: the mean per outcome. "
    "A trial is good (blue) when its retrained architecture PSNR is at or above the median of "
    "the scored trials of its panel, bad (red) when below, unscored (grey) without a finite "
    "architecture PSNR."
)


def trajectory(extra: Any) -> list[float] | None:
    """The eigenvalue trajectory of a record's ``extra`` (non-finite and null values as NaN),
    or ``None`` when it has none with a finite value."""
    values = extra.get(TRAJECTORY_KEY) if isinstance(extra, dict) else None
    if not isinstance(values, list) or not values:
        return None
    out = [float(v) if isinstance(v, (int, float)) else math.nan for v in values]
    return out if any(math.isfinite(v) for v in out) else None


def eigenvalue_trajectories(
    df: pd.DataFrame, options: ReportOptions = DEFAULT_OPTIONS
) -> pd.DataFrame:
    """The data behind the trajectory figure: one row per (trial, epoch) of the trials whose
    record holds a trajectory, with the setting keys (``options.by``), ``seed``, ``source``,
    ``arch_psnr``, the panel's ``median`` architecture PSNR, the trial's ``outcome`` (good /
    bad / unscored, see the module) and ``epoch`` (1 = after the first search epoch),
    ``eigenvalue``. Empty when no record has a trajectory."""
    by = list(options.by)
    columns = [*by, "seed", "source", "arch_psnr", "median", "outcome", "epoch", "eigenvalue"]
    paths = df["extra"].map(trajectory)
    tracked = df[paths.notna()]
    if tracked.empty:
        return pd.DataFrame(columns=columns)
    tracked = with_settings(tracked, by)
    rows = []
    for _, g in _groups(tracked, by):
        scored = g["arch_psnr"][np.isfinite(g["arch_psnr"])]
        median = float(scored.median()) if len(scored) else math.nan
        for idx, t in g.iterrows():
            psnr = t["arch_psnr"]
            outcome = "unscored" if not math.isfinite(psnr) else "good" if psnr >= median else "bad"
            head = {k: t[k] for k in by}
            head.update(seed=t["seed"], source=t["source"], arch_psnr=psnr, median=median)
            head["outcome"] = outcome
            for epoch, value in enumerate(paths[idx], start=1):
                rows.append({**head, "epoch": epoch, "eigenvalue": value})
    return pd.DataFrame(rows, columns=columns)


def _layout(keys: list[dict[str, Any]]) -> tuple[list[Any], list[tuple], dict[int, tuple]]:
    """Rows: the values of the first setting key (the method, a variant per row); columns:
    the values of the other keys."""
    rows = list(dict.fromkeys(next(iter(k.values()), "") for k in keys))
    cols = list(dict.fromkeys(tuple(list(k.values())[1:]) for k in keys))
    where = {
        i: (rows.index(next(iter(k.values()), "")), cols.index(tuple(list(k.values())[1:])))
        for i, k in enumerate(keys)
    }
    return rows, cols, where


def eigenvalue_figure(
    data: pd.DataFrame, options: ReportOptions = DEFAULT_OPTIONS
) -> Figure | None:
    """The trajectories of ``data`` (from :func:`eigenvalue_trajectories`): one panel per
    setting (a row per value of the first ``--by`` key, the method, so plain DAS and each
    variant have a row), one thin line per trial coloured by its outcome, a thick line for
    the mean of each outcome. ``None`` when ``data`` is empty."""
    if data.empty:
        return None
    by = list(options.by)
    groups = list(_groups(data, by))
    keys = [dict(zip(by, k, strict=True)) for k, _ in groups]
    rows, cols, where = _layout(keys)
    fig = Figure(figsize=(3.8 * len(cols) + 0.4, 2.9 * len(rows) + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(rows), len(cols), squeeze=False))
    used = set()
    for i, (_, g) in enumerate(groups):
        r, c = where[i]
        used.add((r, c))
        ax = axes[r, c]
        for outcome in OUTCOMES:
            sel = g[g["outcome"] == outcome]
            if sel.empty:
                continue
            color = _COLORS[outcome]
            trials = list(sel.groupby("source", sort=True))
            for _, t in trials:
                ax.plot(t["epoch"], t["eigenvalue"], color=color, alpha=0.45, linewidth=0.9)
            mean = sel.groupby("epoch")["eigenvalue"].mean()
            ax.plot(
                mean.index,
                mean.to_numpy(),
                color=color,
                linewidth=2.4,
                label=f"{outcome} (n = {len(trials)})",
            )
        median = g["median"].iloc[0]
        title = setting_label(keys[i])
        if math.isfinite(median):
            title += f"\nmedian arch PSNR {median:.2f} dB"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(X_LABEL, fontsize=8)
        ax.set_ylabel(Y_LABEL, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for r in range(len(rows)):
        for c in range(len(cols)):
            if (r, c) not in used:
                axes[r, c].set_visible(False)
    fig.suptitle("Hessian eigenvalue trajectories: good vs bad final architectures", fontsize=11)
    return fig
