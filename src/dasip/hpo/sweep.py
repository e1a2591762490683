"""The sweeper side of the BOHB stand-in: ask Optuna for trials, launch them as Hydra jobs, settle
what the jobs could not tell, resume, and export the result.

One loop, repeated until the study holds ``n_trials`` COMPLETE or PRUNED trials (or the trials of
``n_trials`` Hyperband iterations, with ``budget_unit=iterations``):

1. fail stale trials (``fail_stale_trials``: heartbeat older than the grace period; the retry
   callback re-queues a copy with the same parameters),
2. count the study's trials (all workers' trials: several sweepers may share one study),
3. ask up to ``batch_size`` trials (re-queued copies first, then the sampler's) and launch them
   with the job overrides; heartbeat them until the launcher returns,
4. settle every launched trial the job did not finish (a job that raised: FAIL; a launcher
   that lost its workers: FAIL and re-queue),
5. stop when too many trials failed (``max_failure_rate``).

When the study has enough trials but other workers' trials are still RUNNING, it waits for
them (they finish, or their heartbeat goes stale and a copy comes back to the queue).

One class per job: :class:`SweepSettings` checks and builds the settings (before any trial),
:class:`BudgetAxis` lays out a trial's budget, :class:`BOHBSweep` runs the loop and
:class:`Settler` settles what the jobs could not tell.
"""

from __future__ import annotations

import dataclasses
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
from omegaconf.errors import OmegaConfBaseException

from ..checks import integer
from . import space as S
from .export import SweepSummary, export
from .settings import BOHBSweeperConf, BudgetUnit, Objective
from .study import (
    FIXED_SETTINGS,
    SETTINGS_ATTR,
    Heartbeat,
    axis_length,
    check_storage_url,
    make_storage,
    pruner_conf,
    quiet_optuna,
    redact,
    report_axis,
    retry_callback,
    sqlite_url,
    trial_id,
    trials_for_iterations,
)

log = logging.getLogger(__name__)

DB_FILE = "optuna.db"


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
    parts = ["one-shot"] if objective == Objective.one_shot_psnr.value else []
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


def _one_line(e: BaseException) -> str:
    return " ".join(line.strip() for line in str(e).splitlines() if line.strip())


def build(key: str, conf: Mapping[str, Any], **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` of the ``_target_`` node ``hydra.sweeper.<key>``: the
    target's own checks (Hydra's, Optuna's) reported as one line naming the key."""
    from hydra.utils import instantiate

    try:
        with quiet_optuna():
            return instantiate(dict(conf), **kwargs)
    except Exception as e:
        raise SweepError(f"hydra.sweeper.{key}={dict(conf)}: {_one_line(e)}") from e


class SweepSettings:
    """The ``hydra.sweeper`` node, typed by its schema (:class:`BOHBSweeperConf`) and checked once,
    before any trial: OmegaConf checks the types and choices, the schema's ``min`` metadata the
    ranges, SQLAlchemy the storage URL; a bad value is a one-line :class:`SweepError` naming
    the key."""

    def __init__(self, node: Any, sweep_dir: Path):
        try:
            conf = OmegaConf.merge(OmegaConf.structured(BOHBSweeperConf), node)
        except OmegaConfBaseException as e:  # a node not composed by Hydra (tests, the API)
            key = getattr(e, "full_key", None) or getattr(e, "key", "?")
            raise SweepError(f"hydra.sweeper.{key}: {_one_line(e).split(' full_key:')[0]}") from e
        for f in dataclasses.fields(BOHBSweeperConf):
            if "min" in f.metadata:
                try:
                    integer(f"hydra.sweeper.{f.name}", conf[f.name], f.metadata["min"])
                except ValueError as e:
                    raise SweepError(str(e)) from e
        self.conf = conf
        self.objective: Objective = conf.objective
        self.direction: str = conf.direction.value
        self.budget_unit: BudgetUnit = conf.budget_unit
        self.sweep_dir = sweep_dir
        try:
            self.storage_url = check_storage_url(
                str(conf.storage or sqlite_url(sweep_dir / DB_FILE))
            )
        except ValueError as e:
            raise SweepError(f"hydra.sweeper.storage={e}") from e
        self.engine_kwargs = _container(conf.engine_kwargs) or {}
        hb = conf.heartbeat
        self.heartbeat_interval = int(hb.interval) if hb.interval else None
        self.grace_period = int(hb.grace_period) if hb.grace_period else None
        self.max_retry = hb.max_retry

    def sampler(self, seed: int | None) -> Any:
        """The Optuna sampler of ``hydra/sweeper/sampler``, seeded with ``seed``."""
        return build("sampler", _container(self.conf.sampler), seed=seed)

    def pruner_conf(self, max_resource: int) -> dict[str, Any]:
        """The resolved ``hydra/sweeper/pruner`` node; a null ``max_resource`` is a full trial's
        budget, ``max_resource``. The study keeps it, so every job builds the same pruner."""
        conf = _container(self.conf.pruner)
        if "max_resource" in conf and conf["max_resource"] is None:
            conf["max_resource"] = max_resource
        return conf


class BudgetAxis:
    """A trial's budget in epochs: the job overrides that set it, the search / retrain epochs of
    every job, the length of the step axis its jobs report on (Hyperband's max resource, from
    the method's declared phases, :func:`report_axis`), and the trials ``n_trials`` stands for."""

    def __init__(self, s: SweepSettings, config: DictConfig):
        self.objective = s.objective.value
        self.min_budget = int(s.conf.min_budget)
        self.reduction_factor = int(s.conf.reduction_factor)
        self.overrides, self.search_epochs, self.retrain_epochs = self._budget(
            s.conf.max_budget, config
        )
        self.max_resource = self._length(config)
        if self.min_budget > self.max_resource:
            raise SweepError(
                f"hydra.sweeper.min_budget={self.min_budget} is above the max budget "
                f"{self.max_resource} epochs (epochs={self.search_epochs}"
                + (f" + retrain_epochs={self.retrain_epochs}" if self.retrain_epochs else "")
                + ")"
            )

    def _budget(self, max_budget: int | None, config: DictConfig):
        overrides: list[str] = []
        if max_budget is not None:
            search = retrain = int(max_budget)
            overrides.append(f"epochs={search}")
            if self.objective == Objective.arch_psnr.value:
                overrides.append(f"retrain_epochs={retrain}")
        else:
            search = int(config.epochs)
            retrain = int(config.retrain_epochs)
        if self.objective == Objective.one_shot_psnr.value:
            if OmegaConf.select(config, "method.retrain", default=None) is None:
                method = OmegaConf.select(config, "method.name", default="?")
                raise SweepError(
                    f"hydra.sweeper.objective=one_shot_psnr needs a method with a one-shot score "
                    f"that can skip retraining (method.retrain); method={method} has none. Use "
                    "method=das or hydra.sweeper.objective=arch_psnr"
                )
            overrides.append("method.retrain=false")
            return overrides, search, None
        return overrides, search, retrain

    def _length(self, config: DictConfig) -> int:
        # here, not at the top: Hydra imports the sweeper plugin at every start of every app,
        # and the method registry imports torch and Lightning
        from ..methods import METHODS

        cfg = config.copy()
        with open_dict(cfg):
            for override in self.overrides:
                key, value = override.split("=", 1)
                OmegaConf.update(cfg, key, yaml.safe_load(value), merge=False)
        name = OmegaConf.select(cfg, "method.name", default=None)
        if name not in METHODS:
            return self.search_epochs + (self.retrain_epochs or 0)
        return axis_length(report_axis(METHODS[name].phases(cfg), self.objective))

    def trials(self, n: int, unit: BudgetUnit) -> int:
        """The COMPLETE + PRUNED trials of ``n`` ``unit``s."""
        if unit == BudgetUnit.iterations:
            return trials_for_iterations(
                n, self.min_budget, self.max_resource, self.reduction_factor
            )
        return n


class Settler:
    """Settles the trials of a launch that their jobs did not finish, through Optuna's public
    API: a job that raised or ended without an objective is FAIL; a job that was lost (a launcher
    that lost its workers, Ctrl-C) is FAIL and a copy is re-queued (``retry``)."""

    def __init__(self, study: Any, storage: Any, max_retry: int | None):
        self.study = study
        self.storage = storage
        self.max_retry = max_retry

    def trial_id(self, trial: Any) -> int:
        return trial_id(self.storage, self.study.study_name, trial.number)

    def settle(self, trial: Any, result: Any) -> None:
        """Tell what a job could not: it raised (FAIL) or ended without telling."""
        from optuna.trial import TrialState

        tid = self.trial_id(trial)
        frozen = self.storage.get_trial(tid)
        if frozen.state == TrialState.RUNNING:
            value, err = _job_outcome(result)
            with quiet_optuna():
                if _is_number(value):
                    self.study.tell(trial, float(value), skip_if_finished=True)
                else:
                    why = f"{type(err).__name__}: {err}" if err is not None else "no objective"
                    self.storage.set_trial_user_attr(tid, "error", why[:2000])
                    self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            frozen = self.storage.get_trial(tid)
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

    def settle_lost(self, ids: list[int], why: str, retry: bool = True) -> None:
        """Trials whose jobs were lost (not failed by their own code): FAIL, and re-queue a copy
        with the storage's retry callback, as for a stale heartbeat."""
        from optuna.trial import TrialState

        callback = retry_callback(self.max_retry) if retry else None
        for tid in ids:
            try:
                with quiet_optuna():
                    if self.storage.get_trial(tid).state != TrialState.RUNNING:
                        continue
                    self.storage.set_trial_user_attr(tid, "error", why)
                    ok = self.storage.set_trial_state_values(tid, state=TrialState.FAIL)
                    if ok and callback:
                        callback(self.study, self.storage.get_trial(tid))
            except Exception as e:  # pragma: no cover - best effort while stopping
                log.warning("could not fail trial id %s: %s", tid, e)


def _job_outcome(result: Any) -> tuple[Any, BaseException | None]:
    """``(return value, exception)`` of a Hydra ``JobReturn``, through its public
    ``return_value`` (which re-raises the job's exception when the job failed)."""
    from hydra.core.utils import JobStatus

    if result.status == JobStatus.UNKNOWN:
        return None, None
    try:
        return result.return_value, None
    except Exception as e:
        return None, e


class BOHBSweep:
    """One run of the sweeper. ``settings``: the ``hydra.sweeper`` node; ``config``: the sweep's
    composed config; ``launcher``: the Hydra launcher; ``validate``: checks that a batch of job
    overrides composes (``Sweeper.validate_batch_is_legal``).

    Everything is checked and built here, before any trial: the settings, the budget axis, the
    pruner (its sampler is built when the study's trial count, which offsets the seed, is
    known)."""

    def __init__(
        self,
        settings: Any,
        config: DictConfig,
        launcher: Any,
        config_loader: Any,
        validate: Any = None,
    ):
        self.config = config
        self.launcher = launcher
        self.config_loader = config_loader
        self.validate = validate
        self.sweep_dir = Path(str(config.hydra.sweep.dir))
        self.settings = s = SweepSettings(settings, self.sweep_dir)
        self.s = s.conf
        self.objective = s.objective.value
        self.direction = s.direction
        self.storage_url = s.storage_url
        self.study_name = str(s.conf.study_name or default_study_name(self.objective, config))
        self.axis = BudgetAxis(s, config)
        self.max_resource = self.axis.max_resource
        self.pruner_conf = s.pruner_conf(self.max_resource)
        build("pruner", self.pruner_conf)  # Optuna's own checks of its arguments, now
        #: the COMPLETE + PRUNED trials the study should hold
        self.n_trials = self.axis.trials(int(s.conf.n_trials), s.budget_unit)

    # -- set-up --------------------------------------------------------------------------------
    def summary(self) -> SweepSummary:
        return SweepSummary(
            study_name=self.study_name,
            storage_url=self.storage_url,
            objective=self.objective,
            direction=self.direction,
            n_trials=self.n_trials,
            min_budget=self.axis.min_budget,
            max_resource=self.max_resource,
            reduction_factor=self.axis.reduction_factor,
            sweep_dir=self.sweep_dir,
            hparams_name=str(self.s.hparams_name or f"BOHB-{self.study_name}"),
            hparams_dir=str(self.s.hparams_dir) if self.s.hparams_dir else None,
            hparams=OmegaConf.to_container(self.config.hparams, resolve=True),
            method=OmegaConf.to_container(self.config.method, resolve=True),
        )

    def settings_record(self, dists: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "direction": self.direction,
            "min_resource": self.axis.min_budget,
            "max_resource": self.max_resource,
            "reduction_factor": self.axis.reduction_factor,
            "search_epochs": self.axis.search_epochs,
            "retrain_epochs": self.axis.retrain_epochs,
            "heartbeat_interval": self.settings.heartbeat_interval,
            "space": S.fingerprint(dists),
            "pruner": self.pruner_conf,
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
            self.settings.engine_kwargs,
            heartbeat_interval=self.settings.heartbeat_interval,
            grace_period=self.settings.grace_period,
            max_retry=self.settings.max_retry,
        )
        with quiet_optuna():
            n_existing = _n_trials(storage, self.study_name)
            # a resumed study must not replay the first run's random draws: offset the seed
            seed = self.s.seed
            sampler = self.settings.sampler(None if seed is None else int(seed) + n_existing)
            study = optuna.create_study(
                study_name=self.study_name,
                storage=storage,
                direction=self.direction,
                sampler=sampler,
                pruner=build("pruner", self.pruner_conf),
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
                if pruner_conf(stored) != wanted["pruner"]:
                    changed.append(
                        f"pruner: study has {pruner_conf(stored)!r}, this sweep {wanted['pruner']!r}"
                    )
                if study.direction.name.lower() != self.direction:
                    changed.append(f"direction: study has {study.direction.name.lower()}")
                if changed:
                    raise SweepError(
                        f"study {self.study_name!r} in {redact(self.storage_url)} was made "
                        f"with other settings ({'; '.join(changed)}); resume it with the same "
                        "settings or name a new study (hydra.sweeper.study_name=...)"
                    )
            study.set_user_attr(SETTINGS_ATTR, wanted)
        return study, storage, n_existing

    # -- the loop ------------------------------------------------------------------------------
    def run(self, arguments: Sequence[str]) -> list[Any]:
        from optuna.storages import fail_stale_trials

        fixed, cli_dims = self.parse_arguments(arguments)
        dists = {**S.distributions(_container(self.s.space)), **cli_dims}
        if not dists:
            raise SweepError(
                "the search space is empty (hydra.sweeper.space and no sweep overrides)"
            )
        self.sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, self.sweep_dir / "multirun.yaml")
        study, storage, n_existing = self.open_study(dists)
        settler = Settler(study, storage, self.settings.max_retry)
        log.info(
            "bohb sweeper: study %r in %s (%d trials so far); objective %s, %s; %s, %s %d..%d "
            "epochs, factor %d; %d trials%s, %d per launch. Resume: rerun with "
            "hydra.sweep.dir=%s",
            self.study_name,
            redact(self.storage_url),
            n_existing,
            self.objective,
            self.direction,
            type(study.sampler).__name__,
            type(study.pruner).__name__,
            self.axis.min_budget,
            self.max_resource,
            self.axis.reduction_factor,
            self.n_trials,
            f" ({int(self.s.n_trials)} Hyperband iterations)"
            if self.settings.budget_unit == BudgetUnit.iterations
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
                    interval = self.settings.heartbeat_interval
                    if counts["RUNNING"] and interval and self.s.wait_for_running:
                        log.info(
                            "%d trial(s) of other workers still RUNNING: waiting for them (or "
                            "for their heartbeat to go stale)",
                            counts["RUNNING"],
                        )
                        time.sleep(interval)
                        continue
                    break
                batch_n = min(int(self.s.batch_size), remaining)
                returns.append(self.launch(study, storage, settler, dists, fixed, batch_n))
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
        if self.settings.engine_kwargs:
            optuna_overrides.append(
                f"++optuna.engine_kwargs={S.override_value(self.settings.engine_kwargs)}"
            )
        return [
            f"study={S.override_value(self.study_name)}",
            *fixed,
            *self.axis.overrides,
            *S.job_overrides(trial.params),
            f"hparams.name={S.override_value(f'{self.study_name}-trial-{n}')}",
            *optuna_overrides,
            f"hydra.sweep.subdir=trial_{n:04d}",
        ]

    def launch(
        self, study, storage, settler: Settler, dists, fixed: list[str], batch_n: int
    ) -> Sequence[Any]:
        interval = self.settings.heartbeat_interval
        trials, ids = [], []
        with quiet_optuna():
            for _ in range(batch_n):
                trials.append(study.ask(dict(dists)))
                ids.append(settler.trial_id(trials[-1]))
                if interval:  # visible to the stale check from the start
                    storage.record_heartbeat(ids[-1])
        batch = [self.job_overrides(fixed, t) for t in trials]
        if self.validate is not None:
            try:  # a batch that does not compose is a config error: fail, do not retry, stop
                self.validate(batch)
            except BaseException as e:
                settler.settle_lost(ids, f"{type(e).__name__}: {e}", retry=False)
                raise
        results: Sequence[Any] | None = None
        try:
            with Heartbeat(storage, ids, interval):
                start = min(t.number for t in trials)
                results = self.launcher.launch(batch, initial_job_idx=start)
        except Exception as e:  # the launcher lost its jobs (e.g. a killed worker)
            log.error("launch of trials %s failed: %s", [t.number for t in trials], e)
            settler.settle_lost(ids, f"launcher failed: {type(e).__name__}: {e}")
            return []
        except BaseException:  # Ctrl-C: give the trials back to the queue, then stop
            settler.settle_lost(ids, "sweep interrupted")
            raise
        for t, r in zip(trials, results, strict=True):
            settler.settle(t, r)
        return results


def _n_trials(storage: Any, study_name: str) -> int:
    """The trials study ``study_name`` holds in ``storage`` (0 when there is no such study)."""
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    return len(storage.get_all_trials(study_id, deepcopy=False))


def _container(node: Any) -> Any:
    if node is None:
        return None
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True)
    return node


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
