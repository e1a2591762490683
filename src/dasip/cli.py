"""The Hydra entry points' bodies; ``search.py`` / ``train.py`` / ``evaluate.py`` call these."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from .config import ConfigError
from .record import TrialRecord

log = logging.getLogger("dasip")


def _run_dir() -> Path:
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir)


def _fail(e: ConfigError) -> None:
    print(f"dasip: error: {e}", file=sys.stderr)
    sys.exit(2)


def search(cfg: DictConfig) -> float | None:
    """Run one trial of ``cfg.method`` (default: DAS). Returns the architecture PSNR."""
    from .trial import finished_record, prepare, run_trial

    try:
        if cfg.get("optuna") is not None:  # a job of the BOHB sweeper: one Optuna trial
            from .hpo.job import run_optuna_trial

            return run_optuna_trial(cfg, _run_dir())
        if cfg.get("resume", True):
            prepare(cfg)  # bad input is still an error, even for a job that is done
            done = finished_record(cfg, _run_dir())
            if done is not None:
                print(
                    f"[dasip] already done in {_run_dir()} (status={done['status']}, "
                    f"arch_psnr={done.get('arch_psnr')}): skipped; resume=false runs it again"
                )
                return done.get("arch_psnr")
        record = run_trial(cfg, _run_dir())
    except ConfigError as e:
        _fail(e)
    return record.arch_psnr


def train(cfg: DictConfig) -> float | None:
    """Train ``arch`` from scratch (method ``fixed``)."""
    return search(cfg)


def evaluate(cfg: DictConfig) -> float | None:
    """The architecture-validation protocol on ``arch=`` or ``record=``; or score a saved
    ``checkpoint=`` without training."""
    from .trial import config_from_record, evaluate_checkpoint, run_trial

    try:
        given = [k for k in ("arch", "record", "checkpoint") if cfg.get(k) is not None]
        if len(given) != 1:
            raise ConfigError(
                "evaluate.py needs exactly one of arch=GENOTYPE, record=PATH, checkpoint=PATH; "
                f"got {given or 'none'}"
            )
        if cfg.checkpoint is not None:
            psnr = evaluate_checkpoint(cfg, cfg.checkpoint)
            print(f"[dasip] checkpoint {cfg.checkpoint}: arch_psnr={psnr:.2f} dB")
            return psnr
        extra = {}
        if cfg.record is not None:
            cfg = config_from_record(cfg, cfg.record)
            extra["evaluated_from"] = str(cfg.record)
            log.info("evaluating %s from %s", cfg.arch, cfg.record)
        record: TrialRecord = run_trial(cfg, _run_dir(), extra=extra)
    except ConfigError as e:
        _fail(e)
    except FileNotFoundError as e:
        _fail(ConfigError(str(e)))
    return record.arch_psnr


def print_config(cfg: DictConfig) -> None:  # pragma: no cover - debugging aid
    print(OmegaConf.to_yaml(cfg))
