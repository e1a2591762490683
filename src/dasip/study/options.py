"""What a study report is asked for: the keys that make a setting, the degenerate threshold, the
correlation options, the key to compare and how its comparisons are adjusted and bounded, as one checked :class:`ReportOptions` that every
step of a report (the tables, the correlations, the comparisons, the figures, the files) reads.
The rules are in docs/study.md."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .records import StudyError

#: a setting: the records that share these values
DEFAULT_BY = ("method", "space", "ops", "data", "hparams")
#: runs below this PSNR (dB) are "degenerate"
DEGENERATE_DB = 9.0
#: which PSNR makes a run degenerate in the correlations: either, arch or one_shot
DEGENERATE_ON = ("either", "arch", "one_shot")
#: fewest (one-shot, arch) pairs a correlation is computed from
MIN_PAIRS = 3
N_BOOT = 2000
#: the families a comparison's p-value is adjusted within (``--p-family``, docs/study.md):
#: every comparison of one subset (``all`` / ``non-degenerate``) of the report, every
#: comparison of one group of the other ``--by`` keys and subset, or every row of the report
P_FAMILIES = ("subset", "group", "report")
#: the bootstrap interval of a comparison's median difference (``--diff-ci``)
DIFF_CIS = ("percentile", "bca")
BOOT_SEED = 0
CI = 0.95


def check_by(by: Iterable[str] | str) -> tuple[str, ...]:
    """``"method, ops"`` or ``["method", "ops"]`` -> ``("method", "ops")``; a key named twice is
    a :class:`StudyError`. Whether a key exists is known only with the records
    (:func:`dasip.study.records.with_settings`)."""
    keys = [b.strip() for b in by.split(",")] if isinstance(by, str) else [str(b) for b in by]
    keys = [b for b in keys if b]
    if len(set(keys)) != len(keys):
        raise StudyError(f"--by {','.join(keys)}: a key is named twice")
    return tuple(keys)


@dataclass(frozen=True)
class ReportOptions:
    """The options of a study report, checked when made (a :class:`StudyError` says which is
    wrong and what is allowed). Each field is a flag of ``dasip-report``.

    ``by``: the keys that make a setting (``--by``; a comma-separated string is split).
    ``degenerate_db`` / ``degenerate_on``: runs below this PSNR are degenerate, judged on
    ``either`` PSNR, only ``arch`` or only ``one_shot`` (the correlations and scatter plots).
    ``n_boot``, ``seed``, ``ci``: the percentile bootstrap (``--n-boot``, ``--boot-seed``,
    ``--ci``). ``min_pairs``: the fewest pairs a correlation is computed from. ``hue``: the key
    coloured within a scatter plot (an op set), when it is one of ``by``. ``pictures``: draw
    the best and worst architecture of each setting. ``compare``: the ``by`` key whose values
    are compared pairwise (``--compare``), or None for no comparisons. ``p_family``: the
    comparisons whose Mann-Whitney p-values are adjusted together (Holm, Benjamini-Hochberg;
    ``--p-family``, one of :data:`P_FAMILIES`). ``diff_ci``: the bootstrap interval of the
    median difference, ``percentile`` or ``bca`` (``--diff-ci``). ``ground_truth``: place
    each trial's architecture in a ground-truth table (``--ground-truth``): ``auto`` (each
    trial's own table), a table file or ``DATA/SETUP``; None for no such section.
    """

    by: tuple[str, ...] = DEFAULT_BY
    degenerate_db: float = DEGENERATE_DB
    degenerate_on: str = "either"
    n_boot: int = N_BOOT
    seed: int = BOOT_SEED
    ci: float = CI
    min_pairs: int = MIN_PAIRS
    hue: str = "ops"
    pictures: bool = True
    compare: str | None = None
    p_family: str = "subset"
    diff_ci: str = "percentile"
    ground_truth: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "by", check_by(self.by))
        if isinstance(self.compare, str):
            object.__setattr__(self, "compare", self.compare.strip() or None)
        if self.compare is not None and self.compare not in self.by:
            raise StudyError(
                f"--compare {self.compare!r} is not one of the --by keys; allowed: "
                f"{', '.join(self.by) or '(none: --by is empty)'}"
            )
        for flag, value, allowed in (
            ("--degenerate-on", self.degenerate_on, DEGENERATE_ON),
            ("--p-family", self.p_family, P_FAMILIES),
            ("--diff-ci", self.diff_ci, DIFF_CIS),
        ):
            if value not in allowed:
                raise StudyError(f"{flag} {value!r} is not allowed; allowed: {', '.join(allowed)}")
        if self.n_boot < 1:
            raise StudyError(f"--n-boot {self.n_boot}: must be at least 1")
        if not 0 < self.ci < 1:
            raise StudyError(f"--ci {self.ci}: must be between 0 and 1")
        if self.min_pairs < 2:
            raise StudyError(f"--min-pairs {self.min_pairs}: must be at least 2")

    @property
    def hue_key(self) -> str | None:
        """``hue`` where it is one of the ``by`` keys (a column of every setting), else None."""
        return self.hue if self.hue in self.by else None


#: the options of ``dasip-report`` run without flags, the default of every function that takes
#: options
DEFAULT_OPTIONS = ReportOptions()
