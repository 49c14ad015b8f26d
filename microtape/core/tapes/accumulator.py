"""``ForwardAccumulator``: directional derivatives pushed forward as the ops run.

The forward-mode partner of ``GradientTape``, with TensorFlow's API and semantics
(``tf.autodiff.ForwardAccumulator``). Give it primals (Values) and a tangent for each:
the direction to differentiate along. Inside its ``with`` block every op on Values
computes the tangent of its output from the tangents of its arguments, at once
(``transforms/forward.py``); ``acc.jvp(y)`` only looks the answer up.

What it costs: one float per node computed from a primal, held until the accumulator
is dropped; no records. So forward mode needs no second pass and no memory for the
graph: it pays off for functions of few inputs and many outputs, or for one direction
(a Hessian-vector product, forward over a tape's reverse sweep).

Nesting follows the order of entering, as in TensorFlow: a tape or accumulator entered
*before* this one records the arithmetic of its tangents (so an outer tape can
differentiate ``acc.jvp(y)``, and an outer accumulator can take its directional
derivative), one entered *after* it ignores them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TypeVar, final, overload

from ..errors import ArgumentTypeError, TapeError
from ..recording import record
from ..recording.context import RECORDING, Entered, Sink, joined, sinks, tracer_of
from ..recording.record import Rows
from ..transforms.forward import Tangent, Tangents, opened
from ..values.names import NOTHING, Found, name_of
from ..values.value import Value, read
from ..words import counted
from .arguments import (
    NestedGradient,
    UnconnectedGradients,
    UnconnectedTangents,
    Zero,
    flatten_targets,
    pairs,
)
from .describer import described
from .found import found_names
from .pause import Pause
from .storage import flats
from .view import TapeState

__all__ = ["AccumulatorView", "ForwardAccumulator"]

K = TypeVar("K")

_MODES = ("none", "zero")


@final
class ForwardAccumulator:
    """Computes Jacobian-vector products (directional derivatives) in forward mode.

    Args:
        primals: a Value, or any nesting of lists, tuples and dicts of Values: the
            inputs to differentiate with respect to. Each Value at most once.
        tangents: the direction: a number (or a Value) for each primal, in the same
            nesting. A Value that is not a primal has tangent 0.

    Raises:
        ArgumentTypeError: if a primal is not a Value, or a tangent is not a number or
            a Value (the message names its place, as ``tangents['w'][1]``).
        ShapeError: if the nestings of ``primals`` and ``tangents`` differ, or a Value
            is listed twice.

    Example:
        >>> import microtape as mt
        >>> x = mt.Value(3.0)
        >>> with mt.ForwardAccumulator(x, 1.0) as acc:
        ...     y = x * x + mt.sin(x)
        >>> round(acc.jvp(y).data, 6)   # 2*3 + cos(3)
        5.010008
    """

    __slots__ = ("_names", "_paused", "_primals", "_sink", "_state", "_tangents", "_token")

    def __init__(self, primals: object, tangents: object) -> None:
        found = pairs(primals, tangents, "ForwardAccumulator")
        self._primals: tuple[tuple[str, Value], ...] = tuple((p, v) for p, v, _ in found)
        # The tangent of every node computed from a primal, by node number: seeded with
        # the primals', filled in by the sink while the accumulator records.
        self._tangents: dict[int, Tangent] = {v.node: t for _, v, t in found}
        self._sink: Tangents | None = None
        self._token: Entered | None = None
        self._state = TapeState.FRESH
        self._paused = 0  # how many stop_recording() blocks are open
        # The names of the variables that held Values when a block ended, for print(acc).
        self._names = NOTHING

    # ---- recording -----------------------------------------------------------------------

    def __enter__(self) -> ForwardAccumulator:
        if self._state is TapeState.RECORDING:
            raise TapeError(
                "ForwardAccumulator: this accumulator is already recording; it cannot be "
                "entered again inside its own with block"
            )
        tracer = tracer_of(RECORDING.get())
        if tracer is not None:
            tracer.entered(self)  # forward mode is not written as code: it refuses
        # A tracer records but is no tape: the accumulator runs as it would untraced.
        nested = any(s is not tracer for s in sinks())
        self._sink = opened(self._tangents, _undo_point, nested=nested)
        self._token = Entered(joined(self._sink))
        self._state = TapeState.RECORDING
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is None or self._sink is None:
            raise TapeError(
                "ForwardAccumulator: __exit__ without a matching __enter__ (it is not in a "
                "with block; it was never entered, or has already left it)"
            )
        self._token.leave(self._sink)
        self._sink.close()  # a task or thread still holding it computes nothing more
        self._token = None
        self._sink = None
        self._state = TapeState.EXITED
        self._names = self._names.merged(found_names())  # the variables of the block's frame

    @contextmanager
    def stop_recording(self) -> Iterator[None]:
        """A block whose ops this accumulator ignores (tapes and others still record).

        A Value computed there has no tangent here: it is a constant to this
        accumulator. (TensorFlow's accumulator has no such method; its ``tf.stop_gradient``
        plays this part for one value.)

        Raises:
            TapeError: if the accumulator is not recording.

        Example:
            >>> import microtape as mt
            >>> x = mt.Value(2.0)
            >>> with mt.ForwardAccumulator(x, 1.0) as acc:
            ...     with acc.stop_recording():
            ...         y = x * x          # a constant to acc
            ...     z = y * x
            >>> acc.jvp(z)                 # y.data, not 3 * x**2
            Value(4.0)
        """
        if self._state is not TapeState.RECORDING or self._sink is None:
            raise TapeError(
                "stop_recording: the accumulator is not recording (use it inside `with acc:`)"
            )
        sink = self._sink
        pause = Pause(sink, None, outermost=self._paused == 0)
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1
            pause.end(self._state is TapeState.RECORDING and self._sink is sink, None)

    # ---- answers -----------------------------------------------------------------------------

    # Overloads as for GradientTape.gradient: each common shape of `target` gets its own
    # result type, with no None in it when unconnected_gradients="zero".
    @overload
    def jvp(self, target: Value | None, unconnected_gradients: Zero) -> Value: ...
    @overload
    def jvp(
        self, target: Value | None, unconnected_gradients: UnconnectedTangents = "none"
    ) -> Value | None: ...
    @overload
    def jvp(
        self, target: list[Value] | list[Value | None], unconnected_gradients: Zero
    ) -> list[Value]: ...
    @overload
    def jvp(
        self,
        target: list[Value] | list[Value | None],
        unconnected_gradients: UnconnectedTangents = "none",
    ) -> list[Value | None]: ...
    @overload
    def jvp(
        self, target: tuple[Value | None, ...], unconnected_gradients: Zero
    ) -> tuple[Value, ...]: ...
    @overload
    def jvp(
        self, target: tuple[Value | None, ...], unconnected_gradients: UnconnectedTangents = "none"
    ) -> tuple[Value | None, ...]: ...
    @overload
    def jvp(
        self, target: dict[K, Value] | dict[K, Value | None], unconnected_gradients: Zero
    ) -> dict[K, Value]: ...
    @overload
    def jvp(
        self,
        target: dict[K, Value] | dict[K, Value | None],
        unconnected_gradients: UnconnectedTangents = "none",
    ) -> dict[K, Value | None]: ...
    @overload
    def jvp(
        self, target: object, unconnected_gradients: UnconnectedTangents = "none"
    ) -> NestedGradient: ...
    def jvp(self, target: object, unconnected_gradients: UnconnectedTangents = "none") -> object:
        """The tangent of ``target``: its directional derivative along the tangents.

        Looks up what was computed while the ops ran; computes nothing. Any number of
        calls, inside the block or after it.

        Args:
            target: a Value, or any nesting of lists, tuples and dicts of Values. A None
                leaf (a gradient that was None) depends on nothing.
            unconnected_gradients: ``"none"`` gives None for a Value that does not
                depend on a primal through the ops this accumulator saw; ``"zero"``
                gives ``Value(0.0)``; or their members of ``mt.UnconnectedGradients``.

        Returns:
            The tangents, in the nesting of ``target``. A tangent an outer tape recorded
            is the very Value it recorded, so that tape can differentiate it.

        Raises:
            ArgumentTypeError: if a leaf of ``target`` is not a Value or None.
            ValueError: if ``unconnected_gradients`` is neither ``"none"`` nor ``"zero"``.
        """
        given: object = unconnected_gradients  # checked as data: callers hand us anything
        if not isinstance(given, str) or given not in _MODES:
            raise ValueError(
                f"jvp: unconnected_gradients must be 'none' or 'zero', got {given!r} "
                "(mt.UnconnectedGradients.NONE and .ZERO are taken too)"
            )
        try:
            found, rebuild = flatten_targets(target, "target")
        except ArgumentTypeError as error:
            raise ArgumentTypeError(f"jvp: {error}") from None
        zero = unconnected_gradients == UnconnectedGradients.ZERO
        tangents = self._tangents
        results: list[Value | None] = []
        for v in found:
            t = None if v is None else tangents.get(v.node)
            if t is None:
                results.append(Value(0.0) if zero else None)
            elif type(t) is Value:
                results.append(t)
            else:
                results.append(Value(t))
        return rebuild(results)

    # ---- what the accumulator holds --------------------------------------------------------

    @property
    def state(self) -> TapeState:
        """``FRESH``, ``RECORDING`` (in its block) or ``EXITED`` (see :class:`TapeState`)."""
        return self._state

    def view(self) -> AccumulatorView:
        """A read-only copy of the primals and of every tangent computed so far."""
        tangents = self._tangents
        return AccumulatorView(
            state=self._state,
            primals=tuple((path, v, read(tangents[v.node])) for path, v in self._primals),
            tangents={n: read(t) for n, t in tangents.items()},
            names=self._names,
        )

    def __str__(self) -> str:
        describer = described()
        if describer is None:
            return repr(self)
        return describer.tangents(self.view())

    def _repr_html_(self) -> str:
        """What Jupyter shows for an accumulator: the tables of ``print(acc)``, as HTML."""
        describer = described()
        if describer is None:
            from html import escape

            return f"<pre>{escape(repr(self))}</pre>"
        return describer.tangents_html(self.view())

    def __repr__(self) -> str:
        primals = len(self._primals)
        computed = len(self._tangents) - primals
        return (
            f"<ForwardAccumulator {self._state.value}, {counted(primals, 'primal')}, "
            f"{counted(computed, 'tangent')} computed>"
        )


@final
class AccumulatorView:
    """A forward accumulator's primals and tangents when ``acc.view()`` was called.

    Attributes:
        state: the accumulator's :class:`TapeState`.
        primals: each primal as ``(path, Value, tangent)``, in the order given; the path
            says where it was in ``primals`` (``"primals[0]"``).
        tangents: the tangent of every node by node number (``value.node``): the
            primals' first, then each node computed from them, in the order the ops ran.
    """

    __slots__ = ("_names", "primals", "state", "tangents")

    def __init__(
        self,
        *,
        state: TapeState,
        primals: tuple[tuple[str, Value, float], ...],
        tangents: Mapping[int, float],
        names: Found = NOTHING,
    ) -> None:
        self.state = state
        self.primals = primals
        self.tangents = tangents
        self._names = names

    def name_of(self, node: int) -> str | None:
        """The learner's name for node ``node`` (``value.node``): given
        (``Value(x, name="w")``), found in a variable when the accumulator's block ended,
        or an ``mt.nn`` path; None if it has none."""
        return name_of(node, self._names)

    @property
    def computed(self) -> int:
        """How many nodes got a tangent from an op (the primals not counted)."""
        return len(self.tangents) - len(self.primals)


def _undo_point(outer: tuple[Sink, ...], rows: Rows) -> Callable[[], None]:
    """What takes a refused op off the tapes in ``outer``: the rows of its tangent
    arithmetic, and its own rows, which those tapes took before the accumulator ran."""
    marks: Sequence[tuple[list[record.Entry], int]] = [(f, len(f)) for f in flats(outer)]

    def undo() -> None:
        for f, length in marks:
            del f[length:]
            record.drop_last(f, rows)

    return undo
