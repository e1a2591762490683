"""Data: on-the-fly cosine signals and their LightningDataModule."""

from .datamodule import MeasurementStream, SignalDataModule
from .signals import cosine_signals, grid_spacing, make_generator, signal_grid

__all__ = [
    "MeasurementStream",
    "SignalDataModule",
    "cosine_signals",
    "grid_spacing",
    "make_generator",
    "signal_grid",
]
