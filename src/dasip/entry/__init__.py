"""The Hydra apps, inside the package so that an installed dasip (a wheel, ``pip install
git+...``) runs without the source tree: ``dasip-search`` / ``python -m dasip search`` /
``python search.py`` all call :func:`dasip.entry.search.main` (likewise ``train``, ``evaluate``).

Each app is its own module because Hydra names the job after the task function's module
(``hydra.job.name`` = ``search`` / ``train`` / ``evaluate``, so ``outputs/search/...`` and
``multirun/search/...`` stay as they were), and the task function is a plain module-level
function, so the joblib and submitit launchers pickle it by reference and their workers import it.
The configs are the package's own ``dasip/conf`` (``config_path="../conf"``); a folder of your own
joins them with ``hydra.searchpath=[file:///path/to/myconf]``.
"""
