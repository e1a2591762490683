"""The Hessian eigenvalue trajectories in a report: the figure and the good / bad split behind it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dasip.study import (
    ReportOptions,
    build_report,
    eigenvalue_trajectories,
    load_records,
    write_report,
)

from .conftest import make_record, write

#: setting (das, all): seed -> (arch PSNR, status, trajectory); the median of 25, 27, 24 is 25
TRACKED_ALL = {
    0: (25.0, "ok", [1.0, 1.5, 2.0]),  # at the median: good
    1: (27.0, "ok", [1.0, 1.1, 1.2]),
    2: (24.0, "ok", [1.0, 3.0, 9.0]),  # below: bad
    3: (None, "diverged", [1.0, None, 4.0]),  # no architecture PSNR: unscored; a null value
}
#: setting (das-sdarts_rs, good): the median of 28 and 26 is 27
TRACKED_GOOD = {0: (28.0, "ok", [0.5, 0.6]), 1: (26.0, "ok", [0.5, 0.9])}
OPTIONS = ReportOptions(n_boot=20, pictures=False)


@pytest.fixture
def tracked_study(tmp_path):
    root = tmp_path / "multirun"
    for seed, (arch, status, path) in TRACKED_ALL.items():
        rec = make_record(
            seed=seed, ops="all", one_shot=20.0 + seed, arch=arch, status=status,
            extra={"variant": "darts", "hessian_eigenvalues": path},
        )  # fmt: skip
        write(root, f"all-{seed}", rec)
    for seed, (arch, status, path) in TRACKED_GOOD.items():
        rec = make_record(
            seed=seed, ops="good", one_shot=20.0 + seed, arch=arch, status=status,
            extra={"variant": "sdarts_rs", "hessian_eigenvalues": path},
            config={"method": {"name": "das", "variant": "sdarts_rs"}},
        )  # fmt: skip
        write(root, f"good-{seed}", rec)
    # plain DAS without tracking, and a baseline: in the report, not in the figure
    write(root, "untracked", make_record(seed=9, ops="all", one_shot=21.0, arch=26.0))
    write(root, "fixed", make_record(seed=0, method="fixed", arch=20.0))
    return root


def test_the_good_bad_split_is_the_median_of_each_setting(tracked_study):
    data = eigenvalue_trajectories(load_records(tracked_study), OPTIONS)
    trials = data.drop_duplicates("source").set_index(["method", "ops", "seed"])
    assert trials["outcome"].to_dict() == {
        ("das", "all", 0): "good",
        ("das", "all", 1): "good",
        ("das", "all", 2): "bad",
        ("das", "all", 3): "unscored",
        ("das-sdarts_rs", "good", 0): "good",
        ("das-sdarts_rs", "good", 1): "bad",
    }
    assert trials.loc[("das", "all"), "median"].tolist() == [25.0] * 4
    assert trials.loc[("das-sdarts_rs", "good"), "median"].tolist() == [27.0] * 2
    # one row per epoch, the record's values in order, a null one as NaN
    bad = data[(data["method"] == "das") & (data["seed"] == 2)]
    assert bad["epoch"].tolist() == [1, 2, 3] and bad["eigenvalue"].tolist() == [1.0, 3.0, 9.0]
    unscored = data[(data["method"] == "das") & (data["seed"] == 3)]["eigenvalue"].tolist()
    assert unscored[0] == 1.0 and math.isnan(unscored[1]) and unscored[2] == 4.0
    assert len(data) == 3 * 4 + 2 * 2  # neither the untracked trial nor the baseline


def test_a_report_over_tracked_records_writes_and_links_the_figure(tracked_study, tmp_path):
    built = build_report(load_records(tracked_study), OPTIONS)
    assert built.trajectories is not None
    axes = [ax for ax in built.trajectories.figure.axes if ax.get_visible()]
    assert len(axes) == 2  # one panel per setting with trajectories
    # one thin line per trial and one mean line per outcome
    assert len(axes[0].lines) == 4 + 3 and len(axes[1].lines) == 2 + 2
    out = tmp_path / "report"
    report = write_report(load_records(tracked_study), out, OPTIONS)
    for name in ("hessian.png", "hessian.svg", "hessian.csv"):
        assert (out / name).is_file() and out / name in report.files
    index = report.index.read_text()
    assert "## Hessian eigenvalue trajectories" in index
    assert "![Hessian eigenvalue trajectories](hessian.png)" in index
    assert "6 trial(s) recorded the dominant Hessian eigenvalue" in index
    assert "at or above the median" in index
    written = pd.read_csv(out / "hessian.csv")
    assert written["outcome"].value_counts().to_dict() == {"good": 8, "bad": 5, "unscored": 3}


def test_a_report_without_trajectories_has_no_such_figure(hand_study, tmp_path):
    df = load_records(hand_study)
    assert eigenvalue_trajectories(df, OPTIONS).empty
    report = write_report(df, tmp_path / "r", OPTIONS)
    assert not any(p.name.startswith("hessian") for p in report.files)
    assert not list((tmp_path / "r").glob("hessian*"))
    assert "Hessian" not in report.index.read_text()
