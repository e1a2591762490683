"""Lookups (method.score=table) equal real retrainings; the supernet's one-shot scores of every
architecture (method.rank_space) and their agreement with the table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from dasip import ground_truth as GT
from dasip.config import ConfigError
from dasip.ground_truth.__main__ import main as gt_main
from dasip.ground_truth.oneshot import one_hot_alpha, one_shot_scores
from dasip.spaces import SequentialNet
from dasip.trial import build, run_trial

from ..conftest import compose_cfg
from .conftest import TINY


def _cfg(*overrides: str):
    return compose_cfg(overrides=[*TINY, *overrides])


@pytest.mark.parametrize("method", ["random_sampling", "random_search"])
def test_a_lookup_equals_a_real_retraining_of_the_same_genotype_and_seed(
    method, tiny_table, tmp_path
):
    k = ["method.k=3"] if method == "random_search" else []
    trained = run_trial(_cfg(f"method={method}", *k), tmp_path / "train")
    looked = run_trial(
        _cfg(f"method={method}", *k, "method.score=table", f"method.table={tiny_table}"),
        tmp_path / "lookup",
    )
    assert looked.status == trained.status == "ok"
    assert looked.genotype == trained.genotype
    assert looked.arch_psnr == trained.arch_psnr  # exactly: the same training
    assert looked.train_time_s == 0.0 and "score" not in trained.extra
    assert looked.extra["score"] == "table"
    assert looked.extra["lookup"]["table"] == str(tiny_table)
    assert looked.extra["lookup"]["table_seed"] == 0
    assert not (tmp_path / "lookup" / "model.pt").exists()
    if method == "random_search":
        assert (
            looked.extra["candidates"][0]["genotype"] == trained.extra["candidates"][0]["genotype"]
        )
        assert [c["arch_psnr"] for c in looked.extra["candidates"]] == [
            c["arch_psnr"] for c in trained.extra["candidates"]
        ]


def test_lookup_trials_train_nothing(tiny_table, tmp_path, monkeypatch):
    import pytorch_lightning as pl

    def no_training(*args, **kwargs):
        raise AssertionError("a lookup trial must not train")

    monkeypatch.setattr(pl.Trainer, "fit", no_training)
    table = GT.read_table(tiny_table)
    seen = set()
    for seed in range(20):
        cfg = _cfg("method=random_sampling", f"seed={seed}", "method.score=table",
                   f"method.table={tiny_table}", "save_model=false")  # fmt: skip
        rec = run_trial(cfg, tmp_path / str(seed))
        assert rec.status == "ok"
        assert rec.arch_psnr == table.loc[rec.genotype, "arch_psnr"]
        assert rec.train_time_s == 0
        seen.add(rec.genotype)
    assert len(seen) > 4  # the draws differ by seed


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["method.table=/nowhere/x.csv.gz"], "no ground-truth table at /nowhere/x.csv.gz"),
        ([], "no ground-truth table 'blur-default-good-3layers'"),
        (
            ["retrain_epochs=2", "TABLE"],
            r"another config; differs in: retrain_epochs=2 \(table: 1\)",
        ),
        (["space.n_layers=4", "TABLE"], "another config; differs in: space.n_layers=4"),
    ],
)
def test_a_lookup_without_a_matching_table_is_rejected_before_any_work(
    overrides, match, tiny_table, tmp_path, monkeypatch
):
    monkeypatch.setattr(GT, "_roots", lambda root: [tmp_path / "none"])
    overrides = [f"method.table={tiny_table}" if o == "TABLE" else o for o in overrides]
    with pytest.raises(ConfigError, match=match):
        run_trial(_cfg("method=random_sampling", "method.score=table", *overrides), tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_one_hot_alphas_score_the_supernet_path_as_the_derived_net_with_its_weights(tmp_path):
    cfg = _cfg("method=das", "epochs=1", "method.retrain=false")
    ctx = build(cfg, tmp_path)
    torch.manual_seed(0)
    body = ctx.space.supernet(ctx.op_context(), ctx.op_names)
    with torch.no_grad():  # trained-looking, distinct weights and alphas
        for p in body.weight_parameters():
            p.add_(0.1 * torch.randn_like(p))
        body.alpha.copy_(torch.randn_like(body.alpha))
    alpha = body.alpha.detach().clone()
    genotypes = list(ctx.space.genotypes(ctx.op_names))
    scores = one_shot_scores(ctx, body)
    assert list(scores) == [str(g) for g in genotypes]
    assert torch.equal(body.alpha, alpha)  # restored
    for g in (genotypes[1], genotypes[6]):
        net = SequentialNet(ctx.op_context(), g)
        for layer, op in zip(net.layers, g.ops, strict=True):  # the supernet's weights of g's ops
            i = body.op_names.index(op)
            layer.load_state_dict(body.layers[list(net.layers).index(layer)].ops[i].state_dict())
        assert scores[str(g)] == pytest.approx(ctx.psnr(net), abs=1e-4)
    w = torch.softmax(one_hot_alpha(body, genotypes[5]), dim=-1)
    assert set(w.flatten().tolist()) == {0.0, 1.0}
    assert len(set(scores.values())) == 8


def test_rank_agreement_of_perfect_reversed_and_partial_rankings():
    table = pd.DataFrame({"arch_psnr": [10.0, 20.0, 30.0, 40.0, np.nan]},
                         index=["a", "b", "c", "d", "e"])  # fmt: skip
    same = GT.rank_agreement({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, table, ks=(1, 2, 9))
    assert same["n"] == 4 and same["kendall"] == pytest.approx(1) and same["spearman"] == 1
    assert same["top_k"] == {1: 1.0, 2: 1.0} and same["score_best"] == "d"
    assert same["score_best_table_rank"] == 1
    rev = GT.rank_agreement({"a": 4, "b": 3, "c": 2, "d": 1}, table, ks=(1, 2))
    assert rev["kendall"] == pytest.approx(-1) and rev["top_k"] == {1: 0.0, 2: 0.0}
    assert rev["score_best"] == "a" and rev["score_best_table_rank"] == 4
    part = GT.rank_agreement({"a": 1, "b": 3, "c": 2, "d": 4}, table, ks=(2,))
    assert part["top_k"] == {2: 0.5} and 0 < part["kendall"] < 1


def test_a_das_search_with_rank_space_scores_every_architecture_and_ranks_them(
    tiny_table, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(GT, "_roots", lambda root: [tiny_table.parent])
    rec = run_trial(_cfg("method=das", "epochs=1", "method.retrain=false",
                         "method.rank_space=true"), tmp_path)  # fmt: skip
    scores = rec.extra["one_shot_scores"]
    assert sorted(scores) == sorted(GT.read_table(tiny_table).index)
    assert all(math.isfinite(v) for v in scores.values())
    # the derived architecture's path is the supernet at its argmax: close to its one-shot PSNR
    rank = rec.extra["ground_truth_rank"]
    assert rank["table"] == str(tiny_table) and rank["n"] == 8 and -1 <= rank["kendall"] <= 1
    assert gt_main(["rank", str(tmp_path), "--top-k", "1,3"]) == 0
    out = capsys.readouterr().out
    assert "one-shot vs ground truth (8 architectures): kendall tau" in out
    written = (tmp_path / "ground_truth_rank.json").read_text()
    assert '"3":' in written and f"{rank['kendall']}" in written


def test_rank_needs_the_scores_of_the_space(tmp_path, capsys):
    rec = run_trial(_cfg("method=random_sampling"), tmp_path)
    assert rec.status == "ok"
    assert gt_main(["rank", str(tmp_path)]) == 2
    assert "method.rank_space=true" in capsys.readouterr().err
