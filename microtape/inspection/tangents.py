"""``print(acc)``: a forward accumulator's primals and the tangent of each node it computed.

An accumulator keeps no records, only one tangent per node, so nodes are shown by
number (``y.node`` gives the number of a Value ``y``), in the order the ops ran. A long
list shows its first and last nodes.
"""

from __future__ import annotations

from typing import Final

from ..core.tapes.accumulator import AccumulatorView
from .summary import HEAD, TAIL

__all__ = ["summarize_tangents"]

_NOTE: Final = "(nodes by number, as y.node gives it; in the order the ops ran)"


def summarize_tangents(view: AccumulatorView) -> str:
    """The text ``print(acc)`` shows (see the module docstring)."""
    primals = view.primals
    computed = view.computed
    lines = [
        f"ForwardAccumulator: {view.state.value}, {len(primals)} primal"
        f"{'' if len(primals) == 1 else 's'}, {computed} tangent"
        f"{'' if computed == 1 else 's'} computed"
    ]
    rows: list[tuple[str, ...]] = [("primal", "node", "value", "tangent")]
    rows += [(path, str(v.node), f"{v.data:.6g}", f"{t:.6g}") for path, v, t in primals]
    lines += _table(rows)
    given = {v.node for _, v, _ in primals}
    nodes = [(n, t) for n, t in view.tangents.items() if n not in given]
    if not nodes:
        lines.append("  no op has run on a primal yet")
        return "\n".join(lines)
    shown: list[tuple[str, ...]] = [("node", "tangent")]
    if len(nodes) > HEAD + TAIL:
        head, tail = nodes[:HEAD], nodes[len(nodes) - TAIL :]
        shown += [(str(n), f"{t:.6g}") for n, t in head]
        shown.append(("...", f"{len(nodes) - HEAD - TAIL} more"))
        shown += [(str(n), f"{t:.6g}") for n, t in tail]
    else:
        shown += [(str(n), f"{t:.6g}") for n, t in nodes]
    lines += _table(shown)
    lines.append("  " + _NOTE)
    return "\n".join(lines)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
