"""Studies: read the trial records of many runs and compute what the paper reports.

``load_records`` (folders) / ``load_wandb`` (W&B runs) give one DataFrame row per trial;
``setting_table``, ``correlation_table`` and ``comparison_table`` (p-values adjusted by
``holm`` / ``benjamini_hochberg``) give the numbers;
``psnr_figure`` (the architecture PSNR per setting), ``scatter_figure``,
``draw_architecture`` and ``eigenvalue_figure`` (Hessian eigenvalue trajectories) the
pictures; ``build_report`` all of it as data and ``write_report`` as files
with an ``index.md``, every step reading one ``ReportOptions``. The rules (reruns, NaN
trials, degenerate runs, bootstrap) are in docs/study.md.
"""

from ..record import JOB_KEY_IGNORE, job_key
from .build import StudyReport, build_report
from .draw import draw_architecture, parse_genotype
from .options import DEFAULT_BY, N_BOOT, ReportOptions
from .plots import hue_palette, panels, psnr_figure, scatter_figure
from .records import StudyError, combine_records, load_records, load_wandb
from .render import Report, render_report, write_report
from .stats import (
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
    mixed_settings,
    setting_table,
)
from .tables import (
    display_comparisons,
    display_correlations,
    display_table,
    to_latex,
    to_markdown,
)
from .trajectories import eigenvalue_figure, eigenvalue_trajectories

__all__ = [
    "DEFAULT_BY",
    "JOB_KEY_IGNORE",
    "N_BOOT",
    "Report",
    "ReportOptions",
    "StudyError",
    "StudyReport",
    "adjust_comparisons",
    "bca_diff_ci",
    "benjamini_hochberg",
    "best_and_worst",
    "bootstrap_ci",
    "bootstrap_diff_ci",
    "build_report",
    "combine_records",
    "compare",
    "comparison_table",
    "correlate",
    "correlation_table",
    "display_comparisons",
    "display_correlations",
    "display_table",
    "draw_architecture",
    "eigenvalue_figure",
    "eigenvalue_trajectories",
    "format_min_sec",
    "holm",
    "hue_palette",
    "job_key",
    "load_records",
    "load_wandb",
    "mixed_settings",
    "panels",
    "parse_genotype",
    "psnr_figure",
    "render_report",
    "scatter_figure",
    "setting_table",
    "to_latex",
    "to_markdown",
    "write_report",
]
