"""``random_sampling`` and ``random_search``: seeded, drawn only from the op set, best of ``k``."""

import math
from types import SimpleNamespace

import pytest

from dasip.methods.random_search import best_index
from dasip.methods.sampling import draw_architectures
from dasip.record import read_record
from dasip.trial import TrialContext, run_trial

from ..conftest import compose_cfg


def _ctx(tmp_path, *overrides):
    return TrialContext(compose_cfg(overrides=list(overrides)), tmp_path)


def _ops(genotype):
    return set(genotype.ops)


def test_draws_are_reproducible_from_the_seed_and_stay_in_the_op_set(tmp_path):
    good = draw_architectures(_ctx(tmp_path, "ops=good", "seed=3"), 40)
    assert draw_architectures(_ctx(tmp_path, "ops=good", "seed=3"), 40) == good
    assert draw_architectures(_ctx(tmp_path, "ops=good", "seed=4"), 40) != good
    assert set().union(*map(_ops, good)) == {"grad", "net"}  # only, and both, good ops
    every = draw_architectures(_ctx(tmp_path, "ops=all", "seed=3"), 40)
    assert set().union(*map(_ops, every)) == {"grad", "net", "roll", "noise"}
    narrow = draw_architectures(_ctx(tmp_path, "ops.names=[net,noise]"), 20)
    assert set().union(*map(_ops, narrow)) == {"net", "noise"}
    # uniform per layer: over 40 x 10 draws from 4 ops, every op is close to a quarter
    layers = [op for g in every for op in g.ops]
    assert all(70 <= layers.count(op) <= 130 for op in ("grad", "net", "roll", "noise"))


def test_random_sampling_trains_its_seeded_draw_reproducibly(tmp_path):
    cfg = compose_cfg(overrides=["method=random_sampling", "ops=good", "seed=5"])
    first = run_trial(cfg, tmp_path / "a")
    again = run_trial(cfg, tmp_path / "b")
    (expected,) = draw_architectures(TrialContext(cfg, tmp_path), 1)
    assert first.genotype == again.genotype == str(expected)
    assert first.arch_psnr == pytest.approx(again.arch_psnr, abs=1e-4)
    assert first.status == "ok" and math.isfinite(first.arch_psnr)
    assert first.one_shot_psnr is None and first.train_time_s > 0
    assert (tmp_path / "a" / "model.pt").is_file()


def test_random_search_keeps_the_best_of_its_k(tmp_path):
    cfg = compose_cfg(overrides=["method=random_search", "method.k=3", "seed=5", "ops=good"])
    rec = run_trial(cfg, tmp_path / "rs")
    d = read_record(tmp_path / "rs")
    cands = d["extra"]["candidates"]
    drawn = draw_architectures(TrialContext(cfg, tmp_path), 3)
    assert [c["genotype"] for c in cands] == [str(g) for g in drawn]
    psnrs = [c["arch_psnr"] for c in cands]
    assert len(set(psnrs)) == 3  # three different trainings
    best = d["extra"]["best_index"]
    assert psnrs[best] == max(psnrs)
    assert d["arch_psnr"] == max(psnrs) and d["genotype"] == cands[best]["genotype"]
    assert d["one_shot_psnr"] is None and d["status"] == "ok" and d["extra"]["k"] == 3
    # time: the kept candidate's training is training, the others are search
    assert d["train_time_s"] == pytest.approx(cands[best]["seconds"])
    others = sum(c["seconds"] for i, c in enumerate(cands) if i != best)
    assert d["search_time_s"] == pytest.approx(others, abs=0.05)
    # random_sampling with the same seed trains the first of these draws, to the same PSNR
    rs = run_trial(
        compose_cfg(overrides=["method=random_sampling", "seed=5", "ops=good"]), tmp_path
    )
    assert rs.genotype == cands[0]["genotype"]
    assert rs.arch_psnr == pytest.approx(cands[0]["arch_psnr"], abs=1e-4)
    assert rec.arch_psnr >= rs.arch_psnr


def _trained(psnr, status="ok"):
    return SimpleNamespace(psnr=psnr, status=status)


@pytest.mark.parametrize(
    "cands,best",
    [
        ([_trained(20.0), _trained(25.0), _trained(22.0)], 1),
        ([_trained(25.0), _trained(25.0)], 0),  # ties: the first draw
        ([_trained(float("nan"), "diverged"), _trained(12.0)], 1),
        ([_trained(30.0, "diverged"), _trained(12.0)], 1),  # a finished run beats a diverged one
        ([_trained(30.0, "diverged"), _trained(float("nan"), "diverged")], 0),
        ([_trained(float("nan"), "diverged")], None),
    ],
)
def test_best_index(cands, best):
    assert best_index(cands) == best
