"""LightningDataModule for on-the-fly 1D inverse problems."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

from .. import schema as S
from ..physics import LinearOperator, add_noise
from .signals import ALPHA_STREAM, TRAIN_STREAM, VAL_STREAM, cosine_signals, make_generator

Pair = tuple[torch.Tensor, torch.Tensor]


class MeasurementStream:
    """An endless, seeded stream of ``(x, y = A x + n)`` batches; ``sample(batch_size,
    generator)`` draws the clean ``x`` (cosine signals, image patches)."""

    def __init__(
        self,
        operator: LinearOperator,
        sample: Callable[[int, torch.Generator], torch.Tensor],
        noise_std: float,
        batch_size: int,
        seed: int,
        stream: int,
    ):
        self.operator = operator
        self.sample = sample
        self.noise_std = noise_std
        self.batch_size = batch_size
        self.generator = make_generator(seed, stream)

    @torch.no_grad()
    def next(self, batch_size: int | None = None) -> Pair:
        x = self.sample(batch_size or self.batch_size, self.generator)
        y = add_noise(self.operator(x), self.noise_std, self.generator)
        return x, y


class _EpochOfBatches(IterableDataset):
    """``batches_per_epoch`` batches per pass; each pass continues the streams."""

    def __init__(self, streams: dict[str, MeasurementStream], batches_per_epoch: int):
        self.streams = streams
        self.batches_per_epoch = batches_per_epoch

    def __len__(self) -> int:
        return self.batches_per_epoch

    def __iter__(self) -> Iterator[dict[str, Pair]]:
        for _ in range(self.batches_per_epoch):
            yield {name: s.next() for name, s in self.streams.items()}


class SignalDataModule(pl.LightningDataModule):
    """Training batches, an independent stream for alpha steps, and a fixed validation set.

    - ``train``: stream of ``seed`` (new samples every batch, continuing across epochs);
    - ``alpha``: an independent stream of the same seed, for the architecture step, made when
      the module being fitted says it takes alpha batches (``uses_alpha_batches``), or always
      with ``with_alpha_stream=True``;
    - validation: ``val_size`` samples drawn from ``val_seed`` only, so every trial of a study
      (whatever its ``seed``) is scored on the same signals and the same noise; with
      ``val_seed=None`` from the trial's own ``seed`` instead (the validation stream, independent
      of its training streams): each trial is scored on signals of its own, drawn like the
      training data (docs/method.md).

    Every fit starts the streams afresh from ``seed``, so one data module serves all the fits of
    a trial (search, retraining, candidates) and each sees the data it would see alone. The
    operator is the data's own: the network holds a copy, so moving the network to a device
    never moves the data pipeline.
    """

    def __init__(
        self,
        operator: LinearOperator,
        seed: int,
        name: str = "signals",
        n: int = 50,
        noise_std: float = 0.01,
        batch_size: int = 128,
        batches_per_epoch: int = 19,
        val_size: int = 2432,
        val_seed: int | None = 0,
        eval_batch_size: int = 128,
        with_alpha_stream: bool = False,
    ):
        super().__init__()
        self.name = name
        self.operator = operator
        self.seed = seed
        self.n = n
        self.noise_std = noise_std
        self.batch_size = batch_size
        self.batches_per_epoch = batches_per_epoch
        self.val_size = val_size
        self.val_seed = val_seed
        self.eval_batch_size = eval_batch_size
        self.with_alpha_stream = with_alpha_stream
        self._val: TensorDataset | None = None
        #: the streams of the current fit, and the states a resumed fit starts them from
        self._streams: dict[str, MeasurementStream] = {}
        self._resume_streams: dict[str, torch.Tensor] = {}

    def sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """``batch_size`` clean training samples ``(B, 1, *spatial)`` drawn from ``generator``."""
        return cosine_signals(batch_size, self.n, generator)

    def validation_sample(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """The clean samples of the validation set (by default drawn like the training ones)."""
        return self.sample(batch_size, generator)

    def stream(self, stream: int, seed: int | None = None) -> MeasurementStream:
        sample = self.validation_sample if stream == VAL_STREAM else self.sample
        return MeasurementStream(
            self.operator,
            sample,
            self.noise_std,
            self.batch_size,
            self.seed if seed is None else seed,
            stream,
        )

    def _uses_alpha_batches(self) -> bool:
        module = getattr(self.trainer, "lightning_module", None) if self.trainer else None
        return self.with_alpha_stream or bool(getattr(module, "uses_alpha_batches", False))

    def streams(self) -> dict[str, MeasurementStream]:
        """Fresh streams of ``seed``: ``train``, and ``alpha`` when the fit takes it; a fit
        resumed from a checkpoint continues them where they were (:meth:`load_state_dict`)."""
        out = {"train": self.stream(TRAIN_STREAM)}
        if self._uses_alpha_batches():
            out["alpha"] = self.stream(ALPHA_STREAM)
        resume, self._resume_streams = self._resume_streams, {}
        for name, state in resume.items():
            if name in out:
                out[name].generator.set_state(state)
        self._streams = out
        return out

    # -- checkpoints (dasip.checkpoints): a checkpoint taken at an epoch's end holds where the
    # fit's streams are, so the resumed fit draws the batches the uninterrupted one would have
    def state_dict(self) -> dict[str, Any]:
        return {"streams": {name: s.generator.get_state() for name, s in self._streams.items()}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._resume_streams = dict(state_dict.get("streams") or {})

    def teardown(self, stage: str) -> None:
        self._resume_streams = {}  # a state that no fit took is not for the next fit

    def validation_set(self) -> Pair:
        """The validation set ``(x, y)``: a function of ``val_seed`` alone, or of the trial's
        ``seed`` when ``val_seed`` is ``None`` (made once)."""
        if self._val is None:
            seed = self.seed if self.val_seed is None else self.val_seed
            self._val = TensorDataset(*self.stream(VAL_STREAM, seed=seed).next(self.val_size))
        return self._val.tensors

    def train_dataloader(self) -> DataLoader:
        """Called once per fit: the fit's streams start from ``seed``."""
        return DataLoader(_EpochOfBatches(self.streams(), self.batches_per_epoch), batch_size=None)

    def val_dataloader(self) -> DataLoader:
        x, y = self.validation_set()
        return DataLoader(TensorDataset(x, y), batch_size=self.eval_batch_size, shuffle=False)


# -- schema: ``data`` of ``dasip/conf/data/{blur,downsampling}.yaml`` --------------------------
def shorter_than_operator(data: Any, key: str, size: int | None) -> None:
    """A signal side (``data.<key>``) at least as long as the operator's blur kernel and its
    downsampling factor."""
    for name, what in (("kernel_size", "the blur kernel"), ("factor", "the downsampling factor")):
        bound = getattr(data.operator, name, None)
        if size is not None and bound is not None and size < bound:
            raise S.SchemaError(
                f"{{p}}{key}={size} is shorter than {what} ({{p}}operator.{name}={bound}); "
                f"allowed: {{p}}{key} >= {bound}"
            )


@dataclass
class DataConf(S.Schema):
    """The keys every data module has (the measurement noise, the batches, the fixed validation
    set); each data module's schema adds its own and its ``operator``. Not an option itself."""

    _target_: str = S.key()
    name: str = S.key(rule=S.text())
    noise_std: float = S.key(rule=S.number(ge=0))
    batch_size: int = S.key(rule=S.integer(min=1))
    batches_per_epoch: int = S.key(rule=S.integer(min=1))
    val_size: int = S.key(rule=S.integer(min=1))
    val_seed: int | None = S.key(rule=S.integer(min=0, nullable=True))
    eval_batch_size: int = S.key(rule=S.integer(min=1))


@dataclass
class SignalDataConf(DataConf):
    """:class:`SignalDataModule`'s keys: :class:`DataConf`'s, the signal length ``n`` and the
    operator (its schema is named in the data option's ``defaults``, e.g. ``base_blur1d``)."""

    _target_: str = "dasip.data.SignalDataModule"
    n: int = S.key(rule=S.integer(min=2))
    operator: Any = S.key()

    def check(self) -> None:
        shorter_than_operator(self, "n", self.n)


S.store("data", "base_signals", SignalDataConf)
