"""The ``microtape`` command: one sub-command per module, loaded only when it runs.

Each command module provides ``describe`` (one line for --help),
``add_arguments(parser)`` and ``run(args) -> int``. Importing a command module
happens after the command is chosen, so ``microtape --help`` stays fast and
``microtape demo`` never imports what ``microtape check`` needs (sympy).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Final, Protocol, cast

__all__ = ["main"]

COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "demo": ("microtape.cli.demo", "train a small neural network on two moons, in the terminal"),
    "ops": ("microtape.cli.ops", "list every op: arity, origin, domain, doc; then broken plugins"),
    "check": ("microtape.cli.check", "check ops' values and derivatives against sympy"),
}
"""Command name -> (module, one-line description)."""


class _Command(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = argparse.ArgumentParser(
        prog="microtape",
        description="Scalar reverse-mode automatic differentiation with gradient tapes.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, describe) in COMMANDS.items():
        sub.add_parser(name, help=describe, description=describe, add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    module_name, describe = COMMANDS[args.command]
    command = cast(_Command, importlib.import_module(module_name))
    command_parser = argparse.ArgumentParser(prog=f"microtape {args.command}", description=describe)
    command.add_arguments(command_parser)
    return command.run(command_parser.parse_args(rest))
