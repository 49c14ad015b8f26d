"""How the core's tapes and accumulators put themselves into words, without importing how.

``print(tape)``, ``tape.explain``, ``print(acc)`` and their tables in Jupyter need text
that ``microtape.inspection`` writes, on top of the public views (:class:`TapeView`,
:class:`AccumulatorView`). The core imports nothing from inspection: ``import
microtape`` installs the describer here with :func:`describe_with`, and the tape and the
accumulator ask :func:`described` for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..values.value import Value
    from .accumulator import AccumulatorView
    from .view import TapeView

__all__ = ["Describer", "describe_with", "described"]


class Describer(Protocol):
    """What turns views into words: ``print(tape)``, ``tape.explain``, the table a notebook
    shows for a tape, and ``print(acc)``."""

    def summary(self, view: TapeView) -> str:
        """The table ``print(tape)`` shows."""

    def explain(self, view: TapeView, targets: Sequence[Value], source: Value) -> str:
        """Why the gradient of the sum of ``targets`` w.r.t. ``source`` is what it is."""

    def html(self, view: TapeView) -> str:
        """The table of ``summary`` as HTML, escaped: what Jupyter displays for a tape."""

    def tangents(self, view: AccumulatorView) -> str:
        """The table ``print(acc)`` shows: primals, tangents, and each node's tangent."""

    def tangents_html(self, view: AccumulatorView) -> str:
        """The tables of ``tangents`` as HTML, escaped: what Jupyter displays for one."""


_describer: Callable[[], Describer] | None = None


def describe_with(describer: Callable[[], Describer]) -> None:
    """Have every tape and accumulator describe itself with the describer that
    ``describer()`` returns; it is called when one is first asked for words."""
    global _describer
    _describer = describer


def described() -> Describer | None:
    """The installed describer, or None if none is (the core alone, without ``microtape``)."""
    return None if _describer is None else _describer()
