"""``tape.stop_recording()``: a block in which one tape (or accumulator) records nothing.

Pausing takes the tape's sink out of the recording context (other tapes keep
recording), ends the tape's current stretch of records (see ``storage.py``), and on the
way out puts both back: unless the tape left its block, or was reset or released, while
paused. Python's ``with`` usually unwinds in order and the context token restores
everything exactly; blocks left by hand in another order must not bring back a tape
that has left, nor keep out one that is still recording.
"""

from __future__ import annotations

from typing import final

from ..recording import record
from ..recording.context import RECORDING, Entered, Sink, is_recording, joined, without
from ..values.changes import last_change
from .storage import Flat

__all__ = ["Pause"]


@final
class Pause:
    """One ``stop_recording()`` block of one tape, from its start to its end.

    Args:
        sink: the tape's sink, to take out of the recording context.
        flat: the tape's records, whose stretch ends here; None for a forward
            accumulator, which keeps no records.
        outermost: no other pause of this tape is open; only the outermost pause
            ends and restarts the stretch, and counts as a pause for ``explain``.
    """

    __slots__ = ("entered", "flat", "outermost", "sink", "start")

    def __init__(self, sink: Sink, flat: Flat | None, outermost: bool) -> None:
        self.sink = sink
        self.flat = flat
        self.outermost = outermost
        self.start = 0 if flat is None else record.count(flat)
        if outermost and flat is not None:
            flat.end(last_change())
        self.entered = Entered(without(sink))

    def end(self, still: bool, flat: Flat | None) -> tuple[int, int] | None:
        """Resume recording; ``still``: the tape is still in its block with this sink,
        ``flat``: its records now. Returns the span of records the pause covered, if it
        was the outermost pause of a tape still recording into the same records."""
        sink = self.sink
        if self.entered.restore():  # back to just before the pause (maybe an outer pause)
            if not still and is_recording(sink):
                RECORDING.set(without(sink))  # the tape left its block during the pause
        elif still and not is_recording(sink):
            RECORDING.set(joined(sink))
        elif not still and is_recording(sink):
            RECORDING.set(without(sink))
        if flat is None:
            return None
        if self.outermost and still and flat is self.flat:  # not reset or released inside
            flat.begin(last_change())
            return (self.start, record.count(flat))
        return None
