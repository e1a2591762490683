"""OmegaConf resolvers the configs use, registered when :mod:`dasip` is imported."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from omegaconf import OmegaConf

#: the longest sweep subfolder name made from a job's overrides; longer ones are cut and hashed
MAX_JOB_DIR = 160


def grid_spacing(n: int) -> float:
    """The step of the signal grid: ``n`` points on ``[-pi/2, pi/2]``."""
    n = int(n)
    if n < 2:
        raise ValueError(f"data.n={n} must be >= 2")
    return math.pi / (n - 1)


def uniform_arch(op: str, space: Any) -> str:
    """The genotype string of the architecture with ``op`` everywhere in the space ``space`` (its
    config block): ``grad*10`` in the sequential space, ``grad*15/grad*15`` in the cell space
    (``method.arch`` of the baselines ``grad_only`` / ``nets_only``)."""
    from .spaces import build_space

    params = dict(
        OmegaConf.to_container(space, resolve=True) if OmegaConf.is_config(space) else space
    )
    return str(build_space(params.pop("name"), **params).uniform(str(op), key="method.arch"))


def job_dir(override_dirname: str) -> str:
    """A multirun job's subfolder, named by its config: Hydra's ``override_dirname`` (the job's
    overrides, ``key=value`` joined by ``,``, sorted), with characters that cannot stand in one
    folder name replaced; beyond :data:`MAX_JOB_DIR` characters, cut and followed by a hash of
    the whole, so that two jobs never share a folder. A job without overrides is ``default``."""
    text = str(override_dirname) or "default"
    name = re.sub(r"[^A-Za-z0-9=,._+*@\[\]-]", "_", text)
    if len(name) > MAX_JOB_DIR or name != text:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        name = f"{name[: MAX_JOB_DIR - 9]}-{digest}"
    return name


OmegaConf.register_new_resolver("dasip.grid_spacing", grid_spacing, replace=True)
OmegaConf.register_new_resolver("dasip.job_dir", job_dir, replace=True)
OmegaConf.register_new_resolver("dasip.uniform_arch", uniform_arch, replace=True)
