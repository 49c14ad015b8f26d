"""The floor: the leanest pure-Python reverse mode, a bound to measure microtape against.

Values with ``__slots__`` and one global list of ``(out, a, da, b, db)`` records, the
local partials stored as floats at record time; ``floor_backward`` walks the list once
in reverse and then forgets it. No tape contexts, no registry, no higher orders: a bound
to measure against, not a design. It never recurses, so it needs no raised recursion
limit, and it supports exactly what the two reference workloads use (``+``, ``*``,
``-`` with a Value or a float on either side of ``+`` and ``*``, and ``relu``).

``floor_backward`` rebinds ``RECORDS`` to a fresh list (freeing the records inside the
timed sweep), so other modules read it as ``floor.RECORDS``, never through a name
imported once.
"""

from __future__ import annotations

__all__ = ["RECORDS", "FloorRecord", "FloorValue", "floor_backward"]

FloorRecord = tuple["FloorValue", "FloorValue", float, "FloorValue | None", float]
"""One op: its output, its first argument and partial, its second argument (if a Value)
and partial."""

RECORDS: list[FloorRecord] = []


class FloorValue:
    """The floor probe's value: a number, a gradient slot, and records on a global list."""

    __slots__ = ("data", "grad")

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0

    def __add__(self, o: FloorValue | float) -> FloorValue:
        if isinstance(o, FloorValue):
            out = FloorValue(self.data + o.data)
            RECORDS.append((out, self, 1.0, o, 1.0))
            return out
        out = FloorValue(self.data + o)
        RECORDS.append((out, self, 1.0, None, 0.0))
        return out

    __radd__ = __add__

    def __mul__(self, o: FloorValue | float) -> FloorValue:
        if isinstance(o, FloorValue):
            out = FloorValue(self.data * o.data)
            RECORDS.append((out, self, o.data, o, self.data))
            return out
        out = FloorValue(self.data * o)
        RECORDS.append((out, self, o, None, 0.0))
        return out

    __rmul__ = __mul__

    def __sub__(self, o: FloorValue | float) -> FloorValue:
        if isinstance(o, FloorValue):
            out = FloorValue(self.data - o.data)
            RECORDS.append((out, self, 1.0, o, -1.0))
            return out
        out = FloorValue(self.data - o)
        RECORDS.append((out, self, 1.0, None, 0.0))
        return out

    def relu(self) -> FloorValue:
        d = self.data
        out = FloorValue(d if d > 0 else 0.0)
        RECORDS.append((out, self, 1.0 if d > 0 else 0.0, None, 0.0))
        return out


def floor_backward(root: FloorValue) -> None:
    """One reverse loop over the global records; then forget them."""
    global RECORDS
    root.grad = 1.0
    for out, a, da, b, db in reversed(RECORDS):
        g = out.grad
        if g:
            a.grad += g * da
            if b is not None:
                b.grad += g * db
    RECORDS = []
