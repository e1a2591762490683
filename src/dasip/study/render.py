"""Writing a study report: the files of a :class:`~dasip.study.build.StudyReport` (tables as
Markdown, CSV and LaTeX, figures as PNG and SVG) and the ``index.md`` that ties them together."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .build import Pick, StudyReport, build_report
from .options import DEFAULT_OPTIONS, ReportOptions
from .stats import MIN_PER_SIDE
from .tables import (
    display_comparisons,
    display_correlations,
    display_table,
    format_db,
    setting_label,
    to_markdown,
    write_table,
)
from .trajectories import CAPTION

PROG = "dasip-report"
#: the family of comparisons whose p-values are adjusted together (``--p-family``)
_FAMILY_TEXT = {
    "subset": "all the comparisons of the same subset (`all` or `non-degenerate`) in this report",
    "group": "the comparisons of the same group of the other `--by` keys and the same subset",
    "report": "all the comparisons in this report, both subsets",
}
_DEGENERATE_ON_TEXT = {
    "either": "either PSNR",
    "arch": "the architecture PSNR",
    "one_shot": "the one-shot PSNR",
}


@dataclass
class Report:
    """What :func:`write_report` wrote: the folder ``out``, its ``index.md``, every file, the
    table files by stem (``table``, ``table_nondegenerate``, ``correlations``, with
    ``--compare`` ``comparisons``: ``{"csv": path, "md": path, "tex": path}``), and the notes
    the report has for the reader."""

    out: Path
    index: Path
    files: list[Path] = field(default_factory=list)
    tables: dict[str, dict[str, Path]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def write_report(
    df: pd.DataFrame,
    out: str | Path,
    options: ReportOptions = DEFAULT_OPTIONS,
    note: Callable[[str], None] | None = None,
) -> Report:
    """Build (:func:`build_report`) and write the study report of the trials in ``df`` (from
    :func:`load_records`) into ``out``: ``table.*`` and ``table_nondegenerate.*`` (Markdown,
    CSV, LaTeX), ``correlations.*``, ``comparisons.*`` (with ``options.compare``),
    ``scatter/*.png|svg``, ``arch/*_best.png|*_worst.png``,
    ``hessian.png|svg|csv`` (when records hold Hessian eigenvalue trajectories) and
    ``index.md``. Each note for the reader is also passed to ``note``."""
    built = build_report(df, options)
    if note is not None:
        for msg in built.notes:
            note(msg)
    return render_report(built, out)


def slug(values: Iterable[Any]) -> str:
    """A file name for a setting: its values joined by ``-``, unsafe characters replaced."""
    text = "-".join(str(v) for v in values) or "all"
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text)


#: the architecture PSNR per setting (:func:`dasip.study.plots.psnr_figure`)
PSNR_FILES = {ext: Path(f"psnr.{ext}") for ext in ("png", "svg")}

#: the Hessian eigenvalue trajectories: the figure and the data behind it
HESSIAN_FILES = {ext: Path(f"hessian.{ext}") for ext in ("png", "svg", "csv")}


#: with --ground-truth: every placed trial, and the distribution figure of each table
GROUND_TRUTH_TRIALS = Path("ground_truth_trials.csv")


def _ground_truth_figure(name: str, ext: str) -> Path:
    return Path("ground_truth") / f"{slug([name])}.{ext}"


def _scatter_file(keys: dict[str, Any], ext: str) -> Path:
    return Path("scatter") / f"{slug(keys.values())}.{ext}"


def _picture_file(pick: Pick) -> Path:
    return Path("arch") / f"{slug(pick.keys.values())}_{pick.rank}.png"


def render_report(built: StudyReport, out: str | Path) -> Report:
    """Write the files of ``built`` into ``out`` (see :func:`write_report`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = Report(out=out, index=out / "index.md", notes=list(built.notes))
    degenerate_db = built.options.degenerate_db
    caption = "Architecture validation PSNR (dB) per setting"
    tables = {  # stem: (the numbers, the table as shown, its caption)
        "table": (built.table, display_table(built.table, degenerate_db), caption),
        "table_nondegenerate": (
            built.table_nondegenerate,
            display_table(built.table_nondegenerate, degenerate_db),
            f"{caption}, without degenerate runs (< {degenerate_db:g} dB)",
        ),
        "correlations": (
            built.correlations,
            display_correlations(built.correlations, built.options.ci),
            "One-shot vs architecture validation PSNR",
        ),
    }
    if built.ground_truth is not None:
        from .ground_truth import display_summary

        tables["ground_truth"] = (
            built.ground_truth.table,
            display_summary(built.ground_truth.table, list(built.options.by)),
            "Place of the trials' architectures in the ground truth: rank, percentile, regret",
        )
    if built.comparisons is not None:
        tables["comparisons"] = (
            built.comparisons,
            display_comparisons(built.comparisons, built.options.ci, built.options.diff_ci),
            f"Architecture validation PSNR, pairwise between the values of {built.options.compare}",
        )
    for stem, (table, shown, title) in tables.items():
        report.tables[stem] = write_table(table, shown, out / stem, title)
        report.files += report.tables[stem].values()
    if built.psnr is not None:
        for ext, path in PSNR_FILES.items():
            built.psnr.savefig(out / path, **({"dpi": 150} if ext == "png" else {}))
            report.files.append(out / path)
    for scatter in built.scatters:
        png, svg = (
            out / _scatter_file(scatter.keys, "png"),
            out / _scatter_file(scatter.keys, "svg"),
        )
        png.parent.mkdir(parents=True, exist_ok=True)
        scatter.figure.savefig(png, dpi=150)
        scatter.figure.savefig(svg)
        report.files += [png, svg]
    if built.trajectories is not None:
        for ext in ("png", "svg"):
            path = out / HESSIAN_FILES[ext]
            built.trajectories.figure.savefig(path, **({"dpi": 150} if ext == "png" else {}))
            report.files.append(path)
        path = out / HESSIAN_FILES["csv"]
        built.trajectories.data.to_csv(path, index=False)
        report.files.append(path)
    if built.ground_truth is not None:
        path = out / GROUND_TRUTH_TRIALS
        built.ground_truth.trials.to_csv(path, index=False)
        report.files.append(path)
        for name, figure in built.ground_truth.figures.items():
            for ext in ("png", "svg"):
                path = out / _ground_truth_figure(name, ext)
                path.parent.mkdir(parents=True, exist_ok=True)
                figure.savefig(path, **({"dpi": 150} if ext == "png" else {}))
                report.files.append(path)
    for pick in built.picks:
        if pick.figure is not None:
            png = out / _picture_file(pick)
            png.parent.mkdir(parents=True, exist_ok=True)
            pick.figure.savefig(png, dpi=150)
            report.files.append(png)
    shown = {stem: frame for stem, (_, frame, _) in tables.items()}
    report.index.write_text(_index(built, report, shown))
    return report


def _rel(path: str | Path, start: Path) -> str:
    text = str(path)
    if "://" in text or text.startswith("wandb:"):
        return text
    try:
        return os.path.relpath(path, start)
    except ValueError:
        return text


def _index(built: StudyReport, report: Report, shown: dict[str, pd.DataFrame]) -> str:
    """The text of ``index.md``: the tables as ``shown`` (by stem), links to every file."""
    from .. import __version__

    df, options, out = built.trials, built.options, report.out
    a = df.attrs
    sources = ", ".join(f"`{s}`" for s in a.get("sources", [])) or "(given frame)"
    lines = [
        "# Study report",
        "",
        f"{len(df)} trial(s) in {len(built.table)} setting(s) (one per "
        f"{', '.join(f'`{b}`' for b in options.by) or 'study'}), read from "
        f"{a.get('n_records', len(df))} record(s) under {sources}.",
        f"Written by `{PROG}` (dasip {__version__}) on "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
    ]
    if report.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in report.notes] + [""]

    def links(stem: str) -> str:
        paths = report.tables[stem]
        return " · ".join(f"[{k.upper()}]({_rel(p, out)})" for k, p in paths.items())

    degenerate_db = options.degenerate_db
    lines += [
        "## Architecture PSNR per setting",
        "",
        "Architecture validation PSNR (dB) of the retrained architectures: max, mean, median, "
        "min and std (sample, ddof=1) over the `scored` trials. " + links("table"),
        "",
        to_markdown(shown["table"]),
        "- `trials`: every trial of the setting (reruns of a job counted once), whatever its "
        "status; `scored`: trials with a finite architecture PSNR, the ones in the "
        "statistics; `trials - scored` trials have none (NaN: diverged or failed) and are "
        "left out of the PSNR statistics only.",
        f"- `< {degenerate_db:g} dB`: scored trials below {degenerate_db:g} dB (degenerate); "
        f"`diverged` / `failed`: trials with that status (a diverged trial whose "
        f"architecture still scored is in the statistics).",
        "- `runtime`: mean total time of a trial (search and retraining), min:sec, over all "
        "trials.",
        "",
    ]
    if built.psnr is not None:
        png, svg = PSNR_FILES["png"], PSNR_FILES["svg"]
        lines += [
            "The architecture PSNR of every scored trial: a box (quartiles, whiskers to 1.5 "
            "IQR) and the trials as points, one colour per op set, one panel per value of the "
            "other keys; dotted line at the degenerate threshold when a trial is below it.",
            "",
            f"![Architecture PSNR per setting]({png})",
            "",
            f"[PNG]({png}) · [SVG]({svg})",
            "",
        ]
    lines += [
        f"### Without degenerate runs (< {degenerate_db:g} dB)",
        "",
        "The same, with the degenerate trials out of the PSNR statistics (and of `scored`). "
        + links("table_nondegenerate"),
        "",
        to_markdown(shown["table_nondegenerate"]),
        "## One-shot vs architecture PSNR",
        "",
        f"Pearson r, Spearman ρ and Kendall τ-b between the one-shot validation PSNR "
        f"(supernet) and the architecture validation PSNR (retrained), per setting, over the "
        f"`n` trials with both PSNRs finite; {options.ci:.0%} intervals are percentile "
        f"bootstrap intervals from {options.n_boot} resamples of the pairs (seed "
        f"{options.seed}). `non-degenerate` leaves out trials below {degenerate_db:g} dB in "
        f"{_DEGENERATE_ON_TEXT[options.degenerate_on]}. A correlation needs at least "
        f"{options.min_pairs} pairs. The CSV has the p-values and the number of valid "
        "resamples. " + links("correlations"),
        "",
        to_markdown(shown["correlations"]),
    ]
    if built.scatters:
        lines += [
            "### Scatter plots",
            "",
            "Architecture PSNR against one-shot PSNR, one colour per op set, least-squares "
            "line and Pearson r in the legend; left all runs, right without degenerate runs.",
            "",
        ]
        for scatter in built.scatters:
            name = setting_label(scatter.keys)
            png, svg = _scatter_file(scatter.keys, "png"), _scatter_file(scatter.keys, "svg")
            lines += [
                f"#### {name}",
                "",
                f"![{name}]({png})",
                "",
                f"[PNG]({png}) · [SVG]({svg})",
                "",
            ]
    else:
        lines += ["No scatter plot: no trial has both a one-shot and an architecture PSNR.", ""]

    if built.comparisons is not None:
        key = options.compare
        interval = "BCa" if options.diff_ci == "bca" else "percentile"
        lines += [
            f"## Comparisons (`{key}`)",
            "",
            f"Each pair of `{key}` values `a`, `b` within a group of the other `--by` keys: "
            f"`n_a`, `n_b` scored trials, their median architecture PSNR (dB), `diff` = "
            f"median_a - median_b with a {options.ci:.0%} {interval} bootstrap interval "
            f"({options.n_boot} resamples of each side, seed {options.seed}), `P(a>b)` the "
            "chance that a trial of `a` beats one of `b` (Mann-Whitney U / (n_a n_b), ties "
            "count 1/2) and `p` the two-sided Mann-Whitney U test's p-value. `non-degenerate` "
            f"leaves out trials below {degenerate_db:g} dB, and a pair needs at least "
            f"{MIN_PER_SIDE} trials on each side (the CSV has U and full precision). "
            f"`p (Holm)` and `p (BH)` are `p` adjusted for the number of comparisons (Holm: "
            "family-wise error; Benjamini-Hochberg: false discovery rate) within "
            f"{_FAMILY_TEXT[options.p_family]} (`--p-family {options.p_family}`; "
            "`p_family_size` in the CSV); a claim cites the adjusted value. "
            + links("comparisons"),
            "",
            to_markdown(shown["comparisons"]),
        ]

    if built.ground_truth is not None:
        gt = built.ground_truth
        lines += [
            "## Against the ground truth",
            "",
            f"{len(gt.trials)} trial(s) placed among every architecture of their ground-truth "
            "table (the space trained under one config, docs/ground_truth.md), by the table's "
            "PSNR of the trial's architecture: `rank` 1 is the best of `of` architectures, "
            "`percentile` the share of them it is not worse than (100: the best), `regret` the "
            "best table PSNR minus the table PSNR of the pick (dB); median [25th, 75th "
            "percentile] over the setting's trials; `found best`: trials whose architecture is "
            f"the table's best. Every placed trial: [CSV]({GROUND_TRUTH_TRIALS}). "
            + links("ground_truth"),
            "",
            to_markdown(shown["ground_truth"]),
        ]
        for name in gt.figures:
            png, svg = _ground_truth_figure(name, "png"), _ground_truth_figure(name, "svg")
            lines += [
                f"![{name}: every architecture's PSNR and the picks]({png})",
                "",
                f"[PNG]({png}) · [SVG]({svg})",
                "",
            ]

    if built.trajectories is not None:
        data = built.trajectories.data
        n = data["source"].nunique()
        png, svg, csv = (HESSIAN_FILES[e] for e in ("png", "svg", "csv"))
        lines += [
            "## Hessian eigenvalue trajectories",
            "",
            f"{n} trial(s) recorded the dominant Hessian eigenvalue of every search epoch "
            f"(`method.hessian=true`, always on for `darts_es`). {CAPTION} The CSV holds the "
            "data behind the figure, each trial's outcome and its panel's median.",
            "",
            f"![Hessian eigenvalue trajectories]({png})",
            "",
            f"[PNG]({png}) · [SVG]({svg}) · [CSV]({csv})",
            "",
        ]

    lines += ["## Best and worst architectures", ""]
    if not built.picks:
        lines += ["No trial has an architecture PSNR: there is no best or worst architecture.", ""]
    current = None
    for pick in built.picks:
        name, t = setting_label(pick.keys), pick.trial
        if name != current:
            lines += [f"### {name}", ""]
            current = name
        lines.append(
            f"- **{pick.rank}**: seed {t['seed']}, architecture PSNR {format_db(t['arch_psnr'])}, "
            f"one-shot PSNR {format_db(t['one_shot_psnr'])}, status {t['status']}, genotype "
            f"`{t['genotype']}` ([record]({_rel(t['source'], out)}))"
        )
        if pick.figure is not None:
            lines += ["", f"  ![{pick.rank}: {name}]({_picture_file(pick)})", ""]
        elif pick.problem:
            lines.append(f"  (no picture: {pick.problem})")
    lines.append("")

    duplicates, skipped = a.get("duplicates") or [], a.get("skipped") or []
    lines += ["## Sources", ""]
    lines.append(
        f"{a.get('n_records', len(df))} record(s) read, {len(duplicates)} of them reruns of a "
        f"job already found (same resolved config, apart from logging and device settings): "
        f"each job counts once, with its newest record (`created`). {len(skipped)} file(s) "
        f"skipped."
    )
    for dropped, kept in duplicates[:50]:
        lines.append(f"- rerun `{_rel(dropped, out)}` replaced by `{_rel(kept, out)}`")
    for path, why in skipped:
        lines.append(f"- skipped `{_rel(path, out)}`: {why}")
    lines += ["", "## Files", ""]
    for p in report.files:
        lines.append(f"- [{_rel(p, out)}]({_rel(p, out)})")
    return "\n".join(lines) + "\n"
