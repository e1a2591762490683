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
from ..methods import METHODS
from ..record import TrialRecord
from ..trial import TrialPruned, run_trial
from .study import (
    OBJECTIVES,
    Heartbeat,
    axis_length,
    close_storage,
    make_pruner,
    make_storage,
    quiet_optuna,
    report_axis,
    study_settings,
    trial_id,
)

log = logging.getLogger(__name__)


class OptunaPruning(pl.Callback):
    """Reports the validation PSNR to the Optuna trial after every epoch and raises
    :class:`~dasip.trial.TrialPruned` when the pruner says so.

    Steps are epochs on one axis for the whole trial, laid out from the method's declared
    phases (:func:`~dasip.hpo.study.report_axis`): the search reports at ``1..epochs``, the
    retraining after it, so Hyperband compares one-shot PSNRs with one-shot PSNRs and
    retrained PSNRs with retrained PSNRs; a phase off the axis (pre-training) reports nothing.
    Random search's candidates follow one another on the axis, and each reports the best
    architecture PSNR found so far (the previous candidates' final PSNRs and its own
    current one), the value the trial would end with if stopped there. A non-finite value is
    not reported: the trial is diverging, and its record says so.
    """

    def __init__(
        self,
        trial: Any,
        objective: str,
        phases: list[Any] | None = None,
        max_step: int | None = None,
    ):
        if objective not in OBJECTIVES:
            raise ConfigError(f"objective={objective!r}; allowed: {', '.join(OBJECTIVES)}")
        self.trial = trial
        self.objective = objective
        self.axis = report_axis(phases or [], objective)
        #: the last step of a full trial: a trial that got there is not pruned, it is complete
        self.max_step = axis_length(self.axis) if max_step is None else max_step
        self.last_step = 0
        self.last_value: float | None = None
        #: the best final PSNR of the finished fits of a multi-fit phase (random search)
        self.best_so_far: float | None = None
        #: what a finished search found (kept for the record of a trial pruned in retraining)
        self.search: dict[str, Any] = {}

    def _place(self, pl_module: pl.LightningModule) -> tuple[int, int] | None:
        """``(first step - 1, epochs)`` of this fit on the axis, or ``None`` off the axis."""
        phase = getattr(pl_module, "phase", "")
        if phase not in self.axis:
            return None
        start, epochs, _ = self.axis[phase]
        return start + int(getattr(pl_module, "phase_index", 0)) * epochs, epochs

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # every epoch of a fit on the axis is a step Hyperband may compare trials at: validate
        # each one, whatever trainer.check_val_every_n_epoch says for plain studies
        if self._place(pl_module) is not None:
            trainer.check_val_every_n_epoch = 1

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        place = self._place(pl_module)
        if trainer.sanity_checking or place is None:
            return
        value = getattr(pl_module, "last_val_psnr", None)
        if value is None or not math.isfinite(value):
            return
        if self.best_so_far is not None:
            value = max(value, self.best_so_far)
        epoch = trainer.current_epoch + 1
        step = place[0] + epoch
        self.trial.report(value, step)
        self.last_step, self.last_value = step, value
        if step < self.max_step and self.trial.should_prune():
            phase = str(pl_module.phase)
            fields: dict[str, Any] = {
                f"{'search' if phase == 'search' else 'retrain'}_epochs": epoch
            }
            if phase != "search":
                fields.update(self.search)
            raise TrialPruned(
                f"pruned by Hyperband at step {step} ({phase} epoch {epoch}, "
                f"val/psnr={value:.2f} dB)",
                record_fields=fields,
                info={"step": step, "phase": phase, "epoch": epoch, "value": value},
            )

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        phase = getattr(pl_module, "phase", "")
        last = getattr(pl_module, "last_val_psnr", None)
        finite = last is not None and math.isfinite(last)
        if phase == "search":
            body = pl_module.net
            self.search = {"search_epochs": int(trainer.current_epoch)}
            if hasattr(body, "derive"):
                self.search["genotype"] = str(body.derive())
            if finite:
                self.search["one_shot_psnr"] = float(last)
        elif phase in self.axis and self.axis[phase][2] > 1 and finite:
            self.best_so_far = max(float(last), self.best_so_far or -math.inf)


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
                return _run(cfg, run_dir, study, trial, frozen, objective)
    finally:
        close_storage(storage)


def _run(cfg, run_dir: Path, study, trial, frozen, objective: str) -> float | None:
    from optuna.trial import TrialState

    trial.set_user_attr("run_dir", str(run_dir.resolve()))
    phases = METHODS[cfg.method.name].phases(cfg) if cfg.method.name in METHODS else []
    pruning = OptunaPruning(trial, objective, phases)
    hpo = {
        "study_name": study.study_name,
        "trial_number": frozen.number,
        "objective": objective,
        "params": dict(frozen.params),
    }
    retried = frozen.system_attrs.get("failed_trial")
    if retried is not None:
        hpo["retry_of"] = retried
    result: dict[str, Any] = {}

    def finalize(record: TrialRecord) -> None:
        """Tell Optuna the outcome and put it into the record before its one write, so the
        record, the W&B summary and the study agree (a NaN objective is ``failed`` in all)."""
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
        if state == "FAIL" and record.status == "ok":  # e.g. a NaN objective: not a result
            record.status, record.error = "failed", why
        record.extra["hpo"] = hpo
        result.update(state=state, value=value)

    try:
        run_trial(cfg, run_dir, extra={"hpo": hpo}, callbacks=[pruning], finalize=finalize)
    except Exception as e:  # ConfigError, or raise_on_failure: the trial failed; say so
        if not result:  # not told yet: the trial never started (bad config)
            error = f"{type(e).__name__}: {e}"[:2000]
            _tell(study, trial, TrialState.FAIL, None, {"status": "failed", "error": error})
        raise
    value = result.get("value")
    log.info(
        "optuna trial %s: %s%s",
        frozen.number,
        result.get("state", "not told"),
        "" if value is None else f" {value:.3f}",
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
