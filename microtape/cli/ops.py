"""``microtape ops``: every op with its arity, origin, domain and doc; then broken plugins.

Built-in ops come first, then the ops of installed plugins (origin: the distribution
and its version) and any registered at runtime. Plugin ops that did not load (failed,
in conflict, or shadowed) follow, each with its error, so one command answers "why is
my op not there?".
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence

from ..core.errors import PluginWarning
from ..registry.plugins import DISABLE_ENV, PREFER_ENV, disabled
from ..registry.table import all_ops, origin, plugin_ops

__all__ = ["add_arguments", "run"]

HEADER = ("name", "arity", "origin", "domain", "doc")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``ops`` takes no options; the help says where the table comes from."""
    parser.epilog = (
        "Plugins are found through the 'microtape.ops' entry points of installed "
        f"distributions. {DISABLE_ENV}=1 turns them off; {PREFER_ENV}=name=distribution "
        "chooses between two plugins that define one name."
    )


def run(args: argparse.Namespace) -> int:
    """Print the table of ops, then the plugin ops that did not load, with their errors."""
    with warnings.catch_warnings():
        # This command reports the same problems itself, below the table.
        warnings.simplefilter("ignore", PluginWarning)
        ops = all_ops()
        records = plugin_ops()
    rows = [
        (o.name, str(o.arity), origin(o), o.describe_domain(), o.doc or "(no doc)") for o in ops
    ]
    print(_table(HEADER, rows))
    if disabled():
        print(f"\nPlugins are turned off ({DISABLE_ENV} is set): only built-in ops are listed.")
    problems = [r for r in records if r.status != "loaded"]
    if problems:
        print(f"\nPlugin ops not loaded ({len(problems)}):")
        for r in problems:
            print(f"  {r.name}  [{r.status}]  {r.provider()}")
            print(f"      {r.error}")
    return 0


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart; the last column is not padded."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
