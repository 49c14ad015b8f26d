"""Which tapes are recording right now, in this thread or asyncio task.

The answer lives in one :class:`contextvars.ContextVar` holding the *sink* of the
recording tapes, or None when no tape records. A sink has an ``extend(record)``
method; a forward accumulator is a sink too, which pushes tangents through the records
instead of keeping them (``transforms/forward.py``). With one tape recording (the usual
case), the sink is that tape's flat list of records itself, so recording an op costs
one context-variable read, one ``is None`` test and one ``list.extend``: no loop. With
several tapes (nested tapes, for higher derivatives), the sink is a :class:`FanOut`
that hands each record to every tape's sink, outermost first.

The variable is only ever set, never mutated: entering a tape sets a new sink and
keeps the token, and leaving resets that token, which restores the previous sink
exactly, even when the block raised. Threads start with an empty context, so a tape
opened in one thread never sees an op of another. An asyncio task starts with a copy
of the context of the code that created it: a task created inside ``with tape:``
records on that tape, and no other task does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Final, Protocol, final

if TYPE_CHECKING:
    from ..values.op import Op
    from ..values.value import Value
    from .record import Entry, Rows

__all__ = [
    "RECORDING",
    "Entered",
    "FanOut",
    "Sink",
    "TracerSink",
    "before",
    "is_recording",
    "joined",
    "sink_of",
    "sinks",
    "tracer_of",
    "without",
]


class Sink(Protocol):
    """Where a recording tape receives the records of the ops run in its block."""

    def extend(self, rows: Rows, /) -> None:
        """Take the rows of one op (see ``record.py``): nine entries per row."""

    def note_change(self, change: int, /) -> None:
        """A Value's ``.data`` was assigned while recording; ``change`` numbers it."""

    def watches(self, node: int, /) -> bool:
        """Whether a Value of node ``node`` could get a gradient here (it is watched)."""


class TracerSink:
    """The sink of ``mt.function``'s tracer, which writes what it records as code.

    It takes every record, as any sink does; a tape differentiating while it records
    runs the *traced* mode (``tapes/tape.py``) and tells it what a sink cannot see: a
    first-order sweep runs on floats and records nothing, so the tracer is handed the
    sweep to write as code itself (:meth:`swept`); a recorded (higher-order) sweep calls
    derivative rules, which may read numbers (:meth:`rule_called`). A subclass lives in
    ``microtape/tracing/``; the core only ever calls these methods.
    """

    def extend(self, rows: Rows, /) -> None:
        raise NotImplementedError

    def note_change(self, change: int, /) -> None:
        raise NotImplementedError

    def watches(self, node: int, /) -> bool:
        raise NotImplementedError

    def entered(self, tape: object) -> None:
        """A tape or a forward accumulator was entered while this tracer records."""
        raise NotImplementedError

    def swept(
        self,
        flat: Sequence[Entry],
        seeds: dict[int, Value | float],
        sources: Sequence[Value],
        results: Sequence[Value | None],
        swept: dict[int, int],
    ) -> None:
        """A tape holding ``flat`` swept ``seeds`` (by target node) back on floats.

        ``results`` are what it returned for ``sources``; ``swept`` maps the node of each
        result made from a swept gradient to the source node whose gradient it holds.
        """
        raise NotImplementedError

    def named(self, names: Mapping[int, str]) -> None:
        """A tape's block ended inside the traced call, and found these names for nodes:
        the variables that held them (``core/tapes/found.py``), for the generated code."""
        raise NotImplementedError

    def op_failed(self, op: Op, error: Exception) -> None:
        """``op`` raised ``error`` (a DomainError) while this tracer records."""
        raise NotImplementedError

    def sweep_started(self) -> None:
        """A recorded (higher-order) sweep starts: its rules may read numbers."""
        raise NotImplementedError

    def rule_called(
        self,
        op: Op,
        index: int,
        nodes: Sequence[int | None],
        numbers: Sequence[float],
        partial: Value | float,
    ) -> None:
        """In that sweep, rule ``index`` of ``op`` gave ``partial`` at the arguments
        ``nodes`` (None for a constant) holding ``numbers``."""
        raise NotImplementedError

    def sweep_ended(self) -> None:
        """The recorded sweep ended (or failed)."""
        raise NotImplementedError

    def refuse(self, reason: str) -> None:
        """Something ran that the generated code could not repeat (the Python ``grad_fn``
        of a custom gradient): the trace is refused for ``reason``, and the function runs
        as written."""
        raise NotImplementedError


def tracer_of(current: Sink | None) -> TracerSink | None:
    """The tracer recording in ``current`` (the outermost sink, if any), or None."""
    first = current.sinks[0] if type(current) is FanOut else current
    return first if isinstance(first, TracerSink) else None


@final
class FanOut:
    """The sink while several tapes record: every record goes to each of them."""

    __slots__ = ("sinks",)

    def __init__(self, sinks: tuple[Sink, ...]) -> None:
        self.sinks = sinks

    def extend(self, rows: Rows, /) -> None:
        for sink in self.sinks:
            sink.extend(rows)

    def note_change(self, change: int, /) -> None:
        for sink in self.sinks:
            sink.note_change(change)

    def watches(self, node: int, /) -> bool:
        return any(sink.watches(node) for sink in self.sinks)


RECORDING: Final[ContextVar[Sink | None]] = ContextVar("microtape_recording", default=None)
"""The sink of the tapes recording in the current context, or None."""


def sinks() -> tuple[Sink, ...]:
    """The sinks of the recording tapes, outermost first."""
    current = RECORDING.get()
    if current is None:
        return ()
    return current.sinks if isinstance(current, FanOut) else (current,)


def sink_of(chosen: tuple[Sink, ...]) -> Sink | None:
    """The sink that hands each record to every one of ``chosen`` (None for none)."""
    if not chosen:
        return None
    return chosen[0] if len(chosen) == 1 else FanOut(chosen)


def joined(sink: Sink) -> Sink | None:
    """The sink for the current tapes plus ``sink``."""
    return sink_of((*sinks(), sink))


def without(sink: Sink) -> Sink | None:
    """The sink for the current tapes minus ``sink``."""
    return sink_of(tuple(s for s in sinks() if s is not sink))


def before(sink: Sink) -> tuple[Sink, ...]:
    """The sinks entered before ``sink`` and recording here, outermost first (none if
    ``sink`` is not recording here). Forward mode records its own arithmetic on these and
    on no other (see ``transforms/forward.py``)."""
    chosen = sinks()
    for i, s in enumerate(chosen):
        if s is sink:
            return chosen[:i]
    return ()


def is_recording(sink: Sink) -> bool:
    """Whether ``sink`` records here; by identity, as two equal record lists are two tapes."""
    return any(s is sink for s in sinks())


class Entered:
    """One change of the recording context, and how to undo it.

    Python's ``with`` undoes changes in reverse order, and then the token restores
    the context exactly. Tapes entered and left by hand in another order, or a
    ``stop_recording()`` that outlives its tape (see ``tapes/pause.py``), must not bring
    back a tape that has left: then only the one sink concerned is taken out (or put
    back).
    """

    __slots__ = ("token", "value")

    def __init__(self, value: Sink | None) -> None:
        self.value = value
        self.token: Token[Sink | None] = RECORDING.set(value)

    def restore(self) -> bool:
        """Undo exactly, if nothing changed the context since; say whether it could."""
        if RECORDING.get() is not self.value:
            return False
        try:
            RECORDING.reset(self.token)
        except ValueError:  # left in another context than it was entered in
            return False
        return True

    def leave(self, sink: Sink) -> None:
        """Undo a tape's entry: after it, ``sink`` is no longer recording here."""
        if not self.restore() or is_recording(sink):
            RECORDING.set(without(sink))
