"""``python -m benchbench COMMAND``: one module per command in `benchbench.commands`.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit code), and imports nothing heavy at module level. A user error
(`BenchbenchError`) prints one line to stderr and exits 2; it never shows a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from benchbench import __version__
from benchbench.errors import BenchbenchError

COMMANDS = ("run", "worker", "list", "report", "check", "export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchbench",
        description="Cross-backend deep-learning benchmarks: one model, every framework.",
    )
    parser.add_argument("--version", action="version", version=f"benchbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"benchbench.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"benchbench.commands.{name}":
                raise
            continue
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except BenchbenchError as exc:
        print(f"benchbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"benchbench {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
