"""The report's figures of the PSNRs: the distribution of the architecture PSNR per setting
(:func:`psnr_figure`: a box and the trials of each setting, one colour per op set), and the
scatter of architecture PSNR against one-shot PSNR (:func:`scatter_figure`: one colour per op
set, a regression line and its Pearson r per op set, with and without degenerate runs);
docs/study.md, Figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .options import DEFAULT_OPTIONS, ReportOptions
from .records import with_settings
from .stats import _groups, coefficients, is_degenerate
from .tables import setting_label

PSNR_TITLE = "Architecture validation PSNR per setting"
X_LABEL = "one-shot validation PSNR (dB)"
Y_LABEL = "architecture validation PSNR (dB)"


def hue_palette(values: Iterable[Any], name: str = "colorblind") -> dict[str, Any]:
    """One fixed colour per value (sorted), so an op set has the same colour in every figure."""
    values = sorted({str(v) for v in values})
    return dict(zip(values, sns.color_palette(name, max(len(values), 1)), strict=False))


def panels(
    df: pd.DataFrame, options: ReportOptions = DEFAULT_OPTIONS
) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """The scatter figures of a study: one per setting of ``options.by`` without its
    ``hue_key``; within a figure each value of the hue (an op set) is one colour."""
    keys = [k for k in options.by if k != options.hue_key]
    df = with_settings(df, options.by)
    return [(dict(zip(keys, k, strict=True)), g) for k, g in _groups(df, keys)]


def psnr_figure(
    df: pd.DataFrame,
    options: ReportOptions = DEFAULT_OPTIONS,
    palette: Mapping[str, Any] | None = None,
    title: str = PSNR_TITLE,
) -> Figure | None:
    """The architecture PSNR of every scored trial of ``df``, by setting: along the x axis the
    values of the first ``options.by`` key other than the hue (the method), within each a box
    (quartiles, whiskers to 1.5 IQR) and the trials as points for each value of
    ``options.hue_key`` (an op set, coloured by ``palette``), one panel per value of the other
    ``by`` keys (e.g. the data), dotted line at ``options.degenerate_db`` when a trial is below
    it. The title counts the trials: scored, per box, and those without a PSNR (not drawn).
    ``None`` when no trial has an architecture PSNR."""
    hue = options.hue_key
    x_key = next((k for k in options.by if k != hue), None)
    panel_keys = [k for k in options.by if k not in (hue, x_key)]
    df = with_settings(df, options.by)
    scored = df[np.isfinite(df["arch_psnr"])].copy()
    if scored.empty:
        return None
    scored["_x"] = scored[x_key].map(str) if x_key else "all trials"
    scored["_hue"] = scored[hue].map(str) if hue else "trials"
    palette = dict(palette or hue_palette(scored["_hue"]))
    order = sorted(scored["_x"].unique())
    hue_order = sorted(scored["_hue"].unique())
    groups = list(_groups(scored, panel_keys))
    n_cols = min(len(groups), 3)
    n_rows = -(-len(groups) // n_cols)
    width = max(3.2, 0.35 * len(order) * (len(hue_order) + 1) + 1.0)
    fig = Figure(figsize=(width * n_cols, 3.6 * n_rows + 0.5), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharey=True).ravel()
    for ax, (keys, g) in zip(axes, groups, strict=False):
        common = {"data": g, "x": "_x", "y": "arch_psnr", "order": order, "ax": ax}
        common.update(hue="_hue", hue_order=hue_order, palette=palette)
        sns.boxplot(**common, showfliers=False, fill=False, linewidth=1.1, legend=False)
        sns.stripplot(**common, dodge=True, size=3.5, alpha=0.8, jitter=0.2)
        if (g["arch_psnr"] < options.degenerate_db).any():
            ax.axhline(options.degenerate_db, color="#888888", linestyle=":", linewidth=1)
        label = setting_label(dict(zip(panel_keys, keys, strict=True)))
        ax.set_title(label if panel_keys else "", fontsize=10)
        ax.set_xlabel(x_key or "")
        ax.set_ylabel(Y_LABEL)
        ax.tick_params(axis="x", labelsize=8, rotation=20)
        ax.grid(True, axis="y", alpha=0.3)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    if hue and handles:
        fig.legend(handles, labels, title=hue, loc="outside right upper", fontsize=8)
    per_box = scored.groupby([*panel_keys, "_x", "_hue"], dropna=False).size()
    counts = f"{len(scored)} scored trials, {_span(per_box)} per box"
    unscored = len(df) - len(scored)
    if unscored:
        counts += f"; {unscored} without a PSNR, not shown"
    fig.suptitle(f"{title} ({counts})", fontsize=11)
    return fig


def _span(counts: pd.Series) -> str:
    low, high = int(counts.min()), int(counts.max())
    return f"{low}" if low == high else f"{low}-{high}"


def scatter_figure(
    df: pd.DataFrame,
    options: ReportOptions = DEFAULT_OPTIONS,
    title: str | None = None,
    palette: Mapping[str, Any] | None = None,
) -> Figure | None:
    """Architecture PSNR against one-shot PSNR for the trials in ``df``: left all runs, right
    without degenerate runs (:func:`is_degenerate`). Each value of ``options.hue_key`` gets
    its points, a least-squares line and ``r`` (Pearson, as in the correlation table) in the
    legend when it has ``options.min_pairs`` pairs. ``None`` when no trial has both PSNRs."""
    hue, min_pairs = options.hue_key, options.min_pairs
    degenerate_db, degenerate_on = options.degenerate_db, options.degenerate_on
    pairs = df[np.isfinite(df["one_shot_psnr"]) & np.isfinite(df["arch_psnr"])].copy()
    if pairs.empty:
        return None
    if hue is None or hue not in pairs.columns:
        pairs["_hue"] = "trials"
    else:
        pairs["_hue"] = pairs[hue].map(str)
    palette = dict(palette or hue_palette(pairs["_hue"]))
    degenerate = is_degenerate(pairs, options)
    fig = Figure(figsize=(10, 4.4), layout="constrained")
    axes = fig.subplots(1, 2, sharex=False, sharey=False)
    subsets = (
        ("all runs", pairs),
        (f"without degenerate runs (< {degenerate_db:g} dB)", pairs[~degenerate]),
    )
    for ax, (name, sel) in zip(axes, subsets, strict=True):
        for value, g in sel.groupby("_hue", sort=True):
            color = palette.get(value)
            x, y = g["one_shot_psnr"].to_numpy(), g["arch_psnr"].to_numpy()
            r = coefficients(x, y)["pearson"] if len(g) >= min_pairs else np.nan
            if np.isfinite(r):
                label = f"{value}: r = {r:.2f} (n = {len(g)})"
                sns.regplot(
                    x=x,
                    y=y,
                    ax=ax,
                    color=color,
                    ci=None,
                    label=label,
                    truncate=True,
                    scatter_kws={"s": 28, "alpha": 0.85, "edgecolor": "white", "linewidths": 0.4},
                    line_kws={"linewidth": 1.5},
                )
            else:
                why = f"fewer than {min_pairs} pairs" if len(g) < min_pairs else "constant"
                label = f"{value}: n = {len(g)}, no r ({why})"
                ax.scatter(x, y, s=28, color=color, label=label, alpha=0.85)
        if sel.empty:
            ax.text(0.5, 0.5, "no runs left", transform=ax.transAxes, ha="center", va="center")
        elif name == "all runs" and degenerate.any():
            if degenerate_on in ("either", "one_shot"):
                ax.axvline(degenerate_db, color="#888888", linestyle=":", linewidth=1)
            if degenerate_on in ("either", "arch"):
                ax.axhline(degenerate_db, color="#888888", linestyle=":", linewidth=1)
        ax.set_xlabel(X_LABEL)
        ax.set_ylabel(Y_LABEL)
        ax.set_title(f"{name}", fontsize=10)
        if not sel.empty:
            ax.legend(fontsize=8, title=hue if hue else None, title_fontsize=8, loc="best")
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
