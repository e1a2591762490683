"""One trial, one record: the result of every trial as one JSON line (docs/study.md)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

RECORD_FILE = "record.json"
STATUSES = ("ok", "diverged", "failed", "pruned")
_VERSIONED = ("dasip", "torch", "pytorch-lightning", "hydra-core", "omegaconf", "wandb", "numpy")


@dataclass
class TrialRecord:
    """Everything a study needs about one trial; reports read these, never logs."""

    study: str
    seed: int
    method: str
    data: str
    ops: str
    space: str
    hparams: str
    status: str = "ok"
    genotype: str | None = None
    one_shot_psnr: float | None = None
    arch_psnr: float | None = None
    search_time_s: float = 0.0
    train_time_s: float = 0.0
    total_time_s: float = 0.0
    search_epochs: int | None = None
    retrain_epochs: int | None = None
    alpha_probs: list[list[float]] | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    git_rev: str | None = None
    run_dir: str | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    def to_dict(self) -> dict[str, Any]:
        return _finite_or_none(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False, allow_nan=False)

    def summary(self) -> dict[str, Any]:
        """The scalar fields, for a W&B run summary or a one-line print."""
        d = self.to_dict()
        return {k: v for k, v in d.items() if k not in ("config", "alpha_probs", "extra")}

    def write(self, run_dir: str | Path) -> Path:
        path = Path(run_dir) / RECORD_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json() + "\n")
        tmp.replace(path)
        return path


def read_record(path: str | Path) -> dict[str, Any]:
    """Read a record from its file or from the run directory holding it.

    The file holds one JSON object (written on one line, or spread over several); of a
    JSON-lines file (one record a line) the last line is the current record. Raises
    :class:`FileNotFoundError` when there is no file, :class:`ValueError` saying why when the
    file is not a record (empty, not JSON, not a JSON object).
    """
    path = Path(path)
    if path.is_dir():
        path = path / RECORD_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no trial record at {path}")
    text = path.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty file")
    try:
        rec = json.loads(text)
    except json.JSONDecodeError:
        try:
            rec = json.loads(lines[-1])
        except json.JSONDecodeError as e:
            raise ValueError(f"not JSON: {e}") from e
    if not isinstance(rec, dict):
        raise ValueError("not a JSON object")
    return rec


def _finite_or_none(obj: Any) -> Any:
    """JSON has no NaN: non-finite floats become ``null``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    return obj


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in _VERSIONED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def git_revision() -> str | None:
    """The project's git revision (``+dirty`` when the tree has changes), if it is a checkout."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


# -- the identity of a job ---------------------------------------------------------------------
#: the fields that name a job when a record carries no config
CORE_FIELDS = ("study", "method", "data", "ops", "space", "hparams", "seed")
#: config keys that do not change what a trial computes: a rerun that differs only in these is
#: the same job (dotted paths; a key also covers everything below it)
JOB_KEY_IGNORE = (
    "logger",
    "trainer.enable_progress_bar",
    "trainer.enable_model_summary",
    "trainer.log_every_n_steps",
    "trainer.check_val_every_n_epoch",
    "trainer.accelerator",
    "trainer.devices",
    "method.log_alphas",
    "num_threads",
    "compile",
    "save_model",
    "raise_on_failure",
    "resume",
    "resume_from",
    "checkpoints",
)


def flatten(d: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}} -> {"a.b": 1}``; lists are leaves."""
    out: dict[str, Any] = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _ignored(key: str, ignore: Iterable[str]) -> bool:
    return any(key == k or key.startswith(k + ".") for k in ignore)


def job_key(record: Mapping[str, Any], ignore: Iterable[str] = JOB_KEY_IGNORE) -> str:
    """The identity of the job a record comes from.

    Two records are reruns of the same job when their resolved configs are equal once the keys
    in ``ignore`` (logging, progress bars, threads, device: nothing that changes what is
    computed) are removed. The config holds the study name, method, data, ops, space, hparams,
    seed, epochs and every other override. A record without a config falls back to its
    :data:`CORE_FIELDS`.
    """
    config = record.get("config") or {}
    if config:
        flat = {k: v for k, v in flatten(config).items() if not _ignored(k, ignore)}
        text = json.dumps(flat, sort_keys=True, default=str)
    else:
        text = json.dumps({k: record.get(k) for k in CORE_FIELDS}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]
