"""Architecture pictures: the chain of a sequential genotype, the graph of a cell genotype."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from matplotlib.patches import Circle, FancyArrowPatch

from dasip.spaces import SPACES
from dasip.study import StudyError, draw_architecture, parse_genotype


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_sequential_genotype_is_a_chain_of_its_ops(tmp_path):
    g = parse_genotype("noise-roll-grad*2-net*6", {"name": "sequential", "n_layers": 10})
    fig = draw_architecture(g, "best")
    texts = _texts(fig)
    ops = [t for t in texts if t in {"grad", "net", "roll", "noise"}]
    assert ops == ["noise", "roll", "grad", "grad"] + ["net"] * 6
    assert fig.axes[0].get_title() == "best"
    fig.savefig(tmp_path / "seq.png")
    assert (tmp_path / "seq.png").stat().st_size > 1000


def test_bad_genotype_is_a_study_error():
    with pytest.raises(StudyError, match="cannot read genotype"):
        parse_genotype("grad*3", {"name": "sequential", "n_layers": 10})


@dataclass
class ContractCell:
    """The cell genotype contract: n_cells, n_states, edges() -> (cell, src, dst, op)."""

    n_cells: int
    n_states: int
    _edges: list

    def edges(self):
        return list(self._edges)


def test_cell_contract_object_is_drawn_as_a_graph_per_cell(tmp_path):
    edges = [(0, 0, 1, "grad"), (0, 1, 2, "net"), (0, 0, 3, "roll"), (1, 0, 2, "noise"),
             (1, 2, 3, "grad")]  # fmt: skip
    fig = draw_architecture(ContractCell(2, 3, edges), "cells")
    assert len(fig.axes) == 2  # one row per cell
    for cell, ax in enumerate(fig.axes):
        arcs = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
        nodes = [p for p in ax.patches if isinstance(p, Circle)]
        n_edges = sum(e[0] == cell for e in edges)
        assert len(nodes) == 3 + 1  # input and states
        assert len(arcs) == n_edges + 2  # edges, and the two states into the output
        labels = [t.get_text() for t in ax.texts]
        assert sorted(x for x in labels if x in {"grad", "net", "roll", "noise"}) == sorted(
            e[3] for e in edges if e[0] == cell
        )
    fig.savefig(tmp_path / "cell.png")
    with pytest.raises(StudyError, match="cannot draw edge"):
        draw_architecture(ContractCell(1, 3, [(0, 2, 1, "grad")]))


@pytest.mark.skipif("cell" not in SPACES, reason="the cell space is not registered yet")
def test_real_cell_genotype(tmp_path):
    space = {"name": "cell", "n_cells": 2, "n_states": 5}
    text = "grad-net-zero-roll-zero*3-noise-zero*4-net-grad-zero/net*3-zero*12"
    g = parse_genotype(text, space)
    fig = draw_architecture(g, "real cell")
    assert len(fig.axes) == g.n_cells
    labels = [t for t in _texts(fig) if t in {"grad", "net", "roll", "noise"}]
    assert len(labels) == len(g.edges())
    fig.savefig(tmp_path / "cell.png")
