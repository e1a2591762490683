"""Building a study report: the tables, correlations, notes and figures of a study's trials, as
data (frames and matplotlib figures); nothing is written here (:mod:`.render` writes it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .draw import draw_architecture, parse_genotype
from .ground_truth import GroundTruthPart, ground_truth_part
from .options import DEFAULT_OPTIONS, ReportOptions
from .plots import hue_palette, panels, psnr_figure, scatter_figure
from .records import StudyError, with_settings
from .stats import (
    MIN_PER_SIDE,
    best_and_worst,
    comparison_table,
    correlation_table,
    mixed_settings,
    setting_table,
)
from .tables import format_db, setting_label
from .trajectories import eigenvalue_figure, eigenvalue_trajectories


@dataclass
class Scatter:
    """The scatter plot of one setting (without the hue key): its ``keys`` and ``figure``."""

    keys: dict[str, Any]
    figure: Figure


@dataclass
class Pick:
    """The best or the worst scored trial of a setting (``rank``), its ``trial`` row, and its
    ``figure``, or the ``problem`` that left it without one."""

    keys: dict[str, Any]
    rank: str
    trial: dict[str, Any]
    figure: Figure | None = None
    problem: str | None = None


@dataclass
class Trajectories:
    """The Hessian eigenvalue trajectories of the trials that recorded one: the ``data``
    behind the ``figure`` (:func:`eigenvalue_trajectories`, one row per trial and epoch)."""

    data: pd.DataFrame
    figure: Figure


@dataclass
class StudyReport:
    """What a study report shows, computed from its ``trials`` with ``options``: the tables
    (:func:`setting_table`, with and without degenerate runs), the correlations, the
    comparisons (:func:`comparison_table`; ``None`` without ``options.compare``), the
    distribution of the architecture PSNR per setting (``psnr``), the scatter plots, the best
    and worst architectures, the Hessian eigenvalue trajectories (``None`` when no record has
    one) and the notes for the reader."""

    trials: pd.DataFrame
    options: ReportOptions
    table: pd.DataFrame
    table_nondegenerate: pd.DataFrame
    correlations: pd.DataFrame
    has_one_shot: bool
    scatters: list[Scatter] = field(default_factory=list)
    picks: list[Pick] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    trajectories: Trajectories | None = None
    comparisons: pd.DataFrame | None = None
    #: with ``options.ground_truth``: each trial's place among every architecture of its table
    ground_truth: GroundTruthPart | None = None
    #: the architecture PSNR per setting (:func:`psnr_figure`); ``None`` when no trial has one
    psnr: Figure | None = None


def build_report(df: pd.DataFrame, options: ReportOptions = DEFAULT_OPTIONS) -> StudyReport:
    """Everything a report of the trials in ``df`` (from :func:`load_records`) shows.

    Whatever cannot be computed (one trial per setting, no one-shot PSNR, an undrawable
    genotype) becomes a note, not an error; an empty ``df`` or an unknown ``--by`` key is a
    :class:`StudyError`.
    """
    by = list(options.by)
    if df.empty:
        raise StudyError("no trials to report")
    with_settings(df, by)  # raises a StudyError naming a bad --by key
    report = StudyReport(
        trials=df,
        options=options,
        table=setting_table(df, options),
        table_nondegenerate=setting_table(df, options, exclude_degenerate=True),
        correlations=correlation_table(df, options),
        has_one_shot=bool(np.isfinite(df["one_shot_psnr"]).any()),
    )
    report.notes += _source_notes(df, by) + _table_notes(report) + _correlation_notes(report)
    if options.compare is not None:
        report.comparisons = comparison_table(df, options)
        report.notes += _comparison_notes(report)
    if options.ground_truth is not None:
        report.ground_truth = ground_truth_part(df, by, options.ground_truth)
        report.notes += report.ground_truth.notes
    report.psnr = psnr_figure(df, options, palette=_palette(df, options))
    if report.has_one_shot:
        report.scatters = _scatters(df, options)
    report.picks = _picks(report)
    data = eigenvalue_trajectories(df, options)
    figure = eigenvalue_figure(data, options)
    if figure is not None:
        report.trajectories = Trajectories(data, figure)
    return report


def _source_notes(df: pd.DataFrame, by: list[str]) -> list[str]:
    notes = []
    dups = df.attrs.get("duplicates") or []
    if dups:
        notes.append(
            f"{len(dups)} record(s) are reruns of a job found again; each job counts once, "
            f"with its newest record (see 'Sources')"
        )
    notes += [f"skipped {path}: {why}" for path, why in df.attrs.get("skipped") or []]
    from_summary = df.attrs.get("from_summary") or []
    if from_summary:
        whys = sorted({why for _, why in from_summary})
        notes.append(
            f"{len(from_summary)} W&B run(s) rebuilt from their summary and config, not from "
            f"their trial artifact ({'; '.join(whys)}): their rows lack the record's extra data "
            f"(e.g. Hessian trajectories)"
        )
    for keys, differ in mixed_settings(df, by).items():
        shown = ", ".join(differ[:8]) + (", ..." if len(differ) > 8 else "")
        notes.append(
            f"setting {setting_label(dict(zip(by, keys, strict=True)))} mixes trials whose "
            f"configs differ in: {shown}; add a key to --by to split it"
        )
    return notes


def _table_notes(report: StudyReport) -> list[str]:
    table, df = report.table, report.trials
    unscored = int((table["trials"] - table["scored"]).sum())
    if not unscored:
        return []
    st = df[~np.isfinite(df["arch_psnr"])]["status"].value_counts()
    parts = ", ".join(f"{k}: {v}" for k, v in st.items())
    return [
        f"{unscored} trial(s) have no architecture PSNR ({parts}): they count in 'trials' "
        f"and the runtime, not in the PSNR statistics"
    ]


def _correlation_notes(report: StudyReport) -> list[str]:
    corr, df, options = report.correlations, report.trials, report.options
    if not report.has_one_shot:
        methods = ", ".join(sorted(map(str, df["method"].unique())))
        return [
            f"no trial has a one-shot PSNR (method: {methods}); there is nothing to correlate: "
            f"no correlation, no scatter plot"
        ]
    if corr[np.isfinite(corr["pearson"])].empty:
        pairs = corr[corr["subset"] == "all"]["n"]
        return [
            f"no setting has {options.min_pairs} or more trials with both PSNRs (at most "
            f"{int(pairs.max())}); no correlation is computed; run more seeds"
            + (" or group with fewer --by keys" if options.by else "")
        ]
    return []


def _comparison_notes(report: StudyReport) -> list[str]:
    comp, key = report.comparisons, report.options.compare
    if comp is None:
        return []
    if comp.empty:
        other = [k for k in report.options.by if k != key]
        where = (
            f"no group of the other --by keys ({', '.join(other)}) has"
            if other
            else "the trials do not have"
        )
        return [f"{where} two values of `{key}`: there is nothing to compare"]
    if not np.isfinite(comp["diff"]).any():
        return [
            f"no pair of `{key}` values has {MIN_PER_SIDE} or more scored trials on each side; "
            f"no comparison is computed; run more seeds"
        ]
    return []


def _palette(df: pd.DataFrame, options: ReportOptions) -> dict[str, Any] | None:
    """One colour per value of the hue key (an op set), the same in every figure."""
    hue = options.hue_key
    return hue_palette(with_settings(df, [hue])[hue]) if hue else None


def _scatters(df: pd.DataFrame, options: ReportOptions) -> list[Scatter]:
    palette = _palette(df, options)
    scatters = []
    for keys, g in panels(df, options):
        fig = scatter_figure(g, options, title=setting_label(keys), palette=palette)
        if fig is not None:
            scatters.append(Scatter(keys, fig))
    return scatters


def _picks(report: StudyReport) -> list[Pick]:
    by = list(report.options.by)
    scored = {tuple(r[k] for k in by): r["scored"] for r in report.table.to_dict("records")}
    picks = []
    for row in best_and_worst(report.trials, by).to_dict("records"):
        keys = {k: row[k] for k in by}
        pick = Pick(keys=keys, rank=row["rank"], trial=row)
        if report.options.pictures and not row.get("genotype"):
            pick.problem = "the record has no genotype"
        elif report.options.pictures:
            space = (row.get("config") or {}).get("space") or row.get("space")
            title = (
                f"{setting_label(keys)}: {pick.rank} of {int(scored[tuple(keys.values())])} "
                f"(seed {row['seed']}, {format_db(row['arch_psnr'])})"
            )
            try:
                pick.figure = draw_architecture(parse_genotype(str(row["genotype"]), space), title)
            except StudyError as e:
                pick.problem = str(e)
                report.notes.append(
                    f"no picture of the {pick.rank} architecture of {setting_label(keys)}: {e}"
                )
        picks.append(pick)
    return picks
