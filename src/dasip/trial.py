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
from typing import Any, NamedTuple

import torch
from omegaconf import DictConfig, OmegaConf

from . import config as C
from .checkpoints import remove_checkpoints
from .methods import MethodResult, TrialContext
from .methods.base import PHASES, accelerator_device
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


def build(cfg: DictConfig, run_dir: str | Path) -> TrialContext:
    """Build the trial of ``cfg`` (this is the validation: a bad key raises
    :class:`~dasip.config.ConfigError` naming it) and apply its process-wide settings."""
    gpu = parallel_gpu(cfg)
    if gpu is not None:  # trials beside others on a machine with several GPUs take them in turn
        cfg = cfg.copy()
        cfg.trainer.devices = [gpu]
    ctx = TrialContext(cfg, Path(run_dir))
    threads = cfg.num_threads if cfg.num_threads is not None else parallel_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    return ctx


def _joblib_launcher() -> Any:
    """The Hydra launcher config when this job runs under a joblib launcher (trials side by side,
    e.g. ``hydra/launcher=local``), else ``None``."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    launcher = HydraConfig.get().launcher
    return launcher if str(launcher.get("_target_", "")).endswith("JoblibLauncher") else None


def parallel_gpu(cfg: DictConfig) -> int | None:
    """The GPU of a trial that runs beside others (a joblib launcher) on a machine with several
    GPUs and ``trainer.devices=1``: job ``k`` of the sweep takes GPU ``k mod count``, so the
    trials of a study spread over the GPUs instead of all sharing the first. ``None``
    otherwise (one GPU, the CPU, a trial alone, or devices chosen by the user)."""
    from hydra.core.hydra_config import HydraConfig

    if _joblib_launcher() is None or cfg.trainer.devices != 1:
        return None
    if accelerator_device(str(cfg.trainer.accelerator)).type != "cuda":
        return None
    count = torch.cuda.device_count()
    if count < 2:
        return None
    return int(HydraConfig.get().job.num) % count


def parallel_threads() -> int | None:
    """Threads for a trial that runs beside others (a joblib launcher, e.g.
    ``hydra/launcher=local``): the cores divided among the parallel jobs, at least one, since
    several many-thread trials on the same cores are many times slower than one thread each.
    ``None`` (torch's default) for a trial that runs alone."""
    import os

    launcher = _joblib_launcher()
    if launcher is None:
        return None
    cores = os.cpu_count() or 1
    n_jobs = int(launcher.get("n_jobs") or 1)
    jobs = cores if n_jobs < 0 else n_jobs
    return max(1, cores // max(1, jobs))


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
    from .loggers import build_loggers, finish_loggers

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
    from .study.results import finished_in

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


def write_picture(ctx: TrialContext, net: torch.nn.Module, loggers: list[Any]) -> str:
    """An image trial's picture of its first ``data.pictures`` validation images, also logged
    to W&B as an image when W&B is on; returns the file name."""
    from .data.pictures import PICTURE_FILE, validation_picture

    n = int(ctx.cfg.data.pictures)
    x, y = ctx.validation_set()
    path = validation_picture(
        net, x[:n], y[:n], ctx.data.operator, ctx.run_dir / PICTURE_FILE, ctx.device,
        ctx.cfg.psnr.data_range,
    )  # fmt: skip
    for lg in loggers:
        if type(lg).__name__ == "WandbLogger":
            lg.log_image(key="val/pictures", images=[str(path)])
    return PICTURE_FILE


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


class LoadedModel(NamedTuple):
    """A trained network of a finished run (:func:`load_model`)."""

    #: the network, in eval mode and on the CPU: ``model(y)`` reconstructs ``x`` from ``y``
    model: torch.nn.Module
    #: its architecture (``grad-net*9``, a cell genotype); None for a network outside the
    #: search space (``method=dncnn``)
    genotype: str | None
    #: the run's resolved config (the problem, operator, ops and space the network was built for)
    config: DictConfig


def load_checkpoint(
    checkpoint: str | Path, psnr: Any = None, key: str = "checkpoint", settings: bool = True
) -> tuple[TrialContext, torch.nn.Module, dict[str, Any]]:
    """A saved model (``model.pt``, or the run directory holding it) rebuilt from its saved
    config and loaded with its weights: the trial it came from (``psnr``, a ``psnr`` config
    block, replaces the saved convention), the network, and the file's contents. ``key`` names
    the argument in errors; ``settings=False`` leaves the process-wide settings of the saved
    config (``num_threads``) alone."""
    path = Path(checkpoint)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise C.ConfigError(f"{key}={checkpoint}: no such file")
    try:  # weights only: a crafted file cannot run code here
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise C.ConfigError(
            f"{key}={checkpoint}: not a dasip model.pt that loads as weights only "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
        ) from e
    if not isinstance(blob, dict) or not {"state_dict", "genotype", "config"} <= set(blob):
        raise C.ConfigError(f"{key}={checkpoint}: not a dasip model.pt")
    saved = OmegaConf.create(blob["config"])
    if psnr is not None:
        saved.psnr = OmegaConf.merge(saved.psnr, psnr)
    ctx = build(saved, path.parent) if settings else TrialContext(saved, path.parent)
    if blob["genotype"] is not None:
        net = ctx.space.derived(ctx.op_context(), ctx.space.parse(blob["genotype"]))
    elif ctx.method.network is not None:  # a network outside the search space (dncnn)
        net = ctx.method.network(ctx)
    else:
        raise C.ConfigError(
            f"{key}={checkpoint}: the model has no genotype and "
            f"method.name={ctx.cfg.method.name!r} cannot build its network"
        )
    net.load_state_dict(blob["state_dict"])
    return ctx, net, blob


def evaluate_checkpoint(cfg: DictConfig, checkpoint: str | Path, psnr: Any = None) -> float:
    """PSNR of a saved model (``model.pt``) on the validation set, without training: under the
    saved config's ``psnr`` convention, or under ``psnr`` (a ``psnr`` config block) when given."""
    ctx, net, _ = load_checkpoint(checkpoint, psnr)
    return ctx.psnr(net)


def load_model(run_dir: str | Path) -> LoadedModel:
    """The trained network of a finished run (its directory, or its ``model.pt``), with its
    genotype and config, for use outside dasip's entry points::

        model, genotype, config = dasip.load_model("outputs/search/2026-12-01_10-00-00")
        x_hat = model(y)  # y: measurements of the run's problem, (batch, *signal shape)

    The network is rebuilt from the saved config exactly as ``evaluate.py checkpoint=`` rebuilds
    it (:func:`load_checkpoint`; the operator comes from the config), so ``model(y)`` scores
    the run's ``arch_psnr`` on its validation set. A bad path or file raises
    :class:`~dasip.config.ConfigError` naming ``run_dir``.
    """
    ctx, net, blob = load_checkpoint(run_dir, key="run_dir", settings=False)
    return LoadedModel(net.eval(), blob["genotype"], ctx.cfg)
