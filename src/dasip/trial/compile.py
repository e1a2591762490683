"""The trial's compile policy (``compile.*``): which fits compile their network, and how.

The dynamo and Inductor settings it changes are process-wide (they have no other scope)."""

from __future__ import annotations

import functools
import warnings

import torch
from omegaconf import DictConfig

from .. import config as C
from ..models.hessian import can_run_eagerly_inside_compiled


def compile_units(net: torch.nn.Module) -> list[torch.nn.Module]:
    """The modules :func:`compile_in_place` compiles: the mixed ops of a supernet (its layers or
    cell edges), else the ops of a derived network, else the network itself (e.g. DnCNN).

    Blocks of one kind run the same code on their own parameters, which dynamo passes to the
    compiled graph as inputs: the ten layers of the default supernet share one graph per
    gradient mode, so compiling costs one block's graphs, not a whole network's (about 20 s
    instead of 100 s here, docs/benchmarks.md), and the blocks run faster than a compiled whole
    network did."""
    from ..ops import Operation
    from ..spaces.mixed import MixedOp

    for kind in (MixedOp, Operation):
        found = [m for m in net.modules() if isinstance(m, kind)]
        if found:
            return found
    return [net]


def compile_in_place(net: torch.nn.Module) -> int:
    """``torch.compile`` the blocks of ``net`` in place (:func:`compile_units`; parameters and
    state dict unchanged) and return how many. Random ops in the compiled graphs draw from
    torch's generator as eager ones do (``fallback_random``), so a seed gives the same noise
    compiled or not; where compiling fails (no C++ compiler, say), dynamo warns and the block
    runs eagerly. The settings are process-wide (dynamo and Inductor have no other)."""
    import torch._dynamo
    import torch._inductor.config

    torch._inductor.config.fallback_random = True
    dynamo = torch._dynamo.config
    dynamo.suppress_errors = True
    with warnings.catch_warnings():  # blocks share graphs: always so in torch 2.5+
        warnings.simplefilter("ignore", FutureWarning)  # (where the flag is deprecated)
        if getattr(dynamo, "inline_inbuilt_nn_modules", True) is False:
            dynamo.inline_inbuilt_nn_modules = True
    # every trial of a multirun process adds graphs (shapes, op sets, gradient modes); past
    # dynamo's default limit of 8 per function, later trials would quietly run eagerly
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(dynamo, name):
            setattr(dynamo, name, max(getattr(dynamo, name), 64))
            break
    units = compile_units(net)
    for module in units:
        module.compile(dynamic=False)
    return len(units)


@functools.cache
def cpp_compiler() -> str | None:
    """The C++ compiler Inductor would use on the CPU, or ``None`` when there is none (looked
    up once per process)."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        return get_cpp_compiler()
    except Exception:  # no compiler found, or a torch without this helper
        return None


def auto_compile(steps: int, min_steps: int, device: torch.device) -> tuple[bool, str]:
    """What ``compile.*=auto`` decides for a fit of ``steps`` optimizer steps, and why.

    Compiling pays back after a few hundred steps on the CPU (its ~20 s are a one-time cost per
    process and the on-disk cache shortens later processes' compiles). GPU speed-ups have not
    been measured yet, so a GPU trial stays eager unless ``compile.*=true``."""
    if device.type != "cpu":
        return False, f"auto: eager on {device.type} (set true to compile there)"
    if steps < min_steps:
        return False, f"auto: eager, {steps} steps < compile.min_steps={min_steps}"
    if not can_run_eagerly_inside_compiled():
        return False, f"auto: eager, torch {torch.__version__} is older than 2.6"
    if cpp_compiler() is None:
        return False, "auto: eager, no C++ compiler for Inductor found"
    return True, f"auto: {steps} steps >= compile.min_steps={min_steps}"


def compile_decision(
    cfg: DictConfig, key: str, epochs: int, device: torch.device
) -> tuple[bool, str]:
    """Whether a fit of ``epochs`` epochs on ``device`` compiles its network under
    ``compile.<key>`` (``search`` or ``retrain``), and why."""
    setting = cfg.compile[key]
    if setting != "auto":
        return bool(setting), str(setting).lower()
    steps = int(epochs) * int(cfg.data.batches_per_epoch)
    return auto_compile(steps, int(cfg.compile.min_steps), device)


def check_compile(cfg: DictConfig) -> None:
    """``compile.search=true`` with a method that tracks the Hessian eigenvalue needs a torch
    that runs the double backward eagerly inside compiled code; raises
    :class:`~dasip.config.ConfigError` otherwise."""
    from ..models.variants import Variant

    if (
        cfg.compile.search is True
        and not can_run_eagerly_inside_compiled()
        and Variant.from_config(cfg.method).tracks_hessian
    ):
        raise C.ConfigError(
            f"compile.search=true cannot track the Hessian eigenvalue (method.hessian, "
            f"darts_es) with torch {torch.__version__}: its double backward runs eagerly, "
            f"which needs torch 2.6+; allowed: compile.search=false or auto"
        )
