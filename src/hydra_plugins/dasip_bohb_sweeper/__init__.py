"""dasip's BOHB stand-in as a Hydra sweeper: Optuna TPE sampling with Hyperband pruning over
epochs (``hydra/sweeper=bohb``). The sweep itself lives in :mod:`dasip.hpo`; see docs/hpo.md."""
