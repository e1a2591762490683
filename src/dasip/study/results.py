"""A study's records as one committed file: JSON lines, one trial record per line.

The records of a long grid live in run folders that a stopped machine loses. ``export`` gathers
them into a results file (``results/<study>.jsonl``), merged with what the file already holds
(one line per job, :func:`dasip.record.job_key`; the newest record of a job wins), sorted so
that adding trials adds lines. ``report.py`` reads a results file as it reads folders, and a
rerun of the grid with ``resume_from=<file>`` skips the jobs the file holds (docs/study.md):

    python -m dasip.study.results export results/table1.jsonl multirun/table1/<date>
    python report.py results/table1.jsonl --by method,ops,data
    python search.py -m +experiment=table1 ... resume_from=results/table1.jsonl

This module reads and writes JSON; it imports no training code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..record import RECORD_FILE, job_key, read_record

#: the suffix of a results file
RESULTS_SUFFIX = ".jsonl"
#: ``extra`` entries that are per-epoch logs, left out of a results file
LOG_EXTRAS = ("history", "trajectory", "alpha_history", "hessian_history")


def is_results_file(path: str | Path) -> bool:
    return Path(path).suffix == RESULTS_SUFFIX


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without per-epoch logs (:data:`LOG_EXTRAS`) and its run folder's path."""
    out = dict(record)
    out["extra"] = {k: v for k, v in (record.get("extra") or {}).items() if k not in LOG_EXTRAS}
    return out


def read_results(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` for every record of a results file; a line that is not a
    JSON object raises ``ValueError`` naming the file and line."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{i}: not a JSON record ({e.msg})") from None
            if not isinstance(rec, dict):
                raise ValueError(f"{path}:{i}: not a JSON record (a {type(rec).__name__})")
            yield i, rec


def _sort_key(rec: dict[str, Any]) -> tuple:
    return tuple(
        str(rec.get(k)) for k in ("study", "method", "data", "ops", "space", "hparams")
    ) + (int(rec.get("seed") or 0), job_key(rec))


def merge(old: Iterable[dict[str, Any]], new: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per job of ``old`` and ``new`` together, the newest (``created``) kept; a
    finished record is never replaced by a failed one."""
    kept: dict[str, dict[str, Any]] = {}
    for rec in [*old, *new]:
        key = job_key(rec)
        have = kept.get(key)
        if have is not None:
            if rec.get("status") == "failed" and have.get("status") != "failed":
                continue
            newer = str(rec.get("created", "")) >= str(have.get("created", ""))
            if not newer and not (have.get("status") == "failed" and rec.get("status") != "failed"):
                continue
        kept[key] = rec
    return sorted(kept.values(), key=_sort_key)


def write_results(path: str | Path, records: Iterable[dict[str, Any]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as f:
        for rec in records:
            f.write(json.dumps(rec, sort_keys=True, allow_nan=False) + "\n")
    tmp.replace(path)
    return path


def export(out: str | Path, paths: Sequence[str | Path]) -> tuple[int, int]:
    """Add the records under ``paths`` (run or multirun folders, ``record.json`` files or other
    results files) to the results file ``out``; returns ``(jobs added or updated, jobs in
    out)``."""
    from .records import find_record_files

    out = Path(out)
    old = [rec for _, rec in read_results(out)] if out.is_file() else []
    new: list[dict[str, Any]] = []
    for p in paths:
        if is_results_file(p):
            new.extend(compact(rec) for _, rec in read_results(p))
            continue
        for f in find_record_files([p]):
            try:
                rec = read_record(f)
            except (OSError, ValueError):
                continue  # a half-written record: its trial is still running
            if "status" in rec:
                new.append(compact(rec))
    before = {job_key(r): json.dumps(r, sort_keys=True) for r in old}
    merged = merge(old, new)
    changed = sum(before.get(job_key(r)) != json.dumps(r, sort_keys=True) for r in merged)
    write_results(out, merged)
    return changed, len(merged)


def finished_in(paths: Iterable[str | Path], key: str) -> dict[str, Any] | None:
    """The finished record (any status but ``failed``) of job ``key`` in the results files
    ``paths``, or ``None``."""
    for p in paths:
        if not Path(p).is_file():
            continue
        for _, rec in read_results(p):
            if rec.get("status") != "failed" and job_key(rec) == key:
                return rec
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dasip.study.results",
        description="Gather a study's trial records into a results file (JSON lines).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="add the records under PATHs to the results file OUT")
    ex.add_argument("out", metavar="OUT", help=f"the results file (*{RESULTS_SUFFIX})")
    ex.add_argument("paths", nargs="+", metavar="PATH", help=f"folders with {RECORD_FILE} files")
    args = parser.parse_args(argv)
    if not is_results_file(args.out):
        parser.error(f"OUT={args.out}: a results file ends in {RESULTS_SUFFIX}")
    try:
        changed, total = export(args.out, args.paths)
    except (OSError, ValueError) as e:
        print(f"dasip: error: {e}", file=sys.stderr)
        return 2
    print(f"{args.out}: {changed} job(s) added or updated, {total} in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
