"""The figure of the architecture PSNR per setting: what it draws, from a tiny study."""

from __future__ import annotations

import numpy as np

from dasip.study import ReportOptions, load_records, psnr_figure

from .conftest import make_record, write


def _points(ax) -> list[float]:
    """The y values of the trials drawn as points in ``ax``."""
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets())]
    return sorted(float(y) for o in offsets for y in np.asarray(o)[:, 1])


def _visible(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def test_every_scored_trial_is_a_point_and_the_title_counts_them(hand_study):
    df = load_records(hand_study)
    fig = psnr_figure(df, ReportOptions(n_boot=10))
    (ax,) = _visible(fig)  # space, data and hparams are the same for every trial: one panel
    assert ax.get_title() == "sequential · blur · H1"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["das", "fixed"]
    scored = sorted(df["arch_psnr"][np.isfinite(df["arch_psnr"])])
    assert _points(ax) == scored and len(scored) == 11
    # das/all has 5 scored, das/good 4, fixed/all 2; a diverged and a failed trial have none
    assert fig._suptitle.get_text().endswith(
        "(11 scored trials, 2-5 per box; 2 without a PSNR, not shown)"
    )
    assert [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == ":"] == [9.0]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["all", "good"]


def test_one_panel_per_data_and_none_without_a_psnr(tmp_path):
    for i, (data, ops, arch) in enumerate(
        [("blur", "all", 20.0), ("blur", "good", 22.0), ("downsampling", "all", 12.0)]
    ):
        write(tmp_path, str(i), make_record(seed=0, data=data, ops=ops, arch=arch))
    df = load_records(tmp_path)
    fig = psnr_figure(df, ReportOptions(by="method,ops,data"))
    axes = _visible(fig)
    assert [ax.get_title() for ax in axes] == ["blur", "downsampling"]
    assert [_points(ax) for ax in axes] == [[20.0, 22.0], [12.0]]
    assert not any(line.get_linestyle() == ":" for ax in axes for line in ax.lines)
    assert fig._suptitle.get_text().endswith("(3 scored trials, 1 per box)")
    assert psnr_figure(df.assign(arch_psnr=np.nan), ReportOptions(by="method,ops,data")) is None
