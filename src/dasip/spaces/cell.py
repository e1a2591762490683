"""The cell search space (docs/method.md, Search spaces): DARTS-like cells in succession, with the global residual.

``x0 = A^T y``; cell ``c`` maps its input (node 0) to states ``1..n_states``, each the sum of one
op on every earlier node; the last two states are concatenated and merged back to one channel
by a convolution; the next cell takes that as its input; ``x_hat = x0 + (last cell's output)``.
Every edge chooses one op from the op set plus ``zero``. Each cell has its own alphas (the
architecture is the op of each edge of each cell), unless ``share_alphas`` (DARTS' one alpha set
per cell type, which derives identical cells).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from ..checks import integer
from ..ops import OPS, OpContext, build_op, check_op_names, conv_class
from .genotype import (
    ZERO,
    CellGenotype,
    GenotypeError,
    cell_edges,
    cell_output_states,
    n_cell_edges,
    prune_cell,
)
from .mixed import AlphaSupernet, GlobalResidual, MixedOp


def merge_conv(ctx: OpContext, n_states: int, kernel_size: int) -> nn.Module:
    """Concatenated output states (``k * channels``) -> ``channels``, same spatial size."""
    n_in = len(cell_output_states(n_states))
    return conv_class(ctx.spatial_dims)(
        n_in * ctx.channels, ctx.channels, kernel_size, padding=kernel_size // 2
    )


class SupernetCell(nn.Module):
    """One cell of the supernet: every edge a :class:`MixedOp` over all candidates."""

    def __init__(
        self, ctx: OpContext, op_names: Sequence[str], n_states: int, merge_kernel_size: int
    ):
        super().__init__()
        self.n_states = n_states
        self.edges = nn.ModuleList(
            MixedOp([build_op(n, ctx) for n in op_names]) for _ in cell_edges(n_states)
        )
        self.merge = merge_conv(ctx, n_states, merge_kernel_size)

    def forward(self, x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``weights``: softmax(alpha) of this cell's edges, shape ``(n_edges, n_ops)``."""
        nodes = [x]
        k = 0
        for j in range(1, self.n_states + 1):
            state = self.edges[k](nodes[0], y, weights[k])
            for i in range(1, j):
                state = state + self.edges[k + i](nodes[i], y, weights[k + i])
            k += j
            nodes.append(state)
        return self.merge(torch.cat([nodes[j] for j in cell_output_states(self.n_states)], dim=1))


class CellSupernet(AlphaSupernet):
    """``n_cells`` supernet cells; ``alpha`` has one row per edge (all cells, cell-major)."""

    def __init__(
        self,
        ctx: OpContext,
        op_names: Sequence[str],
        n_cells: int,
        n_states: int,
        merge_kernel_size: int = 1,
        share_alphas: bool = False,
    ):
        super().__init__()
        self.op_names = tuple(op_names)
        self.n_cells = n_cells
        self.n_states = n_states
        self.n_edges = n_cell_edges(n_states)
        self.share_alphas = share_alphas
        self.cells = nn.ModuleList(
            SupernetCell(ctx, self.op_names, n_states, merge_kernel_size) for _ in range(n_cells)
        )
        self.operator = ctx.operator
        self.initial = ctx.initial
        rows = self.n_edges if share_alphas else n_cells * self.n_edges
        self.alpha = nn.Parameter(1e-3 * torch.randn(rows, len(self.op_names)))

    def _rows(self, w: torch.Tensor) -> torch.Tensor:
        """One row per edge of every cell: ``(n_cells * n_edges, n_ops)``."""
        return w.repeat(self.n_cells, 1) if self.share_alphas else w

    def body(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        weights = self._rows(self.mix(self.alpha))
        for c, cell in enumerate(self.cells):
            x = cell(x, y, weights[c * self.n_edges : (c + 1) * self.n_edges])
        return x

    def alpha_probs(self) -> torch.Tensor:
        """``softmax(alpha)`` per edge, shape ``(n_cells * n_edges, n_ops)``: row
        ``c * n_edges + e`` is edge ``e`` (in :func:`cell_edges` order) of cell ``c``."""
        return self._rows(self.mixing.probs(self.alpha))

    def derive(self) -> CellGenotype:
        """The argmax op of every edge (``zero`` included: it removes the edge; the mixing's
        rule)."""
        idx = self.mixing.choose(self.alpha_probs(), self.op_names.index(ZERO))
        ops = [self.op_names[i] for i in idx]
        e = self.n_edges
        return CellGenotype(
            self.n_states, tuple(tuple(ops[c * e : (c + 1) * e]) for c in range(self.n_cells))
        )


class DerivedCell(nn.Module):
    """One derived cell: only the live edges of :func:`prune_cell` are built."""

    def __init__(self, ctx: OpContext, ops: Sequence[str], n_states: int, merge_kernel_size: int):
        super().__init__()
        live, live_outputs = prune_cell(ops, n_states)
        self.links = [(i, j) for i, j, _ in live]
        self.edges = nn.ModuleList(build_op(op, ctx) for _, _, op in live)
        self.outputs = cell_output_states(n_states)
        self.live_outputs = frozenset(live_outputs)
        self.merge = merge_conv(ctx, n_states, merge_kernel_size)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        nodes: dict[int, torch.Tensor] = {0: x}
        # edges come ordered by destination, so a node is complete before any edge leaves it
        for (i, j), op in zip(self.links, self.edges, strict=True):
            out = op(nodes[i], y)
            nodes[j] = nodes[j] + out if j in nodes else out
        states = [nodes[j] if j in self.live_outputs else torch.zeros_like(x) for j in self.outputs]
        return self.merge(torch.cat(states, dim=1))

    def extra_repr(self) -> str:
        return f"links={self.links}, live_outputs={sorted(self.live_outputs)}"


class CellNet(GlobalResidual):
    """A derived network of the cell space."""

    def __init__(self, ctx: OpContext, genotype: CellGenotype, merge_kernel_size: int = 1):
        super().__init__()
        self.genotype = genotype
        self.cells = nn.ModuleList(
            DerivedCell(ctx, ops, genotype.n_states, merge_kernel_size) for ops in genotype.cells
        )
        self.operator = ctx.operator
        self.initial = ctx.initial

    def body(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        for cell in self.cells:
            x = cell(x, y)
        return x


class CellSpace:
    """Builds cell supernets and derived cell nets; parses, samples and checks cell genotypes."""

    name = "cell"

    def __init__(
        self,
        n_cells: int = 2,
        n_states: int = 5,
        merge_kernel_size: int = 1,
        share_alphas: bool = False,
    ):
        self.n_cells = integer("space.n_cells", n_cells, 1)
        self.n_states = integer("space.n_states", n_states, 1)
        # odd: the merge keeps the signal length
        self.merge_kernel_size = integer("space.merge_kernel_size", merge_kernel_size, 1, odd=True)
        self.share_alphas = share_alphas

    @property
    def n_edges(self) -> int:
        """Edges per cell."""
        return n_cell_edges(self.n_states)

    def candidate_ops(self, op_names: Iterable[str]) -> tuple[str, ...]:
        """The op set plus ``zero`` (listing ``zero`` in ``ops.names`` is allowed)."""
        names = check_op_names(op_names)
        return tuple(n for n in names if n != ZERO) + (ZERO,)

    def supernet(self, ctx: OpContext, op_names: Sequence[str]) -> CellSupernet:
        return CellSupernet(
            ctx,
            self.candidate_ops(op_names),
            self.n_cells,
            self.n_states,
            self.merge_kernel_size,
            self.share_alphas,
        )

    def derived(self, ctx: OpContext, genotype: CellGenotype) -> CellNet:
        return CellNet(ctx, self.check(genotype), self.merge_kernel_size)

    def parse(self, text: str | Iterable[str], key: str = "arch") -> CellGenotype:
        """``grad*15/net*15``: cells joined by ``/``, each the ``-``-joined ops of its edges in
        the order of :func:`cell_edges`; ``OP*N`` repeats. A string without ``/`` (or a list)
        holding all ``n_cells`` x ``n_edges`` ops is split evenly between the cells."""
        genotype = CellGenotype.from_string(text, self.n_states, self.n_cells, key)
        return self.check(genotype, key)

    def check(self, genotype: CellGenotype, key: str = "arch") -> CellGenotype:
        if not isinstance(genotype, CellGenotype):
            raise GenotypeError(
                f"{key}={genotype}: not a cell genotype; space=cell expects e.g. "
                f"'{'/'.join(['grad*' + str(self.n_edges)] * self.n_cells)}'"
            )
        if genotype.n_cells != self.n_cells or genotype.n_states != self.n_states:
            raise GenotypeError(
                f"{key}={genotype} has {genotype.n_cells} cell(s) of {genotype.n_states} states, "
                f"but space.n_cells={self.n_cells} and space.n_states={self.n_states}"
            )
        allowed = list(OPS)
        edges = cell_edges(self.n_states)
        for c, ops in enumerate(genotype.cells):
            if len(ops) != len(edges):
                raise GenotypeError(
                    f"{key}={genotype}: cell {c} has {len(ops)} edge ops; "
                    f"n_states={self.n_states} needs {len(edges)}"
                )
            for e, ((i, j), op) in enumerate(zip(edges, ops, strict=True)):
                if op not in allowed:
                    raise GenotypeError(
                        f"{key}={genotype}: cell {c}, edge {e} (state {j} <- node {i}) has "
                        f"unknown op {op!r}; allowed: {', '.join(allowed)}"
                    )
        return genotype

    def uniform(self, op: str, key: str = "arch") -> CellGenotype:
        """Every edge of every cell ``op`` (``grad*15/grad*15``): the baselines "Learnable Grad.
        only" and "Nets only" of the paper's Table 2. Every state is live and both output states
        reach the merge, so the derived network builds every edge."""
        cells = ((op,) * self.n_edges,) * self.n_cells
        return self.check(CellGenotype(self.n_states, cells), key)

    def sample(self, op_names: Sequence[str], generator: torch.Generator) -> CellGenotype:
        """Every edge's op uniform over the candidates: the op set plus ``zero``, the same choices
        as DAS has in this space."""
        names = self.candidate_ops(op_names)
        idx = torch.randint(len(names), (self.n_cells, self.n_edges), generator=generator)
        return CellGenotype(
            self.n_states, tuple(tuple(names[i] for i in row) for row in idx.tolist())
        )
