"""The ``hydra/sweeper=bohb`` schema: every key of the sweeper with its type, choices, range and
default, in one place (docs/hpo.md explains them). The plugin registers these dataclasses in
Hydra's ConfigStore (``hydra_plugins.dasip_bohb_sweeper.config``), so OmegaConf rejects a wrong
type or choice when the config is composed; :class:`dasip.hpo.sweep.SweepSettings` checks the
ranges (field metadata ``min``) once, before any trial.

The sampler and the pruner are config groups of ``_target_`` nodes, as in Hydra's Optuna sweeper:
``hydra/sweeper/sampler=tpe|random`` and ``hydra/sweeper/pruner=hyperband|nop`` (TPE and
Hyperband the defaults); the sweeper instantiates them with ``hydra.utils.instantiate``, so
Optuna checks their arguments itself.

Hydra imports this module at start-up (plugin discovery), so it stays light: no Optuna, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from omegaconf import II, MISSING

from .space import paper_space


class Objective(Enum):
    """The record field a trial is scored by (and the Lightning metric its phases report)."""

    #: search only, no retraining (the paper's "BOHB-one-shot")
    one_shot_psnr = "one_shot_psnr"
    #: search, then retrain (the paper's "BOHB")
    arch_psnr = "arch_psnr"


class Direction(Enum):
    minimize = "minimize"
    maximize = "maximize"


class BudgetUnit(Enum):
    """What ``n_trials`` counts."""

    trials = "trials"
    #: BOHB's Hyperband iterations (dasip.hpo.study.trials_for_iterations)
    iterations = "iterations"


def at_least(low: int) -> dict[str, int]:
    """Field metadata: an integer ``>= low`` (checked by :class:`~dasip.hpo.sweep.SweepSettings`)."""
    return {"min": low}


@dataclass
class HeartbeatConf:
    #: seconds between heartbeats of a running trial; null switches the heartbeat off
    interval: int | None = 60
    #: a RUNNING trial without a heartbeat for this long is failed and re-queued
    grace_period: int | None = 180
    #: how often one trial is re-queued after its worker died (null: no limit)
    max_retry: int | None = 3


# -- hydra/sweeper/sampler ----------------------------------------------------------------------
# The sweeper passes ``seed`` (hydra.sweeper.seed, offset by the trials already in a resumed
# study), so a sampler option has no seed of its own. Another Optuna sampler is one more option:
# a dataclass here, or a YAML file hydra/sweeper/sampler/<name>.yaml with its ``_target_``.
@dataclass
class TPESamplerConf:
    """``optuna.samplers.TPESampler``: BOHB's model-based sampling (docs/hpo.md)."""

    _target_: str = "optuna.samplers.TPESampler"
    #: random trials before TPE models the good and bad points
    n_startup_trials: int = 10
    n_ei_candidates: int = 24
    multivariate: bool = True
    group: bool = False
    constant_liar: bool = True


@dataclass
class RandomSamplerConf:
    """``optuna.samplers.RandomSampler``: Hyperband without a model (random search)."""

    _target_: str = "optuna.samplers.RandomSampler"


# -- hydra/sweeper/pruner -----------------------------------------------------------------------
# The study keeps the pruner's resolved config, so every job rebuilds the same pruner. A
# ``max_resource`` of null is the length of a full trial's step axis (dasip.hpo.study.report_axis).
@dataclass
class HyperbandPrunerConf:
    """``optuna.pruners.HyperbandPruner`` over the budget axis in epochs."""

    _target_: str = "optuna.pruners.HyperbandPruner"
    min_resource: int = II("..min_budget")
    #: null: a full trial's budget (the config's epochs, + retrain_epochs for arch_psnr)
    max_resource: int | None = None
    reduction_factor: int = II("..reduction_factor")
    bootstrap_count: int = 0


@dataclass
class NopPrunerConf:
    """``optuna.pruners.NopPruner``: every trial runs its full budget."""

    _target_: str = "optuna.pruners.NopPruner"


SAMPLERS = {"tpe": TPESamplerConf, "random": RandomSamplerConf}
PRUNERS = {"hyperband": HyperbandPrunerConf, "nop": NopPrunerConf}


@dataclass
class BOHBSweeperConf:
    _target_: str = "hydra_plugins.dasip_bohb_sweeper.bohb_sweeper.BOHBSweeper"
    #: TPE sampling, Hyperband pruning (the BOHB stand-in), as Hydra's Optuna sweeper does
    defaults: list[Any] = field(
        default_factory=lambda: ["_self_", {"sampler": "tpe"}, {"pruner": "hyperband"}]
    )
    #: the sweeper instantiates sampler and pruner itself (with the seed, the axis length)
    _recursive_: bool = False

    objective: Objective = Objective.one_shot_psnr
    direction: Direction = Direction.maximize
    #: COMPLETE + PRUNED trials the study should hold (failed ones do not count), counted in
    #: budget_unit
    n_trials: int = field(default=128, metadata=at_least(1))
    #: what n_trials counts: trials, or iterations (BOHB's Hyperband iterations, the paper's
    #: unit: each one successive-halving bracket's new configurations, 9, 3, 3, 9, ... trials
    #: with the default budgets; dasip.hpo.study.trials_for_iterations)
    budget_unit: BudgetUnit = BudgetUnit.trials
    #: jobs per launch (run in parallel by a parallel launcher)
    batch_size: int = field(default=1, metadata=at_least(1))
    #: sampler seed (null: random); a resumed sweep offsets it by the trials already in the study
    seed: int | None = None
    #: null: [one-shot-][<method>-]<data>-<ops>-<space>, e.g. one-shot-blur-all-sequential
    study_name: str | None = None
    #: any SQLAlchemy URL; null: the SQLite file optuna.db in the sweep directory
    storage: str | None = None
    #: SQLAlchemy engine arguments (e.g. {pool_pre_ping: true} for PostgreSQL)
    engine_kwargs: dict[str, Any] = field(default_factory=dict)

    #: Hyperband budgets in epochs; max_budget null: the config's epochs (+ retrain_epochs for
    #: arch_psnr); set, every job runs epochs=max_budget (and retrain_epochs=max_budget)
    min_budget: int = field(default=5, metadata=at_least(1))
    max_budget: int | None = None
    reduction_factor: int = field(default=3, metadata=at_least(2))

    heartbeat: HeartbeatConf = field(default_factory=HeartbeatConf)
    #: hydra/sweeper/sampler: an Optuna sampler's ``_target_`` and arguments
    sampler: Any = MISSING
    #: hydra/sweeper/pruner: an Optuna pruner's ``_target_`` and arguments
    pruner: Any = MISSING
    #: stop when more than this fraction of the finished trials failed ...
    max_failure_rate: float = 0.5
    #: ... once at least this many trials have finished
    min_trials_for_failure_rate: int = 5
    #: when n_trials is reached but other workers' trials still run: wait for them
    wait_for_running: bool = True

    #: the best preset's name (null: BOHB-<study_name>); written to <sweep dir>/hparams/
    hparams_name: str | None = None
    #: also write the best preset into this directory, e.g. src/dasip/conf/hparams (a checkout)
    hparams_dir: str | None = None

    #: the search space, mirroring the job config; default: the paper's ranges (docs/hpo.md)
    space: dict[str, Any] = field(default_factory=paper_space)
