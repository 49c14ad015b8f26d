"""Forward mode: tangents pushed through each op's rows as the op runs.

A forward accumulator is a *sink* of the recording context, like a tape: every op hands
it the rows it hands the tapes (see ``recording/record.py``): its output node, its
argument nodes, the numbers and the local partials as floats. The accumulator keeps no
row. It keeps one number per node, the node's *tangent*: the derivative of the node
along the direction given for the primals. For each op it computes::

    tangent[out] = sum(partial_i * tangent[arg_i])   over the arguments with a tangent

keyed by node number (never ``id()``), and forgets the row. A node none of whose
arguments has a tangent gets none: it does not depend on a primal. There is no second
pass: the tangent exists as soon as the op has run, and the partials are the ones the
op computed for the tapes, from its own derivative rules, so built-in and plugin ops
need nothing more. An op of three or more arguments arrives as several rows with hidden
nodes; they are read back as one op with :func:`record.ops`, and hidden nodes get no
tangent.

Two forms, like the reverse sweep's:

- **On floats**, when no tape or accumulator entered *before* this accumulator is
  recording: the tangent arithmetic is plain float arithmetic, seen by nobody. This is
  the hot path, written out in :meth:`Tangents.extend`.
- **On Values**, when some sink entered before it is recording (a tape around the
  accumulator, for reverse-over-forward; an accumulator around it, for higher
  directional derivatives): the tangent must itself be differentiable. The op's
  derivative rules are called again on its arguments, rebuilt as Values of the same
  nodes (as the reverse sweep on Values does), and every product and sum is an op,
  recorded by the sinks entered before this accumulator and by no other: not by the
  accumulator itself, and not by tapes or accumulators entered after it. That is
  TensorFlow's strict nesting: an inner tape or accumulator ignores the products of
  outer accumulators, and outer ones see everything.

Every loop here is flat: no recursion, whatever the depth of the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, Union

from ..recording import record
from ..recording.context import RECORDING, Sink, before, sink_of, tracer_of
from ..recording.record import Row, Rows
from ..values.builtins import strong_mul
from ..values.value import Value, node_value, read

__all__ = [
    "ClosedTangents",
    "NestedTangents",
    "Refusal",
    "Tangent",
    "Tangents",
    "opened",
    "push",
    "push_values",
]

Tangent: TypeAlias = Union[Value, float]
"""A node's tangent: a float, or a Value when an outer tape or accumulator records it."""

Refusal: TypeAlias = Callable[[tuple[Sink, ...], Rows], Callable[[], None]]
"""Called before the tangents of one op are computed on Values, with the sinks that
record that arithmetic and the op's rows; returns what takes their records back off
those sinks if the computation fails (a refused op is recorded nowhere)."""


class Tangents:
    """The sink of a recording forward accumulator entered with no tape or accumulator
    recording before it: every tangent is a float, and stays one.

    Nothing entered later can come before it (entering appends a sink at the end of
    the recording context), so the class is chosen once, when the accumulator is
    entered, and the hot path tests nothing.

    Args:
        tangents: the tangent of each node by node number, seeded with the primals'
            (shared with the accumulator, which reads it for ``jvp``).
        refusal: how to take back what outer sinks recorded of a refused op.
    """

    __slots__ = ("refusal", "tangents")

    def __init__(self, tangents: dict[int, Tangent], refusal: Refusal | None = None) -> None:
        self.tangents = tangents
        self.refusal = refusal

    def extend(self, rows: Rows, /) -> None:
        # The hot path, shaped like the float reverse sweep: unpack the row, two dict
        # reads, at most two multiplications, one dict write; no function call.
        try:
            row: Row = rows  # type: ignore[assignment]  # one op of one or two arguments
            out, _, a, _, da, b, _, db, _ = row
            tangents = self.tangents
            ta = tangents.get(a)  # type: ignore[arg-type]  # None for a constant: no tangent
            tb = tangents.get(b)  # type: ignore[arg-type]
            # t == t is False only for NaN: then a zero slope or tangent may have met an
            # infinite one, and is a strong zero (see _times), as in the reverse sweeps.
            if ta is None:
                if tb is not None:
                    t = db * tb  # type: ignore[operator]  # a node has a partial
                    tangents[out] = t if t == t else _times(db, tb)
            elif tb is None:
                t = da * ta  # type: ignore[operator]
                tangents[out] = t if t == t else _times(da, ta)
            else:
                t = da * ta + db * tb  # type: ignore[operator]
                tangents[out] = t if t == t else _times(da, ta) + _times(db, tb)
        except ValueError:  # three or more arguments: several rows (record.py)
            push(self.tangents, rows)
        except TypeError:  # None * t: a node with no partial (stop_gradient, record.py)
            push(self.tangents, rows)

    def note_change(self, change: int, /) -> None:
        """A tangent is a direction, not a number the op read: an in-place change of a
        Value's ``.data`` leaves it meaningful."""

    def watches(self, node: int, /) -> bool:
        """Whether a Value of node ``node`` has a tangent here (``float()`` of it loses one)."""
        return node in self.tangents

    def close(self) -> None:
        """Take no more rows: the accumulator left its block. A task or thread that
        copied the context inside the block may still hand this sink rows."""
        self.__class__ = ClosedTangents
        self.tangents = {}  # the accumulator keeps its own reference


class NestedTangents(Tangents):
    """The sink of an accumulator entered inside other tapes or accumulators (or given a
    Value as a tangent): each op asks which of them still record before it.

    If some do, the op's tangents are computed on Values, recorded by them alone; if
    none does (they left, or pause), on floats, reading a Value tangent as its number.
    """

    __slots__ = ()

    def extend(self, rows: Rows, /) -> None:
        outer = before(self)
        if not outer:
            push(self.tangents, rows)
            return
        undo = None if self.refusal is None else self.refusal(outer, rows)
        token = RECORDING.set(sink_of(outer))
        try:
            push_values(self.tangents, rows)
        except BaseException:
            RECORDING.reset(token)
            if undo is not None:
                undo()
            raise
        RECORDING.reset(token)


class ClosedTangents(Tangents):
    """The sink of an accumulator that has left its block: it ignores what is still sent."""

    __slots__ = ()

    def extend(self, rows: Rows, /) -> None:
        pass


def opened(
    tangents: dict[int, Tangent], refusal: Refusal | None = None, *, nested: bool
) -> Tangents:
    """The sink for an accumulator being entered with ``tangents``; ``nested``: some tape
    or accumulator is recording already (it will come before this one)."""
    if nested or any(type(t) is not float for t in tangents.values()):
        return NestedTangents(tangents, refusal)
    return Tangents(tangents, refusal)


def push(tangents: dict[int, Tangent], rows: Rows) -> None:
    """Push float tangents through the rows of one op (any number of arguments).

    A Value tangent is read as its float: nothing outer records this arithmetic.
    """
    for step in record.ops(rows):
        total: float | None = None
        for node, partial in zip(step.inputs, step.partials):  # noqa: B905  # same length
            if node is None or partial is None:
                continue
            t = tangents.get(node)
            if t is None:
                continue
            contribution = _times(partial, t if type(t) is float else read(t))
            total = contribution if total is None else total + contribution
        if total is not None:
            tangents[step.out] = total


def push_values(tangents: dict[int, Tangent], rows: Rows) -> None:
    """Push tangents through the rows of one op as Values: call the op's derivative rules
    on its arguments rebuilt as Values of their nodes, so that each partial, product and
    sum is recorded by whatever records now (the accumulator's outer sinks)."""
    traced = tracer_of(RECORDING.get()) is not None  # see _times
    for step in record.ops(rows):
        given = [
            None if node is None or partial is None else tangents.get(node)
            for node, partial in zip(step.inputs, step.partials)  # noqa: B905  # same length
        ]  # no partial: the op passes no tangent through that argument (stop_gradient)
        if all(t is None for t in given):
            continue
        args: list[Value | float] = [
            x if node is None else node_value(x, node)
            for node, x in zip(step.inputs, step.values)  # noqa: B905  # same length
        ]
        rules = step.op.derivatives
        partials = step.partials  # the rules' numbers, as the op computed them
        total: Tangent | None = None
        for k, t in enumerate(given):
            if t is None:
                continue
            strong = traced or _strong_zero(partials[k], read(t))  # type: ignore[arg-type]
            contribution = _times(rules[k](*args), t, strong)
            total = contribution if total is None else total + contribution
        assert total is not None
        tangents[step.out] = total


def _times(partial: Any, tangent: Any, strong: bool = False) -> Any:
    """``partial * tangent``, floats or Values, with a zero of either as a strong zero.

    A slope or a tangent of exactly 0 gives 0, even against an infinite other factor
    (0 * inf is NaN), as the reverse sweeps treat a zero slope (a relu that is off stops
    even an infinite gradient). Multiplications by exactly 1 or -1 (add, sub, neg, unit
    tangents) are skipped: a recorded tangent's graph stays about as small as the graph
    it differentiates. ``strong``: a Value's zero may meet inf or NaN here (see
    :func:`_strong_zero`), or the product is a traced function's, whose code runs again
    at other numbers: it is then ``strong_mul``, recorded with mul's partials.
    """
    if type(partial) is float:
        if partial == 0.0:
            return 0.0
        if partial == 1.0 or partial == -1.0:
            return tangent if partial == 1.0 else -tangent
    if type(tangent) is float:
        if tangent == 0.0:
            return 0.0
        if tangent == 1.0 or tangent == -1.0:
            return partial if tangent == 1.0 else -partial
    return strong_mul(partial, tangent) if strong else partial * tangent


def _strong_zero(x: float, y: float) -> bool:
    """Whether the numbers ``x * y`` are a zero against inf or NaN: NaN in floats, 0 in
    the sweeps."""
    return (x == 0.0 or y == 0.0) and x * y != x * y
