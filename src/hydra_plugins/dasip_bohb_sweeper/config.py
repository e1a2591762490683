"""The ``hydra/sweeper=bohb`` config: every key with its default (docs/hpo.md explains them).

Hydra imports this module at start-up (plugin discovery), so it stays light: no Optuna, no
torch.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

from dasip.hpo.space import paper_space


@dataclass
class HeartbeatConf:
    #: seconds between heartbeats of a running trial; null switches the heartbeat off
    interval: int | None = 60
    #: a RUNNING trial without a heartbeat for this long is failed and re-queued
    grace_period: int | None = 180
    #: how often one trial is re-queued after its worker died (null: no limit)
    max_retry: int | None = 3


@dataclass
class BOHBSweeperConf:
    _target_: str = "hydra_plugins.dasip_bohb_sweeper.bohb_sweeper.BOHBSweeper"

    #: one_shot_psnr (search only, no retraining) or arch_psnr (search, then retrain)
    objective: str = "one_shot_psnr"
    direction: str = "maximize"
    #: COMPLETE + PRUNED trials the study should hold (failed ones do not count), counted in
    #: budget_unit
    n_trials: int = 128
    #: what n_trials counts: trials, or iterations (BOHB's Hyperband iterations, the paper's
    #: unit: each one successive-halving bracket's new configurations, 9, 3, 3, 9, ... trials
    #: with the default budgets; dasip.hpo.study.trials_for_iterations)
    budget_unit: str = "trials"
    #: jobs per launch (run in parallel by a parallel launcher)
    batch_size: int = 1
    #: TPE seed (null: random); a resumed sweep offsets it by the trials already in the study
    seed: int | None = None
    #: null: [one-shot-][<method>-]<data>-<ops>-<space>, e.g. one-shot-blur-all-sequential
    study_name: str | None = None
    #: any SQLAlchemy URL; null: the SQLite file optuna.db in the sweep directory
    storage: str | None = None
    #: SQLAlchemy engine arguments (e.g. {pool_pre_ping: true} for PostgreSQL)
    engine_kwargs: dict[str, Any] = field(default_factory=dict)

    #: Hyperband budgets in epochs; max_budget null: the config's epochs (+ retrain_epochs for
    #: arch_psnr); set, every job runs epochs=max_budget (and retrain_epochs=max_budget)
    min_budget: int = 5
    max_budget: int | None = None
    reduction_factor: int = 3

    heartbeat: HeartbeatConf = field(default_factory=HeartbeatConf)
    #: extra TPESampler arguments
    sampler: dict[str, Any] = field(
        default_factory=lambda: {"n_startup_trials": 10, "multivariate": True}
    )
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


ConfigStore.instance().store(
    group="hydra/sweeper", name="bohb", node=BOHBSweeperConf, provider="dasip"
)
