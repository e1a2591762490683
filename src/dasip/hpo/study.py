"""What the sweeper and its jobs share: the Optuna storage, the study's settings, the pruner and
the storage heartbeat.

The sweeper writes the settings a job needs (objective, Hyperband budgets, heartbeat interval)
into the study itself (user attribute :data:`SETTINGS_ATTR`), so a job anywhere, given only the
storage URL, the study name and its trial number, rebuilds the same pruner.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy.exc

from .settings import Objective

log = logging.getLogger(__name__)

#: the study user attribute holding :func:`study_settings`
SETTINGS_ATTR = "dasip_bohb"
#: the objectives (a record field each) and the Lightning metric each phase reports per epoch
OBJECTIVES = tuple(o.value for o in Objective)
#: settings that must not change when a study is resumed
FIXED_SETTINGS = ("objective", "direction", "min_resource", "max_resource", "reduction_factor")
#: seconds SQLite waits for a lock (jobs of a parallel launcher write to the same file)
SQLITE_TIMEOUT_S = 60


def report_axis(phases: Iterable[Any], objective: str) -> dict[str, tuple[int, int, int]]:
    """The Hyperband step axis of a trial, from its method's declared phases.

    ``{phase name: (first step - 1, epochs per fit, fits)}`` for the phases whose per-epoch
    validation PSNR the ``objective`` compares: with ``one_shot_psnr`` the phases that report
    the one-shot PSNR (the search); with ``arch_psnr`` those and the phases that report an
    architecture PSNR (retraining, random search's candidates), in order. A phase off the axis
    (``das_single``'s pre-training) neither reports nor shifts the steps. The axis' length is
    a full trial's budget (:func:`axis_length`).
    """
    wanted = ("one_shot_psnr",) if objective == "one_shot_psnr" else ("one_shot_psnr", "arch_psnr")
    axis, offset = {}, 0
    for phase in phases:
        if phase.reports in wanted:
            axis[phase.name] = (offset, int(phase.epochs), int(phase.fits))
            offset += int(phase.epochs) * int(phase.fits)
    return axis


def axis_length(axis: Mapping[str, tuple[int, int, int]]) -> int:
    return sum(epochs * fits for _, epochs, fits in axis.values())


@contextmanager
def quiet_optuna():
    """Silence Optuna's experimental warnings for the heartbeat API we rely on on purpose."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message=".*Heartbeat of storage is supposed.*")
        warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
        yield


def sqlite_url(path: str | Path) -> str:
    """``sqlite:////abs/path`` for a file (absolute, so a job in another cwd finds it)."""
    return "sqlite:///" + str(Path(path).resolve())


def redact(url: str) -> str:
    """The URL without its password, for logs and files (keep passwords out of URLs anyway:
    jobs receive the URL as an override; see docs/hpo.md)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


#: what to install for a database's driver (the package extras of dasip)
DRIVER_EXTRAS = {
    "postgresql": 'pip install -e ".[postgres]" and use postgresql+psycopg:// (psycopg 3)'
}


def check_storage_url(url: str) -> str:
    """``url`` as the storage URL every worker and job uses, checked before any work: a
    SQLAlchemy URL whose database driver is installed. ``postgresql://`` (SQLAlchemy's default
    driver, psycopg2) becomes ``postgresql+psycopg://`` when only psycopg 3 (the ``[postgres]``
    extra) is installed. Raises ``ValueError`` saying what is wrong and what to install."""
    import importlib.util

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    example = "e.g. sqlite:////abs/path/optuna.db or postgresql+psycopg://user@host:5432/db"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL; {example}") from None
    if (
        parsed.drivername == "postgresql"
        and importlib.util.find_spec("psycopg2") is None
        and importlib.util.find_spec("psycopg") is not None
    ):
        parsed = parsed.set(drivername="postgresql+psycopg")
    shown = parsed.render_as_string(hide_password=True)
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ValueError(f"{shown}: unknown database {parsed.drivername!r}; {example}") from None
    except ImportError as e:
        hint = DRIVER_EXTRAS.get(parsed.get_backend_name(), "install its SQLAlchemy driver")
        raise ValueError(
            f"{shown}: the driver of {parsed.drivername!r} is not installed ({e}); {hint}"
        ) from None
    return parsed.render_as_string(hide_password=False)


def make_storage(
    url: str,
    engine_kwargs: Mapping[str, Any] | None = None,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    max_retry: int | None = None,
):
    """An Optuna ``RDBStorage`` on any SQLAlchemy URL.

    With ``heartbeat_interval`` the storage knows the heartbeat: trials whose last heartbeat is
    older than ``grace_period`` seconds are failed by ``fail_stale_trials`` and re-queued (a
    copy with the same parameters, WAITING) by ``RetryHeartbeatStaleTrialCallback`` (Optuna 5's
    name for ``RetryFailedTrialCallback``), at most ``max_retry`` times per original trial.
    """
    import optuna

    kwargs = dict(engine_kwargs or {})
    if url.startswith("sqlite") and "connect_args" not in kwargs:
        kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
    heartbeat: dict[str, Any] = {}
    if heartbeat_interval:
        heartbeat = {
            "heartbeat_interval": int(heartbeat_interval),
            "grace_period": int(grace_period) if grace_period else None,
            "heartbeat_stale_trial_callback": retry_callback(max_retry),
        }
    with quiet_optuna():
        for attempt in range(SCHEMA_RETRIES):
            try:
                return optuna.storages.RDBStorage(url, engine_kwargs=kwargs, **heartbeat)
            except sqlalchemy.exc.DBAPIError as e:
                # workers that start at once on a fresh database server race to create
                # Optuna's tables: the losers see "already exists" and retry on the tables the
                # winner made
                if attempt == SCHEMA_RETRIES - 1 or not _is_creation_race(e):
                    raise
                log.info("storage schema created by another worker meanwhile; retrying")
                time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


#: how often a worker retries opening a storage whose schema another worker is creating
SCHEMA_RETRIES = 5


def _is_creation_race(e: Exception) -> bool:
    text = str(e).lower()
    return "already exists" in text or "duplicate" in text


def retry_callback(max_retry: int | None):
    """Optuna's ``RetryHeartbeatStaleTrialCallback`` (the new name of ``RetryFailedTrialCallback``)
    that re-queues a copy of a dead trial with its parameters, minus the pruner's and sampler's
    bookkeeping of the dead run (``completed_rung_*``: Hyperband would take the copy for one
    that already passed its first rungs)."""
    import optuna

    class RetryStaleTrial(optuna.storages.RetryHeartbeatStaleTrialCallback):
        def __call__(self, study: Any, trial: Any) -> None:
            trial = copy.deepcopy(trial)
            trial.system_attrs = {
                k: v
                for k, v in trial.system_attrs.items()
                if not k.startswith(("completed_rung_", "tpe:"))
            }
            super().__call__(study, trial)

    with quiet_optuna():
        return RetryStaleTrial(max_retry=max_retry)


def close_storage(storage: Any) -> None:
    """Release the storage's connections (a basic-launcher sweep opens one per job)."""
    try:
        storage.remove_session()
        storage.engine.dispose()
    except Exception as e:  # pragma: no cover - closing must never fail a trial
        log.debug("could not close the storage: %s", e)


def pruner_conf(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The ``_target_`` config of the study's pruner (``hydra/sweeper/pruner``, kept in its
    settings); a study made before the pruner was a config group: its Hyperband pruner."""
    if settings.get("pruner"):
        return dict(settings["pruner"])
    return {
        "_target_": "optuna.pruners.HyperbandPruner",
        "min_resource": int(settings["min_resource"]),
        "max_resource": int(settings["max_resource"]),
        "reduction_factor": int(settings["reduction_factor"]),
        "bootstrap_count": 0,
    }


def make_pruner(settings: Mapping[str, Any]):
    """The study's pruner, as the sweeper built it (Hyperband over epochs by default: the step a
    job reports is the number of epochs it has trained)."""
    from hydra.utils import instantiate

    with quiet_optuna():
        return instantiate(pruner_conf(settings))


def hyperband_brackets(min_resource: int, max_resource: int, reduction_factor: int) -> int:
    """The number of Hyperband brackets of :func:`make_pruner`'s pruner, computed as Optuna's
    ``HyperbandPruner`` computes it (``floor(log_eta(max / min)) + 1``)."""
    return math.floor(math.log(max_resource / min_resource, reduction_factor)) + 1


def trials_for_iterations(
    iterations: int, min_resource: int, max_resource: int, reduction_factor: int
) -> int:
    """The trials (configurations) of ``iterations`` Hyperband iterations as BOHB counts them.

    BOHB's reference implementation (hpbandster) runs one successive-halving bracket per
    iteration, cycling from the most aggressive bracket ``s = s_max`` down to ``s = 0``
    (``s = s_max - i mod (s_max + 1)``), and samples ``n0 = floor((s_max + 1) / (s + 1)) *
    eta^s`` new configurations in iteration ``i``; the promotions to larger budgets are the
    same configurations run further. Here a configuration is one Optuna trial, which the pruner
    stops at a rung instead of rerunning it at the next budget, so the trials of ``iterations``
    iterations are the sum of the ``n0``. With the defaults (5..50 epochs, eta 3: brackets of 9,
    3 and 3 configurations) 128 iterations are 642 trials.
    """
    n_brackets = hyperband_brackets(min_resource, max_resource, reduction_factor)
    total = 0
    for i in range(int(iterations)):
        s = n_brackets - 1 - i % n_brackets
        total += (n_brackets // (s + 1)) * reduction_factor**s
    return total


def study_settings(study: Any) -> dict[str, Any]:
    settings = study.user_attrs.get(SETTINGS_ATTR)
    if not settings:
        raise RuntimeError(
            f"study {study.study_name!r} was not created by the bohb sweeper (no "
            f"{SETTINGS_ATTR!r} user attribute)"
        )
    return dict(settings)


def trial_id(storage: Any, study_name: str, number: int) -> int:
    study_id = storage.get_study_id_from_name(study_name)
    return storage.get_trial_id_from_study_id_trial_number(study_id, int(number))


class Heartbeat:
    """Records an Optuna storage heartbeat for some trials every ``interval`` seconds.

    The sweeper beats for the trials of a launch until the launcher returns (so a job queued on
    a cluster is not taken for dead), the job for its own trial while it runs; a trial goes
    stale only when both are gone. A failed write (a locked SQLite file) is logged and retried
    at the next beat.
    """

    def __init__(self, storage: Any, trial_ids: Iterable[int], interval: int | None):
        self.storage = storage
        self.trial_ids = list(trial_ids)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        for tid in self.trial_ids:
            try:
                self.storage.record_heartbeat(tid)
            except Exception as e:
                log.warning("heartbeat of trial id %s not recorded: %s", tid, e)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def __enter__(self) -> Heartbeat:
        if self.interval and self.trial_ids:
            self.beat()
            self._thread = threading.Thread(target=self._run, name="optuna-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
