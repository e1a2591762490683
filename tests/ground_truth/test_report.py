"""report.py --ground-truth: rank, percentile and regret of a study's picks in a tiny table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dasip import ground_truth as GT
from dasip.study.ground_truth import placement
from dasip.study.report import main as report_main

from ..study.conftest import make_record, write

TINY_CONFIG = {"space": {"name": "sequential", "n_layers": 3}}


def test_placement_ranks_against_every_architecture_with_nan_the_worst():
    psnrs = np.array([10.0, 30.0, 20.0, np.nan])
    assert placement(30.0, psnrs) == {"rank": 1, "n_architectures": 4, "percentile": 100.0,
                                      "regret": 0.0, "best_psnr": 30.0}  # fmt: skip
    low = placement(10.0, psnrs)
    assert (low["rank"], low["percentile"], low["regret"]) == (3, 50.0, 20.0)
    nan = placement(float("nan"), psnrs)
    assert nan["rank"] == 4 and nan["percentile"] == 25.0 and np.isnan(nan["regret"])


@pytest.fixture
def study(tiny_table, tmp_path):
    """DAS picks the best, the worst and the best again; random sampling two others; one DAS
    trial of 10 layers (another space) and one without a genotype."""
    table = GT.read_table(tiny_table)
    order = list(table["arch_psnr"].sort_values(ascending=False).index)
    picks = {("das", 0): order[0], ("das", 1): order[-1], ("das", 2): order[0],
             ("random_sampling", 0): order[2], ("random_sampling", 1): order[5]}  # fmt: skip
    root = tmp_path / "study"
    for (method, seed), g in picks.items():
        rec = make_record(seed=seed, method=method, ops="good", genotype=g, arch=20.0,
                          one_shot=15.0 if method == "das" else None, config=TINY_CONFIG)  # fmt: skip
        write(root, f"{method}-{seed}", rec)
    write(root, "other", make_record(seed=9, ops="good", genotype="grad*10", arch=20.0))
    write(root, "none", make_record(seed=8, ops="good", genotype=None, status="failed",
                                    config=TINY_CONFIG))  # fmt: skip
    return root, table, order


def test_the_report_places_each_pick_and_summarises_per_setting(study, tiny_table, tmp_path):
    root, table, order = study
    out = tmp_path / "report"
    assert report_main([str(root), "--out", str(out), "--ground-truth", str(tiny_table),
                        "--n-boot", "50", "--no-pictures"]) == 0  # fmt: skip
    trials = pd.read_csv(out / "ground_truth_trials.csv")
    assert len(trials) == 5 and set(trials["table"]) == {"blur-default-good-3layers"}
    best = table["arch_psnr"].max()
    das = trials[trials["method"] == "das"].set_index("seed")
    assert list(das.loc[[0, 1, 2], "rank"]) == [1, 8, 1]
    assert das.loc[1, "regret"] == pytest.approx(best - table.loc[order[-1], "arch_psnr"])
    assert list(das.loc[[0, 1, 2], "percentile"]) == [100.0, 12.5, 100.0]
    rs = trials[trials["method"] == "random_sampling"].set_index("seed")
    assert list(rs.loc[[0, 1], "rank"]) == [3, 6]
    summary = pd.read_csv(out / "ground_truth.csv").set_index("method")
    assert summary.loc["das", "trials"] == 3 and summary.loc["das", "found_best"] == 2
    assert (
        summary.loc["das", "rank_median"] == 1
        and summary.loc["random_sampling", "rank_median"] == 4.5
    )
    assert summary.loc["das", "regret_max"] == pytest.approx(das.loc[1, "regret"])
    assert summary.loc["das", "n_architectures"] == 8
    assert (out / "ground_truth" / "blur-default-good-3layers.png").stat().st_size > 1000
    index = (out / "index.md").read_text()
    assert "## Against the ground truth" in index and "rank [q25, q75]" in index
    assert "1 trial(s) are of another data, setup, op set or space than the table" in index
    assert "ground_truth/blur-default-good-3layers.png" in index
    assert "| das " in (out / "ground_truth.md").read_text()


def test_without_a_value_each_trial_finds_its_own_table(study, tiny_table, tmp_path, monkeypatch):
    root, _, _ = study
    monkeypatch.setattr(GT, "_roots", lambda root: [tiny_table.parent])
    out = tmp_path / "report"
    assert report_main([str(root), "--out", str(out), "--ground-truth", "--n-boot", "50",
                        "--no-pictures"]) == 0  # fmt: skip
    assert len(pd.read_csv(out / "ground_truth_trials.csv")) == 5
    assert "no ground-truth table 'blur-default'" in (out / "index.md").read_text()


def test_no_placeable_trial_and_a_bad_spec_are_errors(study, tmp_path, capsys, monkeypatch):
    root, _, _ = study
    monkeypatch.setattr(GT, "_roots", lambda root: [tmp_path / "none"])
    assert report_main([str(root), "--out", str(tmp_path / "r"), "--ground-truth"]) == 2
    assert "no trial's genotype is in a ground-truth table" in capsys.readouterr().err
    assert report_main([str(root), "--out", str(tmp_path / "r"), "--ground-truth", "blur"]) == 2
    assert "neither a table file" in capsys.readouterr().err
