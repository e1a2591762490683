"""Architecture pictures: the chain of a sequential genotype, the graph of a cell genotype."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from dasip.spaces.genotype import OP_COLORS, PRUNED_COLOR, CellGenotype, op_color
from dasip.study import StudyError, draw_architecture, parse_genotype

OPS = {"grad", "net", "roll", "noise"}


def _texts_of(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _texts(fig) -> list[str]:
    return [t for ax in fig.axes for t in _texts_of(ax)]


def test_sequential_genotype_is_a_chain_of_its_ops(tmp_path):
    g = parse_genotype("noise-roll-grad*2-net*6", {"name": "sequential", "n_layers": 10})
    fig = draw_architecture(g, "best")
    texts = _texts(fig)
    ops = [t for t in texts if t in OPS]
    assert ops == ["noise", "roll", "grad", "grad"] + ["net"] * 6
    assert fig.axes[0].get_title() == "best"
    fig.savefig(tmp_path / "seq.png")
    assert (tmp_path / "seq.png").stat().st_size > 1000


def test_bad_genotype_is_a_study_error():
    with pytest.raises(StudyError, match="cannot read genotype"):
        parse_genotype("grad*3", {"name": "sequential", "n_layers": 10})


def test_cell_genotype_is_drawn_as_a_graph_per_cell(tmp_path):
    # 3 states: edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; every edge live but the zero ones
    g = CellGenotype(3, (("grad", "zero", "net", "roll", "zero", "zero"),
                         ("zero", "noise", "zero", "zero", "zero", "grad")))  # fmt: skip
    fig = draw_architecture(g, "cells")
    assert len(fig.axes) == 2  # one row per cell
    for cell, ax in enumerate(fig.axes):
        arcs = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
        nodes = [p for p in ax.patches if isinstance(p, Circle)]
        ops = [op for op in g.cells[cell] if op != "zero"]
        assert len(nodes) == 3 + 1  # input and states
        assert len(arcs) == len(ops) + 2  # edges, and the two states into the output
        assert sorted(t for t in _texts_of(ax) if t in OPS) == sorted(ops)
    fig.savefig(tmp_path / "cell.png")
    with pytest.raises(StudyError, match="neither a cell nor a sequential genotype"):
        draw_architecture(42)


def test_real_cell_genotype(tmp_path):
    space = {"name": "cell", "n_cells": 2, "n_states": 5}
    text = "grad-net-zero-roll-zero*3-noise-zero*4-net-grad-zero/net*3-zero*12"
    g = parse_genotype(text, space)
    fig = draw_architecture(g, "real cell")
    assert len(fig.axes) == g.n_cells
    labels = [t for t in _texts(fig) if t in OPS]
    assert len(labels) == len(g.edges())
    fig.savefig(tmp_path / "cell.png")


def _dot_edges(dot: str) -> dict[tuple[int, int, int], tuple[str, str]]:
    """``(cell, src, dst) -> (op, colour)`` of the op edges of ``to_dot`` text."""
    edge = re.compile(
        r'c(\d+)_n(\d+) -> c\1_n(\d+) \[label="(\w+)",(?: style=dotted,)? color="([^"]+)"'
    )
    return {(int(c), int(s), int(d)): (op, col) for c, s, d, op, col in edge.findall(dot)}


def test_both_renderers_draw_the_same_cells_in_the_same_colours():
    """``CellGenotype.to_dot`` (Graphviz) and ``draw_cells`` (matplotlib) read one colour map
    and one rule of what is live: the genotype's."""
    # cell 0: state 1 feeds nothing that reaches the output (pruned with its edge), state 2 gets
    # nothing (dead: the merge reads zeros from it), state 3 from the input; cell 1: all four ops
    text = "grad-zero*2-noise-zero*2/roll-net-zero-grad-noise-zero"
    g = parse_genotype(text, {"name": "cell", "n_cells": 2, "n_states": 3})
    dot = _dot_edges(g.to_dot())
    fig = draw_architecture(g)
    for c, (ax, graph) in enumerate(zip(fig.axes, g.graphs(), strict=True)):
        labels = [t for t in ax.texts if t.get_text() in OPS]
        assert len(labels) == len(graph.edges)
        for (s, d, op, live), label in zip(graph.edges, labels, strict=True):
            color = op_color(op) if live else PRUNED_COLOR
            assert label.get_text() == op and to_hex(label.get_color()) == color.lower()
            assert dot[(c, s, d)] == (op, color)
        nodes = [p for p in ax.patches if isinstance(p, Circle)]
        dead = {i for i, n in enumerate(nodes) if to_hex(n.get_facecolor()) == "#dddddd"}
        assert dead == set(range(1, 4)) - graph.live_nodes
    cell0, cell1 = g.graphs()
    assert cell0.edges == ((0, 1, "grad", False), (0, 3, "noise", True))
    assert cell0.live_nodes == {0, 3} and cell0.outputs == ((2, False), (3, True))
    assert all(live for *_, live in cell1.edges) and cell1.live_nodes == {0, 1, 2, 3}
    assert len(dot) == sum(len(graph.edges) for graph in g.graphs())
    # the chain of a sequential genotype is coloured from the same map
    chain = ["grad", "net", "roll", "noise"]
    boxes = [p for p in draw_architecture(chain).axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert [to_hex(b.get_facecolor()) for b in boxes[1:5]] == [OP_COLORS[o].lower() for o in chain]


def test_reading_a_study_imports_no_training_code():
    """The spaces (and torch with them) are imported only to draw a genotype."""
    code = (
        "import sys, dasip.study; "
        "print(sorted(m for m in ('torch', 'dasip.spaces') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_records_space_config_with_every_key_parses():
    """The record's ``config["space"]`` holds network keys too (``initial``): drawing still
    reads the genotype."""
    space = {"name": "sequential", "n_layers": 3, "initial": "zero"}
    assert list(parse_genotype("grad-net*2", space).ops) == ["grad", "net", "net"]
