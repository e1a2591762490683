"""Genotypes: what an architecture is, as data with a string form for the command line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\*(\d+))?$")
#: separators accepted between tokens; ``-`` is canonical (no quoting needed in Hydra overrides)
_SEPARATORS = re.compile(r"[-,+\s]+")


class GenotypeError(ValueError):
    """A malformed or invalid architecture string."""


@dataclass(frozen=True)
class SequentialGenotype:
    """The op of each layer of the sequential space, first layer first."""

    ops: tuple[str, ...]

    def __str__(self) -> str:
        return format_sequence(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def to_list(self) -> list[str]:
        return list(self.ops)


def format_sequence(ops: Sequence[str]) -> str:
    """Run-length form, e.g. ``('grad', 'net', 'net') -> 'grad-net*2'``."""
    parts: list[str] = []
    i = 0
    while i < len(ops):
        j = i
        while j < len(ops) and ops[j] == ops[i]:
            j += 1
        n = j - i
        parts.append(ops[i] if n == 1 else f"{ops[i]}*{n}")
        i = j
    return "-".join(parts)


def parse_sequence(text: str | Iterable[str], key: str = "arch") -> tuple[str, ...]:
    """Parse ``'grad-net*9'`` (also ``,``/``+``-separated, or a list of tokens) into op names.

    Raises :class:`GenotypeError` naming ``key`` and the offending token.
    """
    tokens = [t for t in _SEPARATORS.split(text.strip())] if isinstance(text, str) else list(text)
    tokens = [str(t).strip() for t in tokens if str(t).strip()]
    if not tokens:
        raise GenotypeError(f"{key}={text!r} is empty; expected e.g. 'grad-net*9'")
    ops: list[str] = []
    for tok in tokens:
        m = _TOKEN.match(tok)
        if not m:
            raise GenotypeError(
                f"{key}={text!r}: cannot read token {tok!r}; expected OP or OP*COUNT, "
                f"e.g. 'grad-net*9'"
            )
        count = int(m.group(2)) if m.group(2) else 1
        if count < 1:
            raise GenotypeError(f"{key}={text!r}: token {tok!r} repeats an op {count} times")
        ops.extend([m.group(1)] * count)
    return tuple(ops)


# -- the cell space (docs/method.md, Search spaces) ------------------------------------------------
#: separates the cells of a cell genotype's string form (no quoting needed in a shell or Hydra)
CELL_SEPARATOR = "/"
#: the op that marks an absent edge
ZERO = "zero"


def cell_edges(n_states: int) -> list[tuple[int, int]]:
    """``(src, dst)`` of every edge of a cell, in the genotype's order: state 1 from node 0;
    state 2 from nodes 0, 1; state 3 from nodes 0, 1, 2; ... Node 0 is the cell's input."""
    return [(i, j) for j in range(1, n_states + 1) for i in range(j)]


def n_cell_edges(n_states: int) -> int:
    """``1 + 2 + ... + n_states``: 15 for 5 states."""
    return n_states * (n_states + 1) // 2


def cell_output_states(n_states: int) -> tuple[int, ...]:
    """The states a cell's merge convolution reads: the last two (the only one if 1 state)."""
    return tuple(range(max(1, n_states - 1), n_states + 1))


def prune_cell(ops: Sequence[str], n_states: int) -> tuple[list[tuple[int, int, str]], set[int]]:
    """The derivation rule (docs/method.md): which edges of a derived cell are built.

    1. A ``zero`` edge is absent.
    2. A state with no incoming edge from a live node is dead: it is zero and its outgoing edges
       are dropped (in edge order, so the rule cascades; node 0 is always live).
    3. A live state from which no live path leads to an output state is pruned with its edges:
       it cannot change the cell's output.

    Returns the live edges ``(src, dst, op)`` in edge order and the set of live output states;
    a dead output state enters the merge convolution as zeros.
    """
    edges = cell_edges(n_states)
    if len(ops) != len(edges):
        raise GenotypeError(f"a cell with {n_states} states has {len(edges)} edges, got {len(ops)}")
    live = {0}
    for (i, j), op in zip(edges, ops, strict=True):
        if op != ZERO and i in live:
            live.add(j)
    outputs = set(cell_output_states(n_states)) & live
    reach = set(outputs)
    for (i, j), op in reversed(list(zip(edges, ops, strict=True))):
        if j in reach and op != ZERO and i in live:
            reach.add(i)
    kept = [
        (i, j, op)
        for (i, j), op in zip(edges, ops, strict=True)
        if op != ZERO and i in live and j in reach
    ]
    return kept, outputs


@dataclass(frozen=True)
class CellGenotype:
    """The op of every edge of every cell. ``cells[c]`` lists cell ``c``'s edge ops in
    the order of :func:`cell_edges`; ``zero`` marks an absent edge. Cells are numbered from 0;
    in a cell, node 0 is its input and nodes ``1..n_states`` its states.

    String form: each cell as a ``-``-joined op sequence with ``OP*N`` repeats (as in the
    sequential space), cells joined by ``/``: ``grad*15/net-zero*14``.
    """

    n_states: int
    cells: tuple[tuple[str, ...], ...]

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    def __str__(self) -> str:
        return CELL_SEPARATOR.join(format_sequence(c) for c in self.cells)

    def to_list(self) -> list[str]:
        """One string per cell."""
        return [format_sequence(c) for c in self.cells]

    def edges(self) -> list[tuple[int, int, int, str]]:
        """``(cell, src_node, dst_node, op)`` of every edge whose op is not ``zero``."""
        return [
            (c, i, j, op)
            for c, ops in enumerate(self.cells)
            for (i, j), op in zip(cell_edges(self.n_states), ops, strict=True)
            if op != ZERO
        ]

    def live_edges(self) -> list[tuple[int, int, int, str]]:
        """The edges a derived network builds (:func:`prune_cell`), as ``(cell, src, dst, op)``."""
        return [
            (c, i, j, op)
            for c, ops in enumerate(self.cells)
            for i, j, op in prune_cell(ops, self.n_states)[0]
        ]

    @classmethod
    def from_string(
        cls,
        text: str | Iterable[str],
        n_states: int | None = None,
        n_cells: int | None = None,
        key: str = "arch",
    ) -> CellGenotype:
        """Read the string form; checks the shape, not the op names (see ``CellSpace.parse``).

        Without ``n_states`` the number of states is inferred from the cells' edge counts. With
        ``n_cells`` a string without ``/`` (or a list) holding ``n_cells`` x edges ops is split
        evenly, so ``grad*30`` is two all-``grad`` cells.
        """
        if not isinstance(text, str):
            text = "-".join(str(t) for t in text)
        parts = text.split(CELL_SEPARATOR)
        cells = [parse_sequence(p, f"{key} (cell {c})") for c, p in enumerate(parts)]
        if n_cells is not None and len(cells) == 1 and n_cells > 1:
            ops = cells[0]
            if n_states is not None and len(ops) == n_cells * n_cell_edges(n_states):
                e = n_cell_edges(n_states)
                cells = [ops[c * e : (c + 1) * e] for c in range(n_cells)]
        if n_cells is not None and len(cells) != n_cells:
            raise GenotypeError(
                f"{key}={text!r} has {len(cells)} cell(s), but space.n_cells={n_cells}; "
                f"separate cells with '{CELL_SEPARATOR}', e.g. "
                f"'{CELL_SEPARATOR.join(['grad*15'] * n_cells)}'"
            )
        if n_states is None:
            n_states = _states_from_edges(len(cells[0]), text, key)
        want = n_cell_edges(n_states)
        for c, ops in enumerate(cells):
            if len(ops) != want:
                raise GenotypeError(
                    f"{key}={text!r}: cell {c} has {len(ops)} edge ops, but n_states={n_states} "
                    f"needs {want}, in the order {_edge_order_hint(n_states)}"
                )
        return cls(n_states, tuple(tuple(c) for c in cells))

    def graphs(self) -> list[CellGraph]:
        """Each cell as a picture shows it: its edges with their liveness, its live nodes and
        the states its merge reads. The one source of what :meth:`to_dot` and the study's
        matplotlib pictures draw live, pruned or absent."""
        outputs = cell_output_states(self.n_states)
        graphs = []
        for ops in self.cells:
            live, live_out = prune_cell(ops, self.n_states)
            live_set = {(i, j) for i, j, _ in live}
            edges = tuple(
                (i, j, op, (i, j) in live_set)
                for (i, j), op in zip(cell_edges(self.n_states), ops, strict=True)
                if op != ZERO
            )
            graphs.append(
                CellGraph(
                    n_states=self.n_states,
                    edges=edges,
                    live_nodes=frozenset({0, *(j for _, j, _ in live)}),
                    outputs=tuple((j, j in live_out) for j in outputs),
                )
            )
        return graphs

    def to_dot(self, name: str = "genotype", show_pruned: bool = True) -> str:
        """Graphviz DOT text of the network: ``x0 = A^T y``, the cells, the global residual.

        Live edges are solid, labelled with their op and coloured by it (:data:`OP_COLORS`);
        edges the derivation prunes (:func:`prune_cell`) are grey and dotted (omitted with
        ``show_pruned=False``); ``zero`` edges are not drawn (see :meth:`graphs`).
        """
        lines = [
            f'digraph "{name}" {{',
            "  rankdir=LR;",
            '  node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica];',
            "  edge [fontname=Helvetica, fontsize=10];",
            '  x0 [label="x0 = A^T y", shape=ellipse];',
            '  xhat [label="x_hat = x0 + out", shape=ellipse];',
        ]
        grey = f'"{PRUNED_COLOR}"'
        prev = "x0"
        for c, graph in enumerate(self.graphs()):
            lines.append(f"  subgraph cluster_c{c} {{")
            lines.append(f'    label="cell {c}"; style=rounded; color=gray50;')
            lines.append(f'    c{c}_n0 [label="in", fillcolor=lightgray];')
            for j in range(1, self.n_states + 1):
                style = "" if j in graph.live_nodes else f", fontcolor={grey}, color={grey}"
                lines.append(f'    c{c}_n{j} [label="{j}"{style}];')
            lines.append(f'    c{c}_out [label="merge", shape=trapezium, fillcolor=lightgray];')
            for i, j, op, live in graph.edges:
                if live:
                    color = f'"{op_color(op)}"'
                    lines.append(
                        f'    c{c}_n{i} -> c{c}_n{j} [label="{op}", color={color}, '
                        f"fontcolor={color}];"
                    )
                elif show_pruned:
                    lines.append(
                        f'    c{c}_n{i} -> c{c}_n{j} [label="{op}", style=dotted, color={grey}, '
                        f"fontcolor={grey}];"
                    )
            for j, live in graph.outputs:
                style = "" if live else f" [style=dotted, color={grey}]"
                lines.append(f"    c{c}_n{j} -> c{c}_out{style};")
            lines.append("  }")
            lines.append(f"  {prev} -> c{c}_n0;")
            prev = f"c{c}_out"
        lines.append(f"  {prev} -> xhat;")
        lines.append('  x0 -> xhat [style=dashed, label="residual"];')
        lines.append("}")
        return "\n".join(lines) + "\n"


# -- pictures of architectures: what every renderer shares ---------------------------------------
#: one colour per op, the same in every picture of an architecture (Graphviz and matplotlib both
#: read these hex colours): a colour-blind safe palette, harmful ops in warm colours
OP_COLORS = {
    "grad": "#0072B2",
    "net": "#009E73",
    "roll": "#E69F00",
    "noise": "#D55E00",
    "zero": "#999999",
}
#: the colour of what the derivation prunes (edges, dead states)
PRUNED_COLOR = "#999999"
#: colours of ops outside :data:`OP_COLORS`, picked by name so an op keeps its colour
_EXTRA_COLORS = ("#CC79A7", "#56B4E9", "#F0E442", "#000000", "#882255", "#44AA99")


def op_color(op: str) -> str:
    """The colour of ``op`` in every picture (:data:`OP_COLORS`, else one picked by its name)."""
    if op in OP_COLORS:
        return OP_COLORS[op]
    return _EXTRA_COLORS[sum(map(ord, op)) % len(_EXTRA_COLORS)]


@dataclass(frozen=True)
class CellGraph:
    """One cell of a :class:`CellGenotype` as its pictures show it (:meth:`CellGenotype.graphs`).

    Node 0 is the cell's input, ``1..n_states`` its states. ``edges`` are ``(src, dst, op,
    live)`` of every edge whose op is not ``zero``, in edge order; ``live`` says the derived
    network builds it (:func:`prune_cell`). ``live_nodes``: node 0 and every state a live edge
    enters. ``outputs``: ``(state, live)`` of the states the cell's merge reads
    (:func:`cell_output_states`); a dead one enters the merge as zeros.
    """

    n_states: int
    edges: tuple[tuple[int, int, str, bool], ...]
    live_nodes: frozenset[int]
    outputs: tuple[tuple[int, bool], ...]


def _states_from_edges(n_edges: int, text: str, key: str) -> int:
    s = 1
    while n_cell_edges(s) < n_edges:
        s += 1
    if n_cell_edges(s) != n_edges:
        raise GenotypeError(
            f"{key}={text!r}: a cell has {n_edges} edge ops, which fits no number of states "
            f"(1, 3, 6, 10, 15, ... edges for 1, 2, 3, 4, 5, ... states)"
        )
    return s


def _edge_order_hint(n_states: int) -> str:
    parts = [
        f"state {j} <- node{'s' if j > 1 else ''} {', '.join(map(str, range(j)))}"
        for j in range(1, min(n_states, 3) + 1)
    ]
    return "; ".join(parts) + ("; ..." if n_states > 3 else "")
