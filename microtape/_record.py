"""The record: what a tape keeps of one op.

A record is six entries, appended to every recording tape::

    (output, a, da, b, db, op)

- ``output``: the Value the op produced.
- ``a``, ``b``: the op's arguments as they were passed, a Value or a plain number
  (``b`` is ``None`` for an op of one argument).
- ``da``, ``db``: the local partial derivatives d(output)/da and d(output)/db as
  floats, computed when the op ran; ``None`` where the argument is a plain number
  (nothing to differentiate) or absent.
- ``op``: the :class:`~microtape.Op`, whose derivative rules the higher-order sweep
  calls again on Values.

A tape stores its records *flat*: one list holding the six entries of the first
record, then the six of the second, and so on. Why not a list of tuples: a tuple per
op is one more object per node for the cyclic garbage collector to scan again and
again while a large graph is being recorded, and about 40 more bytes. Flat, the
recording of a 300,000-node graph takes about half the time, and the first-order
reverse sweep still unpacks a record in one step (``zip`` over one reversed iterator).
Storing partials as floats at record time also means a first-order gradient uses the
numbers as they were when the op ran, with no function call per node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeAlias, Union

if TYPE_CHECKING:
    from ._op import Op
    from ._value import Value

__all__ = ["WIDTH", "Arg", "Entry", "Record"]

WIDTH: Final = 6
"""Entries per record in a tape's flat list."""

Arg: TypeAlias = Union["Value", float]
"""An op argument as passed: a Value, or a plain number treated as a constant."""

Record: TypeAlias = tuple["Value", Arg, "float | None", "Arg | None", "float | None", "Op"]
"""``(output, a, da, b, db, op)``; see the module docstring."""

Entry: TypeAlias = Union["Value", float, "Op", None]
"""One entry of a flat record list."""
