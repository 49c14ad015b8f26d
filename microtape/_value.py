"""``Value``: one float whose arithmetic is recorded by the tapes that are recording.

A Value knows only its number and its node number. It does not point to the Values
it was computed from (micrograd's ``_prev``) and has no ``grad`` slot: the graph
lives on the tapes, which record node numbers, not Values (see ``_record.py``), and
gradients are returned by ``tape.gradient`` without touching shared state. So a
Value is small, holds no graph alive, is held by no graph, and two tapes, threads or
gradient calls never interfere through it.

The arithmetic dunders are the hot path. Each one computes its result and numbers
it, and only if some tape is recording (one context-variable read) builds one
record with its local partials as floats and adds it to each recording tape. They are specialised by
hand for speed, but the ops they record are the ``add``, ``sub``, ``mul``, ``div``,
``pow``, ``neg`` and ``abs`` of the built-in table, whose rules serve the
higher-order sweep and which the sympy oracle checks against these dunders.
"""

from __future__ import annotations

import itertools
import sys
import threading
from typing import Final, SupportsFloat, final
from weakref import WeakKeyDictionary

from ._context import RECORDING
from ._errors import ArgumentTypeError, DomainError

__all__ = ["Value", "as_number", "changed_after", "last_change", "rebuilt"]

_recording = RECORDING.get

_next_id: Final = itertools.count().__next__
"""The next node number: one counter for the process, so a number is never reused."""


def as_number(op: str, arg: str, x: object) -> float:
    """Return ``x`` as a float if it is a real number (not a bool), else raise.

    Raises:
        ArgumentTypeError: naming ``op``, the argument and the offending value.
    """
    c = _constant(x)
    if c is not None:
        return c
    if isinstance(x, bool):
        raise ArgumentTypeError(
            f"{op}: {arg}={x!r} is a bool; microtape takes real numbers only, "
            f"so write {float(x)!r} if you mean the number"
        )
    raise ArgumentTypeError(
        f"{op}: {arg} must be a Value or a real number (int or float), "
        f"got {type(x).__name__} {_short_repr(x)}"
    )


def _short_repr(x: object) -> str:
    try:
        text = repr(x)
    except ValueError:  # an int past Python's limit on digits converted to text
        return f"<{type(x).__name__} too large to print>"
    return text if len(text) <= 60 else text[:57] + "..."


def _constant(x: object) -> float | None:
    """``x`` as a float if it can be a constant operand, else None (NotImplemented).

    Raises:
        DomainError: for an int too large for a float (``10**400``).
    """
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return _float(x)
    return None


def _float(x: object) -> float:
    """``float(x)``, with an int too large for a float reported as a DomainError."""
    try:
        return float(x)  # type: ignore[arg-type]
    except OverflowError:
        raise DomainError(
            f"{_short_repr(x)} is too large for a float (largest: {sys.float_info.max!r})"
        ) from None


@final
class Value:
    """A float whose arithmetic is recorded by every tape that is recording.

    Args:
        data: the number; an int, a float, or any object with ``__float__``
            (such as ``numpy.float32``). A bool, str, complex or None is refused.

    Raises:
        ArgumentTypeError: for anything that is not a real number.

    Example:
        >>> import microtape as mt
        >>> x = mt.Value(3.0)
        >>> with mt.GradientTape() as tape:
        ...     y = x * x + 1
        >>> tape.gradient(y, x)
        Value(6.0)
    """

    __slots__ = ("__weakref__", "_data", "_id")

    _data: float
    _id: int  # the node number tapes record this Value by (see `_record.py`)

    def __init__(self, data: SupportsFloat) -> None:
        if type(data) is float:
            self._data = data
        else:
            self._data = _to_float(data)
        self._id = _next_id()

    # ---- the number ---------------------------------------------------------------------

    @property
    def data(self) -> float:
        """The float this Value holds. Assigning it changes the Value in place."""
        return self._data

    @data.setter
    def data(self, new: SupportsFloat) -> None:
        number = _to_float(new)
        _note_change(self)
        self._data = number

    def __float__(self) -> float:
        return self._data

    def __repr__(self) -> str:
        return f"Value({self._data!r})"

    def __format__(self, spec: str) -> str:
        return format(self._data, spec) if spec else repr(self)

    def __bool__(self) -> bool:
        return self._data != 0.0

    # == and hash are by node: two Values are equal when they are the same node of the
    # graph, which for Values a program made means the same object (Value(1.0) is not
    # == Value(1.0)). A tape rebuilds a Value it recorded as the same node (see
    # `_record.py`), and that one is == to the original. Order compares the numbers.
    def __eq__(self, other: object) -> bool:
        if type(other) is Value:
            return self._id == other._id
        return NotImplemented

    def __hash__(self) -> int:
        return self._id

    # A copy (copy, deepcopy, pickle) is a new node with the same number, never a second
    # Value of the same node, which the tapes would mistake for the original.
    def __reduce__(self) -> tuple[type[Value], tuple[float]]:
        return (Value, (self._data,))

    def __lt__(self, other: Value | float) -> bool:
        return self._data < _operand_float(other)

    def __le__(self, other: Value | float) -> bool:
        return self._data <= _operand_float(other)

    def __gt__(self, other: Value | float) -> bool:
        return self._data > _operand_float(other)

    def __ge__(self, other: Value | float) -> bool:
        return self._data >= _operand_float(other)

    # ---- recorded arithmetic (the hot path) -------------------------------------------------
    # Shape of every dunder: compute, number the new node, then, if a tape records
    # (`sink is not None`), hand the sink one record (see `_record.py`): node numbers,
    # numbers and float partials, never the Values. Nothing else happens outside a tape.

    def __add__(self, other: Value | float) -> Value:
        a = self._data
        out = _new(Value)
        out._id = n = _next_id()
        if type(other) is Value:
            b = other._data
            out._data = y = a + b
            sink = _recording()
            if sink is not None:
                sink.extend((n, y, self._id, a, 1.0, other._id, b, 1.0, _ADD))
            return out
        c = _constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        out._data = y = a + c
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, self._id, a, 1.0, None, c, None, _ADD))
        return out

    def __radd__(self, other: float) -> Value:
        c = _constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        b = self._data
        out = _new(Value)
        out._id = n = _next_id()
        out._data = y = c + b
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, None, c, None, self._id, b, 1.0, _ADD))
        return out

    def __sub__(self, other: Value | float) -> Value:
        a = self._data
        out = _new(Value)
        out._id = n = _next_id()
        if type(other) is Value:
            b = other._data
            out._data = y = a - b
            sink = _recording()
            if sink is not None:
                sink.extend((n, y, self._id, a, 1.0, other._id, b, -1.0, _SUB))
            return out
        c = _constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        out._data = y = a - c
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, self._id, a, 1.0, None, c, None, _SUB))
        return out

    def __rsub__(self, other: float) -> Value:
        c = _constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        b = self._data
        out = _new(Value)
        out._id = n = _next_id()
        out._data = y = c - b
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, None, c, None, self._id, b, -1.0, _SUB))
        return out

    def __mul__(self, other: Value | float) -> Value:
        a = self._data
        out = _new(Value)
        out._id = n = _next_id()
        if type(other) is Value:
            b = other._data
            out._data = y = a * b
            sink = _recording()
            if sink is not None:
                sink.extend((n, y, self._id, a, b, other._id, b, a, _MUL))
            return out
        c = _constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        out._data = y = a * c
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, self._id, a, c, None, c, None, _MUL))
        return out

    def __rmul__(self, other: float) -> Value:
        c = _constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        b = self._data
        out = _new(Value)
        out._id = n = _next_id()
        out._data = y = c * b
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, None, c, None, self._id, b, c, _MUL))
        return out

    def __truediv__(self, other: Value | float) -> Value:
        return _DIV(self, other)

    def __rtruediv__(self, other: float) -> Value:
        if _constant(other) is None:
            return NotImplemented
        return _DIV(other, self)

    def __pow__(self, other: Value | float) -> Value:
        if type(other) is not Value and _constant(other) is None:
            return NotImplemented
        return _POW(self, other)

    def __rpow__(self, other: float) -> Value:
        if _constant(other) is None:
            return NotImplemented
        return _POW(other, self)

    def __neg__(self) -> Value:
        a = self._data
        out = _new(Value)
        out._id = n = _next_id()
        out._data = y = -a
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, self._id, a, -1.0, None, None, None, _NEG))
        return out

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _ABS(self)


_new: Final = object.__new__

# ---- changes in place ------------------------------------------------------------------
# Assigning .data (an optimizer step) after a Value was recorded would make a gradient mix
# the numbers of two moments. Each assignment gets a number from one counter; the last
# number per changed Value is kept weakly, and every recording tape is told, so a tape can
# check before a gradient whether a Value it recorded changed afterwards (and refuse, as
# PyTorch's version counter does). None of this touches the recording hot path.

_changes: Final = itertools.count(1)
_changed: Final[WeakKeyDictionary[Value, int]] = WeakKeyDictionary()
_changes_lock: Final = threading.Lock()  # threads assign .data while others check
_last_change = 0


def _note_change(value: Value) -> None:
    global _last_change
    with _changes_lock:
        change = next(_changes)
        _changed[value] = change
        _last_change = change
    sink = _recording()
    if sink is not None:
        sink.note_change(change)


def last_change() -> int:
    """The number of the latest in-place change (0 if none yet)."""
    return _last_change


def changed_after(change: int) -> dict[int, tuple[int, Value]]:
    """The Values whose ``.data`` was assigned after change number ``change``, by node
    number, with the number of the last such change."""
    if _last_change <= change:
        return {}
    with _changes_lock:
        return {v._id: (c, v) for v, c in list(_changed.items()) if c > change}


def rebuilt(nodes: dict[int, Value], number: int, data: float) -> Value:
    """A Value for node ``number`` holding ``data``: how a tape rebuilds a Value it
    recorded by number (see ``_record.py``). It is == to every Value of that node.

    ``nodes`` keeps the last one made per node, to give it again while the number is
    the same float (a new one if the Value's ``.data`` was assigned in between).
    """
    v = nodes.get(number)
    if v is None or v._data is not data:
        v = nodes[number] = _new(Value)
        v._data = data
        v._id = number
    return v


def _to_float(data: object) -> float:
    if isinstance(data, Value):
        raise ArgumentTypeError(
            f"Value: data is already a Value ({data!r}); pass data.data to make an "
            "independent copy of its number"
        )
    if isinstance(data, (bool, complex, str, bytes)) or not hasattr(data, "__float__"):
        raise ArgumentTypeError(
            f"Value: data must be a real number (int, float, or an object with __float__), "
            f"got {type(data).__name__} {_short_repr(data)}"
            + (f"; write {float(data)!r} if you mean the number" if isinstance(data, bool) else "")
        )
    return _float(data)


def _operand_float(other: object) -> float:
    if type(other) is Value:
        return other._data
    c = _constant(other)
    if c is None:
        raise ArgumentTypeError(
            f"compare: cannot order a Value and a {type(other).__name__} {_short_repr(other)}"
        )
    return c


# The ops the dunders record. The table imports Value, so it is imported last; by then
# Value exists, and the dunders look these names up when they run, not before.
from ._builtins import abs_ as _ABS  # noqa: E402
from ._builtins import add as _ADD  # noqa: E402
from ._builtins import div as _DIV  # noqa: E402
from ._builtins import mul as _MUL  # noqa: E402
from ._builtins import neg as _NEG  # noqa: E402
from ._builtins import pow_ as _POW  # noqa: E402
from ._builtins import sub as _SUB  # noqa: E402
