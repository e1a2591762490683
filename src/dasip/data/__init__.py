"""Data: on-the-fly cosine signals, BSDS300 images, and their LightningDataModules."""

from .bsds import BSDS_URL, BSDSDataModule, BSDSError, write_stand_in
from .datamodule import MeasurementStream, SignalDataModule
from .signals import cosine_signals, grid_spacing, make_generator, signal_grid

__all__ = [
    "BSDS_URL",
    "BSDSDataModule",
    "BSDSError",
    "MeasurementStream",
    "SignalDataModule",
    "cosine_signals",
    "grid_spacing",
    "make_generator",
    "signal_grid",
    "write_stand_in",
]
