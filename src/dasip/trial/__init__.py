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
"""

from .compile import auto_compile, compile_in_place, compile_units
from .context import TrialContext, ValidateLastEpoch, build
from .devices import accelerator_device, parallel_gpu, parallel_threads
from .records import (
    MODEL_FILE,
    LoadedModel,
    config_from_record,
    evaluate_checkpoint,
    format_summary,
    load_checkpoint,
    load_model,
    save_model,
    write_picture,
)
from .runner import TrialPruned, finished_record, run_name, run_trial
from .scoring import validation_psnr

__all__ = [
    "MODEL_FILE",
    "LoadedModel",
    "TrialContext",
    "TrialPruned",
    "ValidateLastEpoch",
    "accelerator_device",
    "auto_compile",
    "build",
    "compile_in_place",
    "compile_units",
    "config_from_record",
    "evaluate_checkpoint",
    "finished_record",
    "format_summary",
    "load_checkpoint",
    "load_model",
    "parallel_gpu",
    "parallel_threads",
    "run_name",
    "run_trial",
    "save_model",
    "validation_psnr",
    "write_picture",
]
