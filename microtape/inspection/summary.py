"""``print(tape)``: the recorded ops as a table a student can follow line by line.

Each Value is shown by its name (``w``, ``loss``; see ``names.py``), or by a number
(``v0``, ``v1``, ...) in the order the tape first met it; leaves (Values the tape did not
compute) are listed first. An op that reads one Value twice (``x * x``) shows its local
derivative with respect to it once, as the sum the backward pass uses:
``d/dx = 6.0 (3.0 + 3.0)``. After a gradient call on a persistent tape, each node's
gradient from that call is shown too. Numbers are written as every display writes them
(``core/words.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from ..core.tapes.view import TapeState, TapeView
from ..core.transforms.custom import CustomOp
from ..core.values.value import Value
from ..core.words import counted, figure
from .names import node_names

__all__ = ["Table", "local_derivatives", "summarize", "table"]

HEAD: Final = 20
"""Records shown from the start of a long tape."""
TAIL: Final = 10
"""Records shown from its end."""


class Table(NamedTuple):
    """What ``print(tape)`` shows, before it is laid out as text (or as HTML in Jupyter)."""

    title: str
    """The first line: the tape's kind, state and number of records."""
    header: tuple[str, ...]
    """The column names; empty when there are no rows."""
    rows: list[tuple[str, ...]]
    """One row per leaf, then per record shown; a long tape's middle is one elided row."""
    note: str | None
    """A hint shown under the rows, if any."""


def table(view: TapeView) -> Table:
    """The cells of a tape's summary (see the module docstring)."""
    kind = "persistent" if view.persistent else "non-persistent"
    watching = "" if view.watch_accessed_variables else ", watch_accessed_variables=False"
    if view.freed:
        why = (
            "released: release() freed its records"
            if view.state is TapeState.RELEASED
            else "used: its one gradient() call freed its records "
            "(use persistent=True to inspect a tape after differentiating)"
        )
        return Table(f"GradientTape({kind}{watching}): {why}", (), [], None)
    records = view.records
    title = f"GradientTape({kind}{watching}): {view.state.value}, {counted(len(records), 'record')}"
    if not records:
        return Table(title, (), [], None)
    names = node_names(records, view)
    produced = {rec.output for rec in records}

    def name(v: Value | float) -> str:
        return names[v] if type(v) is Value else figure(v)  # a constant shows its number

    grads = view.last_gradients()

    def grad(v: Value) -> str:
        if grads is None:
            return ""
        g = grads.get(v.node)
        return "-" if g is None else figure(float(g))

    leaves = [v for v in names if v not in produced]
    header: tuple[str, ...] = ("#", "op", "inputs", "output", "local derivatives", "gradient")
    rows: list[tuple[str, ...]] = [
        ("", "leaf", "", f"{name(v)} = {figure(v.data)}", "", grad(v)) for v in leaves
    ]
    shown = list(range(len(records)))
    if len(records) > HEAD + TAIL:  # -1 marks the elided middle
        shown = [*range(HEAD), -1, *range(len(records) - TAIL, len(records))]
    for i in shown:
        if i == -1:
            rows.append(("...", f"{len(records) - HEAD - TAIL} more", "", "", "", ""))
            continue
        out, inputs, local, op = records[i]
        partials = [
            f"d/d{name(x)} = {text}" for x, text in local_derivatives(inputs, local).items()
        ]
        if type(op) is CustomOp:
            partials = ["from its grad_fn"]
        rows.append(
            (
                str(i),
                op.name,
                ", ".join(name(x) for x in inputs),
                f"{name(out)} = {figure(out.data)}",
                ", ".join(partials),
                grad(out),
            )
        )
    if grads is None:
        header = header[:-1]
        rows = [row[:-1] for row in rows]
    note = (
        "(call gradient() to see each node's gradient here)"
        if view.persistent and grads is None
        else None
    )
    return Table(title, header, rows, note)


def local_derivatives(
    inputs: Sequence[Value | float], partials: Sequence[float | None]
) -> dict[Value, str]:
    """Each Value an op read, with the text of its local derivative: one partial, or for
    a Value read more than once (``x * x``), their sum and its terms (``6.0 (3.0 + 3.0)``),
    which is what the backward pass multiplies by. Constants have none."""
    terms: dict[Value, list[float]] = {}
    for x, d in zip(inputs, partials, strict=True):
        if type(x) is Value and d is not None:
            terms.setdefault(x, []).append(d)
    return {
        x: figure(ds[0]) if len(ds) == 1 else f"{figure(sum(ds))} ({' + '.join(map(figure, ds))})"
        for x, ds in terms.items()
    }


def summarize(view: TapeView) -> str:
    """The table of a tape's records as text (see the module docstring)."""
    title, header, rows, note = table(view)
    lines = [title]
    if header:
        widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]
        for row in [header, *rows]:
            cells = (cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            lines.append("  " + "  ".join(cells).rstrip())
    if note is not None:
        lines.append("  " + note)
    return "\n".join(lines)
