"""The floor of a reading, without training: what a collapsed network scores.

A network whose layers collapse (their output goes to 0) returns what the global residual
carries, the initial estimate ``x0``; so the lowest PSNRs of a table of trained networks show
what ``x0`` scores under the operator that made the table. This module scores ``x0`` and the
other trivial outputs of a network on a trial's validation set, for every reading of a grid of
config overrides, in seconds, and marks the readings whose ``x0`` lies within a tolerance of
given floors (docs/reproduction.md):

    python -m dasip.floor                                   # the default grid of readings
    python -m dasip.floor data.noise_std=0.01,0.1 space.initial=adjoint,pinv
    python -m dasip.floor --floor blur=8 --floor downsampling=1 --tolerance 1 --out floor.csv

Arguments are Hydra overrides of ``search.py``'s config; a comma list (or ``range(...)``)
sweeps a key, and the rows are every combination. The scoring is the trial's own
(:meth:`dasip.trial.TrialContext.psnr` on the validation set of ``data``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from . import CONF_DIR
from .physics import LinearOperator

#: the package's configs (``search.py``'s ``dasip/conf``)
CONF = CONF_DIR

#: the floors the paper's Table 1 implies (the minimums of its two baseline rows: 8.80 and
#: 8.07 dB on blur, 7.95 and 1.08 dB on downsampling; docs/reproduction.md)
PAPER_FLOORS = {"blur": 8.0, "downsampling": 1.0}

#: the readings of the operator and the initial estimate that the default grid compares
DEFAULT_GRID = (
    "data=blur,downsampling",
    "data.operator.normalize=sum,density",
    "data.operator.sigma_unit=grid,samples",
    "data.operator.padding=zero,reflect,circular,valid",
    "space.initial=adjoint,scaled_adjoint,normalized_adjoint,pinv",
)

#: the trivial outputs scored per reading: column name -> what the network returns
OUTPUTS = {
    "x0": "the initial estimate (layers collapsed to 0)",
    "zero": "0 (a network that cancels its input)",
    "x0+noise": "x0 plus one draw of the noise op's noise",
    "x0 rolled": "x0 through the roll op",
    "2 x0": "x0 + x0 (every layer the identity)",
}


class TrivialOutput(nn.Module):
    """``y -> `` one of :data:`OUTPUTS`, built from a trial's operator, ``space.initial`` and
    ops (the noise op's level and placement, the roll op)."""

    def __init__(self, operator: LinearOperator, initial: str, kind: str, ops_cfg, roll: nn.Module):
        super().__init__()
        if kind not in OUTPUTS:
            raise ValueError(f"kind={kind!r}; allowed: {', '.join(OUTPUTS)}")
        object.__setattr__(self, "operator", operator)
        self.initial = initial
        self.kind = kind
        inside = ops_cfg.get("noise_placement", "outside") == "inside"
        self.noise_scale = float(ops_cfg.noise_std) * (float(ops_cfg.tau_init) if inside else 1.0)
        self.noise_at_eval = bool(ops_cfg.get("noise_at_eval", True))
        self.roll = roll

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        x0 = self.operator.initial_estimate(y, self.initial)
        if self.kind == "zero":
            return torch.zeros_like(x0)
        if self.kind == "x0+noise":
            if not self.noise_at_eval:
                return x0
            return x0 + self.noise_scale * torch.randn_like(x0)
        if self.kind == "x0 rolled":
            return self.roll(x0, y)
        if self.kind == "2 x0":
            return 2 * x0
        return x0


def compose(overrides: Sequence[str]):
    """``search.py``'s config under ``overrides`` (no W&B, no sweep)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from . import config  # noqa: F401 - registers the config schemas

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return hydra_compose("search", overrides=["logger=none", *overrides])


def grid(overrides: Sequence[str]) -> list[list[str]]:
    """The jobs of a sweep of ``overrides`` (Hydra's basic-sweeper syntax), each a list of
    ``key=value`` overrides."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    if not parsed:
        return [[]]
    (batch,) = BasicSweeper.split_arguments(parsed, None)
    return [list(job) for job in batch]


def floor_row(cfg) -> dict[str, float]:
    """PSNR (dB) of every trivial output of :data:`OUTPUTS` under ``cfg``, scored as a trial
    scores its networks."""
    import tempfile

    from .ops import build_op
    from .trial import build

    with tempfile.TemporaryDirectory() as run_dir:
        ctx = build(cfg, run_dir)
        roll = build_op("roll", ctx.op_context())
        return {
            kind: ctx.psnr(TrivialOutput(ctx.operator, cfg.space.initial, kind, cfg.ops, roll))
            for kind in OUTPUTS
        }


def floor_table(
    overrides: Sequence[str] = DEFAULT_GRID,
    floors: dict[str, float] | None = None,
    tolerance: float = 1.0,
) -> pd.DataFrame:
    """One row per job of the sweep of ``overrides``: the swept keys' values, then the PSNR of
    every trivial output; with ``floors`` (data name -> dB), ``floor`` and ``passes`` (``x0``
    within ``tolerance`` of the floor of the row's problem)."""
    rows = []
    for job in grid(overrides):
        cfg = compose(job)
        row = {k: v for k, v in (o.split("=", 1) for o in job)}
        row.setdefault("data", cfg.data.name)
        row.update(floor_row(cfg))
        if floors is not None:
            floor = floors.get(cfg.data.name)
            row["floor"] = floor
            row["passes"] = floor is not None and abs(row["x0"] - floor) <= tolerance
        rows.append(row)
    return pd.DataFrame(rows)


def survivors(table: pd.DataFrame) -> pd.DataFrame:
    """The readings (rows without ``data``) whose ``x0`` passes on every problem swept."""
    keys = [c for c in table.columns if c not in (*OUTPUTS, "data", "floor", "passes")]
    if not keys:
        return (
            table[["passes"]].all().to_frame("passes").T
            if table["passes"].all()
            else table.iloc[:0]
        )
    wide = table.pivot_table(index=keys, columns="data", values="x0", aggfunc="first")
    ok = table.groupby(keys, dropna=False)["passes"].all()
    wide = wide[ok.reindex(wide.index).fillna(False).astype(bool)]
    return wide.reset_index()


def _floors(items: Sequence[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise SystemExit(f"dasip: error: --floor {item}: expected DATA=DB, e.g. blur=8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dasip.floor",
        description="PSNR of x0 and the trivial outputs per reading and problem, no training.",
    )
    parser.add_argument(
        "overrides", nargs="*",
        help="Hydra overrides of search.py's config; comma lists sweep (default: a grid of "
        "the operator's readings and the initial estimate)",
    )  # fmt: skip
    parser.add_argument(
        "--floor", action="append", default=None, metavar="DATA=DB",
        help="a problem's floor in dB (default: the paper's, blur=8 downsampling=1)",
    )  # fmt: skip
    parser.add_argument("--tolerance", type=float, default=1.0, help="dB around a floor (1)")
    parser.add_argument("--out", type=Path, help="also write the table here (.csv or .md)")
    args = parser.parse_args(argv)
    from .config import ConfigError

    floors = _floors(args.floor) if args.floor else dict(PAPER_FLOORS)
    start = time.perf_counter()
    try:
        table = floor_table(args.overrides or DEFAULT_GRID, floors, args.tolerance)
    except (ConfigError, ValueError) as e:
        print(f"dasip: error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    except Exception as e:  # Hydra's override and composition errors
        if type(e).__module__.startswith(("hydra", "omegaconf")):
            print(f"dasip: error: {str(e).splitlines()[0]}", file=sys.stderr)
            return 2
        raise
    print(table.to_markdown(index=False, floatfmt=".2f"))
    kept = survivors(table)
    print(
        f"\n{len(table)} rows in {time.perf_counter() - start:.1f} s. Readings whose x0 lies "
        f"within {args.tolerance:g} dB of every floor ({', '.join(f'{k} {v:g} dB' for k, v in floors.items())}): "
        f"{len(kept)}"
    )
    if len(kept):
        print(kept.to_markdown(index=False, floatfmt=".2f"))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.suffix == ".md":
            args.out.write_text(table.to_markdown(index=False, floatfmt=".2f") + "\n")
        else:
            table.to_csv(args.out, index=False, float_format="%.4f")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
