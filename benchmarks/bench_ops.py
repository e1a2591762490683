"""Where a search step's time goes: the pieces of one op and one supernet step, on the CPU.

    python benchmarks/bench_ops.py [--threads N] [--batch 128] [--width 32] [--repeats 200]

Prints microseconds per forward + backward for each piece of the small CNN ``F`` (conv 1->W,
batch norm, ReLU, conv W->1), each candidate op, and one supernet forward + backward of the
default sequential space (10 layers x {grad, net, roll, noise}). All figures come from one run,
so their ratios are comparable; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch


def timed(fn: Callable[[], object], repeats: int) -> float:
    for _ in range(max(5, repeats // 10)):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--length", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()

    from dasip.metrics import reconstruction_loss
    from dasip.ops import OPS, OpContext, build_op
    from dasip.physics import Blur1d
    from dasip.spaces import SequentialSpace

    if args.threads:
        torch.set_num_threads(args.threads)
    b, n, w, reps = args.batch, args.length, args.width, args.repeats
    g = torch.Generator().manual_seed(0)
    x = torch.randn(b, 1, n, generator=g, requires_grad=True)
    h = torch.randn(b, w, n, generator=g, requires_grad=True)
    y = torch.randn(b, 1, n, generator=g)
    ctx = OpContext(Blur1d(), width=w)
    net = build_op("net", ctx).net
    conv1, bn, conv2 = net[0], net[1], net[3]

    def fwd_bwd(fn, inputs):
        def run():
            out = fn()
            if out.requires_grad:  # zero has nothing to differentiate
                torch.autograd.grad(out, inputs, torch.ones_like(out), allow_unused=True)

        return run

    rows: list[tuple[str, float]] = []
    rows.append((f"conv 1->{w}", timed(fwd_bwd(lambda: conv1(x), [x, *conv1.parameters()]), reps)))
    rows.append(
        (f"batch norm ({b},{w},{n})", timed(fwd_bwd(lambda: bn(h), [h, *bn.parameters()]), reps))
    )
    rows.append(("ReLU", timed(fwd_bwd(lambda: torch.relu(h), [h]), reps)))
    rows.append((f"conv {w}->1", timed(fwd_bwd(lambda: conv2(h), [h, *conv2.parameters()]), reps)))
    rows.append(("F = the whole CNN", timed(fwd_bwd(lambda: net(x), [x, *net.parameters()]), reps)))
    for name in OPS:
        op = build_op(name, ctx)
        params = [x, *op.parameters()]
        rows.append((f"op {name}", timed(fwd_bwd(lambda op=op: op(x, y), params), reps)))

    sup = SequentialSpace(10).supernet(ctx, ["grad", "net", "roll", "noise"])
    xs = torch.randn(b, 1, n, generator=g)
    weights, alphas = sup.weight_parameters(), sup.arch_parameters()

    def step(params):
        def run():
            loss = reconstruction_loss(sup(y), xs)
            torch.autograd.grad(loss, params)

        return run

    rows.append(("supernet fwd+bwd to weights", timed(step(weights), max(10, reps // 10))))
    rows.append(("supernet fwd+bwd to alpha", timed(step(alphas), max(10, reps // 10))))
    with torch.no_grad():
        sup.eval()
        rows.append(("supernet eval forward", timed(lambda: sup(y), max(10, reps // 10))))

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {b}, width {w}, length {n}"
    )
    print(f"{'piece (forward + backward)':36s} {'us':>10s}")
    for name, us in rows:
        print(f"{name:36s} {us:10.1f}")


if __name__ == "__main__":
    main()
