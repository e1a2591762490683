"""What a method receives (a trial's context) and returns (its result)."""

from __future__ import annotations

import copy
import functools
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf

from .. import config as C
from ..checkpoints import PhaseCheckpoint
from ..data import SignalDataModule
from ..loggers import logger_factories
from ..metrics import evaluate_psnr
from ..models import ArchitectureModule, HParams
from ..models.hessian import can_run_eagerly_inside_compiled
from ..physics import LinearOperator

log = logging.getLogger(__name__)

#: the phases a method may declare, in the order they run
PHASES = ("pretrain", "search", "candidates", "retrain")
#: what a phase's per-epoch validation PSNR estimates: the one-shot or the architecture PSNR
PHASE_REPORTS = ("one_shot_psnr", "arch_psnr")


@dataclass(frozen=True)
class Phase:
    """One training phase of a method, declared before it runs.

    ``fits`` trainings of ``epochs`` epochs each (random search: one per candidate); every
    LightningModule trained in it carries ``phase=name`` and ``phase_index`` (its fit number).
    ``reports`` says which record field the phase's per-epoch validation PSNR estimates
    (``None``: a phase off the study's budget axis, e.g. pre-training cached networks). The HPO
    step axis and the epoch counts read these declarations, never log-name strings.
    """

    name: str
    epochs: int
    fits: int = 1
    reports: str | None = None

    def __post_init__(self) -> None:
        if self.name not in PHASES:
            raise ValueError(f"phase {self.name!r}; allowed: {', '.join(PHASES)}")
        if self.reports is not None and self.reports not in PHASE_REPORTS:
            raise ValueError(f"phase reports {self.reports!r}; allowed: {PHASE_REPORTS}")


@dataclass
class MethodResult:
    """What a method found; the trial runner turns it into a record."""

    genotype: str | None = None
    one_shot_psnr: float | None = None
    arch_psnr: float | None = None
    status: str = "ok"
    search_time_s: float = 0.0
    train_time_s: float = 0.0
    search_epochs: int | None = None
    retrain_epochs: int | None = None
    alpha_probs: list[list[float]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the final trained network (saved by the runner, not part of the record)
    network: torch.nn.Module | None = None


@dataclass
class TrainedArchitecture:
    genotype: Any
    psnr: float
    status: str
    seconds: float
    module: ArchitectureModule


def accelerator_device(accelerator: str, devices: Any = 1) -> torch.device:
    """The device a Lightning ``accelerator`` name and ``devices`` value train on: index 0, or
    the one index of a list such as ``[2]`` (a trial given its own GPU)."""
    name = accelerator.lower()
    if name in ("gpu", "cuda") or (name == "auto" and torch.cuda.is_available()):
        index = 0
        if isinstance(devices, (list, tuple, ListConfig)) and len(devices) == 1:
            index = int(devices[0])
        return torch.device("cuda", index)
    mps = getattr(torch.backends, "mps", None)
    if name == "mps" or (name == "auto" and mps is not None and mps.is_available()):
        return torch.device("mps")
    return torch.device("cpu")


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


def compile_units(net: torch.nn.Module) -> list[torch.nn.Module]:
    """The modules :func:`compile_in_place` compiles: the mixed ops of a supernet (its layers or
    cell edges), else the ops of a derived network, else the network itself (e.g. DnCNN).

    Blocks of one kind run the same code on their own parameters, which dynamo passes to the
    compiled graph as inputs: the ten layers of the default supernet share one graph per
    gradient mode, so compiling costs one block's graphs, not a whole network's (about 20 s
    instead of 100 s here, docs/benchmarks.md), and the blocks run faster than a compiled whole
    network did."""
    from ..ops import Operation
    from ..spaces.mixed import MixedOp

    for kind in (MixedOp, Operation):
        found = [m for m in net.modules() if isinstance(m, kind)]
        if found:
            return found
    return [net]


def compile_in_place(net: torch.nn.Module) -> int:
    """``torch.compile`` the blocks of ``net`` in place (:func:`compile_units`; parameters and
    state dict unchanged) and return how many. Random ops in the compiled graphs draw from
    torch's generator as eager ones do (``fallback_random``), so a seed gives the same noise
    compiled or not; where compiling fails (no C++ compiler, say), dynamo warns and the block
    runs eagerly. The settings are process-wide (dynamo and Inductor have no other)."""
    import torch._dynamo
    import torch._inductor.config

    torch._inductor.config.fallback_random = True
    dynamo = torch._dynamo.config
    dynamo.suppress_errors = True
    with warnings.catch_warnings():  # blocks share graphs: always so in torch 2.5+
        warnings.simplefilter("ignore", FutureWarning)  # (where the flag is deprecated)
        if getattr(dynamo, "inline_inbuilt_nn_modules", True) is False:
            dynamo.inline_inbuilt_nn_modules = True
    # every trial of a multirun process adds graphs (shapes, op sets, gradient modes); past
    # dynamo's default limit of 8 per function, later trials would quietly run eagerly
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(dynamo, name):
            setattr(dynamo, name, max(getattr(dynamo, name), 64))
            break
    units = compile_units(net)
    for module in units:
        module.compile(dynamic=False)
    return len(units)


@functools.cache
def cpp_compiler() -> str | None:
    """The C++ compiler Inductor would use on the CPU, or ``None`` when there is none (looked
    up once per process)."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        return get_cpp_compiler()
    except Exception:  # no compiler found, or a torch without this helper
        return None


def auto_compile(steps: int, min_steps: int, device: torch.device) -> tuple[bool, str]:
    """What ``compile.*=auto`` decides for a fit of ``steps`` optimizer steps, and why.

    Compiling pays back after a few hundred steps on the CPU (its ~20 s are a one-time cost per
    process and the on-disk cache shortens later processes' compiles). GPU speed-ups have not
    been measured yet, so a GPU trial stays eager unless ``compile.*=true``."""
    if device.type != "cpu":
        return False, f"auto: eager on {device.type} (set true to compile there)"
    if steps < min_steps:
        return False, f"auto: eager, {steps} steps < compile.min_steps={min_steps}"
    if not can_run_eagerly_inside_compiled():
        return False, f"auto: eager, torch {torch.__version__} is older than 2.6"
    if cpp_compiler() is None:
        return False, "auto: eager, no C++ compiler for Inductor found"
    return True, f"auto: {steps} steps >= compile.min_steps={min_steps}"


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
        from . import METHODS

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
        self.method = METHODS[cfg.method.name]
        self.hparams: HParams = checked["hparams"]
        #: one data module for every fit of the trial; it owns its operator
        self.data: SignalDataModule = C.instantiate_block("data", cfg.data, seed=self.seed)
        #: the network's operator: a copy, so ``.to(device)`` on a network never moves the data's
        self.operator: LinearOperator = copy.deepcopy(self.data.operator)
        self.space = C.build_space_from_config(cfg)
        with C.errors_name("ops.names"):
            self.space.candidate_ops(cfg.ops.names)
        self.op_names = tuple(cfg.ops.names)
        #: the architecture of ``arch=`` or of a baseline's ``method.arch``, parsed
        self.arch: Any = None
        if cfg.arch is not None:
            with C.errors_name("arch"):
                self.arch = self.space.parse(C.arch_value(cfg.arch))
        elif cfg.method.get("arch") is not None:
            with C.errors_name("method.arch"):
                self.arch = self.space.parse(C.arch_value(cfg.method.arch), key="method.arch")
        self.phases = self.method.phases(cfg)
        self._check_compile()
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

    def _check_compile(self) -> None:
        from ..models.variants import Variant

        search = self.cfg.compile.search
        if (
            search is True
            and not can_run_eagerly_inside_compiled()
            and Variant.from_config(self.cfg.method).tracks_hessian
        ):
            raise C.ConfigError(
                f"compile.search=true cannot track the Hessian eigenvalue (method.hessian, "
                f"darts_es) with torch {torch.__version__}: its double backward runs eagerly, "
                f"which needs torch 2.6+; allowed: compile.search=false or auto"
            )

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
        from ..record import job_key

        if self._job_key is None:
            self._job_key = job_key({"config": OmegaConf.to_container(self.cfg, resolve=True)})
        return PhaseCheckpoint(
            self.run_dir, self._job_key, module, float(self.cfg.checkpoints.interval_s)
        )

    def compile_decision(self, key: str, epochs: int) -> tuple[bool, str]:
        """Whether a fit of ``epochs`` epochs compiles its network under ``compile.<key>``
        (``search`` or ``retrain``), and why."""
        setting = self.cfg.compile[key]
        if setting != "auto":
            return bool(setting), str(setting).lower()
        steps = int(epochs) * int(self.cfg.data.batches_per_epoch)
        return auto_compile(steps, int(self.cfg.compile.min_steps), self.device)

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
        x, y = self.validation_set()
        net = net.to(self.device)
        return evaluate_psnr(
            net,
            x.to(self.device),
            y.to(self.device),
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
            "log_alphas": cfg.method.log_alphas,
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
