"""``python -m dasip.ground_truth collect SWEEP_DIR... [--out TABLE]``: one table from the chunks
of a ground-truth sweep; ``python -m dasip.ground_truth rank RUN_DIR [--table SPEC]``: how well
a DAS run's supernet (``method.rank_space=true``) ranks the architectures against the table;
``python -m dasip.ground_truth noise TABLE [--sweep DIR...]``: a table's seed noise (the
retraining command, then its report); ``python -m dasip.ground_truth show [SPEC]``: a table's
summary. See docs/ground_truth.md."""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from . import GroundTruthError, available, collect, find_table, rank_agreement, table_for_config

PROG = "python -m dasip.ground_truth"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("See docs")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="gather a ground-truth sweep's chunks into one table")
    c.add_argument("paths", nargs="+", metavar="SWEEP_DIR", help="sweep or run directories")
    c.add_argument("--out", help="the table (.csv.gz; default: results/ground_truth/<name>.csv.gz)")
    c.add_argument("--partial", action="store_true", help="write the table even if incomplete")
    r = sub.add_parser(
        "rank", help="one-shot scores of a DAS run (method.rank_space=true) vs the table"
    )
    r.add_argument("run", metavar="RUN_DIR", help="the run directory or its record.json")
    r.add_argument("--table", help="a table file or DATA/SETUP (default: the run's own)")
    r.add_argument(
        "--top-k", default="1,5,10,50", help="k of the top-k overlaps (default: %(default)s)"
    )
    n = sub.add_parser(
        "noise",
        help="a table's seed noise: the command that retrains some of its architectures with "
        "other seeds, then (--sweep) the report",
    )
    n.add_argument("spec", metavar="TABLE", help="a table file or DATA/SETUP")
    n.add_argument("--best", type=int, default=20, help="the best architectures (default: 20)")
    n.add_argument(
        "--random", type=int, default=20, help="architectures drawn from the rest (default: 20)"
    )
    n.add_argument("--draw-seed", type=int, default=0, help="seed of the draw (default: 0)")
    n.add_argument("--seeds", default="1,2,3", help="the other seeds (default: %(default)s)")
    n.add_argument("--experiment", default="ground_truth", help="the preset (default: %(default)s)")
    n.add_argument("--sweep", nargs="+", metavar="DIR", help="report on these sweeps' rows")
    s = sub.add_parser("show", help="a table's size, best and worst architectures")
    s.add_argument("spec", nargs="?", help="a table file or DATA/SETUP (default: list the tables)")
    return p


def _rank(args: argparse.Namespace) -> int:
    from ..record import read_record

    try:
        rec = read_record(args.run)
    except (OSError, ValueError) as e:
        raise GroundTruthError(f"{args.run}: {e}") from e
    scores = (rec.get("extra") or {}).get("one_shot_scores")
    if not scores:
        raise GroundTruthError(
            f"{args.run}: the record has no one-shot scores of the space; run the search with "
            "method.rank_space=true"
        )
    try:
        ks = [int(k) for k in args.top_k.split(",") if k.strip()]
    except ValueError:
        raise GroundTruthError(f"--top-k {args.top_k!r}: allowed: integers, e.g. 1,5,10") from None
    table = table_for_config(rec["config"], args.table)
    out = {"run": str(args.run), "table": table.attrs["path"], **rank_agreement(scores, table, ks)}
    run_dir = Path(args.run) if Path(args.run).is_dir() else Path(args.run).parent
    path = run_dir / "ground_truth_rank.json"
    path.write_text(json.dumps(out, indent=1, default=str) + "\n")
    tops = ", ".join(f"top-{k} {v:.2f}" for k, v in out["top_k"].items())
    print(
        f"[dasip] one-shot vs ground truth ({out['n']} architectures): kendall tau "
        f"{out['kendall']:.3f}, spearman rho {out['spearman']:.3f}; overlap {tops}; the "
        f"supernet's best {out.get('score_best')} is #{out.get('score_best_table_rank')} in the "
        f"table. Written to {path}"
    )
    return 0


def _noise(args: argparse.Namespace) -> int:
    from . import noise

    table = find_table(args.spec)
    genotypes = noise.selection(table, args.best, args.random, args.draw_seed)
    if not args.sweep:
        try:
            seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        except ValueError:
            raise GroundTruthError(
                f"--seeds {args.seeds!r}: allowed: integers, e.g. 1,2,3"
            ) from None
        print(noise.command(table, genotypes, seeds, args.experiment))
        return 0
    report = noise.noise_report(table, noise.read_noise_rows(args.sweep), genotypes)
    report["top_kept"] = noise.top_kept(report, args.best)
    path = Path(args.sweep[0]) / "ground_truth_noise.json"
    path.write_text(json.dumps(report, indent=1, default=str) + "\n")

    def db(v):
        return "-" if v is None else f"{v:.3f}"

    print(
        f"[dasip] seed noise of {report['table']}: {report['retrained']} of "
        f"{report['architectures']} architectures retrained ({report['seeds_per_architecture']} "
        f"seeds each); std over seeds: median {db(report['std_over_seeds_median'])} dB, max "
        f"{db(report['std_over_seeds_max'])} dB; std over the table's architectures "
        f"{db(report['std_over_architectures'])} dB; spearman rho table vs other seeds "
        f"{db(report['spearman_table_vs_other_seeds'])}; of the {args.best} best, "
        f"{report['top_kept']} stay the best. Written to {path}"
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    if args.spec is None:
        names = available()
        print("\n".join(names) if names else "no ground-truth tables (docs/ground_truth.md)")
        return 0
    table = find_table(args.spec)
    psnr = table["arch_psnr"].astype(float)
    finite = psnr[psnr.map(math.isfinite)]
    prov = table.attrs.get("provenance") or {}
    print(f"{table.attrs['path']}: {len(table)} architectures, config {prov.get('config_hash')}, "
          f"seed {prov.get('seed')}, dasip {prov.get('dasip_version')}, commit {prov.get('commit')}")  # fmt: skip
    if len(finite):
        print(f"best  {finite.idxmax()} {finite.max():.2f} dB")
        print(
            f"worst {finite.idxmin()} {finite.min():.2f} dB ({len(psnr) - len(finite)} without PSNR)"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "collect":
            command = shlex.join([PROG, *(sys.argv[1:] if argv is None else argv)])
            path = collect(args.paths, out=args.out, partial=args.partial, command=command)
            rows = json.loads(
                path.with_name(path.name.removesuffix(".csv.gz") + ".json").read_text()
            )
            print(f"[dasip] {rows['architectures']} of {rows['space_size']} architectures -> {path} "
                  f"({path.stat().st_size / 1024:.1f} KiB)")  # fmt: skip
            return 0
        if args.command == "rank":
            return _rank(args)
        if args.command == "noise":
            return _noise(args)
        return _show(args)
    except GroundTruthError as e:
        print(f"dasip: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
