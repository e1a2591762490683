"""LightningModules: the supernet (search) and the derived architecture (retraining)."""

from .architecture import ArchitectureModule
from .base import InverseProblemModule
from .optim import HParams
from .supernet import SupernetModule

__all__ = ["ArchitectureModule", "HParams", "InverseProblemModule", "SupernetModule"]
