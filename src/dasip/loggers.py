"""Experiment loggers: W&B (offline by default), CSV, or none."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf


def build_loggers(cfg: DictConfig, run_dir: Path, run_name: str) -> list[Any]:
    """Lightning loggers for one trial. W&B: one run per trial, grouped by ``study``."""
    name = cfg.logger.name
    if name == "none":
        return []
    if name == "csv":
        from pytorch_lightning.loggers import CSVLogger

        return [CSVLogger(save_dir=str(run_dir), name="csv", version="")]
    if name == "wandb":
        if cfg.logger.mode == "disabled":
            return []
        os.environ.setdefault("WANDB_SILENT", "true")
        from pytorch_lightning.loggers import WandbLogger

        return [
            WandbLogger(
                project=cfg.logger.project,
                entity=cfg.logger.get("entity"),
                group=str(cfg.study),
                job_type=str(cfg.method.name),
                name=run_name,
                save_dir=str(run_dir),
                mode=cfg.logger.mode,
                tags=list(cfg.logger.get("tags") or []),
                config=OmegaConf.to_container(cfg, resolve=True),
            )
        ]
    raise ValueError(f"logger.name={name!r}; allowed: wandb, csv, none")


def finish_loggers(loggers: list[Any], summary: dict[str, Any]) -> None:
    """Write the trial record's fields into each logger's summary and close it."""
    for lg in loggers:
        if type(lg).__name__ == "WandbLogger":
            exp = lg.experiment
            for k, v in summary.items():
                exp.summary[k] = v
            exp.finish()
        else:
            lg.log_hyperparams({k: v for k, v in summary.items() if v is not None})
            lg.save()
