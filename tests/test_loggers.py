"""Loggers are recognised by their class (Lightning's ``WandbLogger`` or a subclass), never by
their class name."""

from omegaconf import OmegaConf
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers import WandbLogger as LightningWandbLogger

from dasip.loggers import _is_wandb, is_wandb


class WandbLogger(CSVLogger):
    """A namesake of W&B's logger that is not one."""


class TeamWandbLogger(LightningWandbLogger):
    """A W&B logger under another name."""


def _block(target: str):
    return OmegaConf.create({"_target_": target})


def test_a_wandb_logger_config_is_known_by_its_target_class():
    assert _is_wandb(_block("pytorch_lightning.loggers.WandbLogger"))
    assert _is_wandb(_block(f"{__name__}.TeamWandbLogger"))
    assert not _is_wandb(_block(f"{__name__}.WandbLogger"))
    assert not _is_wandb(_block("pytorch_lightning.loggers.CSVLogger"))
    assert not _is_wandb(_block("no.such.Logger"))  # reported by the factory, not here


def test_a_built_wandb_logger_is_known_by_its_class():
    assert is_wandb(TeamWandbLogger.__new__(TeamWandbLogger))
    assert not is_wandb(WandbLogger.__new__(WandbLogger))
