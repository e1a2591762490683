"""The sweeper side of the BOHB stand-in: ask Optuna for trials, launch them as Hydra jobs, settle
what the jobs could not tell, resume, and export the result.

One loop, repeated until the study holds ``n_trials`` COMPLETE or PRUNED trials (or the trials of
``n_trials`` Hyperband iterations, with ``budget_unit=iterations``):

1. fail stale trials (``fail_stale_trials``: heartbeat older than the grace period; the retry
   callback re-queues a copy with the same parameters),
2. count the study's trials (all workers' trials: several sweepers may share one study),
3. ask up to ``batch_size`` trials (re-queued copies first, then TPE samples) and launch them
   with the job overrides; heartbeat them until the launcher returns,
4. settle every launched trial the job did not finish (a job that raised: FAIL; a launcher
   that lost its workers: FAIL and re-queue),
5. stop when too many trials failed (``max_failure_rate``).

When the study has enough trials but other workers' trials are still RUNNING, it waits for
them (they finish, or their heartbeat goes stale and a copy comes back to the queue).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf, open_dict

from ..checks import integer
from . import space as S
from .export import SweepSummary, export
from .study import (
    BUDGET_UNITS,
    FIXED_SETTINGS,
    OBJECTIVES,
    SETTINGS_ATTR,
    Heartbeat,
    axis_length,
    check_storage_url,
    make_pruner,
    make_storage,
    quiet_optuna,
    redact,
    report_axis,
    retry_callback,
    sqlite_url,
    trials_for_iterations,
)

log = logging.getLogger(__name__)

DB_FILE = "optuna.db"
DIRECTIONS = ("maximize", "minimize")


class SweepError(CompactHydraException):
    """A sweep that cannot start or must stop; the message says why (Hydra prints just the
    message, prefixed with ``dasip: error:``)."""

    def __init__(self, message: str):
        super().__init__(f"dasip: error: {message}")


def default_study_name(objective: str, config: DictConfig) -> str:
    """``one-shot-blur-all-sequential`` / ``blur-all-sequential`` (the paper's names: BOHB-one-shot-
    Blur, BOHB-Blur); the method is named when it is not ``das``, and so is a DAS search
    variant other than the paper's (``das-sdarts_rs``, as reports name it), so the sweeps of
    two variants never share a study."""
    parts = ["one-shot"] if objective == "one_shot_psnr" else []
    method = OmegaConf.select(config, "method.name", default="das")
    variant = OmegaConf.select(config, "method.variant", default=None)
    if method != "das":
        parts.append(str(method))
    elif variant not in (None, "darts"):
        parts.append(f"das-{variant}")
    for key in ("data.name", "ops.name", "space.name"):
        value = OmegaConf.select(config, key, default=None)
        if value is not None:
            parts.append(str(value))
    return "-".join(parts)


class BOHBSweep:
    """One run of the sweeper. ``settings``: the ``hydra.sweeper`` node; ``config``: the sweep's
    composed config; ``launcher``: the Hydra launcher; ``validate``: checks that a batch of job
    overrides composes (``Sweeper.validate_batch_is_legal``)."""

    def __init__(
        self,
        settings: DictConfig,
        config: DictConfig,
        launcher: Any,
        config_loader: Any,
        validate: Any = None,
    ):
        self.s = settings
        self.config = config
        self.launcher = launcher
        self.config_loader = config_loader
        self.validate = validate
        self.objective = str(settings.objective)
        if self.objective not in OBJECTIVES:
            raise SweepError(
                f"hydra.sweeper.objective={self.objective!r} is not allowed; allowed: "
                f"{', '.join(OBJECTIVES)}"
            )
        self.direction = str(settings.direction)
        if self.direction not in DIRECTIONS:
            raise SweepError(
                f"hydra.sweeper.direction={self.direction!r} is not allowed; allowed: "
                f"{', '.join(DIRECTIONS)}"
            )
        for key in ("n_trials", "batch_size", "min_budget", "reduction_factor"):
            try:
                integer(f"hydra.sweeper.{key}", settings.get(key), 1)
            except ValueError as e:
                raise SweepError(str(e)) from e
        self.budget_unit = str(settings.get("budget_unit", "trials"))
        if self.budget_unit not in BUDGET_UNITS:
            raise SweepError(
                f"hydra.sweeper.budget_unit={self.budget_unit!r} is not allowed; allowed: "
                f"{', '.join(BUDGET_UNITS)}"
            )
        if int(settings.reduction_factor) < 2:
            raise SweepError(
                f"hydra.sweeper.reduction_factor={settings.reduction_factor} must be >= 2"
            )
        self.sweep_dir = Path(str(config.hydra.sweep.dir))
        self.study_name = str(settings.study_name or default_study_name(self.objective, config))
        try:
            self.storage_url = check_storage_url(
                str(settings.storage or sqlite_url(self.sweep_dir / DB_FILE))
            )
        except ValueError as e:
            raise SweepError(f"hydra.sweeper.storage={e}") from e
        self.engine_kwargs = _container(settings.get("engine_kwargs")) or {}
        hb = settings.heartbeat
        self.heartbeat_interval = int(hb.interval) if hb.get("interval") else None
        self.grace_period = int(hb.grace_period) if hb.get("grace_period") else None
        self.budget_overrides, self.search_epochs, self.retrain_epochs = self._budget()
        self.max_resource = self._axis_length()
        if int(settings.min_budget) > self.max_resource:
            raise SweepError(
                f"hydra.sweeper.min_budget={settings.min_budget} is above the max budget "
                f"{self.max_resource} epochs (epochs={self.search_epochs}"
                + (f" + retrain_epochs={self.retrain_epochs}" if self.retrain_epochs else "")
                + ")"
            )
        #: the COMPLETE + PRUNED trials the study should hold
        self.n_trials = int(settings.n_trials)
        if self.budget_unit == "iterations":
            self.n_trials = trials_for_iterations(
                self.n_trials,
                int(settings.min_budget),
                self.max_resource,
                int(settings.reduction_factor),
            )

    # -- set-up --------------------------------------------------------------------------------
    def _budget(self) -> tuple[list[str], int, int | None]:
        """Job overrides for the budget, and the search / retrain epochs of every job."""
        overrides: list[str] = []
        max_budget = self.s.get("max_budget")
        if max_budget is not None:
            search = retrain = int(max_budget)
            overrides.append(f"epochs={search}")
            if self.objective == "arch_psnr":
                overrides.append(f"retrain_epochs={retrain}")
        else:
            search = int(self.config.epochs)
            retrain = int(self.config.retrain_epochs)
        if self.objective == "one_shot_psnr":
            if OmegaConf.select(self.config, "method.retrain", default=None) is None:
                method = OmegaConf.select(self.config, "method.name", default="?")
                raise SweepError(
                    f"hydra.sweeper.objective=one_shot_psnr needs a method with a one-shot score "
                    f"that can skip retraining (method.retrain); method={method} has none. Use "
                    "method=das or hydra.sweeper.objective=arch_psnr"
                )
            overrides.append("method.retrain=false")
            return overrides, search, None
        return overrides, search, retrain

    def _axis_length(self) -> int:
        """A full trial's budget: the length of the step axis its jobs report on, from the
        method's declared phases under the budget overrides (see :func:`report_axis`)."""
        from ..methods import METHODS

        cfg = self.config.copy()
        with open_dict(cfg):
            for override in self.budget_overrides:
                key, value = override.split("=", 1)
                OmegaConf.update(cfg, key, yaml.safe_load(value), merge=False)
        name = OmegaConf.select(cfg, "method.name", default=None)
        if name not in METHODS:
            return self.search_epochs + (self.retrain_epochs or 0)
        return axis_length(report_axis(METHODS[name].phases(cfg), self.objective))

    def summary(self) -> SweepSummary:
        return SweepSummary(
            study_name=self.study_name,
            storage_url=self.storage_url,
            objective=self.objective,
            direction=self.direction,
            n_trials=self.n_trials,
            min_budget=int(self.s.min_budget),
            max_resource=self.max_resource,
            reduction_factor=int(self.s.reduction_factor),
            sweep_dir=self.sweep_dir,
            hparams_name=str(self.s.get("hparams_name") or f"BOHB-{self.study_name}"),
            hparams_dir=str(self.s.hparams_dir) if self.s.get("hparams_dir") else None,
            hparams=OmegaConf.to_container(self.config.hparams, resolve=True),
            method=OmegaConf.to_container(self.config.method, resolve=True),
        )

    def settings_record(self, dists: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "direction": self.direction,
            "min_resource": int(self.s.min_budget),
            "max_resource": self.max_resource,
            "reduction_factor": int(self.s.reduction_factor),
            "search_epochs": self.search_epochs,
            "retrain_epochs": self.retrain_epochs,
            "heartbeat_interval": self.heartbeat_interval,
            "space": S.fingerprint(dists),
        }

    def parse_arguments(self, arguments: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
        """Command-line overrides -> (fixed overrides for every job, extra search dimensions)."""
        from hydra.core.override_parser.overrides_parser import OverridesParser

        parser = OverridesParser.create(config_loader=self.config_loader)
        fixed: list[str] = []
        dims: dict[str, Any] = {}
        for override in parser.parse_overrides(list(arguments)):
            if override.is_sweep_override():
                try:
                    dims[override.get_key_element()] = S.from_override(override)
                except (ValueError, AssertionError) as e:
                    raise SweepError(f"{override.input_line}: {e}") from e
            else:
                fixed.append(str(override.input_line))
        return fixed, dims

    def open_study(self, dists: Mapping[str, Any]):
        import optuna

        self.sweep_dir.mkdir(parents=True, exist_ok=True)  # the default SQLite file lives there
        storage = make_storage(
            self.storage_url,
            self.engine_kwargs,
            heartbeat_interval=self.heartbeat_interval,
            grace_period=self.grace_period,
            max_retry=self.s.heartbeat.get("max_retry"),
        )
        with quiet_optuna():
            study = optuna.create_study(
                study_name=self.study_name,
                storage=storage,
                direction=self.direction,
                pruner=make_pruner(self.settings_record(dists)),
                load_if_exists=True,
            )
            wanted = self.settings_record(dists)
            stored = study.user_attrs.get(SETTINGS_ATTR)
            if stored:
                changed = [
                    f"{k}: study has {stored.get(k)!r}, this sweep {wanted[k]!r}"
                    for k in (*FIXED_SETTINGS, "space")
                    if stored.get(k) != wanted[k]
                ]
                if study.direction.name.lower() != self.direction:
                    changed.append(f"direction: study has {study.direction.name.lower()}")
                if changed:
                    raise SweepError(
                        f"study {self.study_name!r} in {redact(self.storage_url)} was made "
                        f"with other settings ({'; '.join(changed)}); resume it with the same "
                        "settings or name a new study (hydra.sweeper.study_name=...)"
                    )
            study.set_user_attr(SETTINGS_ATTR, wanted)
            n_existing = len(study.get_trials(deepcopy=False))
            # a resumed study must not replay the first run's random draws: offset the seed
            seed = self.s.get("seed")
            seed = None if seed is None else int(seed) + n_existing
            kwargs = _container(self.s.get("sampler")) or {}
            study.sampler = optuna.samplers.TPESampler(seed=seed, **kwargs)
        return study, storage, n_existing

    # -- the loop ------------------------------------------------------------------------------
    def run(self, arguments: Sequence[str]) -> list[Any]:
        from optuna.storages import fail_stale_trials

        fixed, cli_dims = self.parse_arguments(arguments)
        dists = {**S.distributions(_container(self.s.get("space"))), **cli_dims}
        if not dists:
            raise SweepError(
                "the search space is empty (hydra.sweeper.space and no sweep overrides)"
            )
        self.sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, self.sweep_dir / "multirun.yaml")
        study, storage, n_existing = self.open_study(dists)
        log.info(
            "bohb sweeper: study %r in %s (%d trials so far); objective %s, %s; Hyperband %d..%d "
            "epochs, factor %d; %d trials%s, %d per launch. Resume: rerun with "
            "hydra.sweep.dir=%s",
            self.study_name,
            redact(self.storage_url),
            n_existing,
            self.objective,
            self.direction,
            int(self.s.min_budget),
            self.max_resource,
            int(self.s.reduction_factor),
            self.n_trials,
            f" ({int(self.s.n_trials)} Hyperband iterations)"
            if self.budget_unit == "iterations"
            else "",
            int(self.s.batch_size),
            self.sweep_dir,
        )
        returns: list[Any] = []
        try:
            while True:
                with quiet_optuna():
                    fail_stale_trials(study)
                counts = self.counts(study)
                self.check_failures(counts)
                remaining = self.n_trials - counts["done"] - counts["RUNNING"]
                if remaining <= 0:
                    if counts["RUNNING"] and self.heartbeat_interval and self.s.wait_for_running:
                        log.info(
                            "%d trial(s) of other workers still RUNNING: waiting for them (or "
                            "for their heartbeat to go stale)",
                            counts["RUNNING"],
                        )
                        time.sleep(self.heartbeat_interval)
                        continue
                    break
                batch_n = min(int(self.s.batch_size), remaining)
                returns.append(self.launch(study, storage, dists, fixed, batch_n))
        finally:
            export(self.summary(), study)
        return returns

    def counts(self, study) -> Counter:
        """Trials by state; ``done`` = COMPLETE + PRUNED; ``failed`` = FAIL trials that were not
        re-queued (a killed worker is not the trial's fault: its copy runs again)."""
        trials = study.get_trials(deepcopy=False)
        states = Counter(t.state.name for t in trials)
        states["done"] = states["COMPLETE"] + states["PRUNED"]
        retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
        states["failed"] = sum(t.state.name == "FAIL" and t.number not in retried for t in trials)
        return states

    def check_failures(self, counts: Counter) -> None:
        finished = counts["done"] + counts["failed"]
        rate = float(self.s.max_failure_rate)
        if (
            finished >= int(self.s.min_trials_for_failure_rate)
            and counts["failed"] > rate * finished
        ):
            raise SweepError(
                f"{counts['failed']} of {finished} finished trials failed (more than "
                f"hydra.sweeper.max_failure_rate={rate}); stopping the sweep. The failed trials' "
                f"records say why (status, error) in {self.sweep_dir}"
            )

    def job_overrides(self, fixed: list[str], trial: Any) -> list[str]:
        n = trial.number
        optuna_overrides = [
            f"++optuna.storage={S.override_value(self.storage_url)}",
            f"++optuna.study_name={S.override_value(self.study_name)}",
            f"++optuna.trial_number={n}",
        ]
        if self.engine_kwargs:
            optuna_overrides.append(
                f"++optuna.engine_kwargs={S.override_value(self.engine_kwargs)}"
            )
        return [
            f"study={S.override_value(self.study_name)}",
            *fixed,
            *self.budget_overrides,
            *S.job_overrides(trial.params),
            f"hparams.name={S.override_value(f'{self.study_name}-trial-{n}')}",
            *optuna_overrides,
            f"hydra.sweep.subdir=trial_{n:04d}",
        ]

    def launch(self, study, storage, dists, fixed: list[str], batch_n: int) -> Sequence[Any]:
        trials, ids = [], []
        with quiet_optuna():
            for _ in range(batch_n):
                trials.append(study.ask(dict(dists)))
                ids.append(trials[-1]._trial_id)
                if self.heartbeat_interval:  # visible to the stale check from the start
                    storage.record_heartbeat(ids[-1])
        batch = [self.job_overrides(fixed, t) for t in trials]
        if self.validate is not None:
            try:  # a batch that does not compose is a config error: fail, do not retry, stop
                self.validate(batch)
            except BaseException as e:
                self.settle_lost(study, storage, ids, f"{type(e).__name__}: {e}", retry=False)
                raise
        results: Sequence[Any] | None = None
        try:
            with Heartbeat(storage, ids, self.heartbeat_interval):
                start = min(t.number for t in trials)
                results = self.launcher.launch(batch, initial_job_idx=start)
        except Exception as e:  # the launcher lost its jobs (e.g. a killed worker)
            log.error("launch of trials %s failed: %s", [t.number for t in trials], e)
            self.settle_lost(study, storage, ids, f"launcher failed: {type(e).__name__}: {e}")
            return []
        except BaseException:  # Ctrl-C: give the trials back to the queue, then stop
            self.settle_lost(study, storage, ids, "sweep interrupted")
            raise
        for t, r in zip(trials, results, strict=True):
            self.settle(study, storage, t, r)
        return results

    def settle(self, study, storage, trial, result) -> None:
        """Tell what a job could not: it raised (FAIL) or ended without telling."""
        from hydra.core.utils import JobStatus
        from optuna.trial import TrialState

        frozen = storage.get_trial(trial._trial_id)
        if frozen.state == TrialState.RUNNING:
            with quiet_optuna():
                if result.status == JobStatus.COMPLETED and _is_number(result._return_value):
                    study.tell(trial, float(result._return_value), skip_if_finished=True)
                else:
                    err = result._return_value if result.status != JobStatus.COMPLETED else None
                    why = f"{type(err).__name__}: {err}" if err is not None else "no objective"
                    storage.set_trial_user_attr(trial._trial_id, "error", why[:2000])
                    study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            frozen = storage.get_trial(trial._trial_id)
        value = f" {frozen.value:.3f}" if frozen.value is not None else ""
        steps = frozen.last_step
        log.info(
            "trial %d: %s%s (%s epochs)%s",
            frozen.number,
            frozen.state.name,
            value,
            steps if steps is not None else "-",
            f" [{frozen.user_attrs['error']}]" if frozen.user_attrs.get("error") else "",
        )

    def settle_lost(self, study, storage, ids: list[int], why: str, retry: bool = True) -> None:
        """Trials whose jobs were lost (not failed by their own code): FAIL, and re-queue a copy
        with the storage's retry callback, as for a stale heartbeat."""
        from optuna.trial import TrialState

        callback = retry_callback(self.s.heartbeat.get("max_retry")) if retry else None
        for tid in ids:
            try:
                with quiet_optuna():
                    if storage.get_trial(tid).state != TrialState.RUNNING:
                        continue
                    storage.set_trial_user_attr(tid, "error", why)
                    if storage.set_trial_state_values(tid, state=TrialState.FAIL) and callback:
                        callback(study, storage.get_trial(tid))
            except Exception as e:  # pragma: no cover - best effort while stopping
                log.warning("could not fail trial id %s: %s", tid, e)


def _container(node: Any) -> Any:
    if node is None:
        return None
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True)
    return node


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
