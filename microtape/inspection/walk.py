"""Walking a tape's records backwards from its targets, for the slow paths.

No recursion: one pass over the records, last to first, as the reverse sweep does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..core.tapes.view import Record
from ..core.values.stop import STOP_GRADIENT
from ..core.values.value import Value

__all__ = ["depends_on", "reach"]


def reach(
    records: Sequence[Record], targets: Iterable[Value], stopped: bool = False
) -> dict[Value, int]:
    """Every Value the targets depend on through ``records``, with the index of the record
    through which the backward walk first reached it (the targets are not keys).

    A gradient does not go back through ``stop_gradient``, and neither does the walk,
    unless ``stopped`` asks for every Value the targets' numbers were computed from."""
    via: dict[Value, int] = {}
    reached = set(targets)
    for i in range(len(records) - 1, -1, -1):
        rec = records[i]
        if rec.output not in reached or (rec.op is STOP_GRADIENT and not stopped):
            continue
        for arg in rec.inputs:
            if type(arg) is Value and arg not in reached:
                reached.add(arg)
                via[arg] = i
    return via


def depends_on(records: Sequence[Record], target: Value) -> list[Record]:
    """The records ``target`` depends on, in record order."""
    reached = {target}
    kept: list[Record] = []
    for rec in reversed(records):
        if rec.output in reached:
            kept.append(rec)
            reached.update(arg for arg in rec.inputs if type(arg) is Value)
    kept.reverse()
    return kept
