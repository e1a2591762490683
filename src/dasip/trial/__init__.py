"""One trial: validate the config, run the method, write the record.

This is what the entry points (``search.py``, ``train.py``, ``evaluate.py``), the HPO jobs and
:func:`dasip.load_model` call. The layer's modules:

- :mod:`~dasip.trial.context`: :class:`TrialContext`, every object of a trial built from its
  config (the validation), and what a method asks of it; :func:`build`
- :mod:`~dasip.trial.devices`: the trial's device, its GPU and threads beside other trials
- :mod:`~dasip.trial.compile`: the compile policy (``compile.*``) and dynamo's settings
- :mod:`~dasip.trial.scoring`: a network's PSNR on the validation set
- :mod:`~dasip.trial.runner`: :func:`run_trial` (one record per outcome), resume by job key
- :mod:`~dasip.trial.records`: the saved model, its summary and picture, and the finished run
  that ``evaluate.py`` and :func:`dasip.load_model` rebuild

The names below are imported on first use: the context imports the method registry, whose
methods use this layer's leaf modules (:mod:`~dasip.trial.devices`), so importing this package
must not import the context.
"""

from __future__ import annotations

import importlib
from typing import Any

#: each public name and the module of this package that defines it
_EXPORTS = {
    "TrialContext": "context",
    "ValidateLastEpoch": "context",
    "build": "context",
    "accelerator_device": "devices",
    "parallel_gpu": "devices",
    "parallel_threads": "devices",
    "auto_compile": "compile",
    "compile_in_place": "compile",
    "compile_units": "compile",
    "validation_psnr": "scoring",
    "TrialPruned": "runner",
    "finished_record": "runner",
    "run_name": "runner",
    "run_trial": "runner",
    "MODEL_FILE": "records",
    "LoadedModel": "records",
    "config_from_record": "records",
    "evaluate_checkpoint": "records",
    "format_summary": "records",
    "load_checkpoint": "records",
    "load_model": "records",
    "save_model": "records",
    "write_picture": "records",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = sorted(_EXPORTS)
