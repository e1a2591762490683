"""``dasip-report`` / ``python report.py``: a study's tables, correlations, scatter plots and
architecture pictures from its records, tied together by an ``index.md``."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .draw import draw_architecture, parse_genotype
from .plots import hue_palette, panels, scatter_figure
from .records import StudyError, load_records, load_wandb, with_settings
from .stats import (
    BOOT_SEED,
    CI,
    DEFAULT_BY,
    DEGENERATE_DB,
    DEGENERATE_ON,
    MIN_PAIRS,
    N_BOOT,
    _check_by,
    best_and_worst,
    correlation_table,
    mixed_settings,
    setting_table,
)
from .tables import display_correlations, display_table, to_markdown, write_table

PROG = "dasip-report"


@dataclass
class Report:
    """What :func:`write_report` wrote, and the notes it has for the reader."""

    out: Path
    index: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def slug(values: Iterable[Any]) -> str:
    """A file name for a setting: its values joined by ``-``, unsafe characters replaced."""
    text = "-".join(str(v) for v in values) or "all"
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text)


def label(keys: dict[str, Any]) -> str:
    return " · ".join(str(v) for v in keys.values()) or "all trials"


def _rel(path: str | Path, start: Path) -> str:
    text = str(path)
    if "://" in text or text.startswith("wandb:"):
        return text
    try:
        return os.path.relpath(path, start)
    except ValueError:
        return text


def _db(v: float) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.2f} dB"


def write_report(
    df: pd.DataFrame,
    out: str | Path,
    by: Iterable[str] | str = DEFAULT_BY,
    hue: str = "ops",
    degenerate_db: float = DEGENERATE_DB,
    degenerate_on: str = "either",
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
    ci: float = CI,
    min_pairs: int = MIN_PAIRS,
    pictures: bool = True,
    note: Callable[[str], None] | None = None,
) -> Report:
    """Write the study report of the trials in ``df`` (from :func:`load_records`) into ``out``:
    ``table.*`` and ``table_nondegenerate.*`` (Markdown, CSV, LaTeX), ``correlations.*``,
    ``scatter/*.png|svg``, ``arch/*_best.png|*_worst.png`` and ``index.md``.

    Whatever cannot be computed (one trial per setting, no one-shot PSNR, an undrawable
    genotype) becomes a note in ``index.md`` and a call of ``note``, not an error.
    """
    by = _check_by(by)
    if df.empty:
        raise StudyError("no trials to report")
    with_settings(df, by)  # raises a StudyError naming a bad --by key
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = Report(out=out, index=out / "index.md")

    def tell(msg: str) -> None:
        report.notes.append(msg)
        if note is not None:
            note(msg)

    _source_notes(df, tell)
    for keys, differ in mixed_settings(df, by).items():
        shown = ", ".join(differ[:8]) + (", ..." if len(differ) > 8 else "")
        tell(
            f"setting {label(dict(zip(by, keys, strict=True)))} mixes trials whose configs "
            f"differ in: {shown}; add a key to --by to split it"
        )

    # -- tables -------------------------------------------------------------------------------
    table = setting_table(df, by, degenerate_db)
    table_nd = setting_table(df, by, degenerate_db, exclude_degenerate=True)
    shown = display_table(table, degenerate_db)
    shown_nd = display_table(table_nd, degenerate_db)
    caption = "Architecture validation PSNR (dB) per setting"
    files = write_table(table, shown, out / "table", caption)
    files_nd = write_table(
        table_nd,
        shown_nd,
        out / "table_nondegenerate",
        f"{caption}, without degenerate runs (< {degenerate_db:g} dB)",
    )
    report.files += [*files.values(), *files_nd.values()]
    unscored = int((table["trials"] - table["scored"]).sum())
    if unscored:
        st = df[~np.isfinite(df["arch_psnr"])]["status"].value_counts()
        parts = ", ".join(f"{k}: {v}" for k, v in st.items())
        tell(
            f"{unscored} trial(s) have no architecture PSNR ({parts}): they count in 'trials' "
            f"and the runtime, not in the PSNR statistics"
        )

    # -- correlations -------------------------------------------------------------------------
    corr = correlation_table(
        df,
        by,
        degenerate_db,
        degenerate_on,
        n_boot=n_boot,
        seed=seed,
        ci=ci,
        min_pairs=min_pairs,
    )
    corr_files = write_table(
        corr,
        display_correlations(corr, ci),
        out / "correlations",
        "One-shot vs architecture validation PSNR",
    )
    report.files += list(corr_files.values())
    has_one_shot = bool(np.isfinite(df["one_shot_psnr"]).any())
    computed = corr[np.isfinite(corr["pearson"])]
    if not has_one_shot:
        methods = ", ".join(sorted(map(str, df["method"].unique())))
        tell(
            f"no trial has a one-shot PSNR (method: {methods}); there is nothing to correlate: "
            f"no correlation, no scatter plot"
        )
    elif computed.empty:
        pairs = corr[corr["subset"] == "all"]["n"]
        tell(
            f"no setting has {min_pairs} or more trials with both PSNRs (at most "
            f"{int(pairs.max())}); no correlation is computed; run more seeds"
            + (" or group with fewer --by keys" if by else "")
        )

    # -- scatter plots ------------------------------------------------------------------------
    scatters: list[tuple[str, Path, Path]] = []
    if has_one_shot:
        palette = hue_palette(with_settings(df, [hue])[hue]) if hue in by else None
        for keys, g in panels(df, by, hue if hue in by else None):
            fig = scatter_figure(
                g,
                hue=hue if hue in by else None,
                title=label(keys),
                degenerate_db=degenerate_db,
                degenerate_on=degenerate_on,
                min_pairs=min_pairs,
                palette=palette,
            )
            if fig is None:
                continue
            stem = out / "scatter" / slug(keys.values())
            stem.parent.mkdir(parents=True, exist_ok=True)
            png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
            fig.savefig(png, dpi=150)
            fig.savefig(svg)
            scatters.append((label(keys), png, svg))
            report.files += [png, svg]

    # -- architectures ------------------------------------------------------------------------
    picks = best_and_worst(df, by)
    arch_items: list[dict[str, Any]] = []
    for row in picks.to_dict("records"):
        keys = {k: row[k] for k in by}
        item = {"keys": keys, **row, "png": None, "problem": None}
        genotype = row.get("genotype")
        if pictures and genotype:
            space = (row.get("config") or {}).get("space") or row.get("space")
            title = (
                f"{label(keys)}: {row['rank']} of {int(_n_scored(table, by, keys))} "
                f"(seed {row['seed']}, {_db(row['arch_psnr'])})"
            )
            try:
                fig = draw_architecture(parse_genotype(str(genotype), space), title)
                png = out / "arch" / f"{slug(keys.values())}_{row['rank']}.png"
                png.parent.mkdir(parents=True, exist_ok=True)
                fig.savefig(png, dpi=150)
                item["png"] = png
                report.files.append(png)
            except StudyError as e:
                item["problem"] = str(e)
                tell(f"no picture of the {row['rank']} architecture of {label(keys)}: {e}")
        elif pictures:
            item["problem"] = "the record has no genotype"
        arch_items.append(item)

    report.index.write_text(
        _index(
            df,
            out,
            by,
            shown,
            shown_nd,
            corr,
            ci,
            n_boot,
            seed,
            degenerate_db,
            degenerate_on,
            min_pairs,
            scatters,
            arch_items,
            report,
            files,
            files_nd,
            corr_files,
        )
    )
    return report


def _n_scored(table: pd.DataFrame, by: Sequence[str], keys: dict[str, Any]) -> int:
    sel = np.ones(len(table), dtype=bool)
    for k in by:
        sel &= (table[k] == keys[k]).to_numpy()
    return int(table.loc[sel, "scored"].iloc[0])


def _source_notes(df: pd.DataFrame, tell: Callable[[str], None]) -> None:
    dups = df.attrs.get("duplicates") or []
    if dups:
        tell(
            f"{len(dups)} record(s) are reruns of a job found again; each job counts once, "
            f"with its newest record (see 'Sources')"
        )
    for path, why in df.attrs.get("skipped") or []:
        tell(f"skipped {path}: {why}")


def _index(
    df,
    out,
    by,
    shown,
    shown_nd,
    corr,
    ci,
    n_boot,
    seed,
    degenerate_db,
    degenerate_on,
    min_pairs,
    scatters,
    arch_items,
    report,
    files,
    files_nd,
    corr_files,
) -> str:
    from .. import __version__

    a = df.attrs
    n_settings = len(shown)
    sources = ", ".join(f"`{s}`" for s in a.get("sources", [])) or "(given frame)"
    lines = [
        "# Study report",
        "",
        f"{len(df)} trial(s) in {n_settings} setting(s) (one per "
        f"{', '.join(f'`{b}`' for b in by) or 'study'}), read from "
        f"{a.get('n_records', len(df))} record(s) under {sources}.",
        f"Written by `{PROG}` (dasip {__version__}) on "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
    ]
    if report.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in report.notes] + [""]

    def links(paths: dict[str, Path]) -> str:
        return " · ".join(f"[{k.upper()}]({_rel(p, out)})" for k, p in paths.items())

    lines += [
        "## Architecture PSNR per setting",
        "",
        "Architecture validation PSNR (dB) of the retrained architectures: max, mean, median, "
        "min and std (sample, ddof=1) over the `scored` trials. " + links(files),
        "",
        to_markdown(shown),
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
        f"### Without degenerate runs (< {degenerate_db:g} dB)",
        "",
        "The same, with the degenerate trials out of the PSNR statistics (and of `scored`). "
        + links(files_nd),
        "",
        to_markdown(shown_nd),
        "## One-shot vs architecture PSNR",
        "",
        f"Pearson r, Spearman ρ and Kendall τ-b between the one-shot validation PSNR "
        f"(supernet) and the architecture validation PSNR (retrained), per setting, over the "
        f"`n` trials with both PSNRs finite; {ci:.0%} intervals are percentile bootstrap "
        f"intervals from {n_boot} resamples of the pairs (seed {seed}). `non-degenerate` leaves "
        f"out trials below {degenerate_db:g} dB in "
        + {
            "either": "either PSNR",
            "arch": "the architecture PSNR",
            "one_shot": "the one-shot PSNR",
        }[degenerate_on]
        + f". A correlation needs at least {min_pairs} pairs. The CSV has the p-values and the "
        "number of valid resamples. " + links(corr_files),
        "",
        to_markdown(display_correlations(corr, ci)),
    ]
    if scatters:
        lines += [
            "### Scatter plots",
            "",
            "Architecture PSNR against one-shot PSNR, one colour per op set, least-squares "
            "line and Pearson r in the legend; left all runs, right without degenerate runs.",
            "",
        ]
        for name, png, svg in scatters:
            lines += [
                f"#### {name}",
                "",
                f"![{name}]({_rel(png, out)})",
                "",
                f"[PNG]({_rel(png, out)}) · [SVG]({_rel(svg, out)})",
                "",
            ]
    else:
        lines += ["No scatter plot: no trial has both a one-shot and an architecture PSNR.", ""]

    lines += ["## Best and worst architectures", ""]
    if not arch_items:
        lines += ["No trial has an architecture PSNR: there is no best or worst architecture.", ""]
    current = None
    for it in arch_items:
        name = label(it["keys"])
        if name != current:
            lines += [f"### {name}", ""]
            current = name
        lines.append(
            f"- **{it['rank']}**: seed {it['seed']}, architecture PSNR {_db(it['arch_psnr'])}, "
            f"one-shot PSNR {_db(it['one_shot_psnr'])}, status {it['status']}, genotype "
            f"`{it['genotype']}` ([record]({_rel(it['source'], out)}))"
        )
        if it["png"] is not None:
            lines += ["", f"  ![{it['rank']}: {name}]({_rel(it['png'], out)})", ""]
        elif it["problem"]:
            lines.append(f"  (no picture: {it['problem']})")
    lines.append("")

    lines += ["## Sources", ""]
    lines.append(
        f"{a.get('n_records', len(df))} record(s) read, {len(a.get('duplicates') or [])} of them "
        f"reruns of a job already found (same resolved config, apart from logging and device "
        f"settings): each job counts once, with its newest record (`created`). "
        f"{len(a.get('skipped') or [])} file(s) skipped."
    )
    for dropped, kept in (a.get("duplicates") or [])[:50]:
        lines.append(f"- rerun `{_rel(dropped, out)}` replaced by `{_rel(kept, out)}`")
    for path, why in a.get("skipped") or []:
        lines.append(f"- skipped `{_rel(path, out)}`: {why}")
    lines += ["", "## Files", ""]
    for p in report.files:
        lines.append(f"- [{_rel(p, out)}]({_rel(p, out)})")
    return "\n".join(lines) + "\n"


# -- command line -------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="A study's tables, correlations, scatter plots and architecture pictures "
        "from its trial records (record.json under run or multirun directories, or W&B runs).",
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="run or multirun directories, or record.json files"
    )
    p.add_argument(
        "--by",
        default=",".join(DEFAULT_BY),
        help="keys that make a setting: record fields or dotted config keys (default: %(default)s)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="output directory (default: PATH/report for one directory, else ./study-report)",
    )
    p.add_argument(
        "--wandb",
        metavar="ENTITY/PROJECT",
        help="read the records from the W&B runs of this project",
    )
    p.add_argument("--group", help="with --wandb: only the runs of this group (a study)")
    p.add_argument(
        "--degenerate-db",
        type=float,
        default=DEGENERATE_DB,
        help="degenerate below this PSNR (default: %(default)s)",
    )
    p.add_argument(
        "--degenerate-on",
        choices=DEGENERATE_ON,
        default="either",
        help="which PSNR makes a run degenerate in the correlations (default: %(default)s)",
    )
    p.add_argument(
        "--n-boot", type=int, default=N_BOOT, help="bootstrap resamples (default: %(default)s)"
    )
    p.add_argument(
        "--boot-seed", type=int, default=BOOT_SEED, help="bootstrap seed (default: %(default)s)"
    )
    p.add_argument("--ci", type=float, default=CI, help="confidence level (default: %(default)s)")
    p.add_argument(
        "--min-pairs",
        type=int,
        default=MIN_PAIRS,
        help="fewest pairs for a correlation (default: %(default)s)",
    )
    p.add_argument(
        "--keep-duplicates", action="store_true", help="count every record, reruns of a job too"
    )
    p.add_argument("--no-pictures", action="store_true", help="skip the architecture pictures")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.paths and not args.wandb:
        parser.error(
            "give one or more PATHs (run or multirun directories) or --wandb ENTITY/PROJECT"
        )
    if args.n_boot < 1:
        parser.error(f"--n-boot {args.n_boot}: must be at least 1")
    if not 0 < args.ci < 1:
        parser.error(f"--ci {args.ci}: must be between 0 and 1")
    if args.min_pairs < 2:
        parser.error(f"--min-pairs {args.min_pairs}: must be at least 2")
    if args.group and not args.wandb:
        parser.error("--group needs --wandb ENTITY/PROJECT")

    def note(msg: str) -> None:
        print(f"{PROG}: note: {msg}", file=sys.stderr)

    try:
        frames = []
        if args.paths:
            frames.append(load_records(args.paths, keep_duplicates=args.keep_duplicates))
        if args.wandb:
            frames.append(load_wandb(args.wandb, args.group, keep_duplicates=args.keep_duplicates))
        df = frames[0] if len(frames) == 1 else _combine(frames, args.keep_duplicates)
        if args.out:
            out = Path(args.out)
        elif len(args.paths) == 1 and Path(args.paths[0]).is_dir() and not args.wandb:
            out = Path(args.paths[0]) / "report"
        else:
            out = Path("study-report")
        report = write_report(
            df,
            out,
            by=args.by,
            degenerate_db=args.degenerate_db,
            degenerate_on=args.degenerate_on,
            n_boot=args.n_boot,
            seed=args.boot_seed,
            ci=args.ci,
            min_pairs=args.min_pairs,
            pictures=not args.no_pictures,
            note=note,
        )
    except StudyError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. an output directory that cannot be written
        print(f"{PROG}: error: cannot write the report: {e}", file=sys.stderr)
        return 1
    print(f"{PROG}: {len(df)} trial(s); report in {report.index}")
    return 0


def _combine(frames: list[pd.DataFrame], keep_duplicates: bool) -> pd.DataFrame:
    """Folder and W&B records together, reruns counted once across both."""
    from .records import _sorted, dedupe

    attrs = {
        "sources": sum((f.attrs.get("sources", []) for f in frames), []),
        "n_records": sum(f.attrs.get("n_records", len(f)) for f in frames),
        "skipped": sum((f.attrs.get("skipped", []) for f in frames), []),
        "duplicates": sum((f.attrs.get("duplicates", []) for f in frames), []),
    }
    df = pd.concat([f.drop(columns="records") for f in frames], ignore_index=True)
    df.attrs = {}
    if keep_duplicates:
        kept = _sorted(df.assign(records=1))
    else:
        kept, dropped = dedupe(df)
        attrs["duplicates"] += [(r.source, r.kept_source) for r in dropped.itertuples()]
    kept.attrs = attrs
    return kept


if __name__ == "__main__":
    raise SystemExit(main())
