"""Run one trial: validate the config, run the method, write the record.

This is what the entry points (``search.py``, ``train.py``, ``evaluate.py``) call.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from .. import config as C
from ..checkpoints import remove_checkpoints
from ..methods import MethodResult
from ..methods.base import PHASES
from ..record import RECORD_FILE, TrialRecord, git_revision, job_key, package_versions, read_record
from .context import TrialContext, build
from .records import MODEL_FILE, format_summary, save_model, write_picture

log = logging.getLogger(__name__)


class TrialPruned(Exception):
    """Raised by a runner's callback (the HPO pruner) to stop a trial early.

    The trial still writes its record, with status ``pruned`` and the fields in
    ``record_fields`` (e.g. the epochs reached); ``info`` goes to the record's ``extra.pruned``.
    """

    def __init__(
        self,
        message: str = "pruned",
        record_fields: dict[str, Any] | None = None,
        info: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.record_fields = dict(record_fields or {})
        self.info = dict(info or {})


def run_name(cfg: DictConfig) -> str:
    return f"{cfg.method.name}-{cfg.data.name}-{cfg.ops.name}-{cfg.space.name}-s{cfg.seed}"


def run_trial(
    cfg: DictConfig | TrialContext,
    run_dir: str | Path,
    extra: dict[str, Any] | None = None,
    callbacks: list[Any] | None = None,
    finalize: Callable[[TrialRecord], None] | None = None,
) -> TrialRecord:
    """Run the trial of ``cfg`` (a config, or a trial already :func:`build`-t from one) and
    write ``record.json`` into ``run_dir``.

    ``callbacks`` (Lightning callbacks) join every trainer of the trial; one that raises
    :class:`TrialPruned` ends the trial with status ``pruned``. ``finalize(record)`` (the HPO
    job's: it tells Optuna) sees the finished record of every outcome before the record is
    written and before the loggers get its summary, and may add to it (``status``, ``error``,
    ``extra``): the record has one writer, and the W&B summary equals the record.

    Bad config raises :class:`ConfigError` before any work. Once work has started, every
    outcome (ok, diverged, or an exception) ends as a written record; an exception is re-raised
    after the record is written when ``cfg.raise_on_failure`` is true.
    """
    run_dir = Path(run_dir)
    ctx = cfg if isinstance(cfg, TrialContext) else build(cfg, run_dir)
    cfg = ctx.cfg
    ctx.callbacks.extend(callbacks or [])
    run_dir.mkdir(parents=True, exist_ok=True)
    from ..loggers import build_loggers, finish_loggers

    record = TrialRecord(
        study=str(cfg.study),
        seed=int(cfg.seed),
        method=str(cfg.method.name),
        data=str(cfg.data.name),
        ops=str(cfg.ops.name),
        space=str(cfg.space.name),
        hparams=str(cfg.hparams.name),
        config=OmegaConf.to_container(cfg, resolve=True),
        versions=package_versions(),
        git_rev=git_revision(),
        run_dir=str(run_dir.resolve()),
        extra=dict(extra or {}),
    )
    start = time.perf_counter()
    failure: BaseException | None = None
    loggers: list[Any] = []
    try:
        loggers = ctx.loggers = build_loggers(cfg, ctx.logger_factories, run_dir, run_name(cfg))
        record.extra["threads"] = torch.get_num_threads()
        try:
            result = ctx.method.run(ctx)
        finally:
            record.extra["compiled"] = list(ctx.compiled)
            if ctx.resumed:
                record.extra["resumed_from"] = dict(ctx.resumed)
        _fill(record, result)
        if result.network is not None and cfg.save_model:
            save_model(result.network, record, run_dir / MODEL_FILE)
        if result.network is not None and cfg.data.get("pictures"):
            record.extra["picture"] = write_picture(ctx, result.network, loggers)
    except TrialPruned as e:  # stopped early by the runner's pruner: still a record
        record.status = "pruned"
        for key, value in e.record_fields.items():
            setattr(record, key, value)
        record.extra["pruned"] = {"reason": str(e), **e.info}
        log.info("trial pruned: %s", e)
    except Exception as e:  # a run that fails still records its result
        failure = e
        record.status = "failed"
        record.error = f"{type(e).__name__}: {e}"
        record.extra["traceback"] = traceback.format_exc()
        log.error("trial failed: %s", record.error)
    record.total_time_s = time.perf_counter() - start
    if finalize is not None:
        try:
            finalize(record)
        except Exception as e:  # the record is written whatever the finalizer does
            log.error("finalizing the record failed: %s", e)
            record.extra.setdefault("finalize_error", f"{type(e).__name__}: {e}")
    path = record.write(run_dir)
    if record.status != "failed" and not cfg.checkpoints.keep:  # a failed trial retries from them
        remove_checkpoints(run_dir, PHASES)
    try:
        finish_loggers(loggers, record.summary(), files=(path, run_dir / MODEL_FILE))
    except Exception as e:  # a logger must never lose the record
        log.warning("could not finish loggers: %s", e)
    log.info("record written to %s", path)
    print(format_summary(record))
    if failure is not None and cfg.raise_on_failure:
        raise failure
    return record


def finished_record(
    cfg: DictConfig, run_dir: str | Path, siblings: bool = False
) -> dict[str, Any] | None:
    """The record of this same job already in ``run_dir``, if that job finished.

    "Same job" is :func:`dasip.record.job_key` (the resolved config, less logging and other keys
    that do not change what is computed); "finished" is any status but ``failed``, so a rerun of
    an interrupted multirun (same ``hydra.sweep.dir``) skips its done jobs and retries the rest.
    With ``siblings`` (a multirun job) the other job folders of the sweep are searched too, so a
    sweep whose folders were named otherwise (numbered, before folders were named by config)
    resumes; then the results files of ``resume_from``.
    """
    key = job_key({"config": OmegaConf.to_container(cfg, resolve=True)})
    run_dir = Path(run_dir)
    candidates = [run_dir / RECORD_FILE]
    if siblings and run_dir.parent.is_dir():
        candidates += sorted(run_dir.parent.glob(f"*/{RECORD_FILE}"))
    for path in candidates:
        rec = _finished(path, key)
        if rec is not None:
            return rec
    return _finished_in_results(cfg, key, run_dir)


def _finished(path: Path, key: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        rec = read_record(path)
    except (OSError, ValueError):
        return None  # a half-written or foreign file: run the job again
    if rec.get("status") != "failed" and job_key(rec) == key:
        return rec
    return None


def _finished_in_results(cfg: DictConfig, key: str, run_dir: str | Path) -> dict[str, Any] | None:
    """The job's finished record in the results files of ``resume_from``, written into
    ``run_dir`` so that the sweep folder holds it as if the job had run there."""
    from ..study.results import finished_in

    files = list(cfg.get("resume_from") or [])
    for f in files:
        if not Path(f).is_file():
            raise C.ConfigError(f"resume_from: {f}: no such results file")
    rec = finished_in(files, key)
    if rec is not None:
        TrialRecord(**{k: v for k, v in rec.items() if k in _RECORD_KEYS}).write(run_dir)
    return rec


_RECORD_KEYS = {f.name for f in dataclasses.fields(TrialRecord)}

#: what a method's result gives its record: every field the two share, less ``extra`` (merged)
_RESULT_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(MethodResult)
    if f.name in {g.name for g in dataclasses.fields(TrialRecord)} and f.name != "extra"
)


def _fill(record: TrialRecord, result: MethodResult) -> None:
    for key in _RESULT_FIELDS:
        setattr(record, key, getattr(result, key))
    record.extra.update(result.extra)
    if (
        record.status == "ok"
        and record.arch_psnr is not None
        and not math.isfinite(record.arch_psnr)
    ):
        record.status = "diverged"
