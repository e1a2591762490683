"""The BOHB stand-in on Optuna (docs/hpo.md): TPE sampling with Hyperband budgets in epochs, as the
Hydra sweeper ``hydra/sweeper=bohb`` (the plugin lives in ``src/hydra_plugins``).

- :mod:`.space`: the search space (the paper's ranges) -> Optuna distributions -> job overrides
- :mod:`.study`: storage, study settings, pruner, heartbeat (shared by sweeper and jobs)
- :mod:`.sweep`: the sweeper's loop;  :mod:`.job`: one job = one Optuna trial
- :mod:`.export`: the best preset (``dasip/conf/hparams``), the summary, the trial records

See docs/hpo.md.
"""
