"""A table's seed noise: some of its architectures retrained with other seeds under the table's
config (``method.genotypes``), and the report that sets the spread over seeds against the spread
over architectures."""

from __future__ import annotations

import math
import shlex

import pytest

from dasip import ground_truth as GT
from dasip.config import ConfigError
from dasip.ground_truth import noise
from dasip.ground_truth.__main__ import main
from dasip.trial import run_trial

from .conftest import gt_cfg


def test_the_selection_is_the_best_then_a_seeded_draw_of_the_rest(tiny_table):
    table = GT.read_table(tiny_table)
    picked = noise.selection(table, best=3, drawn=2, seed=0)
    best = list(table["arch_psnr"].astype(float).sort_values(ascending=False).index[:3])
    assert picked[:3] == best and len(set(picked)) == 5
    assert not set(picked[3:]) & set(best)
    assert noise.selection(table, 3, 2, seed=0) == picked  # the same list every time
    assert {tuple(noise.selection(table, 3, 2, seed=s)[3:]) for s in range(10)} != {
        tuple(picked[3:])
    }
    with pytest.raises(GT.GroundTruthError, match="only 5 other architectures"):
        noise.selection(table, best=3, drawn=6)


def test_the_command_trains_the_list_with_each_seed_under_the_tables_config(tiny_table):
    table = GT.read_table(tiny_table)
    args = shlex.split(noise.command(table, ["grad*3", "net*3"], [1, 2]))
    assert args[:3] == ["python", "search.py", "-m"]
    for wanted in ("seed=1,2", "method.genotypes=[grad*3,net*3]", "method.chunks=1",
                   "space.n_layers=3", "ops=good", "data=blur", "num_threads=1"):  # fmt: skip
        assert wanted in args, (wanted, args)


def test_a_genotype_list_is_trained_instead_of_a_chunk_and_reported_against_the_table(
    tiny_table, tmp_path, capsys
):
    table = GT.read_table(tiny_table)
    picked = noise.selection(table, best=2, drawn=1, seed=0)
    listed = f"method.genotypes=[{','.join(picked)}]"
    for seed in (1, 2):
        rec = run_trial(gt_cfg(listed, f"seed={seed}"), tmp_path / "sweep" / str(seed))
        assert rec.status == "ok" and rec.extra["ground_truth"]["genotypes"] == 3
    rows = noise.read_noise_rows([tmp_path / "sweep"])
    assert sorted(rows["genotype"]) == sorted(picked * 2)
    assert set(rows["config_hash"]) == {table.attrs["provenance"]["config_hash"]}

    report = noise.noise_report(table, rows, picked)
    assert report["retrained"] == 3 and report["seeds_per_architecture"] == [3]
    for p in report["per_architecture"]:
        assert p["seeds"] == [0, 1, 2] and p["table_psnr"] == table.loc[p["genotype"], "arch_psnr"]
        assert math.isfinite(p["std"]) and p["std"] > 0  # another seed, another PSNR
    assert report["std_over_architectures"] > 0
    assert 0 <= noise.top_kept(report, 2) <= 2

    # the command line: the same report, written beside the rows
    assert main(["noise", str(tiny_table), "--best", "2", "--random", "1",
                 "--sweep", str(tmp_path / "sweep")]) == 0  # fmt: skip
    assert "3 of 3 architectures retrained" in capsys.readouterr().out
    assert (tmp_path / "sweep" / "ground_truth_noise.json").is_file()


def test_rows_of_another_config_are_refused(tiny_table, tmp_path):
    table = GT.read_table(tiny_table)
    run_trial(gt_cfg("method.genotypes=[grad*3]", "seed=1", "retrain_epochs=2"), tmp_path / "r")
    with pytest.raises(GT.GroundTruthError, match="another config than the table's"):
        noise.noise_report(table, noise.read_noise_rows([tmp_path]), ["grad*3"])


@pytest.mark.parametrize(
    "overrides, match",
    [
        (["method.genotypes=[grad*3]", "method.chunks=2"], "method.genotypes is not allowed"),
        (["method.genotypes=[grad*4]"], "method.genotypes"),
        (["method.genotypes=[]"], "method.genotypes=\\[\\] is not allowed"),
    ],
)
def test_a_bad_genotype_list_is_rejected_before_any_work(overrides, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        run_trial(gt_cfg(*overrides), tmp_path)
    assert not list(tmp_path.iterdir())
