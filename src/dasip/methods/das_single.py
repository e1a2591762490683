"""``das_single`` (docs/method.md, Methods): pre-train ``grad*N`` and ``net*N``, put layer ``i`` of each into the
``grad`` / ``net`` candidate of layer ``i`` of the supernet, frozen, optimise only alpha (single
level), derive the argmax architecture and retrain it from scratch.

The pre-trained networks are cached on disk (``method.cache_dir``), keyed by everything that
changes them: the genotype, seed, data, hparams, op construction (width, kernel, tau init),
space, pre-training epochs, loss, accelerator and torch version. A study therefore pre-trains
each network once per (data, seed, hparams), and ``ops=good`` / ``ops=all`` share them.
Pre-training (or loading) counts as search time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf

from .. import schema as S
from ..models.single_level import FrozenOp, SingleLevelSupernetModule
from ..spaces import SPACES
from .base import MethodResult, Phase

if TYPE_CHECKING:
    from ..trial import TrialContext

log = logging.getLogger(__name__)

#: the ops whose weights are pre-trained (as ``<op>*N``) and frozen
PRETRAINED_OPS = ("grad", "net")
#: bump when the cached content or the way it is produced changes
CACHE_VERSION = 1


# -- the cache ----------------------------------------------------------------------------------
def original_cwd() -> Path:
    """The directory the command was started in (Hydra's ``runtime.cwd``), else the cwd."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return Path(HydraConfig.get().runtime.cwd)
    except (ImportError, ValueError):
        return Path.cwd()


def cache_dir(conf: DasSingleConf) -> Path:
    path = Path(conf.cache_dir).expanduser()
    return path if path.is_absolute() else original_cwd() / path


def cache_key(
    cfg: DictConfig, genotype: str, epochs: int, device: torch.device | str
) -> dict[str, Any]:
    """Everything that changes the pre-trained network ``genotype`` trained on ``device`` (the
    trial's, :attr:`~dasip.trial.TrialContext.device`); see the module docstring."""

    def plain(node: Any) -> Any:
        return OmegaConf.to_container(node, resolve=True)

    return {
        "version": CACHE_VERSION,
        "genotype": genotype,
        "seed": int(cfg.seed),
        "epochs": int(epochs),
        "data": plain(cfg.data),
        "hparams": plain(cfg.hparams),
        "ops": {k: plain(cfg.ops)[k] for k in ("width", "kernel_size", "tau_init")},
        "space": plain(cfg.space),
        "loss": plain(cfg.loss),
        "accelerator": torch.device(device).type,
        "torch": str(torch.__version__),
    }


def cache_file(directory: Path, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    name = key["genotype"].replace("*", "x")
    return directory / f"{name}-s{key['seed']}-{digest}.pt"


def _load(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a broken file is a miss; it is overwritten below
        log.warning("ignoring unreadable cache file %s: %s", path, e)
        return None
    return blob if blob.get("key") == key else None


def _save(path: Path, blob: dict[str, Any]) -> None:
    """Write atomically, so parallel jobs of a sweep never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(blob, tmp)
    tmp.replace(path)


def pretrained_network(ctx: TrialContext, op: str) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The network ``<op>*N`` trained from scratch (or loaded from the cache) and what the
    record says about it."""
    conf: DasSingleConf = ctx.method_conf
    epochs = conf.pretrain_epochs
    genotype = ctx.space.uniform(op, key="method (pre-training)")
    use_cache = conf.cache
    key = cache_key(ctx.cfg, str(genotype), epochs, ctx.device)
    path = cache_file(cache_dir(conf), key)
    blob = _load(path, key) if use_cache else None
    net = ctx.space.derived(ctx.op_context(), genotype)
    if blob is not None:
        net.load_state_dict(blob["state_dict"])
        cache = "hit"
    else:
        trained = ctx.train_architecture(
            genotype,
            epochs=epochs,
            log_prefix=f"pretrain/{op}/",
            phase="pretrain",
            phase_index=PRETRAINED_OPS.index(op),
        )
        net = trained.module.net
        blob = {
            "key": key,
            "state_dict": {
                k: v.detach().cpu().clone()  # cpu: the cache is loaded on the CPU
                for k, v in net.state_dict().items()
            },
            "psnr": trained.psnr,
            "status": trained.status,
            "seconds": trained.seconds,
        }
        if use_cache:
            _save(path, blob)
        cache = "miss" if use_cache else "off"
    info = {
        "genotype": str(genotype),
        "cache": cache,
        "file": str(path) if use_cache else None,
        "psnr": blob["psnr"],
        "status": blob["status"],
        "train_seconds": blob["seconds"],
    }
    return net, info


# -- the method ---------------------------------------------------------------------------------
def phases(cfg: DictConfig) -> list[Phase]:
    """Pre-training of the fixed networks (off the budget axis: cached across trials), the
    single-level alpha search, the retraining."""
    n = sum(op in cfg.ops.names for op in PRETRAINED_OPS)
    out = [Phase("pretrain", int(cfg.method.pretrain_epochs), fits=n)] if n else []
    return [
        *out,
        Phase("search", int(cfg.epochs), reports="one_shot_psnr"),
        Phase("retrain", int(cfg.retrain_epochs), reports="arch_psnr"),
    ]


def freeze_into(body: torch.nn.Module, pretrained: dict[str, torch.nn.Module]) -> list[FrozenOp]:
    """Replace the ``op`` candidate of every layer of the sequential supernet ``body`` with
    layer ``i`` of ``pretrained[op]``, frozen. Returns the frozen ops."""
    frozen = []
    for i, layer in enumerate(body.layers):
        for j, name in enumerate(body.op_names):
            if name in pretrained:
                layer.ops[j] = FrozenOp(pretrained[name].layers[i])
                frozen.append(layer.ops[j])
    for p in body.weight_parameters():
        p.requires_grad_(False)  # only alpha is optimised (noise's tau stays at its init)
    return frozen


def run(ctx: TrialContext) -> MethodResult:
    cfg = ctx.cfg
    epochs = int(cfg.epochs)
    start = time.perf_counter()
    pretrained, infos = {}, {}
    for op in PRETRAINED_OPS:
        if op in ctx.op_names:
            pretrained[op], infos[op] = pretrained_network(ctx, op)
    pretrain_time = time.perf_counter() - start

    pl.seed_everything(ctx.seed, workers=True, verbose=False)
    body = ctx.space.supernet(ctx.op_context(), ctx.op_names)
    freeze_into(body, pretrained)
    module = SingleLevelSupernetModule(
        body,
        ctx.hparams,
        **ctx.search_module_kwargs(),
    )
    with warnings.catch_warnings():  # the frozen ops are in eval mode on purpose
        warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode")
        ctx.fit(module, epochs)
    search_time = time.perf_counter() - start
    hits = [i["cache"] == "hit" for i in infos.values()]
    result, genotype = ctx.search_result(
        body,
        module,
        search_time,
        pretrain_cache_hit=bool(hits) and all(hits),
        pretrain={
            "seconds": pretrain_time,
            "epochs": ctx.method_conf.pretrain_epochs,
            "networks": infos,
        },
    )
    return ctx.retrain(result, genotype)


# -- schema: ``dasip/conf/method/das_single.yaml`` ---------------------------------------------
#: ``method.spaces``: the spaces a method works in (checked against ``space.name`` by the trial)
SPACE_NAMES = S.names(tuple(SPACES))


@dataclass
class DasSingleConf(S.Schema):
    """``method=das_single``'s keys."""

    name: str = S.key("das_single", S.text())
    pretrain_epochs: int = S.key(rule=S.integer(min=1))
    cache: bool = S.key()
    cache_dir: str = S.key(rule=S.text())
    log_alphas: bool = S.key()
    spaces: list[str] = S.key(rule=SPACE_NAMES)


S.store("method", "base_das_single", DasSingleConf)
