"""The words a tape speaks (``print(tape)``, ``tape.explain``, its table in Jupyter) and an
accumulator speaks (``print(acc)``), installed into the core.

The core's tapes and accumulators know nothing of inspection; they ask a
:class:`~microtape.core.tapes.describer.Describer` for text, and ``import microtape`` hands it
this one (``describe_with(DESCRIBER)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

from ..core.tapes.accumulator import AccumulatorView
from ..core.tapes.view import TapeView
from ..core.values.value import Value
from .explain import explain
from .html import tape_html
from .summary import summarize
from .tangents import summarize_tangents, tangents_html

__all__ = ["DESCRIBER", "TextDescriber"]


@final
class TextDescriber:
    """Describes tapes with :func:`~microtape.inspection.summary.summarize`,
    :func:`~microtape.inspection.explain.explain` and
    :func:`~microtape.inspection.html.tape_html`, accumulators with
    :func:`~microtape.inspection.tangents.summarize_tangents` and
    :func:`~microtape.inspection.tangents.tangents_html`."""

    __slots__ = ()

    def summary(self, view: TapeView) -> str:
        return summarize(view)

    def explain(self, view: TapeView, targets: Sequence[Value], source: Value) -> str:
        return explain(view, targets, source)

    def html(self, view: TapeView) -> str:
        return tape_html(view)

    def tangents(self, view: AccumulatorView) -> str:
        return summarize_tangents(view)

    def tangents_html(self, view: AccumulatorView) -> str:
        return tangents_html(view)


DESCRIBER: Final = TextDescriber()
