"""The words a tape speaks: ``print(tape)``, ``tape.explain`` and its table in Jupyter,
installed into the core.

The core's tape knows nothing of inspection; it asks a
:class:`~microtape.core.tapes.tape.Describer` for text, and ``import microtape`` hands it
this one (``describe_with(DESCRIBER)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

from ..core.tapes.view import TapeView
from ..core.values.value import Value
from .explain import explain
from .html import tape_html
from .summary import summarize

__all__ = ["DESCRIBER", "TextDescriber"]


@final
class TextDescriber:
    """Describes tapes with :func:`~microtape.inspection.summary.summarize`,
    :func:`~microtape.inspection.explain.explain` and
    :func:`~microtape.inspection.html.tape_html`."""

    __slots__ = ()

    def summary(self, view: TapeView) -> str:
        return summarize(view)

    def explain(self, view: TapeView, targets: Sequence[Value], source: Value) -> str:
        return explain(view, targets, source)

    def html(self, view: TapeView) -> str:
        return tape_html(view)


DESCRIBER: Final = TextDescriber()
