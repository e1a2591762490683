"""A study's trial records, from run folders or W&B runs, as one DataFrame with one row per trial.

Reruns of the same job are counted once (see :func:`job_key` and ``docs/study.md``): the newest
record (its ``created`` time) is kept and the others are listed in ``df.attrs["duplicates"]``.
This module reads JSON; it imports no training code.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..record import RECORD_FILE, TrialRecord, job_key, read_record

#: the record's fields that hold a whole structure, kept as such in their own columns (or, like
#: ``versions``, not at all)
NESTED_FIELDS = ("config", "extra", "alpha_probs", "versions")


def scalar_fields(record_type: type = TrialRecord) -> tuple[str, ...]:
    """The fields of a record dataclass that are one value each, in the record's order."""
    return tuple(f.name for f in dataclasses.fields(record_type) if f.name not in NESTED_FIELDS)


#: the record's scalar fields, the DataFrame's first columns: every field of
#: :class:`dasip.record.TrialRecord` but the nested ones
RECORD_FIELDS = scalar_fields()
NUMERIC_FIELDS = ("one_shot_psnr", "arch_psnr", "search_time_s", "train_time_s", "total_time_s")


class StudyError(ValueError):
    """A study that cannot be read or reported as asked; the message says why and what to do."""


# -- helpers on nested configs ------------------------------------------------------------------
def config_value(config: Mapping[str, Any] | None, key: str, default: Any = None) -> Any:
    """The value at a dotted ``key`` of a nested config, or ``default``."""
    node: Any = config or {}
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def method_label(record: Mapping[str, Any]) -> Any:
    """The record's method as a study names it: a DAS search variant other than the paper's
    (``config.method.variant``, docs/method.md, Search variants) is its own method,
    ``das-<variant>``, so the variants of a study stand side by side as settings."""
    method = record.get("method")
    variant = config_value(record.get("config"), "method.variant")
    if method == "das" and variant not in (None, "darts"):
        return f"{method}-{variant}"
    return method


# -- reading ------------------------------------------------------------------------------------
def find_record_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every ``record.json`` under ``paths`` (directories searched recursively, or the files)."""
    found: dict[Path, None] = {}
    for p in paths:
        p = Path(p)
        if p.is_file():
            found[p.resolve()] = None
        elif p.is_dir():
            for f in sorted(p.rglob(RECORD_FILE)):
                if f.is_file():
                    found[f.resolve()] = None
        else:
            raise StudyError(f"{p}: no such file or directory")
    return list(found)


def records_to_frame(records: list[dict[str, Any]], sources: list[str]) -> pd.DataFrame:
    """One row per record: :data:`RECORD_FIELDS`, then ``config``, ``extra``, ``alpha_probs``,
    ``source`` (file or W&B run) and ``job_key``. Null or non-finite PSNRs and times are NaN."""
    rows = []
    for rec, src in zip(records, sources, strict=True):
        row = {k: rec.get(k) for k in RECORD_FIELDS}
        row["method"] = method_label(rec)
        row["config"] = rec.get("config") or {}
        row["extra"] = rec.get("extra") or {}
        row["alpha_probs"] = rec.get("alpha_probs")
        row["source"] = src
        row["job_key"] = job_key(rec)
        rows.append(row)
    columns = [*RECORD_FIELDS, "config", "extra", "alpha_probs", "source", "job_key"]
    df = pd.DataFrame(rows, columns=columns)
    for col in NUMERIC_FIELDS:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        df.loc[~np.isfinite(df[col]), col] = np.nan
    df["status"] = df["status"].fillna("ok").astype(str)
    return df


def dedupe(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep one record per job: the newest by ``created`` (records without a time count as
    oldest; equal times keep the later source in sorted order). Returns ``(kept, dropped)``;
    ``kept`` has a ``records`` column: how many records of its job were found."""
    if df.empty:
        return df.assign(records=pd.Series(dtype=int)), df.iloc[0:0]
    created = pd.to_datetime(df["created"], utc=True, errors="coerce", format="ISO8601")
    order = (
        df.assign(_t=created.fillna(pd.Timestamp.min.tz_localize("UTC")))
        .sort_values(["_t", "source"], kind="stable")
        .drop(columns="_t")
    )
    last = ~order.duplicated("job_key", keep="last")
    kept = order[last].copy()
    dropped = order[~last].copy()
    counts = order.groupby("job_key").size()
    kept["records"] = kept["job_key"].map(counts).astype(int)
    dropped["kept_source"] = dropped["job_key"].map(kept.set_index("job_key")["source"])
    return _sorted(kept), dropped


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = ["study", "method", "space", "ops", "data", "hparams", "seed", "source"]
    return df.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def _count_once(df: pd.DataFrame, keep_duplicates: bool, attrs: dict[str, Any]) -> pd.DataFrame:
    """``df`` with each job once (:func:`dedupe`), or every record with ``keep_duplicates``;
    ``attrs`` (``sources``, ``n_records``, ``skipped``, ``duplicates``) become its ``attrs``,
    the reruns dropped here added to ``duplicates``."""
    if keep_duplicates:
        kept, dropped = _sorted(df.assign(records=1)), df.iloc[0:0]
    else:
        kept, dropped = dedupe(df)
    duplicates = [(r.source, r.kept_source) for r in dropped.itertuples()]
    kept.attrs = {**attrs, "duplicates": [*attrs.get("duplicates", []), *duplicates]}
    return kept


def _finish(
    records: list[dict[str, Any]],
    sources: list[str],
    origin: list[str],
    skipped: list[tuple[str, str]],
    keep_duplicates: bool,
) -> pd.DataFrame:
    attrs = {"sources": origin, "n_records": len(records), "skipped": skipped}
    return _count_once(records_to_frame(records, sources), keep_duplicates, attrs)


def combine_records(frames: list[pd.DataFrame], keep_duplicates: bool = False) -> pd.DataFrame:
    """Frames of :func:`load_records` / :func:`load_wandb` as one (folders and W&B runs
    together), reruns of a job counted once across all of them; the ``attrs`` added up."""
    if len(frames) == 1:
        return frames[0]
    attrs = {
        key: sum((f.attrs.get(key, []) for f in frames), [])
        for key in ("sources", "skipped", "duplicates", "from_summary")
    }
    attrs["n_records"] = sum(f.attrs.get("n_records", len(f)) for f in frames)
    df = pd.concat([f.drop(columns="records") for f in frames], ignore_index=True)
    df.attrs = {}
    return _count_once(df, keep_duplicates, attrs)


def _read_each(
    files: list[Path], skipped: list[tuple[str, str]]
) -> Iterable[tuple[str, dict[str, Any]]]:
    """``(source, record)`` of every record of ``files``: ``record.json`` files, and results
    files (:mod:`.results`, one record a line, the source ``file:line``); unreadable ones are
    added to ``skipped``."""
    from .results import is_results_file, read_results

    for f in files:
        try:
            if is_results_file(f):
                yield from ((f"{f}:{i}", rec) for i, rec in read_results(f))
            else:
                yield str(f), read_record(f)
        except (OSError, ValueError) as e:
            skipped.append((str(f), f"not a readable record: {e}"))


def load_records(
    paths: str | Path | Iterable[str | Path], keep_duplicates: bool = False
) -> pd.DataFrame:
    """Every trial record under ``paths`` (run or multirun folders, searched recursively,
    ``record.json`` files, or results files ``*.jsonl``), one row per trial, reruns of a job
    counted once.

    ``df.attrs`` says where the rows come from: ``sources``, ``n_records`` (files read),
    ``duplicates`` (``(dropped, kept)`` source pairs) and ``skipped`` (``(file, why)`` for files
    that are not readable records). Raises :class:`StudyError` when nothing is found.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise StudyError("no path given: name one or more run or multirun directories")
    files = find_record_files(paths)
    records, sources, skipped = [], [], []
    for f, rec in _read_each(files, skipped):
        if "arch_psnr" not in rec and "status" not in rec:
            skipped.append((str(f), "not a trial record (no status, no arch_psnr)"))
            continue
        records.append(rec)
        sources.append(f)
    if not records:
        where = ", ".join(str(p) for p in paths)
        extra = f" ({len(skipped)} unreadable {RECORD_FILE} skipped)" if skipped else ""
        raise StudyError(
            f"no trial records ({RECORD_FILE}) found under {where}{extra}; pass the run or "
            f"multirun directories that search.py / train.py wrote, e.g. multirun/search/<date>"
        )
    return _finish(records, sources, [str(p) for p in paths], skipped, keep_duplicates)


#: the W&B artifact type of a trial (its ``record.json`` and ``model.pt``; see loggers.py)
TRIAL_ARTIFACT_TYPE = "trial"


def _record_from_artifact(run: Any, root: Path) -> dict[str, Any] | None:
    """The ``record.json`` of ``run``'s ``trial`` artifact, downloaded under ``root`` (only that
    file, not the model); ``None`` when the run logged no such artifact. A failing download or
    an unreadable file raises (the caller falls back to the summary and says why)."""
    trial = [a for a in run.logged_artifacts() if getattr(a, "type", None) == TRIAL_ARTIFACT_TYPE]
    if not trial:
        return None
    path = trial[-1].get_entry(RECORD_FILE).download(root=str(root / str(run.id)))
    return read_record(Path(path))


def load_wandb(
    project: str, group: str | None = None, api: Any = None, keep_duplicates: bool = False
) -> pd.DataFrame:
    """The trial records of the W&B runs of ``project`` (``ENTITY/PROJECT``), optionally of one
    ``group`` (a study), one row per trial as :func:`load_records` gives from folders.

    Each trial run keeps its ``record.json`` as an artifact of type ``trial``: that file is the
    record, read as from a folder (every field, ``extra`` included). A run without it (logged
    before trials kept artifacts) is rebuilt from its summary (the record's top-level fields)
    and config (the resolved config); ``df.attrs["from_summary"]`` lists those runs, with why.

    The W&B API is the only network boundary; any failure of it becomes one clear message.
    Runs that are not dasip trials (or still running) are listed in ``df.attrs["skipped"]``.
    """
    if project.count("/") != 1 or not all(project.split("/")):
        raise StudyError(f"--wandb {project!r}: expected ENTITY/PROJECT, e.g. my-team/dasip")
    filters = {"group": group} if group else None
    records, sources, skipped, from_summary = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="dasip-wandb-") as tmp:
        try:  # the network boundary: any failure of the W&B API becomes one clear message
            if api is None:
                import wandb

                api = wandb.Api()
            runs = list(api.runs(project, filters=filters))
        except Exception as e:
            raise StudyError(
                f"cannot read the W&B runs of {project}: {type(e).__name__}: {e}"
            ) from e
        for run in runs:
            source = getattr(run, "url", None) or f"wandb:{project}/{getattr(run, 'id', '?')}"
            try:
                rec = _record_from_artifact(run, Path(tmp))
                why = None if rec is not None else f"no {TRIAL_ARTIFACT_TYPE} artifact"
            except Exception as e:  # a failed download or a broken file: the summary still serves
                rec, why = (
                    None,
                    f"its {TRIAL_ARTIFACT_TYPE} artifact is unreadable ({type(e).__name__}: {e})",
                )
            if rec is None:
                try:
                    summary = dict(getattr(run, "summary_metrics", None) or dict(run.summary))
                    config = dict(run.config or {})
                except Exception as e:
                    raise StudyError(
                        f"cannot read the W&B run {source}: {type(e).__name__}: {e}"
                    ) from e
                if "arch_psnr" not in summary and "status" not in summary:
                    skipped.append((source, f"{why} and no trial record in the run summary"))
                    continue
                rec = {k: summary[k] for k in RECORD_FIELDS if k in summary}
                rec["config"] = config
                from_summary.append((source, why))
            records.append(rec)
            sources.append(source)
    if not records:
        where = f"{project}" + (f" (group {group!r})" if group else "")
        raise StudyError(f"no W&B run with a trial record found in {where}")
    origin = [f"wandb:{project}" + (f" group={group}" if group else "")]
    df = _finish(records, sources, origin, skipped, keep_duplicates)
    df.attrs["from_summary"] = from_summary
    return df


# -- settings -----------------------------------------------------------------------------------
def setting_column(df: pd.DataFrame, key: str) -> pd.Series:
    """A record field, or a dotted config key (``epochs``, ``hparams.alpha_lr``), as a column
    that can be grouped on: missing values are ``"-"``, lists and dicts their JSON text."""
    if key in df.columns and key not in NESTED_FIELDS:
        col = df[key]
    else:
        col = df["config"].map(lambda c: config_value(c, key, None))
        if col.isna().all():
            fields = ", ".join(f for f in RECORD_FIELDS if f not in NUMERIC_FIELDS)
            raise StudyError(
                f"--by {key!r} is neither a record field nor a config key of these records; "
                f"record fields: {fields}; config keys are dotted, e.g. hparams.alpha_lr"
            )

    def norm(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        if isinstance(v, (list, dict, tuple)):
            return json.dumps(v, sort_keys=True)
        return v

    col = col.map(norm)
    if not all(isinstance(v, (int, float, np.integer, np.floating)) for v in col):
        col = col.astype(str)
    return col.rename(key)


def with_settings(df: pd.DataFrame, by: Iterable[str]) -> pd.DataFrame:
    """``df`` with a groupable column for each key of ``by`` (config keys added on demand)."""
    out = df.copy()
    for key in by:
        out[key] = setting_column(df, key)
    return out
