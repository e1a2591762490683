"""The table and the correlations against numbers computed by hand on a fixed record set."""

from __future__ import annotations

import math
import re
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dasip.study import (
    ReportOptions,
    StudyError,
    adjust_comparisons,
    bca_diff_ci,
    benjamini_hochberg,
    best_and_worst,
    bootstrap_ci,
    bootstrap_diff_ci,
    compare,
    comparison_table,
    correlate,
    correlation_table,
    format_min_sec,
    holm,
    load_records,
    setting_table,
)
from dasip.study.stats import _BOOTSTRAP_SEED_ARG, _bh

from .conftest import COMPARE_STUDY, HAND_ALL, HAND_GOOD


def _row(frame, **keys):
    sel = np.ones(len(frame), dtype=bool)
    for k, v in keys.items():
        sel &= (frame[k] == v).to_numpy()
    assert sel.sum() == 1, (keys, frame)
    return frame[sel].iloc[0]


def _hand_pearson(x, y):
    x, y = np.asarray(x), np.asarray(y)
    xc, yc = x - x.mean(), y - y.mean()
    return float((xc * yc).sum() / math.sqrt((xc**2).sum() * (yc**2).sum()))


def _hand_ranks(v):  # no ties in the hand set
    return np.argsort(np.argsort(v)).astype(float) + 1


def _hand_kendall(x, y):  # no ties: (concordant - discordant) / (n choose 2)
    s = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i, j in combinations(range(len(x)), 2))
    return s / (len(x) * (len(x) - 1) / 2)


@pytest.mark.parametrize(
    "seconds,text",
    [(0, "0:00"), (0.49, "0:00"), (0.5, "0:01"), (59.5, "1:00"), (84.6, "1:25"), (3725, "62:05"),
     (float("nan"), "-"), (None, "-")],
)  # fmt: skip
def test_format_min_sec(seconds, text):
    assert format_min_sec(seconds) == text


def test_table_by_hand_with_nan_and_diverged_trials(hand_study):
    df = load_records(hand_study)
    table = setting_table(df)
    assert len(table) == 3  # das/all, das/good, fixed/all

    arch = np.array([25.0, 27.0, 24.0, 26.0, 7.5])  # seeds 4, 5 have no architecture PSNR
    row = _row(table, method="das", ops="all")
    assert row["max"] == 27.0 and row["min"] == 7.5 and row["median"] == 25.0
    assert row["mean"] == pytest.approx(arch.sum() / 5)
    assert row["std"] == pytest.approx(math.sqrt(((arch - arch.mean()) ** 2).sum() / 4))
    assert row["trials"] == 7 and row["scored"] == 5 and row["degenerate"] == 1
    assert (row["ok"], row["diverged"], row["failed"], row["pruned"]) == (4, 2, 1, 0)
    times = [t for *_, t in HAND_ALL.values()]
    assert row["runtime_s"] == pytest.approx(sum(times) / 7)  # every trial, failed ones too
    assert row["runtime"] == "0:57"  # 400 / 7 = 57.14 s

    good = _row(table, method="das", ops="good")
    g = np.array([a for _, a, _, _ in HAND_GOOD.values()])
    assert good["mean"] == pytest.approx(g.mean()) and good["std"] == pytest.approx(g.std(ddof=1))
    assert good["runtime"] == "1:47"  # (100 + 110 + 121 + 95) / 4 = 106.5 s, rounded half up

    fixed = _row(table, method="fixed")
    assert fixed["trials"] == 2 and fixed["max"] == 21.0 and fixed["mean"] == 20.5

    nd = _row(setting_table(df, exclude_degenerate=True), method="das", ops="all")
    kept = arch[arch >= 9]
    assert nd["mean"] == pytest.approx(kept.mean()) and nd["min"] == 24.0
    assert nd["scored"] == 4 and nd["trials"] == 7 and nd["degenerate"] == 1


def test_a_setting_of_unscored_trials_has_nan_statistics_and_counts(tmp_path):
    from .conftest import make_record, write

    write(tmp_path, "a", make_record(seed=0, arch=None, status="diverged"))
    write(tmp_path, "b", make_record(seed=1, arch=None, status="failed"))
    row = setting_table(load_records(tmp_path)).iloc[0]
    assert row["trials"] == 2 and row["scored"] == 0
    assert all(math.isnan(row[s]) for s in ("max", "mean", "median", "min", "std"))


def test_correlations_by_hand(hand_study):
    df = load_records(hand_study)
    corr = correlation_table(df, ReportOptions(n_boot=300, seed=7))
    # das/all: pairs with both PSNRs finite: seeds 0, 1, 2, 3, 6
    x = np.array([20.0, 22.0, 18.0, 8.0, 23.0])
    y = np.array([25.0, 27.0, 24.0, 26.0, 7.5])
    row = _row(corr, method="das", ops="all", subset="all")
    assert row["trials"] == 7 and row["n"] == 5 and row["excluded"] == 0
    assert row["pearson"] == pytest.approx(_hand_pearson(x, y))
    assert row["spearman"] == pytest.approx(_hand_pearson(_hand_ranks(x), _hand_ranks(y)))
    assert row["kendall"] == pytest.approx(_hand_kendall(x, y))
    r, n = row["pearson"], 5  # two-sided p-value of Pearson's r: t-test with n - 2 df
    t = r * math.sqrt((n - 2) / (1 - r * r))
    assert row["pearson_p"] == pytest.approx(2 * sps.t.sf(abs(t), n - 2))

    # without degenerate runs (< 9 dB in either PSNR): seeds 3 (one-shot 8) and 6 (arch 7.5) out
    nd = _row(corr, method="das", ops="all", subset="non-degenerate")
    assert nd["n"] == 3 and nd["excluded"] == 2
    xs, ys = x[:3], y[:3]
    assert nd["pearson"] == pytest.approx(_hand_pearson(xs, ys))
    assert nd["kendall"] == pytest.approx(_hand_kendall(xs, ys)) == 1.0

    only_arch = correlation_table(df, ReportOptions(degenerate_on="arch", n_boot=10))
    assert _row(only_arch, method="das", ops="all", subset="non-degenerate")["n"] == 4

    fixed = _row(corr, method="fixed", subset="all")
    assert fixed["n"] == 0 and math.isnan(fixed["pearson"])
    assert "no one-shot PSNR" in fixed["note"]


def test_bootstrap_by_hand(hand_study):
    df = load_records(hand_study)
    n_boot, seed = 400, 11
    corr = correlation_table(df, ReportOptions(n_boot=n_boot, seed=seed))
    row = _row(corr, method="das", ops="good", subset="all")
    x = np.array([v[0] for v in HAND_GOOD.values()])
    y = np.array([v[1] for v in HAND_GOOD.values()])
    # the documented rule, computed with scipy one resample at a time
    idx = np.random.default_rng(seed).integers(0, len(x), size=(n_boot, len(x)))
    values = {"pearson": [], "spearman": [], "kendall": []}
    for i in idx:
        xb, yb = x[i], y[i]
        if np.ptp(xb) == 0 or np.ptp(yb) == 0:
            continue  # a coefficient of a constant resample is undefined: left out
        values["pearson"].append(sps.pearsonr(xb, yb).statistic)
        values["spearman"].append(sps.spearmanr(xb, yb).statistic)
        values["kendall"].append(sps.kendalltau(xb, yb).statistic)
    for m, v in values.items():
        v = np.array(v)
        v = v[np.isfinite(v)]
        lo, hi = np.percentile(v, [2.5, 97.5])
        assert row[f"{m}_lo"] == pytest.approx(lo, abs=1e-12), m
        assert row[f"{m}_hi"] == pytest.approx(hi, abs=1e-12), m
        assert row[f"{m}_boot"] == len(v)
    # fixed seed: the same numbers again; another seed: other numbers
    again = correlation_table(df, ReportOptions(n_boot=n_boot, seed=seed))
    assert _row(again, method="das", ops="good", subset="all")["pearson_lo"] == row["pearson_lo"]
    other = bootstrap_ci(x, y, ReportOptions(n_boot=n_boot, seed=seed + 1))
    assert any(other[k] != row[k] for k in other)


def test_bootstrap_with_ties_matches_scipy_per_resample():
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(20, 2, 12))  # many ties
    y = np.round(x + rng.normal(0, 2, 12))
    out = bootstrap_ci(x, y, ReportOptions(n_boot=200, seed=5, ci=0.9))
    idx = np.random.default_rng(5).integers(0, 12, size=(200, 12))
    taus = [sps.kendalltau(x[i], y[i]).statistic for i in idx]
    rhos = [sps.spearmanr(x[i], y[i]).statistic for i in idx]
    for name, vals in (("kendall", taus), ("spearman", rhos)):
        vals = np.array([v for v in vals if np.isfinite(v)])
        assert out[f"{name}_lo"] == pytest.approx(np.percentile(vals, 5), abs=1e-12)
        assert out[f"{name}_hi"] == pytest.approx(np.percentile(vals, 95), abs=1e-12)


def test_too_few_pairs_and_constant_values_say_why():
    res = correlate(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert math.isnan(res["pearson"]) and "needs at least 3" in res["note"]
    res = correlate(np.array([1.0, 1.0, 1.0]), np.array([3.0, 4.0, 5.0]))
    assert math.isnan(res["kendall"]) and "one-shot PSNR is the same" in res["note"]


def test_best_and_worst(hand_study):
    picks = best_and_worst(load_records(hand_study))
    all_ = picks[(picks["method"] == "das") & (picks["ops"] == "all")]
    assert dict(zip(all_["rank"], all_["seed"], strict=True)) == {"best": 1, "worst": 6}
    assert set(picks[picks["method"] == "fixed"]["seed"]) == {0, 1}


def test_by_config_key_and_bad_key(hand_study):
    df = load_records(hand_study)
    table = setting_table(df, ReportOptions(by="method,ops,hparams.alpha_lr"))
    assert list(table.columns[:3]) == ["method", "ops", "hparams.alpha_lr"]
    with pytest.raises(StudyError, match="neither a record field nor a config key"):
        setting_table(df, ReportOptions(by="method,colour"))


def test_options_are_checked_when_made():
    assert ReportOptions(by=" method, ops ,").by == ("method", "ops")
    assert ReportOptions(by=["method"]).hue_key is None and ReportOptions().hue_key == "ops"
    for bad, message in (
        ({"n_boot": 0}, "--n-boot 0: must be at least 1"),
        ({"ci": 1.0}, "--ci 1.0: must be between 0 and 1"),
        ({"ci": 0}, "--ci 0: must be between 0 and 1"),
        ({"min_pairs": 1}, "--min-pairs 1: must be at least 2"),
        ({"degenerate_on": "both"}, "'both' is not allowed; allowed: either, arch, one_shot"),
        ({"by": "method,ops,method"}, "a key is named twice"),
        (
            {"by": "method,ops", "compare": "space"},
            "--compare 'space' is not one of the --by keys; allowed: method, ops",
        ),
    ):
        with pytest.raises(StudyError, match=re.escape(message)):
            ReportOptions(**bad)


def test_min_pairs_of_the_options_decides_a_correlation():
    x, y = np.array([1.0, 2.0, 4.0]), np.array([3.0, 4.0, 4.5])
    assert math.isfinite(correlate(x, y)["pearson"])
    res = correlate(x, y, ReportOptions(min_pairs=4))
    assert math.isnan(res["pearson"]) and res["note"] == "3 pair(s): a correlation needs at least 4"


# -- comparisons --------------------------------------------------------------------------------
def test_compare_by_hand():
    res = compare(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 0.0]))
    assert (res["n_a"], res["n_b"], res["median_a"], res["median_b"]) == (3, 3, 2.0, 0.0)
    assert res["diff"] == 2.0 and res["mannwhitney_u"] == 9.0 and res["prob_superiority"] == 1.0
    assert res["note"] == ""
    # b tied: scipy's normal approximation with tie correction and continuity correction
    var = 3 * 3 / 12 * (7 - (3**3 - 3) / (6 * 5))
    assert res["mannwhitney_p"] == pytest.approx(2 * sps.norm.sf((9 - 4.5 - 0.5) / math.sqrt(var)))
    assert res["mannwhitney_p"] == sps.mannwhitneyu([1, 2, 3], [0, 0, 0]).pvalue
    assert 1.0 <= res["diff_lo"] <= res["diff_hi"] <= 3.0  # b's median is always 0

    # no ties: the exact test, 2 of the C(6, 3) = 20 splits are as extreme
    res = compare(np.array([4.0, 5.0, 6.0]), np.array([1.0, 2.0, 3.0]))
    assert res["mannwhitney_p"] == pytest.approx(0.1) and res["prob_superiority"] == 1.0
    back = compare(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))
    assert back["prob_superiority"] == 0.0 and back["diff"] == -3.0
    assert back["mannwhitney_p"] == pytest.approx(0.1)
    # a tie counts 1/2: of the 4 pairs (1,2) (1,3) (2,2) (2,3) only (2,2) is not a loss
    assert compare(np.array([1.0, 2.0]), np.array([2.0, 3.0]))["prob_superiority"] == 0.125


def test_bootstrap_of_the_median_difference_by_hand():
    a, b = np.array([25.0, 27.5, 26.0, 30.0]), np.array([24.0, 26.5, 25.0, 23.0, 28.0])
    n_boot, seed = 300, 4
    out = bootstrap_diff_ci(a, b, ReportOptions(n_boot=n_boot, seed=seed, ci=0.9))
    rng = np.random.default_rng(seed)  # the documented rule: a's resamples, then b's
    ia, ib = rng.integers(0, 4, size=(n_boot, 4)), rng.integers(0, 5, size=(n_boot, 5))
    diffs = [np.median(a[i]) - np.median(b[j]) for i, j in zip(ia, ib, strict=True)]
    assert out["diff_lo"] == pytest.approx(np.percentile(diffs, 5), abs=1e-12)
    assert out["diff_hi"] == pytest.approx(np.percentile(diffs, 95), abs=1e-12)
    assert (
        compare(a, b, ReportOptions(n_boot=n_boot, seed=seed, ci=0.9))["diff_lo"] == out["diff_lo"]
    )
    assert bootstrap_diff_ci(a, b, ReportOptions(n_boot=n_boot, seed=seed + 1)) != out


def test_comparisons_better_with_harmful_ops_equal_with_good_ops(compare_study):
    df = load_records(compare_study)
    comp = comparison_table(df, ReportOptions(by="method,ops", compare="method", n_boot=500))
    assert list(comp.columns[:3]) == ["ops", "subset", "a"]
    # pairs in the setting table's order (das, fixed, random), each once, two subsets each
    assert list(zip(comp["ops"], comp["a"], comp["b"], strict=True))[::2] == [
        ("all", "das", "random"), ("good", "das", "fixed"), ("good", "das", "random"),
        ("good", "fixed", "random"),
    ]  # fmt: skip

    das, rnd = COMPARE_STUDY[("das", "all")], COMPARE_STUDY[("random", "all")]
    row = _row(comp, ops="all", subset="all")
    assert (row["n_a"], row["n_b"]) == (5, 5)  # the diverged random trial has no PSNR
    assert row["median_a"] == np.median(das) == 26.5 and row["median_b"] == np.median(rnd) == 19.0
    assert row["diff"] == 7.5 and row["prob_superiority"] == 1.0 and row["mannwhitney_u"] == 25
    assert row["mannwhitney_p"] == pytest.approx(2 / math.comb(10, 5))  # exact, no ties
    assert row["diff_lo"] > 0  # every resample: a's median >= 25.5, b's <= 21
    nd = _row(comp, ops="all", subset="non-degenerate")  # random's 7.0 dB run left out
    assert (nd["n_a"], nd["n_b"], nd["median_b"]) == (5, 4, 19.75)
    assert nd["mannwhitney_p"] == pytest.approx(2 / math.comb(9, 4))

    same = _row(comp, ops="good", a="das", b="random", subset="all")
    assert same["diff"] == pytest.approx(0.2) and same["prob_superiority"] == 13 / 25
    assert same["mannwhitney_p"] > 0.5
    assert same["diff_lo"] < 0 < same["diff_hi"]

    for b in ("fixed", "random"):  # one fixed trial: no statistics, a note
        a = "das" if b == "fixed" else "fixed"
        short = _row(comp, ops="good", a=a, b=b, subset="all")
        assert short["note"] == "1 trial(s) of fixed: a comparison needs at least 2 on each side"
        assert all(math.isnan(short[c]) for c in ("median_a", "diff", "mannwhitney_p"))


def test_comparison_pairs_follow_the_setting_table_order(compare_study):
    df = load_records(compare_study)
    options = ReportOptions(by="ops,method", compare="method", n_boot=10)
    # by ops first: (all, das), (all, random), (good, das), (good, fixed), (good, random)
    assert list(dict.fromkeys(setting_table(df, options)["method"])) == ["das", "random", "fixed"]
    comp = comparison_table(df, options)
    good = comp[(comp["ops"] == "good") & (comp["subset"] == "all")]
    assert list(zip(good["a"], good["b"], strict=True)) == [
        ("das", "random"), ("das", "fixed"), ("random", "fixed"),
    ]  # fmt: skip
    assert good.iloc[2]["note"].startswith("1 trial(s) of fixed")
    with pytest.raises(StudyError, match="give --compare KEY"):
        comparison_table(df, ReportOptions(by="ops,method"))


def test_a_side_with_too_few_trials_says_which():
    res = compare(np.array([20.0]), np.array([]), labels=("das", "random"))
    assert (res["n_a"], res["n_b"]) == (1, 0)
    assert res["note"] == (
        "1 trial(s) of das, 0 trial(s) of random: a comparison needs at least 2 on each side"
    )
    assert math.isnan(res["prob_superiority"]) and math.isnan(res["diff_lo"])


# -- adjusted p-values --------------------------------------------------------------------------
def test_holm_and_benjamini_hochberg_by_hand():
    p = [0.01, 0.04, 0.03, 0.005, math.nan]
    # sorted 0.005, 0.01, 0.03, 0.04 (m = 4, the NaN is not counted):
    # Holm: 4 x 0.005 = 0.02, 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 1 x 0.04) = 0.06
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02, math.nan])
    # BH: 4/1 x 0.005 = 0.02, 4/2 x 0.01 = 0.02, 4/3 x 0.03 = 0.04, 4/4 x 0.04 = 0.04
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02, math.nan])
    # capped at 1; one p-value is its own adjustment; none is none
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    np.testing.assert_allclose(benjamini_hochberg([0.5, 0.6]), [0.6, 0.6])
    assert holm([0.2])[0] == benjamini_hochberg([0.2])[0] == 0.2
    assert holm([]).shape == benjamini_hochberg([]).shape == (0,)
    assert np.isnan(benjamini_hochberg([math.nan])).all() and np.isnan(holm([math.nan])).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adjusted_p_values_are_at_least_the_raw_ones_and_keep_their_order(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=25) ** 3
    p[rng.integers(0, 25, 3)] = p[0]  # ties
    for adjusted in (holm(p), benjamini_hochberg(p)):
        assert (adjusted >= p).all() and (adjusted <= 1).all()
        order = np.argsort(p, kind="stable")
        assert (np.diff(adjusted[order]) >= 0).all()  # monotone in the raw p-value
    assert (holm(p) >= benjamini_hochberg(p)).all()  # FWER is stricter than FDR
    # the fallback for scipy < 1.11 is scipy's rule
    np.testing.assert_allclose(_bh(p), sps.false_discovery_control(p, method="bh"))


def test_comparisons_are_adjusted_within_the_family(compare_study):
    df = load_records(compare_study)
    comp = {
        family: comparison_table(
            df, ReportOptions(by="method,ops", compare="method", n_boot=20, p_family=family)
        )
        for family in ("subset", "group", "report")
    }
    raw = comp["subset"]["mannwhitney_p"]
    for frame in comp.values():  # the family changes the adjustment, nothing else
        assert frame["mannwhitney_p"].equals(raw) and frame["diff_lo"].equals(
            comp["subset"]["diff_lo"]
        )
    # each subset has two finite p-values: (all) das-random and (good) das-random; the rows with
    # a fixed side (one trial) have none and are in no family
    clear = _row(comp["subset"], ops="all", subset="all")
    same = _row(comp["subset"], ops="good", a="das", b="random", subset="all")
    assert clear["p_family_size"] == same["p_family_size"] == 2
    assert clear["mannwhitney_p_holm"] == pytest.approx(2 * 2 / math.comb(10, 5))
    assert clear["mannwhitney_p_holm"] < 0.05  # the clear difference stays clear
    assert same["mannwhitney_p_holm"] == pytest.approx(min(1.0, same["mannwhitney_p"]))
    assert clear["mannwhitney_p_bh"] == pytest.approx(2 * 2 / math.comb(10, 5))
    short = _row(comp["subset"], ops="good", a="das", b="fixed", subset="all")
    assert all(math.isnan(short[c]) for c in ("mannwhitney_p_holm", "p_family_size"))
    # per group of the other keys: ops=all has one pair per subset, adjusted = raw
    alone = _row(comp["group"], ops="all", subset="all")
    assert alone["p_family_size"] == 1 and alone["mannwhitney_p_holm"] == alone["mannwhitney_p"]
    # the whole report: both subsets, 4 p-values
    every = _row(comp["report"], ops="all", subset="all")
    assert every["p_family_size"] == 4
    assert every["mannwhitney_p_holm"] == pytest.approx(
        holm(raw.to_numpy())[list(comp["report"].index).index(every.name)]
    )
    assert every["mannwhitney_p_holm"] > clear["mannwhitney_p_holm"]
    finite = raw.notna()
    for frame in comp.values():
        assert (frame["mannwhitney_p_holm"][finite] >= raw[finite]).all()
        assert (frame["mannwhitney_p_bh"][finite] >= raw[finite]).all()
    # by hand on a frame: families by the named columns
    frame = adjust_comparisons(
        pd.DataFrame({"g": ["x", "x", "y"], "mannwhitney_p": [0.01, 0.04, 0.03]}), ["g"]
    )
    np.testing.assert_allclose(frame["mannwhitney_p_holm"], [0.02, 0.04, 0.03])
    np.testing.assert_allclose(frame["p_family_size"], [2, 2, 1])


def test_bca_interval_of_the_median_difference():
    a, b = np.array([25.0, 27.5, 26.0, 30.0, 26.5]), np.array([24.0, 26.5, 25.0, 23.0, 28.0])
    options = ReportOptions(n_boot=400, seed=3, ci=0.9, diff_ci="bca")
    out = bootstrap_diff_ci(a, b, options)
    assert out == bca_diff_ci(a, b, options)
    res = sps.bootstrap(  # the documented call
        (a, b),
        lambda x, y, axis: np.median(x, axis=axis) - np.median(y, axis=axis),
        n_resamples=400,
        confidence_level=0.9,
        method="BCa",
        **{_BOOTSTRAP_SEED_ARG: np.random.default_rng(3)},  # rng= from scipy 1.15
    )
    assert out["diff_lo"] == pytest.approx(res.confidence_interval.low)
    assert out["diff_hi"] == pytest.approx(res.confidence_interval.high)
    assert out != bootstrap_diff_ci(a, b, ReportOptions(n_boot=400, seed=3, ci=0.9))
    assert out["diff_lo"] < np.median(a) - np.median(b) < out["diff_hi"]
    # a clear difference: the interval is above 0; no spread at all: no interval
    clear = compare(a + 10, b, options)
    assert clear["diff_lo"] > 0 and clear["diff"] == pytest.approx(11.5)
    flat = bca_diff_ci(np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.0]), options)
    assert math.isnan(flat["diff_lo"]) and math.isnan(flat["diff_hi"])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"p_family": "all"}, "--p-family 'all' is not allowed; allowed: subset, group, report"),
        ({"diff_ci": "bc"}, "--diff-ci 'bc' is not allowed; allowed: percentile, bca"),
    ],
)
def test_bad_comparison_options(kwargs, message):
    with pytest.raises(StudyError, match=re.escape(message)):
        ReportOptions(**kwargs)
