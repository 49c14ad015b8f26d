"""Which tapes are recording right now, in this thread or asyncio task.

The answer lives in one :class:`contextvars.ContextVar` holding an immutable tuple of
*sinks*: one per recording tape, each with an ``append(record)`` method. A plain
``list`` is the sink of an ordinary tape, so recording an op costs one context
variable read and one ``list.append``. Tuples are never mutated: entering a tape
sets a longer tuple and keeps the token, and leaving resets that token, which
restores the previous tuple exactly, even when the block raised.

Threads start with an empty context, so a tape opened in one thread never sees an
op of another. An asyncio task starts with a copy of the context of the code that
created it: a task created inside ``with tape:`` records on that tape, and no
other task does.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from ._record import Record

__all__ = ["RECORDING", "Sink"]


class Sink(Protocol):
    """Where a recording tape receives the records of the ops run in its block."""

    def append(self, record: Record, /) -> None:
        """Take one record."""

    def note_change(self, change: int, /) -> None:
        """A Value's ``.data`` was assigned while recording; ``change`` numbers it."""


RECORDING: Final[ContextVar[tuple[Sink, ...]]] = ContextVar("microtape_recording", default=())
"""The sinks of the tapes recording in the current context, innermost last."""
