"""``mt.to_sympy``: what a tape recorded for a Value, as a sympy expression.

Each recorded op becomes its own sympy form (``Op(..., sympy=...)``, the form the
oracle tests check its derivatives against), applied to the expressions of its
arguments; a leaf (a Value the tape did not compute) becomes a symbol named as
``print(tape)`` names it (``w`` for a Value named ``w``, or held by a variable ``w`` when
the tape's block ended; else ``v0``), or as the ``names`` argument names it. The
expression is what the tape saw: a branch the Python code took is not in it, and a
number read off a Value (``x.data``) is a constant. For teaching: ``sympy.simplify`` it,
``sympy.diff`` it and compare with ``tape.gradient``, or typeset it with ``sympy.latex``.

sympy is imported when :func:`to_sympy` is called, never by ``import microtape``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.errors import ArgumentTypeError, TapeError
from ..core.tapes.tape import GradientTape
from ..core.tapes.view import TapeState
from ..core.values.value import Value
from .names import node_names
from .walk import depends_on

__all__ = ["to_sympy"]


def to_sympy(value: Value, tape: GradientTape, names: Mapping[Value, str] | None = None) -> Any:
    """The recorded computation of ``value`` as a sympy expression in its leaves.

    Args:
        value: a Value recorded on ``tape`` (a leaf is its own symbol).
        tape: the tape that recorded it; a persistent tape, or one not yet
            differentiated, still holds its records.
        names: a symbol name for some leaves (``{w: "weight"}``); the others are named
            as ``print(tape)`` names them (``w``, or ``v0`` for a Value with no name).

    Returns:
        A sympy expression; its symbols are real.

    Raises:
        ArgumentTypeError: if ``value`` is not a Value or ``tape`` not a tape.
        TapeError: if the tape holds no records any more.
        ValueError: if a recorded op has no sympy form.

    Example:
        >>> import microtape as mt
        >>> w, x = mt.Value(0.5), mt.Value(3.0)
        >>> with mt.GradientTape() as tape:
        ...     loss = (w * x - 1.0) ** 2
        >>> mt.to_sympy(loss, tape)
        (w*x - 1)**2
        >>> mt.to_sympy(loss, tape, names={w: "weight"})
        (weight*x - 1)**2
    """
    if type(value) is not Value:
        raise ArgumentTypeError(f"to_sympy: expected a Value, got {type(value).__name__}")
    if not isinstance(tape, GradientTape):
        raise ArgumentTypeError(
            f"to_sympy: {value!r} does not know how it was computed: only the tape that "
            "recorded it does. Pass that tape: to_sympy(value, tape)"
        )
    import sympy

    view = tape.view()
    if view.freed:
        what = "released" if view.state is TapeState.RELEASED else "used up by its gradient()"
        raise TapeError(
            f"to_sympy: the tape was {what} and holds no records; use "
            "GradientTape(persistent=True), or call to_sympy before gradient()"
        )
    records = view.records
    named = node_names(records, view)
    chosen = dict(names or {})
    expressions: dict[Value, Any] = {}

    def term(x: Value | float) -> Any:
        if type(x) is not Value:
            number = float(x)
            return sympy.Integer(int(number)) if number.is_integer() else sympy.Float(number)
        found = expressions.get(x)
        if found is None:
            found = expressions[x] = sympy.Symbol(chosen.get(x) or named.get(x, "x"), real=True)
        return found

    for record in depends_on(records, value):
        form = record.op.sympy
        if form is None:
            raise ValueError(f"to_sympy: the op {record.op.name!r} has no sympy form")
        expressions[record.output] = form(*(term(x) for x in record.inputs))
    return term(value)
