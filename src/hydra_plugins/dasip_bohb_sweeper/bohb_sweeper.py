"""The Hydra side of the bohb sweeper: Hydra finds this class in the ``hydra_plugins`` namespace;
the sweep itself is :class:`dasip.hpo.sweep.BOHBSweep`."""

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from .config import BOHBSweeperConf  # noqa: F401 - registers hydra/sweeper=bohb


class BOHBSweeper(Sweeper):
    """Optuna TPE + Hyperband over epochs, one Optuna trial per Hydra job (docs/hpo.md)."""

    #: a failed trial is an outcome of its hyperparameters, told to Optuna (a killed one is
    #: retried); the sweeper stops with exit 1 itself when too many fail (read by FailedJobs)
    reports_failed_jobs = True

    def __init__(self, **settings: Any) -> None:
        self.settings = OmegaConf.create(settings)
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        from dasip.hpo.sweep import BOHBSweep

        assert self.config is not None and self.hydra_context is not None
        return BOHBSweep(
            self.settings,
            self.config,
            self.launcher,
            self.hydra_context.config_loader,
            validate=self.validate_batch_is_legal,
        ).run(arguments)
