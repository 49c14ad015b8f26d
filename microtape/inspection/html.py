"""A tape as HTML: how Jupyter shows a tape, the same table ``print(tape)`` prints.

``GradientTape._repr_html_`` asks the installed describer for this (the core knows
nothing of inspection), so a notebook cell that ends with ``tape`` shows a table of its
records instead of ``<GradientTape ...>``. Every cell is escaped: the text is data, never
markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from ..core.tapes.view import TapeView
from .summary import Table, table

__all__ = ["CELL", "render", "table_html", "tape_html"]

CELL: Final = ' style="text-align: left; font-family: monospace; white-space: pre"'
"""Notebooks right-align table cells and wrap them by default; the text table does neither."""


def tape_html(view: TapeView) -> str:
    """The HTML table of a tape's records, cell for cell the table ``print(tape)`` shows."""
    return render(table(view))


def render(found: Table) -> str:
    """``found`` as an HTML fragment: the title, a table of the rows, and the note."""
    parts = ['<div class="microtape-tape">', f"<p><code>{escape(found.title)}</code></p>"]
    if found.header:
        parts += table_html(found.header, found.rows)
    if found.note is not None:
        parts.append(f"<p><code>{escape(found.note)}</code></p>")
    parts.append("</div>")
    return "\n".join(parts)


def table_html(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of an HTML table of ``rows`` under ``header``, every cell escaped."""
    head = "".join(f"<th{CELL}>{escape(cell)}</th>" for cell in header)
    parts = ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for row in rows:
        cells = "".join(f"<td{CELL}>{escape(cell)}</td>" for cell in row)
        parts.append(f"<tr>{cells}</tr>")
    parts += ["</tbody>", "</table>"]
    return parts
