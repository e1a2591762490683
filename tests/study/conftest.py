"""Small fixed record sets, written as ``record.json`` files as the trial runner writes them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dasip.record import TrialRecord

SPACE = {"name": "sequential", "n_layers": 10}


def make_record(
    *,
    seed: int,
    ops: str = "all",
    method: str = "das",
    data: str = "blur",
    one_shot: float | None = None,
    arch: float | None = None,
    status: str = "ok",
    time_s: float = 60.0,
    genotype: str | None = "grad*10",
    created: str = "2024-01-01T00:00:00+00:00",
    epochs: int = 2,
    logger: str = "none",
    **extra: Any,
) -> TrialRecord:
    config = {
        "data": {"name": data, "n": 50},
        "ops": {
            "name": ops,
            "names": ["grad", "net"] if ops == "good" else ["grad", "net", "roll", "noise"],
        },
        "space": dict(SPACE),
        "hparams": {"name": "H1", "alpha_lr": 1e-3},
        "method": {"name": method},
        "logger": {"name": logger},
        "trainer": {"enable_progress_bar": False},
        "seed": seed,
        "study": f"{method}-sequential",
        "epochs": epochs,
        "retrain_epochs": 1,
        "arch": None,
    }
    config.update(extra.pop("config", {}))
    return TrialRecord(
        study=f"{method}-sequential", seed=seed, method=method, data=data, ops=ops,
        space="sequential", hparams="H1", status=status, genotype=genotype,
        one_shot_psnr=one_shot, arch_psnr=arch, total_time_s=time_s, config=config,
        created=created, **extra,
    )  # fmt: skip


def write(root: Path, name: str, record: TrialRecord) -> Path:
    return record.write(root / name)


#: setting (das, sequential, all, blur, H1): seed -> (one-shot, arch, status, total time)
HAND_ALL = {
    0: (20.0, 25.0, "ok", 60.0),
    1: (22.0, 27.0, "ok", 70.0),
    2: (18.0, 24.0, "ok", 80.0),
    3: (8.0, 26.0, "ok", 65.0),  # degenerate one-shot PSNR
    4: (21.0, None, "diverged", 30.0),  # NaN architecture PSNR
    5: (None, None, "failed", 5.0),
    6: (23.0, 7.5, "diverged", 90.0),  # diverged, yet scored (degenerate)
}
#: setting (das, sequential, good, blur, H1)
HAND_GOOD = {
    0: (24.0, 28.0, "ok", 100.0),
    1: (25.0, 27.5, "ok", 110.0),
    2: (26.0, 29.0, "ok", 121.0),
    3: (23.5, 26.0, "ok", 95.0),
}
GENOTYPES = ["grad*10", "grad-net*9", "noise-roll-grad*2-net*6", "net*10", "grad*5-net*5"]


@pytest.fixture
def hand_study(tmp_path) -> Path:
    """Two DAS settings (op sets all / good) and a fixed-method setting, as a nested multirun."""
    root = tmp_path / "multirun"
    for ops, table in (("all", HAND_ALL), ("good", HAND_GOOD)):
        for seed, (one_shot, arch, status, t) in table.items():
            rec = make_record(
                seed=seed, ops=ops, one_shot=one_shot, arch=arch, status=status, time_s=t,
                genotype=GENOTYPES[seed % len(GENOTYPES)] if status != "failed" else None,
            )  # fmt: skip
            write(root, f"search/day1/{ops}-{seed}", rec)
    for seed, arch in ((0, 20.0), (1, 21.0)):
        rec = make_record(seed=seed, method="fixed", one_shot=None, arch=arch, genotype="grad*10")
        write(root, f"train/day1/{seed}", rec)
    (root / "search" / "day1" / "multirun.yaml").write_text("hydra: {}\n")
    return root


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def markdown_rows(text: str) -> list[list[str]]:
    """The cells of every row of the Markdown tables in ``text``, header rows too (not the
    alignment rows); an escaped ``\\|`` stays in its cell."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if len(line) > 1 and line[0] == line[-1] == "|":
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
    return rows


#: (method, ops) -> architecture PSNRs of seeds 0, 1, ...: DAS beats random search with the
#: harmful ops (all; one random run degenerate) and matches it with the good ops only; one
#: fixed trial; a diverged random trial without a PSNR in (random, all) is added by the fixture
COMPARE_STUDY = {
    ("das", "all"): [26.0, 27.0, 25.5, 28.0, 26.5],
    ("random", "all"): [18.0, 20.5, 19.0, 7.0, 21.0],
    ("das", "good"): [27.0, 28.0, 26.0, 27.5, 26.5],
    ("random", "good"): [26.8, 27.2, 26.2, 28.1, 26.4],
    ("fixed", "good"): [25.0],
}


@pytest.fixture
def compare_study(tmp_path) -> Path:
    """The records of :data:`COMPARE_STUDY`, one folder per trial."""
    root = tmp_path / "compare"
    for (method, ops), values in COMPARE_STUDY.items():
        for seed, arch in enumerate(values):
            rec = make_record(seed=seed, method=method, ops=ops, arch=arch)
            write(root, f"{method}-{ops}-{seed}", rec)
    rec = make_record(seed=9, method="random", ops="all", arch=None, status="diverged")
    write(root, "random-all-9", rec)
    return root
