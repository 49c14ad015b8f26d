"""The observer: who hears where a Value's number leaves the graph.

Ops reach every listener through the recording context (``context.py``): a tape, a
forward accumulator and ``mt.function``'s tracer are all *sinks* there. What no sink
can see is Python using a Value's number directly: a comparison or ``bool()`` (a branch
the generated code must check, a *guard*), a read as a plain float (``x.data``,
``float(x)``, ``mt.number(x)``, a copy), and ``Value(x)`` of a Value. That is this one
hook: the :class:`Observer` held in :data:`OBSERVER`, set only while a function is
traced, in that thread or task.

Everything outside a traced call pays one test of a module global (``value.py``'s
``_observing``) in the comparisons and number reads, and nothing in the arithmetic.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from ..values.value import Value

__all__ = ["OBSERVER", "Observer"]


class Observer(Protocol):
    """What hears, while a function is traced, where a Value's number is used."""

    def compared(self, value: Value, symbol: str, other: Value | float, result: bool) -> None:
        """``value <symbol> other`` gave ``result`` (``bool(x)`` is ``x != 0.0``)."""

    def read(self, value: Value, how: str) -> bool:
        """The number of ``value`` was read as a plain float; ``how`` names the read.

        Returns whether ``value`` stands for a float argument (which the traced
        function sees as a Value): its number is a float in the function as written.
        """

    def stands_for_float(self, value: Value) -> bool:
        """Whether ``value`` stands for a float argument (the function as written sees a
        float there): then ``==``, ``hash()``, ``repr()`` and ``isinstance()`` treat it as
        that float. A question only: nothing is recorded."""

    def copied(self, copy: Value, original: Value) -> bool:
        """``Value(original)`` made ``copy``. Returns whether that stands: ``original``
        stands for a float argument (a float in the function as written). If not,
        ``Value()`` of a Value raises, as always."""


OBSERVER: Final[ContextVar[Observer | None]] = ContextVar("microtape_observer", default=None)
"""The observer of the current context (a tracer tracing a function), or None."""
