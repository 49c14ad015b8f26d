"""The record: what a tape keeps of one op.

A record is nine entries, appended to every recording tape::

    (out, y, a, x_a, da, b, x_b, db, op)

- ``out``: the node number of the Value the op produced, and ``y`` its number.
- ``a``, ``b``: the node numbers of the op's arguments, or ``None`` where an argument
  is a plain number (a constant) or absent (``b`` of an op of one argument).
- ``x_a``, ``x_b``: the arguments' numbers as the op read them (``None`` if absent).
- ``da``, ``db``: the local partial derivatives d(out)/da and d(out)/db as floats,
  computed when the op ran; ``None`` where the argument is a constant or absent.
- ``op``: the :class:`~microtape.Op`, whose derivative rules the higher-order sweep
  calls again.

Why node numbers and not the Values: a tape that held its Values would keep every
intermediate Value alive, and every live Value is one more object for CPython's cycle
collector to scan again and again while a large graph is recorded (a Value has slots,
so the collector tracks it). At a million nodes that scanning took as long as the
recording itself. Numbers and floats are not tracked, so the tape costs the collector
nothing, and an intermediate Value nobody else holds is freed at once. A Value's node
number comes from one process-wide counter, so it is never reused, unlike ``id()``.
The higher-order sweep, which needs Values to record its arithmetic, rebuilds each
argument as a Value with the same node number and the number it had (``x_a``): to
every tape that is the same node.

A tape stores its records *flat*: one list holding the nine entries of the first
record, then the nine of the second, and so on. A tuple per op would be one more
object per node for the collector; flat, the first-order reverse sweep still unpacks
a record in one step (``zip`` over one reversed iterator). Storing partials as floats
at record time also means a first-order gradient uses the numbers as they were when
the op ran, with no function call per node.

The slow paths (``print(tape)``, ``explain``, pictures) read a *view* of each record,
``(output, a, da, b, db, op)``, with Values rebuilt from the numbers (see
``Flat.records``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeAlias, Union

if TYPE_CHECKING:
    from ._op import Op
    from ._value import Value

__all__ = ["WIDTH", "Arg", "Entry", "Raw", "Record"]

WIDTH: Final = 9
"""Entries per record in a tape's flat list."""

Arg: TypeAlias = Union["Value", float]
"""An op argument: a Value, or a plain number treated as a constant."""

Record: TypeAlias = tuple["Value", Arg, "float | None", "Arg | None", "float | None", "Op"]
"""A record as the slow paths read it: ``(output, a, da, b, db, op)``."""

Raw: TypeAlias = tuple[
    int,
    float,
    "int | None",
    "float | None",
    "float | None",
    "int | None",
    "float | None",
    "float | None",
    "Op",
]
"""A record as the ops hand it to the sinks: ``(out, y, a, x_a, da, b, x_b, db, op)``."""

Entry: TypeAlias = Union[int, float, "Op", None]
"""One entry of a flat record list."""
