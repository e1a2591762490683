"""Search variants of DAS (``method.variant``; docs/method.md, Search variants): the DARTS
stabilizers that change how the supernet mixes its candidates, what a step does, or when the
search stops. ``darts`` is the paper's DAS and the default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import torch

from ..spaces.mixed import GumbelMixing, Mixing, SigmoidMixing

#: ``darts``: DAS as in the paper; ``darts_es``: with RobustDARTS' early stopping;
#: ``sdarts_rs``: SDARTS' random smoothing; ``fair``: Fair DARTS; ``gdas``: GDAS
VARIANTS = ("darts", "darts_es", "sdarts_rs", "fair", "gdas")
#: the variants that second-order DARTS (``method.order=2``) works with
SECOND_ORDER_VARIANTS = ("darts", "darts_es")
#: each variant's own settings (``method.<key>``), the keys a preset of the variant carries
OWN_KEYS = {
    "darts": (),
    "darts_es": ("es_window", "es_ratio"),
    "sdarts_rs": ("sdarts_epsilon",),
    "fair": ("fair_zero_one_weight", "fair_threshold"),
    "gdas": ("gdas_tau_max", "gdas_tau_min"),
}


@dataclass(frozen=True)
class Variant:
    """One search variant and its settings (the keys of ``dasip/conf/method/das.yaml``)."""

    variant: str = "darts"
    #: track the dominant Hessian eigenvalue of the validation loss w.r.t. alpha every epoch
    #: (``darts_es`` always does)
    hessian: bool = False
    #: power-iteration steps per estimate
    hessian_iters: int = 20
    #: DARTS-ES: the window (epochs) and the growth ratio of the mean eigenvalue that stop
    es_window: int = 5
    es_ratio: float = 1.3
    #: SDARTS-RS: the radius of the uniform perturbation of the mixing weights
    sdarts_epsilon: float = 0.3
    #: Fair DARTS: the weight of the zero-one loss and the derivation threshold
    fair_zero_one_weight: float = 10.0
    fair_threshold: float = 0.85
    #: GDAS: the Gumbel-softmax temperature, decayed linearly from max to min over the search
    gdas_tau_max: float = 10.0
    gdas_tau_min: float = 0.1

    @classmethod
    def from_config(cls, method: Mapping[str, Any]) -> Variant:
        """The variant of a ``method`` config block (keys it lacks keep their defaults)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in method.items() if k in names})

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(
                f"method.variant={self.variant!r} is not allowed; allowed: {', '.join(VARIANTS)}"
            )
        if self.gdas_tau_min > self.gdas_tau_max:
            raise ValueError(
                f"method.gdas_tau_min={self.gdas_tau_min} is above "
                f"method.gdas_tau_max={self.gdas_tau_max}; allowed: gdas_tau_min <= gdas_tau_max"
            )

    def preset(self, also: tuple[str, ...] = ()) -> dict[str, Any]:
        """The ``method.*`` keys that make this variant, in the order of ``das.yaml``:
        ``variant``, its own keys (:data:`OWN_KEYS`), the Hessian tracking keys when it is
        on, every key that differs from its default and the keys named in ``also``."""
        default = Variant()
        wanted = {"variant", *OWN_KEYS[self.variant], *also}
        if self.hessian:
            wanted |= {"hessian", "hessian_iters"}
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in wanted or getattr(self, f.name) != getattr(default, f.name)
        }

    @property
    def tracks_hessian(self) -> bool:
        return self.hessian or self.early_stopping

    @property
    def early_stopping(self) -> bool:
        return self.variant == "darts_es"

    def mixing(self) -> Mixing:
        if self.variant == "fair":
            return SigmoidMixing(self.fair_threshold)
        if self.variant == "gdas":
            return GumbelMixing(self.gdas_tau_max)
        return Mixing()

    def tau(self, epoch: int, epochs: int) -> float:
        """GDAS' temperature in ``epoch`` (0-based): ``tau_max`` in the first epoch, ``tau_min``
        in the last, linear in between."""
        if epochs <= 1:
            return self.gdas_tau_max
        frac = min(1.0, epoch / (epochs - 1))
        return self.gdas_tau_max - (self.gdas_tau_max - self.gdas_tau_min) * frac

    def set_epoch(self, mixing: Mixing, epoch: int, epochs: int) -> None:
        """GDAS: the mixing's temperature for ``epoch`` (:meth:`tau`); nothing for the others."""
        if self.variant == "gdas":
            mixing.tau = self.tau(epoch, epochs)

    def perturbation(self, alpha: torch.Tensor) -> torch.Tensor | None:
        """SDARTS-RS: ``U[-epsilon, epsilon]`` noise for the mixing weights of one weight step
        (from the global stream, so a seed reproduces it); ``None`` for the other variants."""
        if self.variant != "sdarts_rs":
            return None
        noise = torch.rand(alpha.shape, dtype=alpha.dtype, device=alpha.device)
        return (2 * noise - 1) * self.sdarts_epsilon

    def alpha_penalty(self, alpha: torch.Tensor) -> torch.Tensor | None:
        """Fair DARTS' zero-one loss ``-w * mean((sigmoid(alpha) - 1/2)^2)``, added to the
        alpha step's loss: lowest when every weight is 0 or 1. ``None`` for the others."""
        if self.variant != "fair":
            return None
        return -self.fair_zero_one_weight * ((torch.sigmoid(alpha) - 0.5) ** 2).mean()
