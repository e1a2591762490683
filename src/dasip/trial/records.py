"""A trial's files and what reads them back: the saved model (``model.pt``), its summary line
and picture, and the finished run that ``evaluate.py`` and :func:`dasip.load_model` rebuild."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

import torch
from omegaconf import DictConfig, OmegaConf

from .. import config as C
from .. import schema as S
from ..loggers import is_wandb
from ..record import TrialRecord, read_record
from .context import TrialContext, build

MODEL_FILE = "model.pt"


def write_picture(ctx: TrialContext, net: torch.nn.Module, loggers: list[Any]) -> str:
    """An image trial's picture of its first ``data.pictures`` validation images, also logged
    to W&B as an image when W&B is on; returns the file name."""
    from ..data.pictures import PICTURE_FILE, validation_picture

    n = int(ctx.cfg.data.pictures)
    x, y = ctx.validation_set()
    path = validation_picture(
        net, x[:n], y[:n], ctx.data.operator, ctx.run_dir / PICTURE_FILE, ctx.device,
        ctx.cfg.psnr.data_range,
    )  # fmt: skip
    for lg in loggers:
        if is_wandb(lg):
            lg.log_image(key="val/pictures", images=[str(path)])
    return PICTURE_FILE


def save_model(net: torch.nn.Module, record: TrialRecord, path: Path) -> None:
    torch.save(
        {"state_dict": net.state_dict(), "genotype": record.genotype, "config": record.config},
        path,
    )


def format_summary(record: TrialRecord) -> str:
    def f(v: float | None) -> str:
        return "-" if v is None or not math.isfinite(v) else f"{v:.2f} dB"

    return (
        f"[dasip] {record.method} {record.data}/{record.ops}/{record.space} seed={record.seed} "
        f"status={record.status} genotype={record.genotype} one_shot_psnr={f(record.one_shot_psnr)} "
        f"arch_psnr={f(record.arch_psnr)} time={record.total_time_s:.1f}s "
        f"(search {record.search_time_s:.1f}s, train {record.train_time_s:.1f}s)"
    )


# -- evaluate.py, dasip.load_model -----------------------------------------------------------------
_FROM_RECORD = ("data", "ops", "space", "hparams", "loss", "psnr", "retrain_epochs", "seed")


def config_from_record(cfg: DictConfig, record_path: str | Path) -> DictConfig:
    """``cfg`` with the genotype and problem settings of a finished run's record."""
    rec = read_record(record_path)
    if not rec.get("genotype"):
        raise C.ConfigError(f"record={record_path}: the record has no genotype to evaluate")
    cfg = cfg.copy()
    OmegaConf.set_struct(cfg, False)
    for key in _FROM_RECORD:
        if key in rec.get("config", {}):
            value = rec["config"][key]
            # a block of the trial's own schema (loss, psnr) keeps its type: its fields are
            # replaced; a group (data, ops, ...) is replaced whole, as the record may hold
            # another option of it (checked against that option's schema when built)
            schema = None if key in C.SCHEMA_GROUPS else S.schema_of(cfg._get_node(key))
            cfg[key] = OmegaConf.merge(OmegaConf.structured(schema), value) if schema else value
    cfg.arch = rec["genotype"]
    return cfg


class LoadedModel(NamedTuple):
    """A trained network of a finished run (:func:`load_model`)."""

    #: the network, in eval mode and on the CPU: ``model(y)`` reconstructs ``x`` from ``y``
    model: torch.nn.Module
    #: its architecture (``grad-net*9``, a cell genotype); None for a network outside the
    #: search space (``method=dncnn``)
    genotype: str | None
    #: the run's resolved config (the problem, operator, ops and space the network was built for)
    config: DictConfig


def load_checkpoint(
    checkpoint: str | Path, psnr: Any = None, key: str = "checkpoint", settings: bool = True
) -> tuple[TrialContext, torch.nn.Module, dict[str, Any]]:
    """A saved model (``model.pt``, or the run directory holding it) rebuilt from its saved
    config and loaded with its weights: the trial it came from (``psnr``, a ``psnr`` config
    block, replaces the saved convention), the network, and the file's contents. ``key`` names
    the argument in errors; ``settings=False`` leaves the process-wide settings of the saved
    config (``num_threads``) alone."""
    path = Path(checkpoint)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise C.ConfigError(f"{key}={checkpoint}: no such file")
    try:  # weights only: a crafted file cannot run code here
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise C.ConfigError(
            f"{key}={checkpoint}: not a dasip model.pt that loads as weights only "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
        ) from e
    if not isinstance(blob, dict) or not {"state_dict", "genotype", "config"} <= set(blob):
        raise C.ConfigError(f"{key}={checkpoint}: not a dasip model.pt")
    saved = OmegaConf.create(blob["config"])
    if psnr is not None:
        saved.psnr = OmegaConf.merge(saved.psnr, psnr)
    ctx = build(saved, path.parent) if settings else TrialContext(saved, path.parent)
    if blob["genotype"] is not None:
        net = ctx.space.derived(ctx.op_context(), ctx.space.parse(blob["genotype"]))
    elif ctx.method.network is not None:  # a network outside the search space (dncnn)
        net = ctx.method.network(ctx)
    else:
        raise C.ConfigError(
            f"{key}={checkpoint}: the model has no genotype and "
            f"method.name={ctx.cfg.method.name!r} cannot build its network"
        )
    net.load_state_dict(blob["state_dict"])
    return ctx, net, blob


def evaluate_checkpoint(cfg: DictConfig, checkpoint: str | Path, psnr: Any = None) -> float:
    """PSNR of a saved model (``model.pt``) on the validation set, without training: under the
    saved config's ``psnr`` convention, or under ``psnr`` (a ``psnr`` config block) when given."""
    ctx, net, _ = load_checkpoint(checkpoint, psnr)
    return ctx.psnr(net)


def load_model(run_dir: str | Path) -> LoadedModel:
    """The trained network of a finished run (its directory, or its ``model.pt``), with its
    genotype and config, for use outside dasip's entry points::

        model, genotype, config = dasip.load_model("outputs/search/2026-12-01_10-00-00")
        x_hat = model(y)  # y: measurements of the run's problem, (batch, *signal shape)

    The network is rebuilt from the saved config exactly as ``evaluate.py checkpoint=`` rebuilds
    it (:func:`load_checkpoint`; the operator comes from the config), so ``model(y)`` scores
    the run's ``arch_psnr`` on its validation set. A bad path or file raises
    :class:`~dasip.config.ConfigError` naming ``run_dir``.
    """
    ctx, net, blob = load_checkpoint(run_dir, key="run_dir", settings=False)
    return LoadedModel(net.eval(), blob["genotype"], ctx.cfg)
