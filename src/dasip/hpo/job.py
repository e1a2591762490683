"""The job side of the BOHB sweeper: run one trial as one Optuna trial.

The sweeper hands a job its trial as three overrides (``+optuna.storage``, ``+optuna.study_name``,
``+optuna.trial_number``), so a job on any machine can rebuild it from the storage. The job
heartbeats its trial, reports the objective's metric every epoch (:class:`OptunaPruning`),
stops when Hyperband prunes it, writes its record like any trial, and tells Optuna the outcome
itself: the result is in the study even if the sweeper that launched the job is gone.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from ..config import ConfigError
from ..record import TrialRecord
from ..trial import TrialPruned, run_trial
from .study import (
    OBJECTIVES,
    Heartbeat,
    close_storage,
    make_pruner,
    make_storage,
    quiet_optuna,
    study_settings,
    trial_id,
)

log = logging.getLogger(__name__)

#: the per-epoch metric of each phase (logged by the LightningModules with these prefixes)
SEARCH_PREFIX, RETRAIN_PREFIX = "search/", "retrain/"


class OptunaPruning(pl.Callback):
    """Reports the validation PSNR to the Optuna trial after every epoch and raises
    :class:`~dasip.trial.TrialPruned` when the pruner says so.

    Steps are epochs trained so far, on one axis for the whole trial: the search reports at
    ``1..search_epochs``, the retraining after it at ``search_epochs + 1..`` (each fit starts
    where the previous fit's ``max_epochs`` ended), so Hyperband compares one-shot PSNRs with
    one-shot PSNRs and retrained PSNRs with retrained PSNRs. With the ``one_shot_psnr``
    objective only the search reports. A non-finite value is not reported: the trial is
    diverging, and its record says so.
    """

    def __init__(self, trial: Any, objective: str, max_step: int | None = None):
        if objective not in OBJECTIVES:
            raise ConfigError(f"objective={objective!r}; allowed: {', '.join(OBJECTIVES)}")
        self.trial = trial
        self.objective = objective
        #: the last step of a full trial: a trial that got there is not pruned, it is complete
        self.max_step = max_step
        self.offset = 0
        self.last_step = 0
        self.last_value: float | None = None
        self._prefix = ""
        #: what a finished search found (kept for the record of a trial pruned in retraining)
        self.search: dict[str, Any] = {}

    def _reports(self) -> bool:
        return self._prefix == SEARCH_PREFIX or (
            self.objective == "arch_psnr" and self._prefix == RETRAIN_PREFIX
        )

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._prefix = str(getattr(pl_module, "log_prefix", ""))

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not self._reports():
            return
        metric = trainer.callback_metrics.get(f"{self._prefix}val/psnr")
        value = float(metric) if metric is not None else getattr(pl_module, "last_val_psnr", None)
        if value is None or not math.isfinite(value):
            return
        epoch = trainer.current_epoch + 1
        step = self.offset + epoch
        self.trial.report(value, step)
        self.last_step, self.last_value = step, value
        if (self.max_step is None or step < self.max_step) and self.trial.should_prune():
            phase = "search" if self._prefix == SEARCH_PREFIX else "retrain"
            fields: dict[str, Any] = {f"{phase}_epochs": epoch}
            if phase == "retrain":
                fields.update(self.search)
            raise TrialPruned(
                f"pruned by Hyperband at step {step} ({phase} epoch {epoch}, "
                f"{self._prefix}val/psnr={value:.2f} dB)",
                record_fields=fields,
                info={"step": step, "phase": phase, "epoch": epoch, "value": value},
            )

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._prefix == SEARCH_PREFIX:
            body = pl_module.net
            self.search = {"search_epochs": int(trainer.current_epoch)}
            if hasattr(body, "derive"):
                self.search["genotype"] = str(body.derive())
            last = getattr(pl_module, "last_val_psnr", None)
            if last is not None and math.isfinite(last):
                self.search["one_shot_psnr"] = float(last)
        self.offset += int(trainer.max_epochs or 0)


def outcome(record: TrialRecord, objective: str) -> tuple[str, float | None, str | None]:
    """``(state, value, why)`` to tell Optuna: COMPLETE with the objective, PRUNED, or FAIL
    (failed, diverged, or an objective that is missing or not finite)."""
    if record.status == "pruned":
        return "PRUNED", None, None
    if record.status != "ok":
        return (
            "FAIL",
            None,
            f"status {record.status}" + (f": {record.error}" if record.error else ""),
        )
    value = getattr(record, objective)
    if value is None:
        return "FAIL", None, f"the trial has no {objective} (method={record.method})"
    if not math.isfinite(value):
        return "FAIL", None, f"{objective} is {value}"
    return "COMPLETE", float(value), None


def run_optuna_trial(cfg: DictConfig, run_dir: str | Path) -> float | None:
    """Run the trial ``cfg.optuna.trial_number`` of the study ``cfg.optuna.study_name``; return
    the objective (``None`` when pruned or failed)."""
    import optuna
    from optuna.trial import TrialState

    o = cfg.optuna
    for key in ("storage", "study_name", "trial_number"):
        if o.get(key) is None:
            raise ConfigError(f"optuna.{key} is not set (the bohb sweeper sets it for its jobs)")
    run_dir = Path(run_dir)
    engine_kwargs = OmegaConf.to_container(o.engine_kwargs) if o.get("engine_kwargs") else None
    storage = make_storage(str(o.storage), engine_kwargs)
    try:
        with quiet_optuna():
            study = optuna.load_study(study_name=str(o.study_name), storage=storage)
            settings = study_settings(study)
            study.pruner = make_pruner(settings)
            tid = trial_id(storage, study.study_name, int(o.trial_number))
            frozen = storage.get_trial(tid)
            if frozen.state != TrialState.RUNNING:
                log.warning(
                    "trial %s of study %s is %s, not RUNNING: not run (its heartbeat went stale "
                    "before the job started?)",
                    frozen.number,
                    study.study_name,
                    frozen.state.name,
                )
                return None
            trial = optuna.trial.Trial(study, tid)
            objective = str(settings["objective"])
            with Heartbeat(storage, [tid], settings.get("heartbeat_interval")):
                return _run(
                    cfg, run_dir, study, trial, frozen, objective, settings.get("max_resource")
                )
    finally:
        close_storage(storage)


def _run(
    cfg, run_dir: Path, study, trial, frozen, objective: str, max_step: int | None
) -> float | None:
    from optuna.trial import TrialState

    trial.set_user_attr("run_dir", str(run_dir.resolve()))
    pruning = OptunaPruning(trial, objective, max_step)
    hpo = {
        "study_name": study.study_name,
        "trial_number": frozen.number,
        "objective": objective,
        "params": dict(frozen.params),
    }
    retried = frozen.system_attrs.get("failed_trial")
    if retried is not None:
        hpo["retry_of"] = retried
    try:
        record = run_trial(cfg, run_dir, extra={"hpo": hpo}, callbacks=[pruning])
    except Exception as e:  # ConfigError, or raise_on_failure: the trial failed; say so
        error = f"{type(e).__name__}: {e}"[:2000]
        _tell(study, trial, TrialState.FAIL, None, {"status": "failed", "error": error})
        raise
    state, value, why = outcome(record, objective)
    attrs = {
        "status": record.status,
        "record": str((run_dir / "record.json").resolve()),
        "genotype": record.genotype,
        "one_shot_psnr": _finite(record.one_shot_psnr),
        "arch_psnr": _finite(record.arch_psnr),
        "epochs": pruning.last_step,
        "error": why,
    }
    # all the attributes, None too: a retried copy inherits the dead run's
    _tell(study, trial, TrialState[state], value, attrs)
    hpo.update(state=state, value=value, epochs=pruning.last_step)
    if why:
        hpo["fail_reason"] = why
    if state == "FAIL" and record.status == "ok":  # e.g. a NaN objective: not a usable result
        record.status, record.error = "failed", why
    record.extra["hpo"] = hpo
    record.write(run_dir)
    log.info(
        "optuna trial %s: %s%s", frozen.number, state, "" if value is None else f" {value:.3f}"
    )
    return value


def _tell(study, trial, state, value: float | None, attrs: dict[str, Any]) -> None:
    """Set the trial's user attributes and finish it, unless it was finished meanwhile (failed
    as stale by a sweeper that lost its heartbeat): then the record alone keeps the result."""
    import optuna
    from optuna.trial import TrialState

    try:
        with quiet_optuna():
            for key, v in attrs.items():
                trial.set_user_attr(key, v)
            if state == TrialState.COMPLETE:
                study.tell(trial, value, skip_if_finished=True)
            else:
                study.tell(trial, state=state, skip_if_finished=True)
    except optuna.exceptions.UpdateFinishedTrialError:
        log.warning(
            "optuna trial %s was finished by someone else (a stale heartbeat?); its result is "
            "in the record only",
            trial.number,
        )


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None
