"""What each Value a tape recorded is called in ``print(tape)``, ``tape.explain``,
``mt.to_dot`` and ``mt.to_sympy``: the learner's name, or ``v0``, ``v1``, ...

A Value has the learner's name if it was given one (``mt.Value(0.5, name="w")``), if a
variable held it when the tape's block ended (``loss``, ``xs[0]``), or if it is a
parameter of an ``mt.nn`` model (``layers[0].kernel[1][0]``): see
``core/values/names.py``. The others are numbered ``v0``, ``v1``, ... in the order the
displays list them, leaves (Values the tape did not compute) first, in the order the tape
first read them, then each op's output in record order. So one Value has one name in every
display of a tape. A name two Values would share goes to the first; the second is numbered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..core.tapes.view import Record, TapeView
from ..core.values.value import Value

__all__ = ["node_names", "numbered"]


def node_names(records: Sequence[Record], view: TapeView) -> dict[Value, str]:
    """Names for the tape's Values, in display order: leaves first, then outputs, in
    record order (see the module docstring)."""
    order: dict[Value, None] = {}
    produced = {rec.output for rec in records}
    for rec in records:
        for arg in rec.inputs:
            if type(arg) is Value and arg not in produced:
                order.setdefault(arg)
    for rec in records:
        for v in (*rec.inputs, rec.output):
            if type(v) is Value:
                order.setdefault(v)
    return numbered(order, view.name_of)


def numbered(values: Iterable[Value], name_of: Callable[[Value], str | None]) -> dict[Value, str]:
    """Each of ``values`` with its name from ``name_of``, or the next free ``v`` number."""
    values = list(values)
    learner: dict[Value, str] = {}
    taken: set[str] = set()
    for v in values:
        name = name_of(v)
        if name is not None and name not in taken:
            learner[v] = name
            taken.add(name)
    names: dict[Value, str] = {}
    k = 0
    for v in values:
        name = learner.get(v)
        if name is None:
            while f"v{k}" in taken:
                k += 1
            name = f"v{k}"
            k += 1
        names[v] = name
    return names
