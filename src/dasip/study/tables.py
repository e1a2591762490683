"""The study's tables as text: Markdown, LaTeX (booktabs) and CSV, written by pandas
(``DataFrame.to_markdown`` through tabulate, ``Styler.to_latex``); this module picks the cells,
their alignment and the escaping."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .options import DEGENERATE_DB
from .stats import METHODS, PSNR_STATS

_SYMBOL = {"pearson": "Pearson r", "spearman": "Spearman ρ", "kendall": "Kendall τ"}


def fmt(v: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals; ``'-'`` for NaN / None."""
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def format_db(v: float | None) -> str:
    """A PSNR: ``'27.00 dB'``; ``'-'`` for NaN / None."""
    return "-" if v is None or not math.isfinite(v) else f"{v:.2f} dB"


def setting_label(keys: Mapping[str, Any]) -> str:
    """A setting's values for a reader: ``'das · sequential · all'``."""
    return " · ".join(str(v) for v in keys.values()) or "all trials"


def _by_of(table: pd.DataFrame, first_stat: str) -> list[str]:
    cols = list(table.columns)
    return cols[: cols.index(first_stat)]


def display_table(table: pd.DataFrame, degenerate_db: float = DEGENERATE_DB) -> pd.DataFrame:
    """The paper's table from :func:`setting_table`: text cells, PSNRs in dB to 2 decimals.

    ``pruned`` / ``other`` columns appear only when some trial has that status."""
    by = _by_of(table, "max")
    out = pd.DataFrame({k: table[k].map(str) for k in by})
    for s in PSNR_STATS:
        out[s] = table[s].map(fmt)
    for col in ("trials", "scored"):
        out[col] = table[col].map(str)
    out[f"< {degenerate_db:g} dB"] = table["degenerate"].map(str)
    for col in ("diverged", "failed", "pruned", "other"):
        if col in ("diverged", "failed") or table[col].sum() > 0:
            out[col] = table[col].map(str)
    out["runtime"] = table["runtime"]
    return out


def _with_interval(values: pd.Series, lo: pd.Series, hi: pd.Series) -> list[str]:
    """``value [lo, hi]`` cells to 2 decimals; ``'-'`` where the value is NaN."""
    return [
        "-" if not math.isfinite(v) else f"{v:.2f} [{fmt(a)}, {fmt(b)}]"
        for v, a, b in zip(values, lo, hi, strict=True)
    ]


def display_correlations(corr: pd.DataFrame, ci: float = 0.95) -> pd.DataFrame:
    """The correlation table from :func:`correlation_table`: ``coef [lo, hi]`` cells."""
    by = _by_of(corr, "subset")
    out = pd.DataFrame({k: corr[k].map(str) for k in by})
    out["subset"] = corr["subset"]
    out["trials"] = corr["trials"].map(str)
    out["n"] = corr["n"].map(str)
    for m in METHODS:
        out[f"{_SYMBOL[m]} [{ci:.0%} CI]"] = _with_interval(
            corr[m], corr[f"{m}_lo"], corr[f"{m}_hi"]
        )
    out["note"] = corr["note"].fillna("")
    return out


def format_p(p: float) -> str:
    """A p-value to 2 significant digits, without an exponent (``0.000022``); ``'-'`` for NaN."""
    if not math.isfinite(p):
        return "-"
    return np.format_float_positional(p, precision=2, fractional=False, trim="-")


def display_comparisons(
    comp: pd.DataFrame, ci: float = 0.95, diff_ci: str = "percentile"
) -> pd.DataFrame:
    """The comparison table from :func:`comparison_table`: medians in dB and ``diff [lo, hi]``
    to 2 decimals (the header names a ``bca`` interval), ``P(a>b)`` to 2, the Mann-Whitney
    p-value and its Holm and Benjamini-Hochberg adjustments to 2 significant digits."""
    other = _by_of(comp, "subset")
    out = pd.DataFrame({k: comp[k].map(str) for k in other})
    for col in ("subset", "a", "b", "n_a", "n_b"):
        out[col] = comp[col].map(str)
    out["median_a"] = comp["median_a"].map(fmt)
    out["median_b"] = comp["median_b"].map(fmt)
    kind = " BCa" if diff_ci == "bca" else ""
    out[f"diff [{ci:.0%}{kind} CI]"] = _with_interval(
        comp["diff"], comp["diff_lo"], comp["diff_hi"]
    )
    out["P(a>b)"] = comp["prob_superiority"].map(fmt)
    out["p"] = comp["mannwhitney_p"].map(format_p)
    out["p (Holm)"] = comp["mannwhitney_p_holm"].map(format_p)
    out["p (BH)"] = comp["mannwhitney_p_bh"].map(format_p)
    out["note"] = comp["note"].fillna("")
    return out


_NUMBER = re.compile(r"^-?\d+(\.\d+)?( \[.*\])?$|^\d+:\d\d$")


def _numeric_like(values: Sequence[str]) -> bool:
    """Numbers, ``coef [lo, hi]`` or ``m:ss`` cells (``-`` for missing): right-aligned."""
    if not values or any(v == "" for v in values):
        return False
    return all(v == "-" or _NUMBER.match(v) for v in values)


def _align(frame: pd.DataFrame) -> list[bool]:
    """Per column: right-aligned (numbers, see :func:`_numeric_like`)?"""
    return [_numeric_like(list(frame[c].map(str))) for c in frame.columns]


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of text cells; numeric columns right-aligned."""

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("*", "\\*").replace("\n", " ")

    text = (
        frame.map(cell)
        .rename(columns=cell)
        .to_markdown(
            index=False,
            tablefmt="pipe",
            disable_numparse=True,  # the cells are already text: "27.00" stays "27.00"
            colalign=["right" if r else "left" for r in _align(frame)],
        )
    )
    return text + "\n"


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"$<$",
    ">": r"$>$",
    "ρ": r"$\rho$",
    "τ": r"$\tau$",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(text))


def to_latex(frame: pd.DataFrame, caption: str | None = None) -> str:
    """A booktabs ``tabular`` (wrapped in a ``table`` with ``caption``), numbers right-aligned.

    Every cell and header is escaped by :func:`latex_escape` (also ``<``, ``>``, ``ρ``, ``τ``,
    so the text needs no package beyond booktabs)."""
    escaped = frame.map(latex_escape).rename(columns=latex_escape)
    float_args = (
        {"caption": latex_escape(caption), "position": "t", "position_float": "centering"}
        if caption
        else {}
    )
    return escaped.style.hide(axis="index").to_latex(
        hrules=True, column_format="".join("r" if r else "l" for r in _align(frame)), **float_args
    )


def write_table(
    table: pd.DataFrame, shown: pd.DataFrame, stem: Path, caption: str
) -> dict[str, Path]:
    """``stem.csv`` (the numbers, full precision), ``stem.md`` and ``stem.tex`` (as shown)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": stem.with_suffix(".csv"),
        "md": stem.with_suffix(".md"),
        "tex": stem.with_suffix(".tex"),
    }
    table.to_csv(paths["csv"], index=False)
    paths["md"].write_text(to_markdown(shown))
    paths["tex"].write_text(to_latex(shown, caption))
    return paths
