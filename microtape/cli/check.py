"""``microtape check [NAME...]``: prove ops right with ``microtape.testing.check_op``.

Checks each named op (default: every op, built-in and from plugins) against sympy:
its value and its first, second and third partials through nested tapes, at points drawn
from its domain. Prints one line per op and a summary; exits 1 if any op fails, 2 for
a name no op has or a missing ``testing`` extra.

The points are drawn deterministically, so two runs agree; raise ``--max-examples``
to look harder. A plugin op that failed to load or is in conflict counts as a failure.
An op's line, and a line after the summary, count the points that were kinks of the op
(``relu`` at 0), where a derivative may take a one-sided limit or the kink convention's
value (``microtape.testing``'s kink rule).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Final

from ..core.errors import MicrotapeError, PluginWarning
from ..core.values.op import Op
from ..core.words import counted
from ..registry.plugins import PluginOp
from ..registry.table import all_ops, op, origin, plugin_ops

__all__ = ["FINITE_DIFFERENCES", "KINKS", "add_arguments", "run"]

FINITE_DIFFERENCES: Final = "checked against finite differences: no sympy form"
"""What a line says of an op without a symbolic form (its derivatives are estimated)."""

KINKS: Final = "points at kinks, where a one-sided limit or the kink convention passes"
"""What the line after the summary says of the ops whose points included kinks."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """NAME..., --max-examples, --order."""
    parser.add_argument("names", nargs="*", metavar="NAME", help="ops to check (default: every op)")
    parser.add_argument(
        "--max-examples",
        type=_positive_int,
        default=100,
        metavar="N",
        help="points to draw per op (default: 100)",
    )
    parser.add_argument(
        "--order",
        type=int,
        choices=(0, 1, 2, 3),
        default=3,
        help="0 checks values only, 1 adds first partials, 2 adds second partials, "
        "3 adds third partials (default)",
    )


def run(args: argparse.Namespace) -> int:
    """Check the ops; 0 if all pass, 1 if any fails, 2 for a usage error."""
    try:
        from .. import testing
    except ImportError as exc:
        print(f"microtape check: {exc}", file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)  # reported below, per op
        records = plugin_ops()
        chosen = _choose(args.names, records)
    if chosen is None:
        return 2
    targets, broken = chosen
    failed = 0
    kinks: dict[str, int] = {}
    print(
        f"checking {counted(len(targets), 'op')} at {counted(args.max_examples, 'point')} "
        f"each, to order {args.order}:",
        flush=True,
    )
    with _reproducible():
        for target in targets:
            started = time.perf_counter()
            how = "" if target.sympy is not None else f"; {FINITE_DIFFERENCES}"
            try:
                report = testing.check_op(target, order=args.order, max_examples=args.max_examples)
            except Exception as exc:  # a broken op may fail in any way: report, go on
                failed += 1
                print(f"FAIL  {target.name}  ({origin(target)}{how})")
                print(_indent(f"{type(exc).__name__}: {exc}"), flush=True)
                continue
            seconds = time.perf_counter() - started
            at_kinks = ""
            if report.kinks:
                kinks[target.name] = len(report.kinks)
                n = len(report.kinks)
                at_kinks = f", {_points(n)} at {'a kink' if n == 1 else 'kinks'}"
            print(
                f"ok    {target.name}  ({origin(target)}, {seconds:.1f} s{at_kinks}{how})",
                flush=True,
            )
    for record in broken:
        failed += 1
        print(
            f"FAIL  {record.name}  (plugin {record.distribution} {record.version}, {record.status})"
        )
        print(_indent(record.error))
    total = len(targets) + len(broken)
    print(
        f"\nchecked {total} op{'s' if total != 1 else ''}: {total - failed} passed, {failed} failed"
    )
    if kinks:
        print(f"{KINKS}: " + ", ".join(f"{name} {n}" for name, n in kinks.items()))
    approximate = [t.name for t in targets if t.sympy is None]
    if approximate:
        print(f"{FINITE_DIFFERENCES}: {', '.join(approximate)} (looser tolerances; add sympy=)")
    return 1 if failed else 0


def _choose(names: list[str], records: list[PluginOp]) -> tuple[list[Op], list[PluginOp]] | None:
    """The ops to check and the broken plugin records to report, or None after a usage error."""
    broken = [r for r in records if r.status in ("failed", "conflict")]
    if not names:
        return all_ops(), broken
    targets: list[Op] = []
    reported: list[PluginOp] = []
    for name in dict.fromkeys(names):
        try:
            targets.append(op(name))
        except MicrotapeError as exc:
            mine = [r for r in broken if r.name == name]
            if not mine:  # no op has that name: a usage error, before checking anything
                print(f"microtape check: {exc}", file=sys.stderr)
                return None
            reported.extend(mine)  # a plugin failed to provide it: a failure to report
    return targets, reported


@contextlib.contextmanager
def _reproducible() -> Iterator[None]:
    """Draw points deterministically and keep no example database, then restore settings."""
    from hypothesis import settings

    previous = settings.default
    settings.register_profile("microtape-check", previous, derandomize=True, database=None)
    settings.load_profile("microtape-check")
    try:
        yield
    finally:
        settings.register_profile("microtape-check-caller", previous)
        settings.load_profile("microtape-check-caller")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _points(n: int) -> str:
    return f"{n} point{'s' if n != 1 else ''}"


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())
