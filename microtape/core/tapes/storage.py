"""Where a tape keeps what it records: its sinks.

- :class:`Flat`: the tape's records, flat (nine entries a row, see
  ``recording/record.py``), in stretches that say when each was made relative to in-place
  changes; the sink of an ordinary tape, so that recording an op is one ``list.extend``.
- :class:`WatchFilter`: the sink of a tape with ``watch_accessed_variables=False``,
  which keeps only ops that read a watched Value or something computed from one.

And :func:`check_unchanged`, which reads the stretches to refuse a gradient that would
mix numbers from before and after a Value's ``.data`` was assigned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import TapeError
from ..recording import record
from ..recording.context import Sink
from ..recording.record import WIDTH, Entry, Rows
from ..values.changes import changed_after

__all__ = ["Flat", "WatchFilter", "check_unchanged", "flats"]


class Flat(list[Entry]):
    """A tape's records, flat (see ``recording/record.py``), in stretches.

    A stretch is a run of records made while the tape recorded with no in-place change
    in its own context: it starts when recording (re)starts, and ends when the tape
    leaves its block, pauses in ``stop_recording()``, or sees a Value's ``.data``
    assigned. ``starts[k]`` is ``(first row, change number at the start)`` and
    ``ends[k]`` the change number at its end. A change numbered after the end of a
    row's stretch certainly came after the row; one inside the stretch can only have
    been made by another thread at an unknown moment, so it is not held against it.
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

    def watches(self, node: int, /) -> bool:
        return True  # watch_accessed_variables=True: any Value an op reads is a source

    def close(self) -> None:
        """Take no more records: the tape left its block.

        A task or thread that copied the recording context inside the block still holds
        this list as its sink; whatever it records after the block is not this tape's
        business. Changing the class turns ``extend`` into a no-op for all of them at
        once, with nothing copied and no test on the recording hot path.
        """
        self.__class__ = Closed

    def reopened(self) -> Flat:
        """The same records in a new list that takes records again (the old one stays
        closed for the contexts that still hold it)."""
        return Flat(self, self.starts, self.ends)


class Closed(Flat):
    """A :class:`Flat` whose tape has left its block: it ignores what is still sent."""

    __slots__ = ()

    def extend(self, rows: Iterable[Entry], /) -> None:
        pass

    def note_change(self, change: int, /) -> None:
        pass

    def watches(self, node: int, /) -> bool:
        return False


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

    def watches(self, node: int, /) -> bool:
        return node in self.connected

    def extend(self, rows: Rows, /) -> None:
        connected = self.connected
        starts = range(0, len(rows), WIDTH)  # an op of three or more arguments: several rows
        if any(
            rows[at + record.A] in connected or rows[at + record.B] in connected for at in starts
        ):
            connected.update(rows[at + record.OUT] for at in starts)  # type: ignore[misc]
            self.flat.extend(rows)


def flats(chosen: Iterable[Sink]) -> list[Flat]:
    """The record lists behind the given sinks."""
    found: list[Flat] = []
    for sink in chosen:
        if isinstance(sink, WatchFilter):
            found.append(sink.flat)
        elif isinstance(sink, Flat):
            found.append(sink)
    return found


def check_unchanged(flat: Flat, targets: Iterable[int]) -> None:
    """Raise if a row on the way to the target nodes read a Value whose ``.data`` was
    assigned after that row was made."""
    if not flat or not flat.starts:
        return
    changed = changed_after(flat.starts[0][1])
    if not changed:  # the usual case, one tape per training step: nothing to scan
        return
    reached = set(targets)
    late: list[int] = []  # rows on the way to the targets, last first
    for i in range(record.count(flat) - 1, -1, -1):
        out, _, a, _, _, b, _, _, _ = record.row(flat, i)
        if out in reached:
            late.append(i)
            reached.update((a, b))  # type: ignore[arg-type]  # None never matches a node
    starts, ends = flat.starts, flat.ends
    k = 0
    for i in reversed(late):
        while k + 1 < len(starts) and starts[k + 1][0] <= i:
            k += 1
        if k >= len(ends):
            continue  # made in the open stretch: no change can be after it
        _, _, a, a_value, _, b, b_value, _, _ = record.row(flat, i)
        for slot, number, was in ((0, a, a_value), (1, b, b_value)):
            hit = None if number is None else changed.get(number)
            if hit is not None and hit[0] > ends[k]:
                op, position = record.op_of_row(flat, i)
                position += slot - 1
                raise TapeError(
                    f"gradient: {hit[1]!r} was changed in place (its .data assigned) after "
                    f"this tape recorded it as argument {op.arg_names[position]} of {op.name} "
                    f"(record #{i}, when it was {was!r}); the gradient would mix the numbers "
                    "from before and after the change. Take the gradient before updating the "
                    "Value, or record the computation again on a new tape (one tape per "
                    "training step)."
                )
