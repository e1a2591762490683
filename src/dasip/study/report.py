"""``dasip-report`` / ``python report.py``: the command line of a study report. It reads the
records (folders and/or W&B runs), checks the options (:class:`ReportOptions`) and writes the
report (:func:`dasip.study.render.write_report`: built by :mod:`.build`, written by
:mod:`.render`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .options import DEFAULT_OPTIONS, DEGENERATE_ON, DIFF_CIS, P_FAMILIES, ReportOptions
from .records import StudyError, combine_records, load_records, load_wandb
from .render import PROG, write_report


def _parser() -> argparse.ArgumentParser:
    default = DEFAULT_OPTIONS  # every flag's default is the options' own
    p = argparse.ArgumentParser(
        prog=PROG,
        description="A study's tables, correlations, comparisons, scatter plots and architecture "
        "pictures from its trial records (record.json under run or multirun directories, or W&B "
        "runs).",
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="run or multirun directories, or record.json files"
    )
    p.add_argument(
        "--by",
        default=",".join(default.by),
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
        default=default.degenerate_db,
        help="degenerate below this PSNR (default: %(default)s)",
    )
    p.add_argument(
        "--degenerate-on",
        choices=DEGENERATE_ON,
        default=default.degenerate_on,
        help="which PSNR makes a run degenerate in the correlations (default: %(default)s)",
    )
    p.add_argument(
        "--n-boot",
        type=int,
        default=default.n_boot,
        help="bootstrap resamples (default: %(default)s)",
    )
    p.add_argument(
        "--boot-seed", type=int, default=default.seed, help="bootstrap seed (default: %(default)s)"
    )
    p.add_argument(
        "--ci", type=float, default=default.ci, help="confidence level (default: %(default)s)"
    )
    p.add_argument(
        "--min-pairs",
        type=int,
        default=default.min_pairs,
        help="fewest pairs for a correlation (default: %(default)s)",
    )
    p.add_argument(
        "--compare",
        metavar="KEY",
        default=default.compare,
        help="compare the architecture PSNR pairwise between the values of this --by key, "
        "within each group of the other keys (default: none)",
    )
    p.add_argument(
        "--p-family",
        choices=P_FAMILIES,
        default=default.p_family,
        help="with --compare: the comparisons whose p-values are adjusted together (Holm, "
        "Benjamini-Hochberg): those of one subset (all / non-degenerate), of one group of the "
        "other --by keys and subset, or of the whole report (default: %(default)s)",
    )
    p.add_argument(
        "--diff-ci",
        choices=DIFF_CIS,
        default=default.diff_ci,
        help="with --compare: the bootstrap interval of the median difference (default: "
        "%(default)s)",
    )
    p.add_argument(
        "--ground-truth",
        nargs="?",
        const="auto",
        metavar="TABLE or DATA/SETUP",
        help="place each trial's architecture among every architecture of a ground-truth table "
        "(rank, percentile, regret; docs/ground_truth.md): a table file, DATA/SETUP, or without "
        "a value each trial's own table",
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
    if args.group and not args.wandb:
        parser.error("--group needs --wandb ENTITY/PROJECT")
    try:
        options = ReportOptions(
            by=args.by,
            degenerate_db=args.degenerate_db,
            degenerate_on=args.degenerate_on,
            n_boot=args.n_boot,
            seed=args.boot_seed,
            ci=args.ci,
            min_pairs=args.min_pairs,
            pictures=not args.no_pictures,
            compare=args.compare,
            p_family=args.p_family,
            diff_ci=args.diff_ci,
            ground_truth=args.ground_truth,
        )
    except StudyError as e:
        parser.error(str(e))

    def note(msg: str) -> None:
        print(f"{PROG}: note: {msg}", file=sys.stderr)

    try:
        frames = []
        if args.paths:
            frames.append(load_records(args.paths, keep_duplicates=args.keep_duplicates))
        if args.wandb:
            frames.append(load_wandb(args.wandb, args.group, keep_duplicates=args.keep_duplicates))
        df = combine_records(frames, args.keep_duplicates)
        if args.out:
            out = Path(args.out)
        elif len(args.paths) == 1 and Path(args.paths[0]).is_dir() and not args.wandb:
            out = Path(args.paths[0]) / "report"
        else:
            out = Path("study-report")
        report = write_report(df, out, options, note=note)
    except StudyError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. an output directory that cannot be written
        print(f"{PROG}: error: cannot write the report: {e}", file=sys.stderr)
        return 1
    print(f"{PROG}: {len(df)} trial(s); report in {report.index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
