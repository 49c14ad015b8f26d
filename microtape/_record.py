"""The record: what a tape keeps of one op.

A record is a flat 6-tuple, the same object appended to every recording tape::

    (output, a, da, b, db, op)

- ``output``: the Value the op produced.
- ``a``, ``b``: the op's arguments as they were passed, a Value or a plain number
  (``b`` is ``None`` for an op of one argument).
- ``da``, ``db``: the local partial derivatives d(output)/da and d(output)/db as
  floats, computed when the op ran; ``None`` where the argument is a plain number
  (nothing to differentiate) or absent.
- ``op``: the :class:`~microtape.Op`, whose derivative rules the higher-order sweep
  calls again on Values.

Why a tuple and not a class: a tuple of six costs about 90 bytes and unpacks in one
bytecode, and the first-order reverse sweep is then one loop over floats with no
function call per node. Storing partials as floats at record time also means a
first-order gradient uses the numbers as they were when the op ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, Union

if TYPE_CHECKING:
    from ._op import Op
    from ._value import Value

__all__ = ["Arg", "Record"]

Arg: TypeAlias = Union["Value", float]
"""An op argument as passed: a Value, or a plain number treated as a constant."""

Record: TypeAlias = tuple["Value", Arg, "float | None", "Arg | None", "float | None", "Op"]
"""``(output, a, da, b, db, op)``; see the module docstring."""
