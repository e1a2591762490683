"""Run one trial: validate the config, run the method, write the record.

This is what the entry points (``search.py``, ``train.py``, ``evaluate.py``) call.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from . import config as C
from .methods import METHODS, MethodResult, TrialContext
from .record import RECORD_FILE, TrialRecord, git_revision, job_key, package_versions, read_record

log = logging.getLogger(__name__)
MODEL_FILE = "model.pt"


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


def prepare(cfg: DictConfig) -> None:
    """Validate and apply process-wide settings. Raises :class:`ConfigError` on bad input."""
    C.validate(cfg, METHODS)
    if cfg.get("num_threads"):
        torch.set_num_threads(int(cfg.num_threads))


def run_trial(
    cfg: DictConfig,
    run_dir: str | Path,
    extra: dict[str, Any] | None = None,
    callbacks: list[Any] | None = None,
) -> TrialRecord:
    """Run ``cfg.method`` for one seed and write ``record.json`` into ``run_dir``.

    ``callbacks`` (Lightning callbacks) join every trainer of the trial; one that raises
    :class:`TrialPruned` ends the trial with status ``pruned``.

    Bad config raises :class:`ConfigError` before any work. Once work has started, every
    outcome (ok, diverged, or an exception) ends as a written record; an exception is re-raised
    after the record is written unless ``cfg.raise_on_failure`` is false.
    """
    prepare(cfg)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    from .loggers import build_loggers, finish_loggers

    loggers = build_loggers(cfg, run_dir, run_name(cfg))
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
    try:
        ctx = TrialContext(cfg, run_dir, loggers, callbacks)
        result = METHODS[cfg.method.name](ctx)
        _fill(record, result)
        if result.network is not None and cfg.get("save_model", True):
            save_model(result.network, record, run_dir / MODEL_FILE)
    except C.ConfigError:
        raise
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
    path = record.write(run_dir)
    try:
        finish_loggers(loggers, record.summary())
    except Exception as e:  # a logger must never lose the record
        log.warning("could not finish loggers: %s", e)
    log.info("record written to %s", path)
    print(format_summary(record))
    if failure is not None and cfg.get("raise_on_failure", False):
        raise failure
    return record


def finished_record(cfg: DictConfig, run_dir: str | Path) -> dict[str, Any] | None:
    """The record of this same job already in ``run_dir``, if that job finished.

    "Same job" is :func:`dasip.record.job_key` (the resolved config, less logging and other keys
    that do not change what is computed); "finished" is any status but ``failed``, so a rerun of
    an interrupted multirun (same ``hydra.sweep.dir``) skips its done jobs and retries the rest.
    """
    path = Path(run_dir) / RECORD_FILE
    if not path.is_file():
        return None
    try:
        rec = read_record(path)
    except (OSError, ValueError):
        return None  # a half-written or foreign file: run the job again
    if rec.get("status") == "failed":
        return None
    if job_key(rec) != job_key({"config": OmegaConf.to_container(cfg, resolve=True)}):
        return None
    return rec


def _fill(record: TrialRecord, result: MethodResult) -> None:
    for key in (
        "genotype",
        "one_shot_psnr",
        "arch_psnr",
        "status",
        "search_time_s",
        "train_time_s",
        "search_epochs",
        "retrain_epochs",
        "alpha_probs",
    ):
        setattr(record, key, getattr(result, key))
    record.extra.update(result.extra)
    if (
        record.status == "ok"
        and record.arch_psnr is not None
        and not math.isfinite(record.arch_psnr)
    ):
        record.status = "diverged"


def save_model(net: torch.nn.Module, record: TrialRecord, path: Path) -> None:
    torch.save(
        {"state_dict": net.state_dict(), "genotype": record.genotype, "config": record.config},
        path,
    )


def format_summary(record: TrialRecord) -> str:
    def f(v: float | None) -> str:
        return "-" if v is None or not math.isfinite(v) else f"{v:.2f} dB"

    return (
        f"[dasip] {record.method} {record.data}/{record.ops}/{record.space} seed={record.seed} "
        f"status={record.status} genotype={record.genotype} one_shot_psnr={f(record.one_shot_psnr)} "
        f"arch_psnr={f(record.arch_psnr)} time={record.total_time_s:.1f}s "
        f"(search {record.search_time_s:.1f}s, train {record.train_time_s:.1f}s)"
    )


# -- evaluate.py --------------------------------------------------------------------------------
_FROM_RECORD = ("data", "ops", "space", "hparams", "loss", "psnr", "retrain_epochs", "seed")


def config_from_record(cfg: DictConfig, record_path: str | Path) -> DictConfig:
    """``cfg`` with the genotype and problem settings of a finished run's record."""
    rec = read_record(record_path)
    if not rec.get("genotype"):
        raise C.ConfigError(f"record={record_path}: the record has no genotype to evaluate")
    cfg = cfg.copy()
    OmegaConf.set_struct(cfg, False)
    for key in _FROM_RECORD:
        if key in rec.get("config", {}):
            cfg[key] = rec["config"][key]
    cfg.arch = rec["genotype"]
    return cfg


def evaluate_checkpoint(cfg: DictConfig, checkpoint: str | Path) -> float:
    """PSNR of a saved model (``model.pt``) on the validation set, without training."""
    path = Path(checkpoint)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise C.ConfigError(f"checkpoint={checkpoint}: no such file")
    blob = torch.load(path, map_location="cpu", weights_only=False)
    saved = OmegaConf.create(blob["config"])
    prepare(saved)
    ctx = TrialContext(saved, path.parent)
    net = ctx.space.derived(ctx.op_context(), ctx.space.parse(blob["genotype"]))
    net.load_state_dict(blob["state_dict"])
    return ctx.psnr(net)
