"""``print(acc)``: a forward accumulator's primals and the tangent of each Value it
computed; and the same tables as HTML, which Jupyter shows for an accumulator.

Each Value is shown by the learner's name (given, ``mt.Value(3.0, name="x")``, or the
variable that held it when the accumulator's block ended; see ``names.py``). An
accumulator keeps no records, only one tangent per node, so an unnamed Value is shown by
its node number (``node 12``; ``y.node`` gives the number of a Value ``y``), in the order
the ops ran. A long list shows its first and last Values.
"""

from __future__ import annotations

from html import escape
from typing import Final, NamedTuple

from ..core.tapes.accumulator import AccumulatorView
from ..core.words import counted, figure
from .html import table_html
from .summary import HEAD, TAIL

__all__ = ["summarize_tangents", "tangents_html"]

_NOTE: Final = "(in the order the ops ran; a Value with no name by its number, as y.node gives it)"


class _Tables(NamedTuple):
    title: str
    primals: list[tuple[str, ...]]
    """The header, then one row per primal."""
    computed: list[tuple[str, ...]]
    """The header, then one row per Value computed from them; empty if there is none."""


def _tables(view: AccumulatorView) -> _Tables:
    primals = view.primals
    title = (
        f"ForwardAccumulator: {view.state.value}, {counted(len(primals), 'primal')}, "
        f"{counted(view.computed, 'tangent')} computed"
    )
    first: list[tuple[str, ...]] = [("primal", "value", "tangent")]
    first += [(view.name_of(v.node) or path, figure(v.data), figure(t)) for path, v, t in primals]
    given = {v.node for _, v, _ in primals}
    nodes = [(n, t) for n, t in view.tangents.items() if n not in given]
    if not nodes:
        return _Tables(title, first, [])

    def row(node: int, tangent: float) -> tuple[str, str]:
        return (view.name_of(node) or f"node {node}", figure(tangent))

    second: list[tuple[str, ...]] = [("computed from them", "tangent")]
    if len(nodes) > HEAD + TAIL:
        second += [row(n, t) for n, t in nodes[:HEAD]]
        second.append(("...", f"{len(nodes) - HEAD - TAIL} more"))
        second += [row(n, t) for n, t in nodes[len(nodes) - TAIL :]]
    else:
        second += [row(n, t) for n, t in nodes]
    return _Tables(title, first, second)


def summarize_tangents(view: AccumulatorView) -> str:
    """The text ``print(acc)`` shows (see the module docstring)."""
    title, primals, computed = _tables(view)
    lines = [title, *_text(primals)]
    if not computed:
        lines.append("  no op has run on a primal yet")
        return "\n".join(lines)
    lines += _text(computed)
    lines.append("  " + _NOTE)
    return "\n".join(lines)


def tangents_html(view: AccumulatorView) -> str:
    """The tables of ``print(acc)`` as an HTML fragment, every cell escaped."""
    title, primals, computed = _tables(view)
    parts = ['<div class="microtape-accumulator">', f"<p><code>{escape(title)}</code></p>"]
    for rows in (primals, computed):
        if rows:
            parts += table_html(rows[0], rows[1:])
    note = _NOTE if computed else "no op has run on a primal yet"
    parts.append(f"<p><code>{escape(note)}</code></p>")
    parts.append("</div>")
    return "\n".join(parts)


def _text(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
