"""The supernet LightningModule: DARTS bi-level search by manual optimization."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from ..spaces.mixed import GumbelMixing, Mixing
from .base import InverseProblemModule
from .hessian import alpha_hessian_eigenvalue, eigenvalue_grew
from .optim import (
    HParams,
    alpha_frozen,
    alpha_lr_factor,
    alpha_optimizer,
    param_lr_factor,
    set_lr,
    weight_optimizer,
)
from .unrolled import unrolled_alpha_grads
from .variants import SECOND_ORDER_VARIANTS, Variant


def _set_grads(params: list[torch.nn.Parameter], grads: tuple[torch.Tensor | None, ...]) -> None:
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.zeros_like(p) if g is None else g


@contextmanager
def grads_only_for(net: torch.nn.Module, params: list[torch.nn.Parameter]) -> Iterator[None]:
    """Within the block, only ``params`` of ``net`` require gradients: the backward pass of
    ``torch.autograd.grad(loss, params)`` then never computes the others' gradients, also
    when ``net`` is compiled (a compiled backward computes every input's gradient that is
    required; freezing the rest gives the alpha step and the weight step a graph each)."""
    keep = {id(p) for p in params}
    others = [p for p in net.parameters() if p.requires_grad and id(p) not in keep]
    for p in others:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in others:
            p.requires_grad_(True)


class SupernetModule(InverseProblemModule):
    """Alternates, every step: an ``alpha`` step on a batch of the alpha stream, then a weight
    step on a training batch (docs/method.md, Search (DAS)). ``net`` is a space's supernet body exposing
    ``arch_parameters()``, ``weight_parameters()``, ``alpha_probs()`` and ``derive()``.

    The first-order alpha step treats the weights as constants; only gradients that a step needs
    are computed (``torch.autograd.grad``), so the alpha step does not pay for weight gradients.
    ``order=2`` takes DARTS' second-order step instead (:mod:`.unrolled`): the alpha gradient
    through one virtual weight step of size ``xi`` (``None``: the current weight learning rate),
    with a finite-difference Hessian-vector product of radius ``eps / ||v||``.

    ``variant`` (:class:`~.variants.Variant`, default DARTS) sets the supernet's mixing and
    what the steps add (SDARTS-RS' perturbation in the weight step, Fair DARTS' zero-one loss in
    the alpha step, GDAS' temperature). With Hessian tracking, the dominant eigenvalue of the
    Hessian of the loss on ``hessian_batch`` w.r.t. alpha is estimated after every epoch
    (``eigenvalues``); DARTS-ES stops the search when it has grown (:func:`eigenvalue_grew`)
    and returns the supernet of ``es_window`` epochs earlier.
    """

    #: every step takes a batch of the alpha stream (the data module makes it)
    uses_alpha_batches = True

    def __init__(
        self,
        net: torch.nn.Module,
        hparams: HParams,
        epochs: int,
        steps_per_epoch: int,
        loss_reduction: str = "sum",
        data_range: float = 1.0,
        log_alphas: bool = True,
        log_prefix: str = "search/",
        order: int = 1,
        xi: float | None = None,
        eps: float = 0.01,
        phase: str = "search",
        variant: Variant | None = None,
        hessian_batch: tuple[torch.Tensor, torch.Tensor] | None = None,
    ):
        super().__init__(net, loss_reduction, data_range, log_prefix, phase)
        variant = variant or Variant()
        if order not in (1, 2):
            raise ValueError(f"order={order!r}; allowed: 1, 2")
        if order == 2 and variant.variant not in SECOND_ORDER_VARIANTS:
            raise ValueError(
                f"method.order=2 is not allowed with method.variant={variant.variant}; "
                f"allowed: order 1, or variant {', '.join(SECOND_ORDER_VARIANTS)}"
            )
        if variant.tracks_hessian and hessian_batch is None:
            raise ValueError("Hessian tracking needs a hessian_batch (x, y)")
        self.variant = variant
        net.mixing = variant.mixing()
        self.hessian_batch = hessian_batch
        #: the dominant Hessian eigenvalue after each epoch (Hessian tracking)
        self.eigenvalues: list[float] = []
        #: DARTS-ES: the epoch whose end stopped the search, and the epoch it returned to
        self.es_stop_epoch: int | None = None
        self.es_return_epoch: int | None = None
        self._snapshots: deque[tuple[int, dict[str, torch.Tensor]]] = deque(
            maxlen=variant.es_window + 1
        )
        self.automatic_optimization = False
        self.hp = hparams
        self.order = order
        self.xi = xi
        self.eps = eps
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.log_alphas = log_alphas
        self.alpha_steps = 0
        self.steps_done = 0

    def resume_state(self) -> dict[str, Any]:
        return {
            **super().resume_state(),
            "alpha_steps": self.alpha_steps,
            "steps_done": self.steps_done,
            "eigenvalues": list(self.eigenvalues),
            "es_stop_epoch": self.es_stop_epoch,
            "es_return_epoch": self.es_return_epoch,
            "snapshots": [[epoch, state] for epoch, state in self._snapshots],
        }

    def load_resume_state(self, state: dict[str, Any]) -> None:
        super().load_resume_state(state)
        self.alpha_steps = int(state["alpha_steps"])
        self.steps_done = int(state["steps_done"])
        self.eigenvalues = [float(v) for v in state["eigenvalues"]]
        self.es_stop_epoch, self.es_return_epoch = state["es_stop_epoch"], state["es_return_epoch"]
        self._snapshots.clear()
        self._snapshots.extend((int(epoch), snap) for epoch, snap in state["snapshots"])

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def configure_optimizers(self):
        return [
            weight_optimizer(self.net.weight_parameters(), self.hp),
            alpha_optimizer(self.net.arch_parameters(), self.hp),
        ]

    def alpha_step(
        self, alpha_batch, train_batch, optimizer: torch.optim.Optimizer
    ) -> torch.Tensor:
        """One architecture step (first order, or second order with ``order=2``); returns the
        alpha-batch loss (for ``order=2``: after the virtual weight step)."""
        params = self.net.arch_parameters()
        if self.order == 2:
            return self._second_order_alpha_step(alpha_batch, train_batch, optimizer)
        with grads_only_for(self.net, params):
            loss = self.loss(alpha_batch)
            penalty = self.variant.alpha_penalty(self.net.alpha)
            if penalty is not None:
                loss = loss + penalty
            if not self.check_finite(loss):
                return loss
            _set_grads(params, torch.autograd.grad(loss, params, allow_unused=True))
        optimizer.step()
        self.alpha_steps += 1
        return loss

    def current_xi(self) -> float:
        """The virtual step size: ``xi``, or the weight learning rate of this step (DARTS)."""
        if self.xi is not None:
            return float(self.xi)
        return self.hp.param_lr * param_lr_factor(self.steps_done, self.steps_per_epoch, self.hp)

    def _second_order_alpha_step(
        self, alpha_batch, train_batch, optimizer: torch.optim.Optimizer
    ) -> torch.Tensor:
        step = unrolled_alpha_grads(
            self.net,
            self.loss,
            train_batch,
            alpha_batch,
            xi=self.current_xi(),
            eps=self.eps,
            weight_decay=self.hp.param_weight_decay,
        )
        if not (self.check_finite(step.train_loss) and self.check_finite(step.val_loss)):
            return step.val_loss
        _set_grads(self.net.arch_parameters(), tuple(step.alpha_grads))
        optimizer.step()
        self.alpha_steps += 1
        return step.val_loss

    def weight_step(self, train_batch, optimizer: torch.optim.Optimizer) -> torch.Tensor:
        params = self.net.weight_parameters()
        self.net.perturbation = self.variant.perturbation(self.net.alpha.detach())
        try:
            with grads_only_for(self.net, params):
                loss = self.loss(train_batch)
                if not self.check_finite(loss):
                    return loss
                _set_grads(params, torch.autograd.grad(loss, params, allow_unused=True))
        finally:
            self.net.perturbation = None
        optimizer.step()
        return loss

    def training_step(self, batch, batch_idx: int) -> None:
        if self.diverged:
            return
        opt_w, opt_a = self.optimizers()
        step = self.steps_done
        self.variant.set_epoch(self.net.mixing, self.current_epoch, self.epochs)
        if not alpha_frozen(self.current_epoch, self.hp):
            set_lr(opt_a, self.hp.alpha_lr * alpha_lr_factor(step, self.total_steps, self.hp))
            alpha_loss = self.alpha_step(batch["alpha"], batch["train"], opt_a)
            self.log(f"{self.log_prefix}train/alpha_loss", alpha_loss, on_step=False, on_epoch=True)
        set_lr(opt_w, self.hp.param_lr * param_lr_factor(step, self.steps_per_epoch, self.hp))
        loss = self.weight_step(batch["train"], opt_w)
        self.log(f"{self.log_prefix}train/loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        self.steps_done += 1

    def on_train_epoch_end(self) -> None:
        if self.variant.tracks_hessian and not self.diverged:
            self.track_hessian()
        if self.log_alphas:
            probs = self.net.alpha_probs()
            names = self.net.op_names
            self.log_dict(
                {
                    f"{self.log_prefix}alpha/{i}/{name}": float(probs[i, j])
                    for i in range(probs.shape[0])
                    for j, name in enumerate(names)
                }
            )

    def track_hessian(self) -> None:
        """This epoch's eigenvalue, logged as ``hessian/eigenvalue``; DARTS-ES' check."""
        x, y = self.hessian_batch
        batch = (x.to(self.device), y.to(self.device))
        mixing = self.net.mixing
        if isinstance(mixing, GumbelMixing):  # GDAS: the softmax it samples from
            self.net.mixing = Mixing()
        try:
            value = alpha_hessian_eigenvalue(self.net, self.loss, batch, self.variant.hessian_iters)
        finally:
            self.net.mixing = mixing
        self.eigenvalues.append(value)
        self.log(f"{self.log_prefix}hessian/eigenvalue", value)
        if not self.variant.early_stopping:
            return
        epoch = self.current_epoch
        self._snapshots.append((epoch, copy.deepcopy(self.net.state_dict())))
        # the rule reads the epochs in which alpha was trained (not the alpha warm-up)
        first = self.hp.warmup_epochs if self.hp.alpha_warmup else 0
        trajectory = self.eigenvalues[first:]
        if eigenvalue_grew(trajectory, self.variant.es_window, self.variant.es_ratio):
            back, state = self._snapshots[0]
            self.net.load_state_dict(state)
            self.es_stop_epoch, self.es_return_epoch = epoch, back
            self.trainer.should_stop = True

    def search_extra(self) -> dict[str, Any]:
        """What the variant adds to the trial's record (``extra``)."""
        out: dict[str, Any] = {"variant": self.variant.variant}
        if self.variant.tracks_hessian:
            out["hessian_eigenvalues"] = list(self.eigenvalues)
        if self.variant.early_stopping:
            out["es_stop_epoch"] = self.es_stop_epoch
            out["es_return_epoch"] = self.es_return_epoch
        below = getattr(self.net.mixing, "below", None)
        if below is not None:
            out["fair_below_threshold"] = below(self.net.alpha_probs())
        return out
