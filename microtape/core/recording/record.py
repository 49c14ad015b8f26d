"""The record: what a tape keeps of one op. The layout is named here and nowhere else.

A tape stores its records *flat*: one list holding the nine entries of the first row,
then the nine of the second, and so on. One row is::

    OUT  VALUE  A  A_VALUE  A_PARTIAL  B  B_VALUE  B_PARTIAL  OP

- ``OUT``: the node number of the Value the op produced, and ``VALUE`` its number.
- ``A``, ``B``: the node numbers of the op's arguments, or ``None`` where an argument
  is a plain number (a constant) or absent (``B`` of an op of one argument).
- ``A_VALUE``, ``B_VALUE``: the arguments' numbers as the op read them (``None`` if
  absent).
- ``A_PARTIAL``, ``B_PARTIAL``: the local partial derivatives d(out)/da and d(out)/db as
  floats, computed when the op ran; ``None`` where the argument is a constant or absent,
  and where an argument has a node but the op passes nothing back to it
  (``stop_gradient``, ``values/stop.py``; a custom gradient's op, whose function gives
  the gradient, ``transforms/custom.py``).
- ``OP``: the :class:`~microtape.Op`, whose derivative rules the higher-order sweep calls
  again; ``None`` in a *continuation row* (below).

An op of three or more arguments takes one row per argument after the first: the first
row holds arguments 0 and 1, each further row the previous row's output (with partial
1) and one more argument, and only the last row names the op and its real output. The
rows in between produce *hidden* nodes that carry the op's gradient through unchanged,
so the chain rule over the rows is the chain rule over the op, and the first-order sweep
needs no special case. The higher-order sweep, and every reader of records, takes such
an op's arguments from its rows with :func:`arguments` and :func:`ops`.

Why node numbers and not the Values: a tape that held its Values would keep every
intermediate Value alive, and every live Value is one more object for CPython's cycle
collector to scan again and again while a large graph is recorded. Numbers and floats are
not tracked, so the tape costs the collector nothing, and an intermediate Value nobody
else holds is freed at once. A Value's node number comes from one process-wide counter,
so it is never reused, unlike ``id()``. Storing partials as floats at record time also
means a first-order gradient uses the numbers as they were when the op ran, with no
function call per node.

Writers build a row as one tuple in the order above (the hot paths in ``Value``'s
operators and ``Op.__call__`` do, for speed); readers use the names and helpers here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final, TypeAlias, cast

if TYPE_CHECKING:
    from ..values.op import Op

__all__ = [
    "A_PARTIAL",
    "A_VALUE",
    "B_PARTIAL",
    "B_VALUE",
    "OP",
    "OUT",
    "VALUE",
    "WIDTH",
    "A",
    "B",
    "Entry",
    "NodeRecord",
    "ReversedRow",
    "Row",
    "Rows",
    "arguments",
    "backwards",
    "count",
    "drop_last",
    "first",
    "nodes",
    "op_count",
    "op_of_row",
    "ops",
    "outputs",
    "row",
]

OUT: Final = 0
VALUE: Final = 1
A: Final = 2
A_VALUE: Final = 3
A_PARTIAL: Final = 4
B: Final = 5
B_VALUE: Final = 6
B_PARTIAL: Final = 7
OP: Final = 8
WIDTH: Final = 9
"""Entries per row."""

Row: TypeAlias = tuple[
    int,
    float,
    "int | None",
    "float | None",
    "float | None",
    "int | None",
    "float | None",
    "float | None",
    "Op | None",
]
"""One row, in the order of the offsets above."""

ReversedRow: TypeAlias = tuple[
    "Op | None",
    "float | None",
    "float | None",
    "int | None",
    "float | None",
    "float | None",
    "int | None",
    float,
    int,
]
"""One row read backwards (``OP`` first, ``OUT`` last), as :func:`backwards` yields it."""

Entry: TypeAlias = "int | float | Op | None"
"""One entry of a flat record list."""

Rows: TypeAlias = tuple[Entry, ...]
"""What a writer hands the sinks: the rows of one op, one after another."""


class NodeRecord:
    """One op as the slow paths read it: all its arguments, whatever rows it took.

    Numbers only: ``out`` and ``inputs`` are node numbers (``None`` for a constant
    argument), ``values`` the numbers the op read, ``partials`` its local partials
    (``None`` for a constant argument), ``first`` the index of its first row.
    """

    __slots__ = ("first", "inputs", "op", "out", "partials", "value", "values")

    def __init__(
        self,
        first: int,
        out: int,
        value: float,
        inputs: tuple[int | None, ...],
        values: tuple[float, ...],
        partials: tuple[float | None, ...],
        op: Op,
    ) -> None:
        self.first = first
        self.out = out
        self.value = value
        self.inputs = inputs
        self.values = values
        self.partials = partials
        self.op = op


def row(flat: Sequence[Entry], i: int) -> Row:
    """Row ``i`` of ``flat``."""
    return flat[i * WIDTH : (i + 1) * WIDTH]  # type: ignore[return-value]  # nine entries


def count(flat: Sequence[Entry]) -> int:
    """How many rows ``flat`` holds."""
    return len(flat) // WIDTH


def first(flat: Sequence[Entry], rows: int) -> Sequence[Entry]:
    """The first ``rows`` rows of ``flat`` (``flat`` itself if it holds no more)."""
    end = rows * WIDTH
    return flat if len(flat) == end else flat[:end]


def op_count(flat: Sequence[Entry], rows: int | None = None) -> int:
    """How many ops the first ``rows`` rows (default all) hold: continuation rows of an
    op of three or more arguments are not ops of their own."""
    end = count(flat) if rows is None else rows
    return end - flat[OP : end * WIDTH : WIDTH].count(None)


def backwards(flat: Sequence[Entry]) -> Iterator[ReversedRow]:
    """Every row, last first, each with its entries in reverse order.

    One reversed iterator zipped nine times: a flat list unpacks row by row as fast as
    a list of tuples would, with no copy (the first-order sweep's loop).
    """
    return cast(Iterator[ReversedRow], zip(*[reversed(flat)] * WIDTH))  # noqa: B905


def outputs(flat: Sequence[Entry]) -> list[int]:
    """The output node of every row (hidden nodes of continuation rows included)."""
    return cast(list[int], flat[OUT::WIDTH])


def nodes(flat: Sequence[Entry]) -> set[int]:
    """Every node number the rows mention: outputs and arguments."""
    found = set(cast(list["int | None"], flat[OUT::WIDTH]))
    found.update(cast(list["int | None"], flat[A::WIDTH]))
    found.update(cast(list["int | None"], flat[B::WIDTH]))
    found.discard(None)  # constant and absent arguments
    return cast(set[int], found)


def arguments(
    flat: Sequence[Entry], last: int, arity: int
) -> tuple[list[int | None], list[float], list[float | None], int]:
    """The arguments of the op whose last row is ``last``: nodes, numbers, partials.

    Also returns the index of the op's first row. An op of one or two arguments has
    one row; one of ``k`` arguments has ``k - 1`` (see the module docstring).
    """
    first = last - max(arity - 2, 0)
    at = first * WIDTH
    if arity == 1:
        return (
            [cast("int | None", flat[at + A])],
            [cast(float, flat[at + A_VALUE])],
            [cast("float | None", flat[at + A_PARTIAL])],
            first,
        )
    inputs = [cast("int | None", flat[at + A]), cast("int | None", flat[at + B])]
    values = [cast(float, flat[at + A_VALUE]), cast(float, flat[at + B_VALUE])]
    partials = [
        cast("float | None", flat[at + A_PARTIAL]),
        cast("float | None", flat[at + B_PARTIAL]),
    ]
    for i in range(first + 1, last + 1):
        at = i * WIDTH
        inputs.append(cast("int | None", flat[at + B]))
        values.append(cast(float, flat[at + B_VALUE]))
        partials.append(cast("float | None", flat[at + B_PARTIAL]))
    return inputs, values, partials, first


def ops(flat: Sequence[Entry], rows: int | None = None) -> Iterator[NodeRecord]:
    """Each op recorded in the first ``rows`` rows (default all), in record order.

    The rows are read as ``backwards`` reads them, nine entries at a time with no
    indexing: a tape of a million ops is walked in well under a second.
    """
    end = count(flat) if rows is None else rows
    rows_of: Iterator[Row] = cast(Iterator[Row], zip(*[iter(first(flat, end))] * WIDTH))  # noqa: B905
    pending: list[Row] = []  # the continuation rows of an op of three or more arguments
    for i, row in enumerate(rows_of):
        out, value, a, xa, da, b, xb, db, op = row
        if op is None:
            pending.append(row)
            continue
        if not pending:
            if op.arity == 1:
                yield NodeRecord(i, out, value, (a,), (xa,), (da,), op)  # type: ignore[arg-type]
            else:
                yield NodeRecord(i, out, value, (a, b), (xa, xb), (da, db), op)  # type: ignore[arg-type]
            continue
        head = pending[0]
        inputs = [head[A], head[B], *(r[B] for r in pending[1:]), b]
        values = [head[A_VALUE], head[B_VALUE], *(r[B_VALUE] for r in pending[1:]), xb]
        partials = [head[A_PARTIAL], head[B_PARTIAL], *(r[B_PARTIAL] for r in pending[1:]), db]
        yield NodeRecord(
            i - len(pending),
            out,
            value,
            tuple(inputs),
            tuple(values),  # type: ignore[arg-type]
            tuple(partials),
            op,
        )
        pending.clear()


def op_of_row(flat: Sequence[Entry], i: int) -> tuple[Op, int]:
    """The op row ``i`` belongs to, and the position of row ``i``'s argument ``B`` in it
    (``A`` is one before; a continuation row's ``A`` is hidden unless it is the first)."""
    j = i
    op = flat[j * WIDTH + OP]
    while op is None:
        j += 1
        op = flat[j * WIDTH + OP]
    assert not isinstance(op, (int, float))
    first = j - max(op.arity - 2, 0)
    return op, 1 + (i - first)


def drop_last(flat: list[Entry], rows: Rows) -> bool:
    """Take the rows of one op off the end of ``flat``, if they are its last rows.

    Rows are matched by their output nodes, which are never reused. Returns whether
    they were there (a tape that filters what it records may not have kept them).
    """
    size = len(rows)
    if len(flat) < size or flat[len(flat) - size + OUT :: WIDTH] != list(rows[OUT::WIDTH]):
        return False
    del flat[len(flat) - size :]
    return True
