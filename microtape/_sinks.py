"""Where a recording tape keeps what it records: its sinks.

- :class:`Flat`: the tape's records, flat (nine entries each, see ``_record.py``), in
  stretches that say when each was made relative to in-place changes; the sink of an
  ordinary tape, so that recording an op is one ``list.extend``.
- :class:`WatchFilter`: the sink of a tape with ``watch_accessed_variables=False``,
  which keeps only ops that read a watched Value or something computed from one.

And :func:`check_unchanged`, which reads the stretches to refuse a gradient that would
mix numbers from before and after a Value's ``.data`` was assigned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._context import Sink
from ._errors import TapeError
from ._record import WIDTH, Entry, Raw, Record
from ._value import Value, changed_after, rebuilt

__all__ = ["Flat", "WatchFilter", "check_unchanged", "flats"]


class Flat(list[Entry]):
    """A tape's records, flat (nine entries each, see ``_record.py``), in stretches.

    A stretch is a run of records made while the tape recorded with no in-place change
    in its own context: it starts when recording (re)starts, and ends when the tape
    leaves its block, pauses in ``stop_recording()``, or sees a Value's ``.data``
    assigned. ``starts[k]`` is ``(first record, change number at the start)`` and
    ``ends[k]`` the change number at its end. A change numbered after the end of a
    record's stretch certainly came after the record; one inside the stretch can only
    have been made by another thread at an unknown moment, so it is not held against it.
    """

    __slots__ = ("ends", "starts")

    def __init__(
        self,
        entries: Sequence[Entry] = (),
        starts: Sequence[tuple[int, int]] = (),
        ends: Sequence[int] = (),
    ) -> None:
        super().__init__(entries)
        self.starts: list[tuple[int, int]] = list(starts)
        self.ends: list[int] = list(ends)

    def begin(self, change: int) -> None:
        """Start a stretch here, unless one is open."""
        if len(self.starts) == len(self.ends):
            self.starts.append((len(self) // WIDTH, change))

    def end(self, change: int) -> None:
        """End the open stretch, if any."""
        if len(self.ends) < len(self.starts):
            self.ends.append(change)

    def note_change(self, change: int, /) -> None:
        self.end(change - 1)
        self.begin(change)

    def copy_detached(self) -> Flat:
        """A copy holding the same records and stretches (see ``__exit__``)."""
        return Flat(self, self.starts, self.ends)

    def records(self) -> list[Record]:
        """The records as the slow paths read them, ``(output, a, da, b, db, op)``.

        Each node becomes a Value rebuilt from its number (``==`` to the Value that
        was recorded), holding the number the record read; a constant argument stays
        a float.
        """
        nodes: dict[int, Value] = {}
        records: list[Record] = []
        for out, y, a, xa, da, b, xb, db, op in zip(*[iter(self)] * WIDTH):  # noqa: B905
            va: Value | float = xa if a is None else rebuilt(nodes, a, xa)
            vb: Value | float | None = xb if b is None else rebuilt(nodes, b, xb)
            records.append((rebuilt(nodes, out, y), va, da, vb, db, op))
        return records


class WatchFilter:
    """The sink of a tape with ``watch_accessed_variables=False``.

    It records an op only if one of its inputs is connected: watched, or the output of
    an op it recorded. That output becomes connected in turn. Nodes go by number.
    """

    __slots__ = ("connected", "flat")

    def __init__(self, flat: Flat, connected: set[int]) -> None:
        self.flat = flat
        self.connected = connected

    def note_change(self, change: int, /) -> None:
        self.flat.note_change(change)

    def extend(self, record: Raw, /) -> None:
        connected = self.connected
        if record[2] in connected or record[5] in connected:
            connected.add(record[0])
            self.flat.extend(record)


def flats(chosen: Iterable[Sink]) -> list[Flat]:
    """The record lists behind the given sinks."""
    flats: list[Flat] = []
    for sink in chosen:
        if isinstance(sink, WatchFilter):
            flats.append(sink.flat)
        elif isinstance(sink, Flat):
            flats.append(sink)
    return flats


def check_unchanged(flat: Flat, targets: Iterable[int]) -> None:
    """Raise if a record on the way to the target nodes read a Value whose ``.data`` was
    assigned after that record was made."""
    if not flat or not flat.starts:
        return
    changed = changed_after(flat.starts[0][1])
    if not changed:  # the usual case, one tape per training step: nothing to scan
        return
    count = len(flat) // WIDTH
    reached = set(targets)
    late: list[int] = []  # records on the way to the targets, last first
    for i in range(count - 1, -1, -1):
        at = i * WIDTH
        if flat[at] in reached:
            late.append(i)
            reached.add(flat[at + 2])  # type: ignore[arg-type]
            reached.add(flat[at + 5])  # type: ignore[arg-type]
    starts, ends = flat.starts, flat.ends
    k = 0
    for i in reversed(late):
        while k + 1 < len(starts) and starts[k + 1][0] <= i:
            k += 1
        if k >= len(ends):
            continue  # made in the open stretch: no change can be after it
        at = i * WIDTH
        for position, number in enumerate((flat[at + 2], flat[at + 5])):
            hit = changed.get(number)  # type: ignore[arg-type]  # a number or None
            if hit is not None and hit[0] > ends[k]:
                value = hit[1]
                op = flat[at + 8]
                raise TapeError(
                    f"gradient: {value!r} was changed in place (its .data assigned) after this "
                    f"tape recorded it as argument {op.arg_names[position]} of {op.name} "  # type: ignore[union-attr]
                    f"(record #{i}, when it was {flat[at + 3 + 3 * position]!r}); the gradient "
                    "would mix the numbers from before and after the change. Take the gradient "
                    "before updating the Value, or record the computation again on a new tape "
                    "(one tape per training step)."
                )
