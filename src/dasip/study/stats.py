"""A study's numbers: the per-setting table of architecture PSNRs, the one-shot vs
architecture correlations with bootstrap confidence intervals and the pairwise comparisons of
the architecture PSNR between the values of one setting key, with p-values adjusted for the
number of comparisons. The rules are in docs/study.md.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..record import JOB_KEY_IGNORE, STATUSES, flatten
from .options import DEFAULT_BY, DEFAULT_OPTIONS, ReportOptions, check_by
from .records import StudyError, with_settings

METHODS = ("pearson", "spearman", "kendall")
PSNR_STATS = ("max", "mean", "median", "min", "std")


def format_min_sec(seconds: float | None) -> str:
    """``84.6 -> '1:25'``: minutes and seconds, rounded half up to the second; ``'-'`` if
    unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    total = int(math.floor(seconds + 0.5))
    return f"{total // 60}:{total % 60:02d}"


def _groups(df: pd.DataFrame, by: Sequence[str]):
    by = list(by)
    if not by:
        yield (), df
        return
    for keys, g in df.groupby(by, sort=True, dropna=False):
        yield (keys if isinstance(keys, tuple) else (keys,)), g


# -- the table ----------------------------------------------------------------------------------
def setting_table(
    df: pd.DataFrame, options: ReportOptions = DEFAULT_OPTIONS, exclude_degenerate: bool = False
) -> pd.DataFrame:
    """One row per setting of ``options.by``: max, mean, median, min and std (``ddof=1``) of
    the architecture PSNR, then counts and the mean runtime.

    Every trial counts in ``trials`` and in its status column (``ok``, ``diverged``,
    ``failed``, ``pruned``; other statuses in ``other``) and in the mean runtime
    (``total_time_s``). The PSNR statistics use the ``scored`` trials: those with a finite
    architecture PSNR, whatever their status (a diverged search whose retrained net scored is
    data); a trial without one (NaN/null) is reported in ``trials - scored``, never dropped
    unseen. ``degenerate`` counts scored trials below ``options.degenerate_db``; with
    ``exclude_degenerate`` they leave the PSNR statistics (and ``scored``), nothing else.
    """
    by, degenerate_db = list(options.by), options.degenerate_db
    df = with_settings(df, by)
    rows = []
    for keys, g in _groups(df, by):
        psnr = g["arch_psnr"]
        finite = psnr[np.isfinite(psnr)]
        degenerate = finite[finite < degenerate_db]
        used = finite[finite >= degenerate_db] if exclude_degenerate else finite
        row: dict[str, Any] = dict(zip(by, keys, strict=True))
        row.update(
            max=used.max() if len(used) else np.nan,
            mean=used.mean() if len(used) else np.nan,
            median=used.median() if len(used) else np.nan,
            min=used.min() if len(used) else np.nan,
            std=used.std(ddof=1) if len(used) > 1 else np.nan,
            trials=len(g),
            scored=len(used),
            degenerate=len(degenerate),
        )
        status = g["status"]
        for s in STATUSES:
            row[s] = int((status == s).sum())
        row["other"] = int((~status.isin(STATUSES)).sum())
        runtime = g["total_time_s"].mean()  # NaN times (none recorded) are skipped
        row["runtime_s"] = runtime
        row["runtime"] = format_min_sec(runtime)
        rows.append(row)
    cols = [*by, *PSNR_STATS, "trials", "scored", "degenerate", *STATUSES, "other"]
    return pd.DataFrame(rows, columns=[*cols, "runtime_s", "runtime"])


# -- correlations -------------------------------------------------------------------------------
def is_degenerate(df: pd.DataFrame, options: ReportOptions = DEFAULT_OPTIONS) -> pd.Series:
    """Trials below ``options.degenerate_db`` in the architecture PSNR, the one-shot PSNR or
    either (``options.degenerate_on``)."""
    arch = df["arch_psnr"] < options.degenerate_db
    one_shot = df["one_shot_psnr"] < options.degenerate_db
    return {"either": arch | one_shot, "arch": arch, "one_shot": one_shot}[options.degenerate_on]


def coefficients(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Pearson r, Spearman rho and Kendall tau-b with their two-sided p-values (scipy).

    NaN when there are fewer than 2 pairs or either variable is constant."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    out: dict[str, float] = {}
    ok = len(x) >= 2 and np.ptp(x) > 0 and np.ptp(y) > 0
    for name, fn in (
        ("pearson", sps.pearsonr),
        ("spearman", sps.spearmanr),
        ("kendall", sps.kendalltau),
    ):
        if ok:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = fn(x, y)
            out[name], out[f"{name}_p"] = float(res.statistic), float(res.pvalue)
        else:
            out[name], out[f"{name}_p"] = np.nan, np.nan
    return out


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair; NaN where a row is constant."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    r[(np.ptp(x, axis=1) == 0) | (np.ptp(y, axis=1) == 0)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _kendall_rows(x: np.ndarray, y: np.ndarray, chunk_elems: int = 4_000_000) -> np.ndarray:
    """Kendall tau-b of each row pair (as scipy's ``kendalltau``); NaN where a row is constant.

    tau-b = S / sqrt(Nx Ny): S = sum over pairs of sign(dx) sign(dy), Nx (Ny) = pairs not tied
    in x (y)."""
    b, n = x.shape
    out = np.empty(b)
    step = max(1, chunk_elems // max(1, n * n))
    for i in range(0, b, step):
        dx = np.sign(x[i : i + step, :, None] - x[i : i + step, None, :])
        dy = np.sign(y[i : i + step, :, None] - y[i : i + step, None, :])
        s = (dx * dy).sum(axis=(1, 2))
        nx = np.abs(dx).sum(axis=(1, 2))
        ny = np.abs(dy).sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i : i + step] = np.where((nx > 0) & (ny > 0), s / np.sqrt(nx * ny), np.nan)
    return out


def bootstrap_ci(
    x: np.ndarray, y: np.ndarray, options: ReportOptions = DEFAULT_OPTIONS
) -> dict[str, float]:
    """Percentile bootstrap intervals of the three coefficients (``n_boot``, ``seed`` and
    ``ci`` of ``options``).

    The pairs are resampled with replacement: ``rng = numpy.random.default_rng(seed)``,
    ``idx = rng.integers(0, n, size=(n_boot, n))``; the same resamples serve all three
    coefficients. A resample where a coefficient is undefined (a constant variable) is left
    out; the interval is the ``(1-ci)/2`` and ``(1+ci)/2`` percentiles (numpy's linear
    interpolation) of the rest, whose number is ``<name>_boot``.
    """
    n_boot, ci = options.n_boot, options.ci
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    out: dict[str, float] = {}
    if n < 2:
        for m in METHODS:
            out.update({f"{m}_lo": np.nan, f"{m}_hi": np.nan, f"{m}_boot": 0})
        return out
    rng = np.random.default_rng(options.seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    xb, yb = x[idx], y[idx]
    values = {
        "pearson": _pearson_rows(xb, yb),
        "spearman": _pearson_rows(sps.rankdata(xb, axis=1), sps.rankdata(yb, axis=1)),
        "kendall": _kendall_rows(xb, yb),
    }
    for m, v in values.items():
        lo, hi, used = _percentile_interval(v, ci)
        out.update({f"{m}_lo": lo, f"{m}_hi": hi, f"{m}_boot": used})
    return out


def _percentile_interval(values: np.ndarray, ci: float) -> tuple[float, float, int]:
    """The ``(1-ci)/2`` and ``(1+ci)/2`` percentiles (numpy's linear interpolation) of the
    finite ``values`` of a bootstrap, and how many there are; NaNs when none is."""
    v = values[np.isfinite(values)]
    q = [100 * (1 - ci) / 2, 100 * (1 + ci) / 2]
    lo, hi = np.percentile(v, q) if len(v) else (np.nan, np.nan)
    return float(lo), float(hi), len(v)


def correlate(
    x: np.ndarray, y: np.ndarray, options: ReportOptions = DEFAULT_OPTIONS
) -> dict[str, Any]:
    """Coefficients, p-values and bootstrap intervals of ``(x, y)`` pairs, or NaNs and a
    ``note`` saying why none could be computed (fewer than ``options.min_pairs`` pairs, or a
    constant PSNR)."""
    min_pairs = options.min_pairs
    x, y = np.asarray(x, float), np.asarray(y, float)
    out: dict[str, Any] = {"n": len(x), "note": ""}
    nan = {f"{m}{s}": np.nan for m in METHODS for s in ("", "_p", "_lo", "_hi")}
    nan.update({f"{m}_boot": 0 for m in METHODS})
    if len(x) < min_pairs:
        out.update(nan, note=f"{len(x)} pair(s): a correlation needs at least {min_pairs}")
        return out
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        which = "one-shot" if np.ptp(x) == 0 else "architecture"
        out.update(nan, note=f"the {which} PSNR is the same for every trial")
        return out
    out.update(coefficients(x, y))
    out.update(bootstrap_ci(x, y, options))
    return out


def correlation_table(df: pd.DataFrame, options: ReportOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """One-shot vs architecture PSNR per setting of ``options.by``, two rows each:
    ``subset='all'`` and ``subset='non-degenerate'`` (the trials :func:`is_degenerate` names
    removed).

    Pairs are the trials with both PSNRs finite; ``trials`` is the setting's trial count, ``n``
    the pairs used, ``excluded`` the degenerate pairs removed. The bootstrap restarts from
    ``options.seed`` for every setting and subset.
    """
    by = list(options.by)
    df = with_settings(df, by)
    degenerate = is_degenerate(df, options)
    rows = []
    for keys, g in _groups(df, by):
        pairs = g[np.isfinite(g["one_shot_psnr"]) & np.isfinite(g["arch_psnr"])]
        bad = degenerate.loc[pairs.index]
        for subset, sel in (("all", pairs), ("non-degenerate", pairs[~bad])):
            row: dict[str, Any] = dict(zip(by, keys, strict=True))
            row.update(subset=subset, trials=len(g), excluded=len(pairs) - len(sel))
            res = correlate(sel["one_shot_psnr"].to_numpy(), sel["arch_psnr"].to_numpy(), options)
            if not np.isfinite(g["one_shot_psnr"]).any():
                res["note"] = (
                    f"no one-shot PSNR (method {', '.join(map(str, g['method'].unique()))})"
                )
            row.update(res)
            rows.append(row)
    stat_cols = [f"{m}{s}" for m in METHODS for s in ("", "_lo", "_hi", "_p", "_boot")]
    return pd.DataFrame(
        rows, columns=[*by, "subset", "trials", "n", "excluded", *stat_cols, "note"]
    )


# -- comparisons --------------------------------------------------------------------------------
#: fewest scored trials on each side of a comparison
MIN_PER_SIDE = 2
COMPARISON_STATS = (
    "median_a", "median_b", "diff", "diff_lo", "diff_hi", "prob_superiority", "mannwhitney_u",
    "mannwhitney_p",
)  # fmt: skip
#: the columns :func:`comparison_table` adds after :data:`COMPARISON_STATS`: the adjusted
#: p-values and the number of p-values of the row's family
ADJUSTED_STATS = ("mannwhitney_p_holm", "mannwhitney_p_bh", "p_family_size")


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate) of ``p``, in its order.

    With the ``m`` finite p-values sorted, ``p_(1) <= ... <= p_(m)``, the ``i``-th adjusted
    value is ``min(1, max_{j <= i} (m - j + 1) p_(j))``; a NaN stays NaN and is not counted
    in ``m``."""
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = len(order)
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def benjamini_hochberg(p: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate) of ``p``, in its order:
    scipy's ``false_discovery_control(method="bh")`` (scipy >= 1.11), else the same rule,
    ``min(1, min_{j >= i} m p_(j) / j)`` over the ``m`` finite p-values sorted ascending; a
    NaN stays NaN and is not counted in ``m``."""
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        fdr = getattr(sps, "false_discovery_control", None)
        out[finite] = fdr(p[finite], method="bh") if fdr else _bh(p[finite])
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    """:func:`benjamini_hochberg` of finite ``p`` without scipy's ``false_discovery_control``."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    out = np.empty(m)
    out[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return out


def _family_columns(options: ReportOptions, other: list[str]) -> list[str]:
    """The columns whose values make a p-value family (``options.p_family``)."""
    return {"subset": ["subset"], "group": [*other, "subset"], "report": []}[options.p_family]


def adjust_comparisons(comp: pd.DataFrame, family: Sequence[str]) -> pd.DataFrame:
    """``comp`` with :data:`ADJUSTED_STATS`: each row's Mann-Whitney p-value adjusted by
    :func:`holm` and :func:`benjamini_hochberg` within its family, the rows that share the
    values of ``family`` (every row when it is empty), and the family's number of finite
    p-values (a row without a p-value, a side too short, is in no family: NaN)."""
    p = comp["mannwhitney_p"].to_numpy(float)
    stats = {name: np.full(len(comp), np.nan) for name in ADJUSTED_STATS}
    if len(comp):
        groups = (
            comp.groupby(list(family), sort=False, dropna=False).indices.values()
            if family
            else [np.arange(len(comp))]
        )
        for idx in groups:
            idx = np.asarray(idx)
            stats["mannwhitney_p_holm"][idx] = holm(p[idx])
            stats["mannwhitney_p_bh"][idx] = benjamini_hochberg(p[idx])
            stats["p_family_size"][idx] = np.where(
                np.isfinite(p[idx]), np.isfinite(p[idx]).sum(), np.nan
            )
    return comp.assign(**stats)


def bootstrap_diff_ci(
    a: np.ndarray, b: np.ndarray, options: ReportOptions = DEFAULT_OPTIONS
) -> dict[str, float]:
    """Bootstrap interval of ``median(a) - median(b)`` (``n_boot``, ``seed``, ``ci`` and
    ``diff_ci`` of ``options``).

    ``diff_ci="percentile"`` (the default): each side is resampled on its own, with
    replacement, from one generator: ``rng = numpy.random.default_rng(seed)``,
    ``ia = rng.integers(0, n_a, size=(n_boot, n_a))``, then
    ``ib = rng.integers(0, n_b, size=(n_boot, n_b))``; the interval is taken as in
    :func:`bootstrap_ci`. ``diff_ci="bca"``: :func:`bca_diff_ci`."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if not len(a) or not len(b):
        return {"diff_lo": np.nan, "diff_hi": np.nan}
    if options.diff_ci == "bca":
        return bca_diff_ci(a, b, options)
    rng = np.random.default_rng(options.seed)
    ia = rng.integers(0, len(a), size=(options.n_boot, len(a)))
    ib = rng.integers(0, len(b), size=(options.n_boot, len(b)))
    diffs = np.median(a[ia], axis=1) - np.median(b[ib], axis=1)
    lo, hi, _ = _percentile_interval(diffs, options.ci)
    return {"diff_lo": lo, "diff_hi": hi}


#: scipy >= 1.15 seeds ``bootstrap`` with ``rng``, older versions with ``random_state``
_BOOTSTRAP_SEED_ARG = (
    "rng" if "rng" in inspect.signature(sps.bootstrap).parameters else "random_state"
)


def _median_diff(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(a, axis=axis) - np.median(b, axis=axis)


def bca_diff_ci(
    a: np.ndarray, b: np.ndarray, options: ReportOptions = DEFAULT_OPTIONS
) -> dict[str, float]:
    """The bias-corrected and accelerated (BCa) bootstrap interval of ``median(a) - median(b)``:
    scipy's ``bootstrap((a, b), ..., method="BCa")``, each side resampled on its own
    (``paired=False``), ``n_resamples=n_boot``, ``confidence_level=ci``, its generator
    ``numpy.random.default_rng(seed)``. NaN where scipy cannot form it (every resample has the
    same difference)."""
    seeded = {_BOOTSTRAP_SEED_ARG: np.random.default_rng(options.seed)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate data: scipy warns and gives NaN
        res = sps.bootstrap(
            (np.asarray(a, float), np.asarray(b, float)),
            _median_diff,
            n_resamples=options.n_boot,
            confidence_level=options.ci,
            method="BCa",
            vectorized=True,
            **seeded,
        )
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return {"diff_lo": lo, "diff_hi": hi}


def compare(
    a: np.ndarray,
    b: np.ndarray,
    options: ReportOptions = DEFAULT_OPTIONS,
    labels: tuple[str, str] = ("a", "b"),
) -> dict[str, Any]:
    """The architecture PSNRs ``a`` against ``b``: their counts and medians, ``diff`` = median
    of ``a`` - median of ``b`` with its bootstrap interval (:func:`bootstrap_diff_ci`),
    ``prob_superiority`` = P(a > b), the Mann-Whitney U of ``a`` over ``b`` divided by
    ``n_a * n_b`` (a tie counts 1/2), U and its two-sided p-value (scipy's ``mannwhitneyu``).

    With fewer than :data:`MIN_PER_SIDE` values on a side every statistic is NaN and ``note``
    says which side (named by ``labels``) is short."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    out: dict[str, Any] = {"n_a": len(a), "n_b": len(b)}
    out.update(dict.fromkeys(COMPARISON_STATS, np.nan), note="")
    short = [
        f"{len(v)} trial(s) of {name}"
        for v, name in zip((a, b), labels, strict=True)
        if len(v) < MIN_PER_SIDE
    ]
    if short:
        out["note"] = f"{', '.join(short)}: a comparison needs at least {MIN_PER_SIDE} on each side"
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sps.mannwhitneyu(a, b, alternative="two-sided")
    u = float(res.statistic)
    out.update(
        median_a=float(np.median(a)),
        median_b=float(np.median(b)),
        diff=float(np.median(a) - np.median(b)),
        prob_superiority=u / (len(a) * len(b)),
        mannwhitney_u=u,
        mannwhitney_p=float(res.pvalue),
    )
    out.update(bootstrap_diff_ci(a, b, options))
    return out


def comparison_table(df: pd.DataFrame, options: ReportOptions = DEFAULT_OPTIONS) -> pd.DataFrame:
    """The architecture PSNR compared between the values of ``options.compare`` (a ``--by``
    key), pairwise (:func:`compare`), within each group of the other ``by`` keys.

    A pair ``(a, b)`` is two values with trials in the group, each unordered pair once, ``a``
    first in the order of :func:`setting_table`. Each pair has two rows: ``subset='all'`` (the
    scored trials: finite architecture PSNR) and ``subset='non-degenerate'`` (those at or above
    ``options.degenerate_db``). The bootstrap restarts from ``options.seed`` for every row.
    The p-values are adjusted within the family ``options.p_family`` names
    (:func:`adjust_comparisons`).
    """
    key = options.compare
    if key is None:
        raise StudyError("no key to compare: give --compare KEY (one of the --by keys)")
    by = list(options.by)
    other = [k for k in by if k != key]
    df = with_settings(df, by)
    order = list(dict.fromkeys(keys[by.index(key)] for keys, _ in _groups(df, by)))
    rows = []
    for keys, g in _groups(df, other):
        present = set(g[key])
        psnr = {v: g.loc[g[key] == v, "arch_psnr"] for v in order if v in present}
        for a, b in combinations(psnr, 2):
            for subset in ("all", "non-degenerate"):
                sides = [p[np.isfinite(p)] for p in (psnr[a], psnr[b])]
                if subset == "non-degenerate":
                    sides = [p[p >= options.degenerate_db] for p in sides]
                row: dict[str, Any] = dict(zip(other, keys, strict=True))
                row.update(subset=subset, a=a, b=b)
                row.update(compare(*(p.to_numpy() for p in sides), options, (str(a), str(b))))
                rows.append(row)
    comp = pd.DataFrame(
        rows, columns=[*other, "subset", "a", "b", "n_a", "n_b", *COMPARISON_STATS, "note"]
    )
    comp = adjust_comparisons(comp, _family_columns(options, other))
    return comp[
        [*other, "subset", "a", "b", "n_a", "n_b", *COMPARISON_STATS, *ADJUSTED_STATS, "note"]
    ]


# -- checks and picks ---------------------------------------------------------------------------
def mixed_settings(
    df: pd.DataFrame, by: Iterable[str] | str = DEFAULT_BY, ignore: Iterable[str] = JOB_KEY_IGNORE
) -> dict[tuple, list[str]]:
    """Settings whose trials differ in config keys other than ``seed``, ``study`` and the
    ignored ones: ``{setting: [keys]}``. Such a setting mixes experiments (e.g. other epochs);
    add a key to ``by`` to split it."""
    by = list(check_by(by))
    df = with_settings(df, by)
    skip = {"seed", "study", *by, *ignore}
    out = {}
    for keys, g in _groups(df, by):
        flats = [flatten(c) for c in g["config"]]
        names = set().union(*flats) if flats else set()
        differ = sorted(
            k
            for k in names
            if not any(k == s or k.startswith(s + ".") for s in skip)
            and len({repr(f.get(k)) for f in flats}) > 1
        )
        if differ:
            out[keys] = differ
    return out


def best_and_worst(df: pd.DataFrame, by: Iterable[str] | str = DEFAULT_BY) -> pd.DataFrame:
    """The best and the worst scored trial (architecture PSNR) of each setting: the rows of
    ``df`` with the setting keys and a ``rank`` column (``best``/``worst``); one row
    (``best``) where a setting has one scored trial; ties go to the lower seed."""
    by = list(check_by(by))
    df = with_settings(df, by)
    out = []
    for _, g in _groups(df, by):
        scored = g[np.isfinite(g["arch_psnr"])].sort_values(
            ["arch_psnr", "seed"], ascending=[False, True]
        )
        if scored.empty:
            continue
        out.append(scored.iloc[[0]].assign(rank="best"))
        if len(scored) > 1:
            worst = scored.sort_values(["arch_psnr", "seed"], ascending=[True, True]).iloc[[0]]
            out.append(worst.assign(rank="worst"))
    if not out:
        return df.iloc[0:0].assign(rank=pd.Series(dtype=str))
    return pd.concat(out).reset_index(drop=True)
