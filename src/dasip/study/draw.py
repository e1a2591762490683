"""Pictures of architectures: the chain of ops of a sequential genotype, the graph of each cell
of a cell genotype. Matplotlib only (no graphviz).

The genotype says what a picture shows: the colour of each op
(:func:`dasip.spaces.genotype.op_color`) and, in a cell, which edges and states are live, pruned
or absent (:meth:`dasip.spaces.genotype.CellGenotype.graphs`), so these pictures and
``CellGenotype.to_dot`` agree. The spaces are imported only to draw: ``import dasip.study``
reads records without importing torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path as MplPath

from .records import StudyError


def parse_genotype(text: str, space: Mapping[str, Any] | str | None) -> Any:
    """The genotype object of ``text`` in a search space given as the record's
    ``config["space"]`` (``{"name": ..., **params}``) or a space name (default parameters)."""
    from ..spaces import build_space  # the space's own parser: imported only to draw

    params = {"name": space} if isinstance(space, str) else dict(space or {"name": "sequential"})
    name = params.pop("name", "sequential")
    try:
        return build_space(name, **params).parse(text)
    except (ValueError, TypeError) as e:
        raise StudyError(f"cannot read genotype {text!r} in space {name!r}: {e}") from e


def draw_architecture(genotype: Any, title: str | None = None) -> Figure:
    """A picture of a cell genotype (anything with ``graphs()``, see
    :meth:`~dasip.spaces.genotype.CellGenotype.graphs`) or of a sequential one (anything with
    ``ops``, or a sequence of op names)."""
    if hasattr(genotype, "graphs"):
        return draw_cells(genotype, title)
    ops = getattr(genotype, "ops", genotype)
    if isinstance(ops, str) or not isinstance(ops, Sequence):
        raise StudyError(f"cannot draw {genotype!r}: neither a cell nor a sequential genotype")
    return draw_sequence(list(ops), title)


def _box(ax, x: float, y: float, text: str, color: str, w: float = 0.8, h: float = 0.6) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=color,
            edgecolor="black",
            linewidth=0.8,
        )
    )
    light = color in ("white", "#ffffff", "#eeeeee")
    ax.text(x, y, text, ha="center", va="center", fontsize=9, color="black" if light else "white")


def _arrow(ax, p0, p1, color="black", style="-|>", lw=1.0, ls="-", rad=0.0) -> None:
    ax.add_patch(
        FancyArrowPatch(
            p0,
            p1,
            arrowstyle=style,
            mutation_scale=10,
            color=color,
            linewidth=lw,
            linestyle=ls,
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=0,
            shrinkB=0,
        )
    )


def draw_sequence(ops: Sequence[str], title: str | None = None) -> Figure:
    """``x0 = A^T y`` -> op 1 -> ... -> op L -> (+ x0) -> x_hat, ops coloured by name."""
    from ..spaces.genotype import op_color  # imported only to draw: see the module docstring

    n = len(ops)
    fig = Figure(figsize=(max(6.0, 1.0 * (n + 3)), 2.4), layout="constrained")
    ax = fig.add_subplot()
    xs = np.arange(n + 3, dtype=float)  # x0, ops..., +, x_hat
    _box(ax, xs[0], 0, "$A^Ty$", "#eeeeee")
    for i, op in enumerate(ops, start=1):
        _box(ax, xs[i], 0, op, op_color(op))
        ax.text(xs[i], -0.45, str(i), ha="center", va="top", fontsize=7, color="#555555")
    plus = xs[n + 1]
    ax.add_patch(Circle((plus, 0), 0.18, facecolor="white", edgecolor="black", linewidth=0.8))
    ax.text(plus, 0, "+", ha="center", va="center", fontsize=11)
    _box(ax, xs[n + 2], 0, r"$\hat{x}$", "#eeeeee", w=0.6)
    for i in range(n):
        _arrow(ax, (xs[i] + 0.4, 0), (xs[i + 1] - 0.4, 0))
    _arrow(ax, (xs[n] + 0.4, 0), (plus - 0.18, 0))
    _arrow(ax, (plus + 0.18, 0), (xs[n + 2] - 0.3, 0))
    # the global residual x_hat = x0 + x_L
    residual = MplPath(
        [(xs[0], 0.3), (xs[0], 0.75), (plus, 0.75), (plus, 0.18)],
        [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO],
    )
    ax.add_patch(
        FancyArrowPatch(
            path=residual, arrowstyle="-|>", mutation_scale=10, color="#555555", linewidth=0.8
        )
    )
    ax.set_xlim(xs[0] - 0.6, xs[-1] + 0.5)
    ax.set_ylim(-0.8, 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _curve(p0: tuple[float, float], p1: tuple[float, float], bend: float, r0=0.0, r1=0.0):
    """A quadratic Bezier from ``p0`` to ``p1`` bulging ``bend`` upwards (data units), its ends
    moved ``r0`` / ``r1`` along the curve (off the node circles): its path and its midpoint
    (where the label goes)."""
    c = np.array([(p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2 + 2 * bend])
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    a = a + r0 * (c - a) / np.linalg.norm(c - a)
    b = b + r1 * (c - b) / np.linalg.norm(c - b)
    mid = 0.25 * a + 0.5 * c + 0.25 * b
    path = MplPath([a, c, b], [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])
    return path, (float(mid[0]), float(mid[1]))


def _bend(dist: int) -> float:
    """Adjacent nodes: a straight edge; longer edges arc higher, alternately above and below."""
    return 0.0 if dist == 1 else 0.35 * dist * (1 if dist % 2 == 0 else -1)


def draw_cells(genotype: Any, title: str | None = None) -> Figure:
    """One row per cell: its input (node 0), states ``1..n_states`` left to right, one coloured
    arc per edge labelled with its op, and the output (the states its merge reads, concatenated
    and merged by a convolution). A cell's output is the next cell's input. What the derivation
    prunes (edges, states, inputs of the merge) is grey, edges and merge inputs dotted: the
    genotype's :meth:`~dasip.spaces.genotype.CellGenotype.graphs` says which."""
    from ..spaces.genotype import PRUNED_COLOR, op_color  # imported only to draw

    graphs = list(genotype.graphs())
    n_cells, n_states = len(graphs), max(g.n_states for g in graphs)
    bends = [_bend(d - s) for g in graphs for s, d, _, _ in g.edges]
    height = max([0.8, *(abs(b) + 0.45 for b in bends)])  # the highest arc and its label
    fig = Figure(
        figsize=(max(6.0, 1.5 * (n_states + 2)), (2 * height + 0.6) * n_cells + 0.5),
        layout="constrained",
    )
    axes = fig.subplots(n_cells, 1, squeeze=False)[:, 0]
    r = 0.22
    for cell, (ax, graph) in enumerate(zip(axes, graphs, strict=True)):
        xs = {i: 1.2 * i for i in range(graph.n_states + 1)}
        out_x = 1.2 * (graph.n_states + 1)
        for s, d, op, live in graph.edges:
            path, mid = _curve((xs[s], 0.0), (xs[d], 0.0), _bend(d - s), r, r)
            color = op_color(op) if live else PRUNED_COLOR
            ax.add_patch(
                FancyArrowPatch(
                    path=path,
                    arrowstyle="-|>",
                    mutation_scale=10,
                    color=color,
                    linewidth=1.3 if live else 0.9,
                    linestyle="-" if live else ":",
                    zorder=1,
                )
            )
            ax.text(
                mid[0],
                mid[1],
                op,
                ha="center",
                va="center",
                fontsize=7,
                color=color,
                zorder=3,
                bbox={
                    "boxstyle": "round,pad=0.15",
                    "facecolor": "white",
                    "edgecolor": color,
                    "linewidth": 0.5,
                },
            )
        for i, x in xs.items():
            if i == 0:
                label, face = ("$A^Ty$" if cell == 0 else f"c{cell}"), "#eeeeee"
            else:  # a state no live edge enters is grey
                label, face = str(i), ("white" if i in graph.live_nodes else "#dddddd")
            ax.add_patch(Circle((x, 0), r, facecolor=face, edgecolor="black", lw=0.9, zorder=2))
            ax.text(x, 0, label, ha="center", va="center", fontsize=8, zorder=4)
        # the output: the states the merge reads, concatenated, merged back to one channel
        _box(ax, out_x + 0.3, 0, "concat\n+conv", "#eeeeee", w=0.9, h=0.6)
        for s, live in graph.outputs:
            bend = 0.0 if s == graph.n_states else -0.3
            path, _ = _curve((xs[s], 0.0), (out_x - 0.15, 0.0), bend, r, 0.0)
            ax.add_patch(
                FancyArrowPatch(
                    path=path,
                    arrowstyle="-|>",
                    mutation_scale=9,
                    color="#555555" if live else PRUNED_COLOR,
                    linewidth=0.8,
                    linestyle="--" if live else ":",
                    zorder=1,
                )
            )
        ax.set_xlim(-0.5, out_x + 0.9)
        ax.set_ylim(-height, height)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"cell {cell + 1} of {n_cells}", fontsize=9, loc="left")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
