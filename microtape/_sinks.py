"""Where a recording tape keeps what it records: its sinks.

- :class:`Flat`: the tape's records, flat (six entries each, see ``_record.py``), in
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
from ._record import WIDTH, Entry, Record
from ._sweep import reach
from ._value import Value, changed_after

__all__ = ["Flat", "WatchFilter", "check_unchanged", "flats"]


class Flat(list[Entry]):
    """A tape's records, flat (six entries each, see ``_record.py``), in stretches.

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
        """The records as 6-tuples (a copy, for the slow paths that read them)."""
        return list(zip(*[iter(self)] * WIDTH))  # noqa: B905


class WatchFilter:
    """The sink of a tape with ``watch_accessed_variables=False``.

    It records an op only if one of its inputs is connected: watched, or the output of
    an op it recorded. That output becomes connected in turn.
    """

    __slots__ = ("connected", "flat")

    def __init__(self, flat: Flat, connected: set[Value]) -> None:
        self.flat = flat
        self.connected = connected

    def note_change(self, change: int, /) -> None:
        self.flat.note_change(change)

    def extend(self, record: Record, /) -> None:
        connected = self.connected
        if record[1] in connected or record[3] in connected:
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


def check_unchanged(flat: Flat, targets: Iterable[Value]) -> None:
    """Raise if a record on the way to the targets read a Value whose ``.data`` was
    assigned after that record was made."""
    if not flat or not flat.starts:
        return
    changed = changed_after(flat.starts[0][1])
    if not changed:  # the usual case, one tape per training step: nothing to scan
        return
    records = flat.records()
    wanted = set(targets)
    reached = wanted.union(reach(records, wanted))
    starts, ends = flat.starts, flat.ends
    k = 0
    for i, (_, a, _, b, _, op) in enumerate(records):
        while k + 1 < len(starts) and starts[k + 1][0] <= i:
            k += 1
        if records[i][0] not in reached or k >= len(ends):
            continue  # not needed, or made in the open stretch: no change can be after it
        for position, arg in enumerate((a, b)):
            if type(arg) is Value and changed.get(arg, 0) > ends[k]:
                raise TapeError(
                    f"gradient: {arg!r} was changed in place (its .data assigned) after this "
                    f"tape recorded it as argument {op.arg_names[position]} of {op.name} "
                    f"(record #{i}); the gradient would mix the numbers from before and after "
                    "the change. Take the gradient before updating the Value, or record the "
                    "computation again on a new tape (one tape per training step)."
                )
