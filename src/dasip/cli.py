"""The Hydra entry points' bodies; ``search.py`` / ``train.py`` / ``evaluate.py`` call these."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from .config import ConfigError
from .record import TrialRecord

log = logging.getLogger("dasip")
#: Hydra's switch that makes it raise an error to its caller instead of printing it
FULL_ERROR = "HYDRA_FULL_ERROR"


def _run_dir() -> Path:
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir)


def _fail(e: ConfigError) -> None:
    print(f"dasip: error: {e}", file=sys.stderr)
    sys.exit(2)


def one_line_errors(app: Callable[[], Any]) -> Callable[[], Any]:
    """The Hydra app ``app`` (a ``hydra.main`` function), with a config that does not compose
    because of a key's value (a schema's type, ``data.n=abc``) reported as dasip's one line,
    ``dasip: error: data.n=abc is not allowed; allowed: ...``, exit 2.

    Hydra composes the config before the task function runs, and reports a composition error
    itself, over several lines, unless ``HYDRA_FULL_ERROR=1`` (its documented switch for the
    full error), when it raises the error to its caller. So ``app`` runs with that switch on,
    and the error comes here: a key's value is the one line; any other error of Hydra's (an
    unknown option: ``Could not find 'data/deblur'``, with the options) is printed as Hydra
    prints it, exit 1; anything else propagates with its traceback. A user who set
    ``HYDRA_FULL_ERROR`` gets the full error of everything but a key's value.
    """

    @functools.wraps(app)
    def main() -> Any:
        from hydra.errors import CompactHydraException
        from omegaconf.errors import OmegaConfBaseException

        from .schema import compose_error

        ours = os.environ.get(FULL_ERROR) is None
        if ours:
            os.environ[FULL_ERROR] = "1"
        try:
            return app()
        except Exception as e:
            error = compose_error(e)
            if error is not None:
                _fail(error)
            if not ours or not isinstance(e, CompactHydraException):
                raise
            print(e, file=sys.stderr)  # as Hydra reports it
            if isinstance(e.__cause__, OmegaConfBaseException):
                print(e.__cause__, file=sys.stderr)
            print(
                f"\nSet the environment variable {FULL_ERROR}=1 for a complete stack trace.",
                file=sys.stderr,
            )
            sys.exit(1)
        finally:
            if ours:
                os.environ.pop(FULL_ERROR, None)

    return main


def _in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _exit_if_failed(record: TrialRecord | dict[str, Any] | None) -> None:
    """A failed trial makes a single run exit 1 (a multirun: :class:`FailedJobs` at its end)."""
    status = record.get("status") if isinstance(record, dict) else getattr(record, "status", None)
    if status == "failed" and not _in_multirun():
        error = record.get("error") if isinstance(record, dict) else record.error
        print(f"dasip: error: the trial failed: {error}", file=sys.stderr)
        sys.exit(1)


def search(cfg: DictConfig) -> float | None:
    """Run one trial of ``cfg.method`` (default: DAS). Returns the architecture PSNR."""
    from .trial import build, finished_record, run_trial

    try:
        if cfg.get("optuna") is not None:  # a job of the BOHB sweeper: one Optuna trial
            from .hpo.job import run_optuna_trial

            return run_optuna_trial(cfg, _run_dir())
        ctx = build(cfg, _run_dir())  # bad input is an error, even for a job that is done
        if cfg.resume:
            done = finished_record(cfg, _run_dir(), siblings=_in_multirun())
            if done is not None:
                print(
                    f"[dasip] already done in {done.get('run_dir') or _run_dir()} (status={done['status']}, "
                    f"arch_psnr={done.get('arch_psnr')}): skipped; resume=false runs it again"
                )
                return done.get("arch_psnr")
        record = run_trial(ctx, _run_dir())
    except ConfigError as e:
        _fail(e)
    _exit_if_failed(record)
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
            # psnr.* given on the command line re-scores the model under that convention;
            # otherwise it is scored as it was trained (the saved config's psnr)
            rescore = _given_on_command_line("psnr")
            psnr = evaluate_checkpoint(cfg, cfg.checkpoint, psnr=cfg.psnr if rescore else None)
            how = f" (psnr.data_range={cfg.psnr.data_range})" if rescore else ""
            print(f"[dasip] checkpoint {cfg.checkpoint}: arch_psnr={psnr:.2f} dB{how}")
            return psnr
        extra = {}
        if cfg.record is not None:
            try:
                cfg = config_from_record(cfg, cfg.record)
            except ConfigError:
                raise
            except (FileNotFoundError, ValueError) as e:  # a missing or malformed record=
                raise ConfigError(f"record={cfg.record}: {e}") from e
            extra["evaluated_from"] = str(cfg.record)
            log.info("evaluating %s from %s", cfg.arch, cfg.record)
        record: TrialRecord = run_trial(cfg, _run_dir(), extra=extra)
    except ConfigError as e:
        _fail(e)
    _exit_if_failed(record)
    return record.arch_psnr


def _given_on_command_line(group: str) -> bool:
    """Whether a key of ``group`` (e.g. ``psnr``) was set on the command line."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return False
    keys = (o.split("=", 1)[0].lstrip("+~") for o in HydraConfig.get().overrides.task)
    return any(k == group or k.startswith(f"{group}.") for k in keys)


def _sweeper_reports_failed_jobs(config: DictConfig) -> bool:
    """Whether the multirun's sweeper class reports its failed jobs itself."""
    from hydra.utils import get_class

    target = OmegaConf.select(config, "hydra.sweeper._target_", default=None)
    if not target:
        return False
    try:
        sweeper = get_class(str(target))
    except Exception:  # a sweeper Hydra itself could not have loaded: nothing to ask
        return False
    return bool(getattr(sweeper, "reports_failed_jobs", False))


class FailedJobs(Callback):
    """Hydra callback: at the end of a multirun, exit 1 when any of its jobs' records says
    ``failed`` (after every job ran), naming them, so scripts, CI and schedulers see it.

    Not for a sweeper that reports failed jobs itself (its class says
    ``reports_failed_jobs = True``, as the ``bohb`` sweeper's does: there a failed trial is an
    outcome of the sampled hyperparameters, told to Optuna, and the sweeper stops with exit 1
    when too many trials fail).
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from .record import RECORD_FILE, read_record

        if _sweeper_reports_failed_jobs(config):
            return

        sweep_dir = Path(config.hydra.sweep.dir)
        failed = []
        for path in sorted(sweep_dir.glob(f"**/{RECORD_FILE}")):
            try:
                if read_record(path).get("status") == "failed":
                    failed.append(str(path.parent))
            except (OSError, ValueError):
                continue
        if failed:
            print(
                f"dasip: error: {len(failed)} job(s) of the multirun failed: "
                + ", ".join(failed[:10])
                + (" ..." if len(failed) > 10 else ""),
                file=sys.stderr,
            )
            sys.exit(1)
