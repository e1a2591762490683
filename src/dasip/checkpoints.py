"""Checkpoints of a trial's phases, so that an interrupted trial continues where it stopped.

Every fit of a trial (the search, the retraining, a candidate's training: a phase of its method)
keeps its last Lightning checkpoint in ``<run dir>/checkpoints/<phase>.ckpt`` (config block
``checkpoints``). Run again in the same run directory (the same command with a fixed
``hydra.run.dir`` or ``hydra.sweep.dir``, or a SLURM task requeued by submitit), the same job
(:func:`dasip.record.job_key`) resumes each phase from its checkpoint: weights and alphas, both
optimizers, the learning-rate schedule, the loop's epoch, the module's counters, the data
streams and the random state. A resumed trial therefore ends with the genotype and PSNRs of
the trial that was never stopped (at the same threads and compile setting). A phase whose
checkpoint is of its last epoch is not trained again: its network is restored as it ended.

A checkpoint is written at the end of an epoch (mid-epoch state is not restorable), after the
module's own end-of-epoch work (Hessian tracking, DARTS-ES): at the phase's last epoch, when the
fit stops early, on SIGTERM, and otherwise once ``checkpoints.interval_s`` seconds have passed
since the last one. Writing never draws random numbers, so a trial computes the same with
checkpoints on or off. A multi-fit phase (random search's candidates) keeps only the fit that
ran last: the fits before it are trained again on a rerun (each starts from the trial's seed,
so they give what they gave).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Checkpoint

log = logging.getLogger(__name__)

#: the folder of the run directory that holds the phases' checkpoints
CHECKPOINT_DIR = "checkpoints"


def checkpoint_path(run_dir: str | Path, phase: str, phase_index: int = 0) -> Path:
    """Where the last checkpoint of fit ``phase_index`` of ``phase`` of the trial in
    ``run_dir`` lives: ``<phase>.ckpt``, ``<phase>-<index>.ckpt`` for the later fits."""
    name = phase if int(phase_index) == 0 else f"{phase}-{int(phase_index)}"
    return Path(run_dir) / CHECKPOINT_DIR / f"{name}.ckpt"


def remove_checkpoints(run_dir: str | Path, phases: Iterable[str]) -> None:
    """Delete the checkpoints of ``phases`` (and the folder, once empty): nothing else there
    (a ``trainer.enable_checkpointing=true`` run's own files stay)."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    if not folder.is_dir():
        return
    for phase in phases:
        for path in [folder / f"{phase}.ckpt", *folder.glob(f"{phase}-*.ckpt")]:
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # it holds other files
        folder.rmdir()


def network_identity(net: torch.nn.Module) -> str:
    """A short digest of what ``net`` is (its modules, their order and shapes), taken before
    it is compiled: two fits of different architectures never share it."""
    return hashlib.sha1(repr(net).encode()).hexdigest()[:16]


# -- the random state ---------------------------------------------------------------------------
def torch_rng_state() -> dict[str, Any]:
    """torch's random state: the CPU generator's (``torch``) and, once CUDA is initialized,
    every CUDA device's (``cuda``). Restore it with :func:`set_torch_rng_state`; code that
    draws for itself (a validation pass, a Hessian estimate) saves and restores it around the
    draws so that training's random streams continue untouched."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_torch_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`torch_rng_state` returned (the CUDA generators where CUDA is
    available)."""
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


def rng_state() -> dict[str, Any]:
    """The process's random state (torch CPU and CUDA as :func:`torch_rng_state`, numpy,
    Python), as plain data that loads with ``weights_only=True``."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        **torch_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": random.getstate(),
    }  # fmt: skip


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    set_torch_rng_state(state)
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


# -- the callback -------------------------------------------------------------------------------
class PhaseCheckpoint(Checkpoint):
    """Keeps the last checkpoint of one fit of a trial, and restores the rest of its state.

    A :class:`~pytorch_lightning.callbacks.Checkpoint`, so Lightning calls its end-of-epoch hook
    after the LightningModule's (whose hook may stop the search or change the network). Its
    state (in every checkpoint it writes) names the job, the phase and fit, the epochs done,
    the seconds trained, whether the fit had been told to stop, and the random state at the
    end of the epoch, which it puts back when the checkpoint is loaded.
    """

    def __init__(
        self,
        run_dir: str | Path,
        job_key: str,
        module: pl.LightningModule,
        interval_s: float,
    ):
        self.phase = str(module.phase)
        self.phase_index = int(getattr(module, "phase_index", 0))
        self.path = checkpoint_path(run_dir, self.phase, self.phase_index)
        self.job_key = job_key
        #: what network the fit trains (a fit number alone may name another architecture in a
        #: rerun: ground truth numbers only the architectures it has still to train)
        self.network = network_identity(module.net)
        self.interval_s = float(interval_s)
        self._seconds_before = 0.0
        self._start = time.perf_counter()
        self._last_save = self._start
        self._should_stop = False
        self._restored_rng: dict[str, Any] | None = None
        self._trainer: pl.Trainer | None = None

    # -- what a rerun finds --------------------------------------------------------------------
    def resumable(self) -> dict[str, Any] | None:
        """The state of the checkpoint at :attr:`path` when it is this job's and this fit's,
        else ``None`` (no file, another job's or fit's, or a file that does not load)."""
        if not self.path.is_file():
            return None
        try:
            blob = torch.load(self.path, map_location="cpu", weights_only=True, mmap=True)
            state = blob["callbacks"][self.state_key]
        except Exception as e:  # a foreign or broken file: the phase starts afresh
            log.warning("ignoring checkpoint %s, which does not load: %s", self.path, e)
            return None
        if state.get("job_key") != self.job_key:
            log.info("ignoring checkpoint %s of another config", self.path)
            return None
        if (state.get("phase"), state.get("phase_index"), state.get("network")) != (
            self.phase, self.phase_index, self.network
        ):  # fmt: skip
            log.info("ignoring checkpoint %s of another fit", self.path)
            return None
        return state

    # -- Lightning's hooks ---------------------------------------------------------------------
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = self._last_save = time.perf_counter()
        if self._should_stop:  # the fit had stopped early (diverged, DARTS-ES): it stays stopped
            trainer.should_stop = True

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._restored_rng = None  # an epoch ran: the random state is the fit's own again

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        now = time.perf_counter()
        last = trainer.max_epochs is not None and trainer.current_epoch + 1 >= trainer.max_epochs
        due = self.interval_s <= 0 or now - self._last_save >= self.interval_s
        if last or due or trainer.should_stop or trainer.received_sigterm:
            self.save(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._restored_rng is not None:  # a finished phase restored: as it was at its end
            set_rng_state(self._restored_rng)
            self._restored_rng = None

    def save(self, trainer: pl.Trainer) -> None:
        """Write the checkpoint atomically (a kill while writing leaves the previous one)."""
        self._should_stop = bool(trainer.should_stop)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        trainer.save_checkpoint(tmp, weights_only=False)
        tmp.replace(self.path)
        self._last_save = time.perf_counter()

    def state_dict(self) -> dict[str, Any]:
        trainer = self._trainer
        return {
            "job_key": self.job_key,
            "phase": self.phase,
            "phase_index": self.phase_index,
            "network": self.network,
            "epochs_done": None if trainer is None else trainer.current_epoch + 1,
            "seconds": self._seconds_before + time.perf_counter() - self._start,
            "should_stop": self._should_stop,
            "rng": rng_state(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._seconds_before = float(state_dict.get("seconds") or 0.0)
        self._should_stop = bool(state_dict.get("should_stop"))
        # the random state goes back now, before Lightning sets up the fit's data loader: an
        # uninterrupted fit draws from it after the epoch's end in the same way (the loader's
        # seed, when the next epoch's loader iterator is made), and nothing between here and
        # the first step draws otherwise (Lightning isolates the sanity check's random state)
        self._restored_rng = state_dict["rng"]
        set_rng_state(self._restored_rng)
