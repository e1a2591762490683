"""``python -m dasip search|train|evaluate|report|floor [ARGS...]``: the package's commands, the
same as ``dasip-search`` etc. (Hydra overrides for search/train/evaluate, ``--help`` for each)."""

from __future__ import annotations

import importlib
import sys

#: command -> (module, what)
COMMANDS = {
    "search": ("dasip.entry.search", "one search trial; -m for a study (Hydra overrides)"),
    "train": ("dasip.entry.train", "train one architecture from scratch (Hydra overrides)"),
    "evaluate": ("dasip.entry.evaluate", "the architecture-validation protocol (Hydra overrides)"),
    "report": ("dasip.study.report", "a study's tables and figures from its records"),
    "floor": ("dasip.floor", "PSNR of x0 and the trivial outputs, no training"),
}


def _usage() -> str:
    lines = ["usage: python -m dasip COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<9} {what}" for name, (_, what) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int | None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"dasip: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    if command in ("report", "floor"):
        return module.main(rest)
    # a Hydra app reads its overrides from sys.argv
    sys.argv = [f"{sys.argv[0]} {command}", *rest]
    module.main()
    return None


if __name__ == "__main__":
    sys.exit(main())
