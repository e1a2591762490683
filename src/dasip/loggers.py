"""Experiment loggers: the ``logger`` config is a mapping of Lightning loggers by name
(``logger=wandb``, ``logger=csv``, ``logger=[wandb,csv]``, ``logger=none``), each a ``_target_``.

W&B is offline by default (``wandb sync`` uploads later); a W&B logger with ``mode: disabled``
is left out. Every logger writes into the trial's run directory; a W&B run is named after the
trial and carries the resolved config.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from . import config as C


def is_wandb(logger: Any) -> bool:
    """Whether ``logger`` (a built logger) is Lightning's W&B logger or a subclass of it."""
    from pytorch_lightning.loggers import WandbLogger

    return isinstance(logger, WandbLogger)


def _is_wandb(block: DictConfig) -> bool:
    """Whether a logger config block builds a W&B logger: its ``_target_`` is Lightning's
    ``WandbLogger`` or a subclass (a target that does not import is reported by the factory)."""
    from hydra.utils import get_class
    from pytorch_lightning.loggers import WandbLogger

    try:
        target = get_class(str(block.get("_target_", "")))
    except Exception:
        return False
    return issubclass(target, WandbLogger)


def logger_factories(cfg: DictConfig) -> dict[str, Callable[..., Any]]:
    """One factory per enabled logger, its arguments checked now (when the trial is built)."""
    out = {}
    for name, block in (cfg.get("logger") or {}).items():
        if not isinstance(block, DictConfig) or "_target_" not in block:
            raise C.ConfigError(
                f"logger.{name} is not a logger config (a mapping with a _target_); "
                "choose logger=wandb, csv, none or a list such as logger=[wandb,csv]"
            )
        if _is_wandb(block) and block.get("mode") == "disabled":
            continue
        out[str(name)] = C.partial_of(f"logger.{name}", block)
    return out


def build_loggers(
    cfg: DictConfig, factories: dict[str, Callable[..., Any]], run_dir: Path, run_name: str
) -> list[Any]:
    """The trial's Lightning loggers, writing into ``run_dir``."""
    loggers = []
    for name, factory in factories.items():
        kwargs: dict[str, Any] = {"save_dir": str(run_dir)}
        if _is_wandb(cfg.logger[name]):
            os.environ.setdefault("WANDB_SILENT", "true")
            kwargs["config"] = OmegaConf.to_container(cfg, resolve=True)
            if cfg.logger[name].get("name") is None:
                kwargs["name"] = run_name
        loggers.append(factory(**kwargs))
    return loggers


def finish_loggers(
    loggers: list[Any], summary: dict[str, Any], files: list[Path] | tuple[Path, ...] = ()
) -> None:
    """Write the trial record's fields into each logger's summary and close it. A W&B run also
    keeps ``files`` (the record and the model) as one artifact of type ``trial``, named after
    the run, which an offline run holds until ``wandb sync`` uploads it."""
    for lg in loggers:
        if is_wandb(lg):
            exp = lg.experiment
            for k, v in summary.items():
                exp.summary[k] = v
            present = [Path(f) for f in files if Path(f).is_file()]
            if present:
                import wandb

                artifact = wandb.Artifact(f"trial-{exp.id}", type="trial", metadata=summary)
                for f in present:
                    artifact.add_file(str(f), name=f.name)
                exp.log_artifact(artifact)
            exp.finish()
        else:
            lg.log_hyperparams({k: v for k, v in summary.items() if v is not None})
            lg.save()
