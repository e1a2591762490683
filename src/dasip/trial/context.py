"""A trial's context: every object of one trial, built once from its config, and what a method
asks of it (fits, scoring, the architecture-validation protocol)."""

from __future__ import annotations

import copy
import logging
import math
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf

from .. import config as C
from ..checkpoints import PhaseCheckpoint
from ..data import SignalDataModule
from ..loggers import logger_factories
from ..methods import METHODS, RegisteredMethod
from ..methods.base import MethodResult, TrainedArchitecture
from ..models import ArchitectureModule, HParams
from ..physics import LinearOperator
from ..record import job_key
from ..spaces import Space
from .compile import check_compile, compile_decision, compile_in_place
from .devices import accelerator_device, parallel_gpu, parallel_threads
from .scoring import validation_psnr

log = logging.getLogger(__name__)


def _fit_name(module: pl.LightningModule) -> str:
    index = int(getattr(module, "phase_index", 0))
    return module.phase if index == 0 else f"{module.phase}/{index}"


class ValidateLastEpoch(pl.Callback):
    """The last epoch of every fit is validated, whatever ``trainer.check_val_every_n_epoch``
    says: validation every k epochs saves time, and the logged curves (and the HPO pruner's
    last report) still end at the network the fit returns."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.max_epochs is not None and trainer.current_epoch == trainer.max_epochs - 1:
            trainer.check_val_every_n_epoch = 1


class TrialContext:
    """Every object of one trial, built once from its config: building is the validation.

    The constructor checks every key (:func:`dasip.config.check_keys`), then builds the
    hyperparameters, the data module (``data``'s ``_target_``, with the operator inside it),
    the network's own copy of the operator, the space, the architecture of ``arch=``, the
    method's phases and the factory of the trial's Lightning ``Trainer`` (``trainer``'s
    ``_target_``, its arguments checked against ``Trainer``). Any bad value raises
    :class:`~dasip.config.ConfigError` naming the key, before any work. Loggers are attached by
    the runner when the trial starts (they create run directories).
    """

    def __init__(
        self,
        cfg: DictConfig,
        run_dir: Path,
        loggers: list[Any] | None = None,
        callbacks: list[Any] | None = None,
    ):
        checked = C.check_keys(cfg)
        if cfg.method.name not in METHODS:
            raise C.ConfigError(
                f"method.name={cfg.method.name!r} is not allowed; allowed: {', '.join(METHODS)}"
            )
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.seed = int(cfg.seed)
        self.loggers = list(loggers or [])
        #: Lightning callbacks of the trial's runner (e.g. the HPO pruner), in every trainer
        self.callbacks = list(callbacks or [])
        self.method: RegisteredMethod = METHODS[cfg.method.name]
        #: the method's keys as its schema object (``DasConf``, ``RandomSearchConf``, ...):
        #: what a method's ``run``, ``check`` and ``network`` read, typed and checked
        self.method_conf: Any = checked["method"]
        self.hparams: HParams = checked["hparams"]
        #: one data module for every fit of the trial; it owns its operator
        self.data: SignalDataModule = C.instantiate_block("data", cfg.data, seed=self.seed)
        #: the network's operator: a copy, so ``.to(device)`` on a network never moves the data's
        self.operator: LinearOperator = copy.deepcopy(self.data.operator)
        self.space: Space = C.build_space_from_config(cfg)
        with C.errors_name("ops.names"):
            self.space.candidate_ops(cfg.ops.names)
        self.op_names = tuple(cfg.ops.names)
        #: the architecture of ``arch=`` or of a baseline's ``method.arch``, parsed
        self.arch: Any = None
        if cfg.arch is not None:
            with C.errors_name("arch"):
                self.arch = self.space.parse(C.arch_value(cfg.arch))
        elif getattr(self.method_conf, "arch", None) is not None:
            with C.errors_name("method.arch"):
                self.arch = self.space.parse(C.arch_value(self.method_conf.arch), key="method.arch")
        self.phases = self.method.phases(cfg)
        check_compile(cfg)
        #: the phases whose networks were compiled (``compile.*``), in the order they ran
        self.compiled: list[str] = []
        self._trainer = C.partial_of("trainer", cfg.trainer)
        self._job_key: str | None = None
        #: the fits that continued from a checkpoint (``checkpoints``): the record's
        #: ``extra.resumed_from``, keyed by phase (``phase/index`` for later fits of a phase)
        self.resumed: dict[str, dict[str, Any]] = {}
        self.logger_factories = logger_factories(cfg)
        if self.method.check is not None:
            self.method.check(self)

    # -- building blocks -------------------------------------------------------------------
    def op_context(self):
        return C.op_context(self.cfg, self.operator)

    def validation_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.data.validation_set()

    def fit(self, module: pl.LightningModule, epochs: int) -> pl.Trainer:
        """Train ``module`` for ``epochs`` epochs on the trial's data (fresh streams of the
        seed) with the trial's trainer, loggers and callbacks."""
        key = "search" if module.phase == "search" else "retrain"
        checkpoint = self.phase_checkpoint(module)  # before compiling: it names the network
        compiled, why = self.compile_decision(key, epochs)
        if compiled:
            n = compile_in_place(module.net)
            self.compiled.append(module.phase)
            log.info("%s: compiling %d blocks of the network (compile.%s=%s)", module.phase, n,
                     key, why)  # fmt: skip
        elif self.cfg.compile[key] == "auto":
            log.info("%s: not compiled (compile.%s=%s)", module.phase, key, why)
        resume = checkpoint.resumable() if checkpoint is not None and self.cfg.resume else None
        trainer = self.trainer(epochs, callbacks=[checkpoint] if checkpoint is not None else None)
        if resume is not None:
            log.info("%s: resuming from %s (%s of %d epochs done)", module.phase,
                     checkpoint.path, resume.get("epochs_done"), epochs)  # fmt: skip
            self.resumed[_fit_name(module)] = {
                "epochs_done": resume.get("epochs_done"),
                "epochs": int(epochs),
                "seconds_before": resume.get("seconds"),
            }
            trainer.fit(module, datamodule=self.data, ckpt_path=checkpoint.path, weights_only=True)
        else:
            trainer.fit(module, datamodule=self.data)
        return trainer

    def phase_checkpoint(self, module: pl.LightningModule) -> PhaseCheckpoint | None:
        """The checkpoint callback of a fit of ``module`` (``checkpoints.save``), else None."""
        if not self.cfg.checkpoints.save:
            return None
        if self._job_key is None:
            self._job_key = job_key({"config": OmegaConf.to_container(self.cfg, resolve=True)})
        return PhaseCheckpoint(
            self.run_dir, self._job_key, module, float(self.cfg.checkpoints.interval_s)
        )

    def compile_decision(self, key: str, epochs: int) -> tuple[bool, str]:
        """Whether a fit of ``epochs`` epochs compiles its network under ``compile.<key>``
        (``search`` or ``retrain``), and why."""
        return compile_decision(self.cfg, key, epochs, self.device)

    def trainer(self, epochs: int, callbacks: list[Any] | None = None) -> pl.Trainer:
        callbacks = [ValidateLastEpoch(), *self.callbacks, *(callbacks or [])]
        # the trial's phase checkpoints are Lightning's checkpointing of the fit
        ours = {"enable_checkpointing": True} if any(
            isinstance(c, PhaseCheckpoint) for c in callbacks
        ) else {}  # fmt: skip
        with C.errors_name("trainer"):
            return self._trainer(
                max_epochs=epochs,
                logger=self.loggers if self.loggers else False,
                callbacks=callbacks,
                default_root_dir=str(self.run_dir),
                **ours,
            )

    @property
    def device(self) -> torch.device:
        """Where the trial's networks train and are scored: the trainer's accelerator."""
        return accelerator_device(str(self.cfg.trainer.accelerator), self.cfg.trainer.devices)

    def psnr(self, net: torch.nn.Module) -> float:
        """Mean per-sample PSNR of ``net`` on the study's fixed validation set, computed on the
        trial's device (the data's own tensors stay where they are)."""
        return validation_psnr(
            net,
            self.validation_set(),
            self.device,
            self.cfg.data.eval_batch_size,
            self.cfg.psnr.data_range,
        )

    def search_module_kwargs(self) -> dict[str, Any]:
        """The keyword arguments every search LightningModule of this trial shares."""
        cfg = self.cfg
        return {
            "epochs": int(cfg.epochs),
            "steps_per_epoch": cfg.data.batches_per_epoch,
            "loss_reduction": cfg.loss.reduction,
            "data_range": cfg.psnr.data_range,
            "log_alphas": bool(getattr(self.method_conf, "log_alphas", False)),
        }

    # -- the architecture-validation protocol -----------------------------------------------
    def train_architecture(
        self,
        genotype: Any,
        epochs: int | None = None,
        log_prefix: str = "retrain/",
        phase: str = "retrain",
        phase_index: int = 0,
    ) -> TrainedArchitecture:
        """Train ``genotype`` from scratch and score it on the validation set, as fit number
        ``phase_index`` of the method's ``phase``. ``log_prefix`` keeps the curves of several
        trainings in one trial apart (random search, pre-training)."""
        pl.seed_everything(self.seed, workers=True, verbose=False)
        net = self.space.derived(self.op_context(), genotype)
        trained = self.train_network(net, epochs, log_prefix, phase, phase_index)
        trained.genotype = genotype
        return trained

    def train_network(
        self,
        net: torch.nn.Module,
        epochs: int | None = None,
        log_prefix: str = "retrain/",
        phase: str = "retrain",
        phase_index: int = 0,
    ) -> TrainedArchitecture:
        """Train any network ``y -> x_hat`` (a derived architecture, an external baseline) with
        the trial's weight optimizer and data, and score it on the validation set."""
        epochs = int(self.cfg.retrain_epochs if epochs is None else epochs)
        module = ArchitectureModule(
            net,
            self.hparams,
            steps_per_epoch=self.cfg.data.batches_per_epoch,
            loss_reduction=self.cfg.loss.reduction,
            data_range=self.cfg.psnr.data_range,
            log_prefix=log_prefix,
            phase=phase,
            phase_index=phase_index,
        )
        start = time.perf_counter()
        self.fit(module, epochs)
        psnr = self.psnr(module.net)
        status = "diverged" if module.diverged or not math.isfinite(psnr) else "ok"
        return TrainedArchitecture(None, psnr, status, time.perf_counter() - start, module)

    def search_result(
        self, body: Any, module: Any, search_time: float, **extra: Any
    ) -> tuple[MethodResult, Any]:
        """The result of a finished supernet search: its one-shot PSNR, the derived (argmax)
        genotype, the alphas and ``extra``. A diverged supernet is flagged
        (``extra.search_diverged``); the argmax of its alphas is still an architecture to score.
        """
        one_shot = self.psnr(module.net)
        genotype = body.derive()
        result = MethodResult(
            genotype=str(genotype),
            one_shot_psnr=one_shot,
            search_time_s=search_time,
            search_epochs=int(self.cfg.epochs),
            alpha_probs=body.alpha_probs().tolist(),
            extra={
                "op_names": list(body.op_names),  # the alpha_probs columns (cell: + zero)
                "alpha_steps": module.alpha_steps,
                **extra,
            },
        )
        if module.diverged or not math.isfinite(one_shot):
            result.extra["search_diverged"] = True
        return result, genotype

    def retrain(self, result: MethodResult, genotype: Any) -> MethodResult:
        """Finish a search method's ``result``: retrain its derived ``genotype`` from scratch and
        fill in the architecture PSNR, training time and status (diverged if either the search
        or the retraining diverged)."""
        trained = self.train_architecture(genotype)
        result.arch_psnr = trained.psnr
        result.train_time_s = trained.seconds
        result.retrain_epochs = int(self.cfg.retrain_epochs)
        result.network = trained.module.net
        diverged = trained.status != "ok" or result.extra.get("search_diverged")
        result.status = "diverged" if diverged else "ok"
        return result


def build(cfg: DictConfig, run_dir: str | Path) -> TrialContext:
    """Build the trial of ``cfg`` (this is the validation: a bad key raises
    :class:`~dasip.config.ConfigError` naming it) and apply its process-wide settings."""
    gpu = parallel_gpu(cfg)
    if gpu is not None:  # trials beside others on a machine with several GPUs take them in turn
        cfg = cfg.copy()
        cfg.trainer.devices = [gpu]
    ctx = TrialContext(cfg, Path(run_dir))
    threads = cfg.num_threads if cfg.num_threads is not None else parallel_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    return ctx
