"""Studies: read the trial records of many runs and compute what the paper reports.

``load_records`` (folders) / ``load_wandb`` (W&B runs) give one DataFrame row per trial;
``setting_table`` and ``correlation_table`` give the numbers; ``scatter_figure`` and
``draw_architecture`` the pictures; ``write_report`` all of it with an ``index.md``.
The rules (reruns, NaN trials, degenerate runs, bootstrap) are in docs/study.md.
"""

from .draw import draw_architecture, draw_cells, draw_sequence, op_color, parse_genotype
from .plots import hue_palette, panels, scatter_figure
from .records import (
    JOB_KEY_IGNORE,
    RECORD_FIELDS,
    StudyError,
    dedupe,
    find_record_files,
    job_key,
    load_records,
    load_wandb,
    with_settings,
)
from .report import Report, write_report
from .stats import (
    BOOT_SEED,
    CI,
    DEFAULT_BY,
    DEGENERATE_DB,
    MIN_PAIRS,
    N_BOOT,
    best_and_worst,
    bootstrap_ci,
    coefficients,
    correlate,
    correlation_table,
    format_min_sec,
    is_degenerate,
    mixed_settings,
    setting_table,
)
from .tables import display_correlations, display_table, to_latex, to_markdown

__all__ = [
    "BOOT_SEED",
    "CI",
    "DEFAULT_BY",
    "DEGENERATE_DB",
    "JOB_KEY_IGNORE",
    "MIN_PAIRS",
    "N_BOOT",
    "RECORD_FIELDS",
    "Report",
    "StudyError",
    "best_and_worst",
    "bootstrap_ci",
    "coefficients",
    "correlate",
    "correlation_table",
    "dedupe",
    "display_correlations",
    "display_table",
    "draw_architecture",
    "draw_cells",
    "draw_sequence",
    "find_record_files",
    "format_min_sec",
    "hue_palette",
    "is_degenerate",
    "job_key",
    "load_records",
    "load_wandb",
    "mixed_settings",
    "op_color",
    "panels",
    "parse_genotype",
    "scatter_figure",
    "setting_table",
    "to_latex",
    "to_markdown",
    "with_settings",
    "write_report",
]
