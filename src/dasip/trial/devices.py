"""Where a trial runs: the device of its accelerator, and its share of the machine when it runs
beside other trials (a joblib launcher, ``hydra/launcher=local``)."""

from __future__ import annotations

import os
from typing import Any

import torch
from omegaconf import DictConfig, ListConfig


def accelerator_device(accelerator: str, devices: Any = 1) -> torch.device:
    """The device a Lightning ``accelerator`` name and ``devices`` value train on: index 0, or
    the one index of a list such as ``[2]`` (a trial given its own GPU)."""
    name = accelerator.lower()
    if name in ("gpu", "cuda") or (name == "auto" and torch.cuda.is_available()):
        index = 0
        if isinstance(devices, (list, tuple, ListConfig)) and len(devices) == 1:
            index = int(devices[0])
        return torch.device("cuda", index)
    mps = getattr(torch.backends, "mps", None)
    if name == "mps" or (name == "auto" and mps is not None and mps.is_available()):
        return torch.device("mps")
    return torch.device("cpu")


def joblib_launcher() -> Any:
    """The Hydra launcher config when this job runs under a joblib launcher (trials side by side,
    e.g. ``hydra/launcher=local``), else ``None``: the launcher's ``_target_`` is, or derives
    from, the joblib plugin's launcher class (imported only here, and only when Hydra runs)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    launcher = HydraConfig.get().launcher
    target = launcher.get("_target_")
    if not target:
        return None
    from hydra.utils import get_class
    from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher

    return launcher if issubclass(get_class(str(target)), JoblibLauncher) else None


def parallel_gpu(cfg: DictConfig) -> int | None:
    """The GPU of a trial that runs beside others (a joblib launcher) on a machine with several
    GPUs and ``trainer.devices=1``: job ``k`` of the sweep takes GPU ``k mod count``, so the
    trials of a study spread over the GPUs instead of all sharing the first. ``None``
    otherwise (one GPU, the CPU, a trial alone, or devices chosen by the user)."""
    from hydra.core.hydra_config import HydraConfig

    if joblib_launcher() is None or cfg.trainer.devices != 1:
        return None
    if accelerator_device(str(cfg.trainer.accelerator)).type != "cuda":
        return None
    count = torch.cuda.device_count()
    if count < 2:
        return None
    return int(HydraConfig.get().job.num) % count


def parallel_threads() -> int | None:
    """Threads for a trial that runs beside others (a joblib launcher, e.g.
    ``hydra/launcher=local``): the cores divided among the parallel jobs, at least one, since
    several many-thread trials on the same cores are many times slower than one thread each.
    ``None`` (torch's default) for a trial that runs alone."""
    launcher = joblib_launcher()
    if launcher is None:
        return None
    cores = os.cpu_count() or 1
    n_jobs = int(launcher.get("n_jobs") or 1)
    jobs = cores if n_jobs < 0 else n_jobs
    return max(1, cores // max(1, jobs))
