"""Tracing: what the core tells a tracer (``mt.function``) that records records as code.

A tracer runs a function once while it records every op, then turns what it saw into
Python. The ops reach it as they reach any tape, through its sink in the recording
context (``context.py``). What a sink cannot see is told to the :class:`Observer` held
in :data:`TRACING`, which is set only while a function is traced, in that thread or
task:

- a comparison or ``bool()`` of a Value: a branch of the Python code, which the
  generated code must check (a *guard*);
- a Value's number read as a plain float (``x.data``, ``float(x)``, ``mt.number(x)``,
  a copy): a number the generated code could not follow;
- ``Value(x)`` of a Value that stands for a float argument;
- a tape entered, and a first-order gradient taken on the floats (the reverse sweep,
  which records nothing, is code the tracer writes itself); and the derivative rules a
  recorded higher-order sweep calls.

Everything outside a traced call pays one test of a module global (``value.py``'s
``_observing``) in the comparisons and number reads, and nothing in the arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from ..values.op import Op
    from ..values.value import Value
    from .record import Entry

__all__ = ["TRACING", "Observer"]


class Observer(Protocol):
    """What a tracer hears from the core while it traces a function."""

    def compared(self, value: Value, symbol: str, other: Value | float, result: bool) -> None:
        """``value <symbol> other`` gave ``result`` (``bool(x)`` is ``x != 0.0``)."""

    def read(self, value: Value, how: str) -> bool:
        """The number of ``value`` was read as a plain float; ``how`` names the read.

        Returns whether ``value`` stands for a float argument (which the traced
        function sees as a Value): its number is a float in the function as written.
        """

    def copies(self, original: Value) -> bool:
        """Whether ``Value(original)`` may copy the number: ``original`` stands for a float
        argument, which the traced function sees as a Value. If not, it raises, as always."""

    def copied(self, copy: Value, original: Value) -> None:
        """``copy`` was made by ``Value(original)``, after :meth:`copies` allowed it."""

    def entered(self, tape: object) -> None:
        """A tape was entered."""

    def differentiated(
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

    def sweep_started(self) -> None:
        """A recorded (higher-order) sweep starts: its rules may read numbers."""

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

    def sweep_ended(self) -> None:
        """The recorded sweep ended (or failed)."""


TRACING: Final[ContextVar[Observer | None]] = ContextVar("microtape_tracing", default=None)
"""The tracer tracing a function in the current context, or None."""
