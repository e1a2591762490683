"""The ground truth of a small search space: every architecture trained under one config, so a
study can say how far a search's pick is from the best (docs/ground_truth.md).

Building it: ``python search.py -m +experiment=ground_truth`` runs the method ``ground_truth``
(:mod:`dasip.methods.ground_truth`): each job trains one chunk of the space's architectures and
writes a row per architecture into its run directory (:data:`ROWS_FILE`), resuming where it
stopped. :func:`collect` gathers the chunks into one compressed table with a provenance sidecar
(``python -m dasip.ground_truth collect SWEEP_DIR``); :func:`load` reads it back, indexed by
genotype. :func:`rank_agreement` compares a supernet's one-shot scores of every architecture
(:mod:`dasip.ground_truth.oneshot`) with the table.

This module imports no training code (torch is imported only to enumerate a space), so the study
report can read tables.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..record import JOB_KEY_IGNORE, RECORD_FILE, flatten, git_revision, job_key, read_record

#: a job's rows, one per trained architecture, appended as they finish (its run directory)
ROWS_FILE = "ground_truth_rows.csv"
#: a job's description: the config its rows are trained under, its chunk and its genotypes
JOB_FILE = "ground_truth_job.json"
#: the columns of a row and of the collected table (the table is indexed by ``genotype``)
COLUMNS = (
    "genotype",
    "arch_psnr",
    "status",
    "train_time_s",
    "seed",
    "config_hash",
    "dasip_version",
)
#: config keys that do not change how an architecture is trained and scored: besides the record's
#: (logging, threads, device, ...), the method and its keys, the study name, the search epochs,
#: the architecture and the seed (the table's seed is its own column)
HASH_IGNORE = (*JOB_KEY_IGNORE, "method", "study", "epochs", "arch", "record", "checkpoint", "seed")
#: the space and op set the tables of the issue are for: their names are ``<data>-<setup>``
CANONICAL = ("good", 10)
#: the most architectures a ground truth may have (a space beyond is a config error)
MAX_ARCHITECTURES = 1 << 16
#: where tables live in a source checkout, relative to the repository root
TABLE_DIR = Path("results") / "ground_truth"
TABLE_SUFFIX = ".csv.gz"
SIDECAR_SUFFIX = ".json"


class GroundTruthError(ValueError):
    """A table that is missing, incomplete or of another config; the message says which and
    what to do."""


class MissingTable(GroundTruthError, FileNotFoundError):
    """No ground-truth table where one was looked for."""


# -- identity -----------------------------------------------------------------------------------
def hashed_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The flattened keys of a resolved ``config`` that make a row of the table what it is: every
    key but :data:`HASH_IGNORE`."""
    return {
        k: v
        for k, v in flatten(config).items()
        if not any(k == i or k.startswith(i + ".") for i in HASH_IGNORE)
    }


def config_hash(config: Mapping[str, Any]) -> str:
    """The identity of the training config of a table's rows (16 hex digits): equal for two
    configs that train and score an architecture alike, whatever their method, study, search
    epochs or seed. ``config`` is a resolved dict, or an OmegaConf config (resolved here)."""
    from omegaconf import OmegaConf

    if OmegaConf.is_config(config):
        config = OmegaConf.to_container(config, resolve=True)
    return job_key({"config": dict(config)}, ignore=HASH_IGNORE)


def config_diff(a: Mapping[str, Any], b: Mapping[str, Any], most: int = 5) -> str:
    """``key=a (table: b), ...`` for the keys where two :func:`hashed_config` differ."""
    keys = sorted(set(a) | set(b))
    diff = [
        f"{k}={a.get(k, '<absent>')!r} (table: {b.get(k, '<absent>')!r})"
        for k in keys
        if json.dumps(a.get(k), default=str) != json.dumps(b.get(k), default=str)
    ]
    return ", ".join(diff[:most]) + (f", ... ({len(diff)} keys)" if len(diff) > most else "")


def table_name(data: str, setup: str, ops: str = "good", n_layers: int = 10) -> str:
    """``blur-default`` for the sequential space of 10 layers over the good ops; other spaces and
    op sets add both (``blur-default-good-3layers``), so a tiny table never takes the name of
    a full one."""
    name = f"{data}-{setup}"
    if (ops, int(n_layers)) != CANONICAL:
        name += f"-{ops}-{int(n_layers)}layers"
    return name


def name_of_config(config: Mapping[str, Any]) -> str:
    """:func:`table_name` of a resolved config (a record's or a trial's)."""
    setup = config.get("setup") or "default"
    return table_name(
        config["data"]["name"], setup, config["ops"]["name"], config["space"]["n_layers"]
    )


# -- the space ----------------------------------------------------------------------------------
def space_genotypes(config: Mapping[str, Any]) -> list[str]:
    """Every architecture of the config's space over its op set, as canonical genotype strings,
    in the space's enumeration order. Only the sequential space can be enumerated."""
    space = config["space"]
    if space["name"] != "sequential":
        raise GroundTruthError(
            f"space.name={space['name']!r}: only the sequential space can be enumerated"
        )
    from ..spaces import SequentialSpace

    seq = SequentialSpace(int(space["n_layers"]))
    size = seq.size(list(config["ops"]["names"]))
    if size > MAX_ARCHITECTURES:
        raise GroundTruthError(
            f"space.n_layers={space['n_layers']} over ops.names={list(config['ops']['names'])} "
            f"has {size} architectures; a ground truth takes at most {MAX_ARCHITECTURES}"
        )
    return [str(g) for g in seq.genotypes(list(config["ops"]["names"]))]


def chunk_of(genotypes: Sequence[str], chunk: int, chunks: int) -> list[str]:
    """Chunk ``chunk`` of ``chunks``: every ``chunks``-th genotype from the ``chunk``-th, so the
    chunks are balanced in the ops they train and together hold every genotype once."""
    if not 0 <= chunk < chunks:
        raise GroundTruthError(f"chunk {chunk} of {chunks}: allowed 0 <= chunk < chunks")
    return list(genotypes[chunk::chunks])


# -- rows of a job ------------------------------------------------------------------------------
def read_rows(path: str | Path) -> pd.DataFrame:
    """The rows of a job's :data:`ROWS_FILE` (or of a collected table), an empty frame with
    :data:`COLUMNS` when there is no file. A row cut off by a stop is dropped."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=list(COLUMNS))
    df = pd.read_csv(path, dtype={"genotype": str, "config_hash": str, "status": str})
    df = df.dropna(subset=["genotype", "config_hash", "status"])
    return df[list(COLUMNS)]


def append_row(path: str | Path, row: Mapping[str, Any]) -> None:
    """Append one row to a job's rows (with the header when the file is new), flushed, so a stop
    loses at most the architecture being trained."""
    path = Path(path)
    new = not path.is_file() or path.stat().st_size == 0
    with path.open("a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(COLUMNS)
        writer.writerow([_cell(row.get(c)) for c in COLUMNS])
        f.flush()


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""  # repr: the float read back is the same
    return "" if v is None else v


# -- collect ------------------------------------------------------------------------------------
def _jobs(paths: Iterable[str | Path]) -> list[Path]:
    found: dict[Path, None] = {}
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise GroundTruthError(f"{p}: no such file or directory")
        for f in sorted([p / JOB_FILE] if (p / JOB_FILE).is_file() else p.rglob(JOB_FILE)):
            found[f.parent.resolve()] = None
    if not found:
        raise GroundTruthError(
            f"no ground-truth job (no {JOB_FILE}) under {', '.join(map(str, paths))}; run "
            "python search.py -m +experiment=ground_truth first"
        )
    return list(found)


def collect(
    paths: Iterable[str | Path],
    out: str | Path | None = None,
    root: str | Path | None = None,
    partial: bool = False,
    command: str | None = None,
) -> Path:
    """Gather the rows of the ground-truth jobs under ``paths`` (sweep or run directories) into
    one table, ``out`` (default: ``<root>/<name>.csv.gz``, :func:`table_name` of the jobs'
    config, ``root`` :func:`default_root`), with its sidecar ``<name>.json``. Returns the path.

    The jobs must share one config (:func:`config_hash`) and one chunking, and together hold
    every architecture of the space (else a :class:`GroundTruthError` names the missing chunks;
    ``partial=True`` writes what there is). A genotype found twice counts once.
    """
    paths = list(paths)
    jobs = _jobs(paths)
    infos = [json.loads((d / JOB_FILE).read_text()) for d in jobs]
    hashes = sorted({i["config_hash"] for i in infos})
    if len(hashes) > 1:
        raise GroundTruthError(
            f"the jobs under {', '.join(map(str, paths))} are of {len(hashes)} configs "
            f"({', '.join(hashes)}): collect one ground truth at a time"
        )
    chunkings = sorted({i["chunks"] for i in infos})
    if len(chunkings) > 1:
        raise GroundTruthError(f"the jobs split the space in different chunks: {chunkings}")
    info = infos[0]
    frames = []
    for d in jobs:
        rows = read_rows(d / ROWS_FILE)
        frames.append(rows[rows["config_hash"] == info["config_hash"]])
    rows = pd.concat(frames, ignore_index=True).drop_duplicates("genotype", keep="first")
    order = space_genotypes(info["config"])
    missing = [g for g in order if g not in set(rows["genotype"])]
    if missing and not partial:
        chunks = int(info["chunks"])
        done = {int(i["chunk"]) for i in infos}
        short = sorted({order.index(g) % chunks for g in missing})
        raise GroundTruthError(
            f"{len(missing)} of {len(order)} architectures have no row (chunks "
            f"{', '.join(map(str, short[:20]))}{' ...' if len(short) > 20 else ''} of {chunks} "
            f"are unfinished{'' if done >= set(range(chunks)) else ' or were not run'}); "
            "rerun the sweep (it resumes), or collect --partial"
        )
    position = {g: i for i, g in enumerate(order)}
    rows = rows.assign(_pos=rows["genotype"].map(position)).sort_values("_pos")
    rows = rows.drop(columns="_pos").reset_index(drop=True)
    name = name_of_config(info["config"])
    path = Path(out) if out is not None else Path(root or default_root()) / (name + TABLE_SUFFIX)
    if not path.name.endswith(TABLE_SUFFIX):
        raise GroundTruthError(f"--out {path}: a table's name ends in {TABLE_SUFFIX}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime 0: the same rows give the same bytes
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(rows.to_csv(index=False, float_format=None).encode())
    seconds = rows["train_time_s"].astype(float)
    walls = [read_record(d).get("total_time_s") for d in jobs if (d / RECORD_FILE).is_file()]
    cfg = info["config"]
    sidecar = {
        "name": name,
        "table": path.name,
        "architectures": len(rows),
        "space_size": len(order),
        "missing": len(missing),
        "data": cfg["data"]["name"],
        "setup": cfg.get("setup") or "default",
        "ops": cfg["ops"]["name"],
        "ops_names": list(cfg["ops"]["names"]),
        "space": cfg["space"]["name"],
        "n_layers": int(cfg["space"]["n_layers"]),
        "hparams": cfg["hparams"]["name"],
        "retrain_epochs": int(cfg["retrain_epochs"]),
        "seed": int(info["seed"]),
        "config_hash": info["config_hash"],
        "config": hashed_config(cfg),
        "chunks": int(info["chunks"]),
        # a PSNR changes with the number of threads (the rounding of reductions): a lookup
        # equals a retraining run with these
        "threads": sorted({i.get("threads") for i in infos if i.get("threads") is not None}),
        "jobs": [str(d) for d in jobs],
        "command": command if command is not None else " ".join(sys.argv),
        "commit": git_revision(),
        "dasip_version": _version(),
        "created": datetime.now(timezone.utc).isoformat(),
        "timings": {
            "train_s_total": float(seconds.sum()),
            "train_s_mean": float(seconds.mean()) if len(seconds) else None,
            "train_s_min": float(seconds.min()) if len(seconds) else None,
            "train_s_max": float(seconds.max()) if len(seconds) else None,
            "jobs_s_total": float(sum(w for w in walls if w is not None)),
        },
    }
    sidecar_path(path).write_text(json.dumps(sidecar, indent=1, default=str) + "\n")
    return path


def sidecar_path(table: str | Path) -> Path:
    table = Path(table)
    return table.with_name(table.name.removesuffix(TABLE_SUFFIX) + SIDECAR_SUFFIX)


def _version() -> str:
    from .. import __version__

    return __version__


# -- load ---------------------------------------------------------------------------------------
def default_root() -> Path:
    """Where tables live: ``results/ground_truth`` of the source checkout this package is
    installed from (found relative to the package, so it works from any directory), else of the
    current directory."""
    repo = Path(__file__).resolve().parents[3]
    if (repo / "pyproject.toml").is_file() and (repo / "src" / "dasip").is_dir():
        return repo / TABLE_DIR
    return Path.cwd() / TABLE_DIR


def _roots(root: str | Path | None) -> list[Path]:
    if root is not None:
        return [Path(root)]
    return list(dict.fromkeys([default_root(), (Path.cwd() / TABLE_DIR).resolve()]))


def read_table(path: str | Path) -> pd.DataFrame:
    """The table at ``path`` (a ``.csv.gz`` written by :func:`collect`), indexed by genotype;
    ``attrs`` holds ``path``, ``name`` and ``provenance`` (the sidecar, ``{}`` without one)."""
    path = Path(path)
    if not path.is_file():
        raise MissingTable(f"no ground-truth table at {path}")
    df = read_rows(path).set_index("genotype")
    side = sidecar_path(path)
    df.attrs["path"] = str(path)
    df.attrs["name"] = path.name.removesuffix(TABLE_SUFFIX)
    df.attrs["provenance"] = json.loads(side.read_text()) if side.is_file() else {}
    return df


def available(root: str | Path | None = None) -> list[str]:
    """The names of the tables in the places :func:`load` looks."""
    names = {
        p.name.removesuffix(TABLE_SUFFIX) for r in _roots(root) for p in r.glob("*" + TABLE_SUFFIX)
    }
    return sorted(names)


def load(
    data: str = "blur",
    setup: str = "default",
    *,
    ops: str = "good",
    n_layers: int = 10,
    root: str | Path | None = None,
) -> pd.DataFrame:
    """The ground-truth table of ``data`` under ``setup`` (the sequential space of ``n_layers``
    layers over the op set ``ops``): one row per architecture, indexed by its canonical genotype
    string (``grad*9-net``), with ``arch_psnr``, ``status``, ``train_time_s``, ``seed``,
    ``config_hash`` and ``dasip_version``; ``attrs["provenance"]`` is the sidecar.

    Looks in ``root``, else in ``results/ground_truth`` of the source checkout and of the
    current directory; raises :class:`MissingTable` naming what it looked for and how to build it.
    """
    name = table_name(data, setup, ops, n_layers)
    tried = [r / (name + TABLE_SUFFIX) for r in _roots(root)]
    for path in tried:
        if path.is_file():
            return read_table(path)
    have = available(root)
    raise MissingTable(
        f"no ground-truth table {name!r} (data={data}, setup={setup}, ops={ops}, "
        f"{n_layers} layers): looked for {', '.join(map(str, tried))}; available: "
        f"{', '.join(have) or 'none'}. Build it: python search.py -m +experiment=ground_truth "
        f"data={data} setup={setup} hydra/launcher=local, then python -m dasip.ground_truth "
        f"collect <its sweep dir> (docs/ground_truth.md)"
    )


def find_table(spec: str, root: str | Path | None = None) -> pd.DataFrame:
    """A table by ``spec``: the path of a ``.csv.gz``, or ``DATA/SETUP`` (:func:`load`)."""
    path = Path(spec)
    if path.is_file() or spec.endswith(TABLE_SUFFIX):
        return read_table(path)
    if spec.count("/") == 1 and all(spec.split("/")):
        data, setup = spec.split("/")
        return load(data, setup, root=root)
    raise GroundTruthError(
        f"{spec!r} is neither a table file ({TABLE_SUFFIX}) nor DATA/SETUP (e.g. blur/default)"
    )


_CACHE: dict[tuple[str, float], pd.DataFrame] = {}


def cached_table(path: str | Path) -> pd.DataFrame:
    """:func:`read_table`, read once per process and file version (a multirun of lookups)."""
    path = Path(path).resolve()
    key = (str(path), path.stat().st_mtime if path.is_file() else -1.0)
    if key not in _CACHE:
        _CACHE[key] = read_table(path)
    return _CACHE[key]


def table_for_config(
    config: Mapping[str, Any], spec: str | None = None, root: str | Path | None = None
) -> pd.DataFrame:
    """The table a trial of ``config`` reads (``method.table``: ``spec``, else the one named
    after its data, setup, op set and space), checked to be complete and of the trial's
    training config (:func:`config_hash`); a :class:`GroundTruthError` says what differs."""
    if spec is not None:
        table = find_table(spec, root)
        table = cached_table(table.attrs["path"])
    else:
        name = name_of_config(config)
        paths = [r / (name + TABLE_SUFFIX) for r in _roots(root)]
        hit = next((p for p in paths if p.is_file()), None)
        if hit is None:
            load(
                config["data"]["name"], config.get("setup") or "default",
                ops=config["ops"]["name"], n_layers=config["space"]["n_layers"], root=root,
            )  # fmt: skip  # raises MissingTable with the message
        table = cached_table(hit)
    prov = table.attrs.get("provenance") or {}
    mine = hashed_config(config)
    if prov.get("config_hash") is not None and prov["config_hash"] != config_hash(config):
        raise GroundTruthError(
            f"the table {table.attrs['path']} was trained under another config; differs in: "
            f"{config_diff(mine, prov.get('config') or {})}"
        )
    genotypes = space_genotypes(config)
    missing = [g for g in genotypes if g not in table.index]
    if missing:
        raise GroundTruthError(
            f"the table {table.attrs['path']} lacks {len(missing)} of the space's "
            f"{len(genotypes)} architectures (e.g. {missing[0]})"
        )
    return table


# -- comparing scores with the table --------------------------------------------------------------
def rank_agreement(
    scores: Mapping[str, float], table: pd.DataFrame, ks: Sequence[int] = (1, 5, 10, 50)
) -> dict[str, Any]:
    """How well ``scores`` (e.g. one-shot PSNRs, genotype -> score) rank the architectures of
    ``table``: Kendall tau-b and Spearman rho over the genotypes in both with finite values,
    the top-k overlap (the share of the k best by score that are among the k best by the table)
    for each ``k`` not above that number, and where the table ranks the score's best."""
    from scipy import stats as sps

    common = [g for g in scores if g in table.index]
    s = np.array([scores[g] for g in common], float)
    t = table.loc[common, "arch_psnr"].to_numpy(float)
    ok = np.isfinite(s) & np.isfinite(t)
    s, t, genotypes = s[ok], t[ok], [g for g, keep in zip(common, ok, strict=True) if keep]
    n = len(genotypes)
    out: dict[str, Any] = {"n": n, "kendall": math.nan, "spearman": math.nan, "top_k": {}}
    if n >= 2 and np.ptp(s) > 0 and np.ptp(t) > 0:
        out["kendall"] = float(sps.kendalltau(s, t).statistic)
        out["spearman"] = float(sps.spearmanr(s, t).statistic)
    by_score, by_table = np.argsort(-s, kind="stable"), np.argsort(-t, kind="stable")
    for k in ks:
        if 1 <= k <= n:
            out["top_k"][int(k)] = len(set(by_score[:k]) & set(by_table[:k])) / k
    if n:
        best = genotypes[int(by_score[0])]
        out["score_best"] = best
        out["score_best_table_rank"] = int((t > table.loc[best, "arch_psnr"]).sum() + 1)
        out["table_best"] = genotypes[int(by_table[0])]
    return out


__all__ = [
    "COLUMNS",
    "GroundTruthError",
    "MissingTable",
    "available",
    "chunk_of",
    "collect",
    "config_hash",
    "find_table",
    "load",
    "rank_agreement",
    "read_table",
    "space_genotypes",
    "table_for_config",
    "table_name",
]
