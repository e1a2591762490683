"""The ground-truth command's method, chunking, resume, collect and loader on the tiny space."""

from __future__ import annotations

import gzip
import json
import math

import pandas as pd
import pytest

from dasip import ground_truth as GT
from dasip.config import ConfigError
from dasip.record import read_record
from dasip.spaces import SequentialSpace
from dasip.trial import build, run_trial

from ..conftest import compose_cfg
from .conftest import gt_cfg

EIGHT = ["grad*3", "grad*2-net", "grad-net-grad", "grad-net*2",
         "net-grad*2", "net-grad-net", "net*2-grad", "net*3"]  # fmt: skip


def test_the_space_is_enumerated_in_a_fixed_order_and_chunks_split_it_exactly():
    genotypes = [str(g) for g in SequentialSpace(3).genotypes(["grad", "net"])]
    assert genotypes == EIGHT
    assert SequentialSpace(10).size(["grad", "net"]) == 1024
    chunks = [GT.chunk_of(genotypes, i, 3) for i in range(3)]
    assert chunks[0] == ["grad*3", "grad-net*2", "net*2-grad"]  # 0, 3, 6
    assert sorted(sum(chunks, [])) == sorted(genotypes)
    with pytest.raises(GT.GroundTruthError, match="chunk 3 of 3"):
        GT.chunk_of(genotypes, 3, 3)


def test_the_collected_table_has_every_architecture_once_with_its_provenance(tiny_table):
    assert tiny_table.name == "blur-default-good-3layers.csv.gz"
    table = GT.load("blur", "default", ops="good", n_layers=3, root=tiny_table.parent)
    assert list(table.index) == EIGHT and table.index.name == "genotype"
    assert list(table.columns) == list(GT.COLUMNS[1:])
    assert table["arch_psnr"].map(math.isfinite).all() and (table["status"] == "ok").all()
    assert table["arch_psnr"].nunique() == 8  # eight trainings, not one copied
    assert (table["seed"] == 0).all() and table["config_hash"].nunique() == 1
    prov = table.attrs["provenance"]
    assert prov["architectures"] == prov["space_size"] == 8 and prov["missing"] == 0
    assert prov["config_hash"] == table["config_hash"].iloc[0]
    assert prov["command"] == "test" and prov["chunks"] == 2 and prov["retrain_epochs"] == 1
    assert prov["timings"]["train_s_total"] == pytest.approx(table["train_time_s"].sum())
    # the file is gzip, and the same rows give the same bytes (mtime 0)
    with gzip.open(tiny_table, "rt") as f:
        assert f.readline().strip() == ",".join(GT.COLUMNS)


def test_a_job_record_keeps_its_chunk_best_and_counts(tiny_table):
    sweep = tiny_table.parent.parent / "sweep"
    table = GT.read_table(tiny_table)
    for chunk in (0, 1):
        rec = read_record(sweep / str(chunk))
        mine = table.loc[GT.chunk_of(EIGHT, chunk, 2), "arch_psnr"]
        assert rec["status"] == "ok" and rec["genotype"] == mine.idxmax()
        assert rec["arch_psnr"] == mine.max()
        info = rec["extra"]["ground_truth"]
        assert (info["chunk"], info["chunks"], info["genotypes"]) == (chunk, 2, 4)
        assert (info["trained"], info["resumed"]) == (4, 0)


def test_a_restarted_job_never_retrains_a_finished_row(tmp_path):
    cfg = gt_cfg("method.chunks=2", "method.chunk=1")
    digest = GT.config_hash(build(cfg, tmp_path).cfg)
    from omegaconf import OmegaConf

    assert digest == GT.config_hash(OmegaConf.to_container(cfg, resolve=True))
    # a stop after two rows (marked by impossible PSNRs), a row cut off mid-write and a row of
    # another config
    rows = tmp_path / GT.ROWS_FILE
    for g, psnr in (("grad*2-net", 99.0), ("grad-net*2", 98.0)):
        GT.append_row(rows, {"genotype": g, "arch_psnr": psnr, "status": "ok",
                             "train_time_s": 1.0, "seed": 0, "config_hash": digest})  # fmt: skip
    GT.append_row(rows, {"genotype": "net*3", "arch_psnr": 97.0, "status": "ok",
                         "train_time_s": 1.0, "seed": 0, "config_hash": "another"})  # fmt: skip
    with rows.open("a") as f:
        f.write("net*2-g")
    rec = run_trial(cfg, tmp_path)
    assert rec.extra["ground_truth"]["resumed"] == 2 and rec.extra["ground_truth"]["trained"] == 2
    got = GT.read_rows(rows).set_index("genotype")
    assert sorted(got.index) == sorted(GT.chunk_of(EIGHT, 1, 2))
    assert got.loc["grad*2-net", "arch_psnr"] == 99.0 and got.loc["grad-net*2", "arch_psnr"] == 98.0
    assert got.loc["net*3", "arch_psnr"] < 90 and (got["config_hash"] == digest).all()
    assert rec.genotype == "grad*2-net" and rec.arch_psnr == 99.0


def test_collect_names_the_missing_chunks_and_writes_a_partial_table_only_when_asked(
    tiny_table, tmp_path
):
    sweep = tiny_table.parent.parent / "sweep"
    with pytest.raises(
        GT.GroundTruthError, match=r"4 of 8 architectures have no row \(chunks 1 of 2"
    ):
        GT.collect([sweep / "0"], root=tmp_path)
    path = GT.collect([sweep / "0"], out=tmp_path / "part.csv.gz", partial=True)
    part = GT.read_table(path)
    assert list(part.index) == GT.chunk_of(EIGHT, 0, 2) and part.attrs["provenance"]["missing"] == 4
    with pytest.raises(GT.GroundTruthError, match="no ground-truth job"):
        GT.collect([tmp_path / "part.csv.gz"])


def test_load_says_what_is_missing_and_how_to_build_it(tiny_table, tmp_path):
    with pytest.raises(GT.MissingTable) as e:
        GT.load("downsampling", "paper", root=tiny_table.parent)
    msg = str(e.value)
    assert "'downsampling-paper'" in msg and "blur-default-good-3layers" in msg
    assert "+experiment=ground_truth" in msg and "collect" in msg
    assert isinstance(e.value, FileNotFoundError)
    assert GT.find_table(str(tiny_table)).attrs["name"] == "blur-default-good-3layers"
    with pytest.raises(GT.GroundTruthError, match="neither a table file"):
        GT.find_table("blur")


def test_the_default_root_is_the_checkouts_results_folder(monkeypatch, tmp_path):
    from tests.conftest import ROOT

    assert GT.default_root() == ROOT / "results" / "ground_truth"
    monkeypatch.chdir(tmp_path)  # found from the package, not the current directory
    assert GT.default_root() == ROOT / "results" / "ground_truth"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (
            ["space.n_layers=3", "method.chunks=2", "method.chunk=2"],
            "method.chunk=2 is not allowed with method.chunks=2",
        ),
        (["space.n_layers=3", "method.chunks=9"], "method.chunks=9 is more than the space's 8"),
        (["method.chunk=-1"], "method.chunk=-1"),
        (["space=cell", "space.n_states=2"], "space.name='cell' is not allowed with method=gr"),
        (["space.n_layers=17"], "has 131072 architectures; a ground truth takes at most 65536"),
    ],
)
def test_bad_chunks_and_spaces_are_rejected_before_any_work(overrides, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        cfg = compose_cfg(overrides=["method=ground_truth", "ops=good", *overrides])
        run_trial(cfg, tmp_path)
    assert not list(tmp_path.iterdir())


def test_rows_round_trip_exactly(tmp_path):
    x = 23.456789012345678
    GT.append_row(tmp_path / "r.csv", {"genotype": "grad*3", "arch_psnr": x, "status": "ok",
                                       "train_time_s": 1.5, "seed": 0, "config_hash": "h"})  # fmt: skip
    GT.append_row(tmp_path / "r.csv", {"genotype": "net*3", "arch_psnr": float("nan"),
                                       "status": "diverged", "train_time_s": 1.5, "seed": 0,
                                       "config_hash": "h"})  # fmt: skip
    rows = GT.read_rows(tmp_path / "r.csv")
    assert rows["arch_psnr"].iloc[0] == x and pd.isna(rows["arch_psnr"].iloc[1])
    assert json.dumps(list(rows.columns)) == json.dumps(list(GT.COLUMNS))
