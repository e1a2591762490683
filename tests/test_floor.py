"""``python -m dasip.floor``: the PSNR of x0 and the trivial outputs, per reading, no training."""

import pytest
import torch

from dasip import floor
from dasip.trial import build

from .conftest import compose_cfg


def _collapsed(net):
    """``net`` with every layer's output 0: it returns what the global residual carries."""
    net.body = lambda x, y: torch.zeros_like(x)
    return net


@pytest.mark.parametrize(
    "overrides",
    [
        ["data=blur"],
        ["data=downsampling"],
        ["data=blur", "data.operator.normalize=density", "data.operator.padding=reflect"],
        ["data=downsampling", "data.operator.padding=valid", "space.initial=pinv"],
    ],
)
def test_floor_x0_equals_the_trials_score_of_a_collapsed_network(overrides, tmp_path):
    """The floor command scores x0 exactly as a trial scores its networks: the trial's own
    network (derived from arch=), collapsed to its global residual, gets the table's x0."""
    (row,) = floor.floor_table(overrides).to_dict("records")
    cfg = compose_cfg(
        "search", [*overrides, "logger=none", "method=fixed", "arch=grad*10"], fast=False
    )
    ctx = build(cfg, tmp_path)
    assert row["x0"] == ctx.psnr(_collapsed(ctx.space.derived(ctx.op_context(), ctx.arch)))
    x, _ = ctx.validation_set()  # zero output: -10 log10(mean x_i^2), averaged over signals
    assert row["zero"] == pytest.approx(
        float((-10 * torch.log10(x.pow(2).mean((1, 2)))).mean()), abs=1e-4
    )


def test_todays_reading_and_the_paper_floors():
    """dasip's default operator: x0 at 14.5 dB on blur and 1.9 dB on downsampling (the paper's
    floors are about 8 and 1 dB); only downsampling passes."""
    table = floor.floor_table(["data=blur,downsampling"], floor.PAPER_FLOORS, tolerance=1.0)
    got = dict(zip(table["data"], table["x0"], strict=True))
    assert got["blur"] == pytest.approx(14.53, abs=0.01)
    assert got["downsampling"] == pytest.approx(1.94, abs=0.01)
    assert table.set_index("data")["passes"].to_dict() == {"blur": False, "downsampling": True}
    assert floor.survivors(table).empty


def test_survivors_need_every_problem():
    table = floor.floor_table(
        ["data=blur,downsampling", "data.operator.normalize=sum,density"],
        {"blur": 5.3, "downsampling": 0.9}, tolerance=0.2,
    )  # fmt: skip
    kept = floor.survivors(table)
    assert kept["data.operator.normalize"].tolist() == ["density"]
    assert set(kept.columns) >= {"blur", "downsampling"}


def test_cli_prints_the_table_and_rejects_a_bad_key(capsys, tmp_path):
    out = tmp_path / "floor.csv"
    assert floor.main(["data=downsampling", "ops.roll.dims=flat", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| downsampling |" in printed and "x0 rolled" in printed
    assert out.read_text().splitlines()[0].startswith("data,ops.roll.dims,x0,zero")
    assert floor.main(["data.operator.padding=same"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dasip: error: data.operator.padding='same'") and "\n" not in err
    with pytest.raises(SystemExit, match="--floor blur"):
        floor.main(["--floor", "blur"])
