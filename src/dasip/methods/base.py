"""What a method receives (a trial's context) and returns (its result)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from .. import config as C
from ..data import SignalDataModule
from ..metrics import evaluate_psnr
from ..models import ArchitectureModule, HParams
from ..physics import LinearOperator


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


class TrialContext:
    """Builds the pieces of one trial from its config: problem, data, space, trainers."""

    def __init__(
        self,
        cfg: DictConfig,
        run_dir: Path,
        loggers: list[Any] | None = None,
        callbacks: list[Any] | None = None,
    ):
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.seed = int(cfg.seed)
        self.loggers = loggers or []
        #: Lightning callbacks of the trial's runner (e.g. the HPO pruner), in every trainer
        self.callbacks = list(callbacks or [])
        self.hparams: HParams = C.hparams(cfg)
        self.operator: LinearOperator = C.build_operator(cfg)
        self.space = C.build_space_from_config(cfg)
        self.op_names = tuple(cfg.ops.names)
        self._val: tuple[torch.Tensor, torch.Tensor] | None = None

    # -- building blocks -------------------------------------------------------------------
    def op_context(self):
        return C.op_context(self.cfg, self.operator)

    def datamodule(self, with_alpha_stream: bool, seed: int | None = None) -> SignalDataModule:
        d = self.cfg.data
        return SignalDataModule(
            operator=self.operator,
            seed=self.seed if seed is None else seed,
            n=d.n,
            noise_std=d.noise_std,
            batch_size=d.batch_size,
            batches_per_epoch=d.batches_per_epoch,
            val_size=d.val_size,
            val_seed=d.val_seed,
            eval_batch_size=d.eval_batch_size,
            with_alpha_stream=with_alpha_stream,
        )

    def validation_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._val is None:
            self._val = self.datamodule(False).validation_set()
        return self._val

    def trainer(self, epochs: int, callbacks: list[Any] | None = None) -> pl.Trainer:
        t = self.cfg.trainer
        return pl.Trainer(
            max_epochs=epochs,
            accelerator=t.accelerator,
            devices=t.devices,
            logger=self.loggers if self.loggers else False,
            enable_checkpointing=False,
            enable_progress_bar=t.enable_progress_bar,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            check_val_every_n_epoch=t.check_val_every_n_epoch,
            log_every_n_steps=t.log_every_n_steps,
            deterministic=t.deterministic,
            callbacks=[*self.callbacks, *(callbacks or [])],
            default_root_dir=str(self.run_dir),
        )

    def psnr(self, net: torch.nn.Module) -> float:
        """Mean per-sample PSNR of ``net`` on the study's fixed validation set."""
        x, y = self.validation_set()
        net = net.to("cpu")
        return evaluate_psnr(net, x, y, self.cfg.data.eval_batch_size, self.cfg.psnr.data_range)

    def search_module_kwargs(self) -> dict[str, Any]:
        """The keyword arguments every search LightningModule of this trial shares."""
        cfg = self.cfg
        return {
            "epochs": int(cfg.epochs),
            "steps_per_epoch": cfg.data.batches_per_epoch,
            "loss_reduction": cfg.loss.reduction,
            "data_range": cfg.psnr.data_range,
            "log_alphas": cfg.method.get("log_alphas", True),
        }

    # -- the architecture-validation protocol -----------------------------------------------
    def train_architecture(
        self, genotype: Any, epochs: int | None = None, log_prefix: str = "retrain/"
    ) -> TrainedArchitecture:
        """Train ``genotype`` from scratch and score it on the validation set. ``log_prefix``
        keeps the curves of several trainings in one trial apart (random search, pre-training)."""
        epochs = int(self.cfg.retrain_epochs if epochs is None else epochs)
        pl.seed_everything(self.seed, workers=True, verbose=False)
        net = self.space.derived(self.op_context(), genotype)
        module = ArchitectureModule(
            net,
            self.hparams,
            steps_per_epoch=self.cfg.data.batches_per_epoch,
            loss_reduction=self.cfg.loss.reduction,
            data_range=self.cfg.psnr.data_range,
            log_prefix=log_prefix,
        )
        start = time.perf_counter()
        self.trainer(epochs).fit(module, datamodule=self.datamodule(with_alpha_stream=False))
        psnr = self.psnr(module.net)
        status = "diverged" if module.diverged or not math.isfinite(psnr) else "ok"
        return TrainedArchitecture(genotype, psnr, status, time.perf_counter() - start, module)

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
