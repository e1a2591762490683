"""Registers the ``hydra/sweeper=bohb`` config and its sampler and pruner groups in Hydra's
ConfigStore; the schema itself is :mod:`dasip.hpo.settings` (docs/hpo.md explains the keys).

Hydra imports this module at start-up (plugin discovery), so it stays light: no Optuna, no
torch.
"""

from hydra.core.config_store import ConfigStore

from dasip.hpo.settings import PRUNERS, SAMPLERS, BOHBSweeperConf

store = ConfigStore.instance()
store.store(group="hydra/sweeper", name="bohb", node=BOHBSweeperConf, provider="dasip")
for name, node in SAMPLERS.items():
    store.store(group="hydra/sweeper/sampler", name=name, node=node, provider="dasip")
for name, node in PRUNERS.items():
    store.store(group="hydra/sweeper/pruner", name=name, node=node, provider="dasip")
