"""Short names for the Values a tape recorded: ``v0``, ``v1``, ...

``print(tape)``, ``tape.explain`` and ``mt.to_dot`` name nodes alike: leaves (Values the
tape did not compute) first, in the order the tape first read them, then each op's
output in record order.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.tapes.view import Record
from ..core.values.value import Value

__all__ = ["node_names"]


def node_names(records: Sequence[Record]) -> dict[Value, str]:
    """Short names for the tape's Values: leaves first, then outputs, in record order."""
    names: dict[Value, str] = {}
    produced = {rec.output for rec in records}
    for rec in records:
        for arg in rec.inputs:
            if type(arg) is Value and arg not in produced and arg not in names:
                names[arg] = f"v{len(names)}"
    for rec in records:
        for v in (*rec.inputs, rec.output):
            if type(v) is Value and v not in names:
                names[v] = f"v{len(names)}"
    return names
