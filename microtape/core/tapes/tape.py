"""``GradientTape``: records the ops run inside its ``with`` block, then differentiates them.

Why a tape at all: a Value does not remember how it was computed. Only while a tape
is recording is each op written down (output, inputs, local partials), and only
what is written down can be differentiated. A loss computed outside every tape has
no record, so its gradient is ``None``, exactly as in TensorFlow.

What ``persistent`` costs: a non-persistent tape frees its records as soon as its
one ``gradient()`` (or ``jacobian()``) call returns. A persistent tape keeps them,
with every intermediate number of the computation, until ``release()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Final, TypeVar, final, overload

from ..errors import ArgumentTypeError, TapeError, UnconnectedGradientError
from ..recording import record
from ..recording.context import RECORDING, Entered, Sink, TracerSink, joined, sinks, tracer_of
from ..transforms.forward import Tangents
from ..transforms.reverse import Gradient, RuleCalled, float_sweep, tangent_sweep, value_sweep
from ..values.builtins import hold
from ..values.changes import last_change
from ..values.names import NOTHING
from ..values.value import Value, read
from ..words import counted
from .arguments import (
    NestedGradient,
    Target,
    Unconnected,
    Watchable,
    Zero,
    flatten,
    flatten_targets,
    mode,
    seeds,
    targets,
    values_of,
)
from .describer import described
from .found import found_names
from .pause import Pause
from .storage import Closed, Flat, WatchFilter, check_unchanged, flats
from .view import TapeState, TapeView

__all__ = ["GradientTape"]

K = TypeVar("K")


@final
class GradientTape:
    """Records operations on Values for automatic differentiation.

    Args:
        persistent: allow any number of ``gradient``/``jacobian`` calls until
            ``release()``. A non-persistent tape (the default) frees its records
            after its first call, so it holds memory for no longer than needed.
        watch_accessed_variables: if True, every Value an op reads while the tape
            records is watched. If False, only Values passed to ``watch()`` (and what
            is computed from them) are differentiable.

    Example:
        >>> import microtape as mt
        >>> x = mt.Value(3.0)
        >>> with mt.GradientTape() as tape:
        ...     y = x * x + mt.sin(x)
        >>> round(tape.gradient(y, x).data, 6)   # 2*3 + cos(3)
        5.010008
    """

    __slots__ = (
        "__weakref__",  # a tracer (mt.function) checks that no tape outlives a traced call
        "_dropped",
        "_explicit",
        "_flat",
        "_last_seeds",
        "_names",
        "_paused",
        "_pauses",
        "_sink",
        "_state",
        "_token",
        "persistent",
        "watch_accessed_variables",
    )

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        if not isinstance(persistent, bool):
            raise ArgumentTypeError(f"GradientTape: persistent must be a bool, got {persistent!r}")
        if not isinstance(watch_accessed_variables, bool):
            raise ArgumentTypeError(
                "GradientTape: watch_accessed_variables must be a bool, "
                f"got {watch_accessed_variables!r}"
            )
        self.persistent: Final = persistent
        self.watch_accessed_variables: Final = watch_accessed_variables
        self._flat: Flat | None = Flat()
        # Explicitly watched Values, with the number of rows at the time of the watch
        # (for watched()'s order). A dict: keyed by node, insertion-ordered, no duplicates.
        self._explicit: dict[Value, int] = {}
        self._sink: Sink | None = None
        self._token: Entered | None = None
        self._state = TapeState.FRESH
        # What explain() and summary() report, kept off the recording hot path: the nodes
        # of the records that the last reset() dropped, (start, end) row positions of
        # stop_recording() blocks, and the seeds of the last gradient() call on a
        # persistent tape (by node number).
        self._dropped: frozenset[int] = frozenset()
        self._pauses: list[tuple[int, int]] = []
        self._paused = 0  # how many stop_recording() blocks of this tape are open
        self._last_seeds: dict[int, float] | None = None
        # The names of the variables that held Values when a block ended, by node number,
        # for the displays (core/tapes/found.py); found once per block, never per op.
        self._names = NOTHING

    # ---- recording -----------------------------------------------------------------------

    def __enter__(self) -> GradientTape:
        if self._state is TapeState.RECORDING:
            raise TapeError(
                "GradientTape: this tape is already recording; a tape cannot be entered "
                "again inside its own with block"
            )
        self._check_alive("enter")
        flat = self._flat
        assert flat is not None
        if type(flat) is Closed:  # entered before: contexts of the last block may hold it
            flat = self._flat = flat.reopened()
        flat.begin(last_change())
        if self.watch_accessed_variables:
            self._sink = flat
        else:
            self._sink = WatchFilter(flat, self._connected())
        self._token = Entered(joined(self._sink))
        self._state = TapeState.RECORDING
        tracer = tracer_of(RECORDING.get())
        if tracer is not None:
            tracer.entered(self)  # it checks that no tape outlives the traced call
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is None:
            raise TapeError(
                "GradientTape: __exit__ without a matching __enter__ (the tape is not in a "
                "with block; it was never entered, or has already left it)"
            )
        if self._sink is not None:
            self._token.leave(self._sink)
        self._token = None
        if self._state is TapeState.RECORDING:
            self._state = TapeState.EXITED
        if self._flat is not None:
            self._flat.end(last_change())
            self._flat.close()  # a task or thread still holding it records nothing more
        self._sink = None
        found = found_names()  # the variables of the block's frame, for the displays
        self._names = self._names.merged(found)
        tracer = tracer_of(RECORDING.get())
        if tracer is not None:
            tracer.named(found.flat())  # for the names in the code it writes

    def watch(self, *values: Watchable) -> None:
        """Watch ``values``: make them differentiable sources on this tape.

        Each argument is a Value, or lists, tuples and dicts nesting Values (any depth),
        as TensorFlow's ``tape.watch`` takes a nest: ``tape.watch(model.trainable_variables)``.
        Needed only with ``watch_accessed_variables=False``; harmless otherwise.

        Raises:
            ArgumentTypeError: if a leaf is not a Value (the message names the first by
                its place, ``argument 0['w'][1]``, and counts them); nothing is watched.
            TapeError: if the tape was released or used up.
        """
        self._check_alive("watch")
        flat = self._flat
        assert flat is not None
        for v in values_of(values, "watch"):
            self._explicit.setdefault(v, record.count(flat))
            if isinstance(self._sink, WatchFilter):
                self._sink.connected.add(v.node)

    def watched_variables(self) -> list[Value]:
        """TensorFlow's name for :meth:`watched`: the watched Values, in the order they
        were first watched."""
        return self._watched("watched_variables")

    def watched(self) -> list[Value]:
        """The watched Values, in the order they were first watched.

        With ``watch_accessed_variables=True`` these are the Values passed to
        ``watch()`` and every Value read by a recorded op that was not itself computed
        on this tape (the leaves, like TensorFlow's accessed variables).

        The tape records numbers, not Values (see ``recording/record.py``): a Value passed to
        ``watch()`` comes back as that very object, and an accessed leaf as a Value of
        the same node (``==`` to yours) holding the number the tape read.
        """
        return self._watched("watched")

    def _watched(self, what: str) -> list[Value]:
        self._check_alive(what)
        explicit = sorted(self._explicit.items(), key=lambda item: item[1])
        seen: dict[Value, None] = {}
        produced: set[Value] = set()
        e = 0
        for i, step in enumerate(self.view().records):
            while e < len(explicit) and explicit[e][1] <= i:
                seen.setdefault(explicit[e][0])
                e += 1
            if self.watch_accessed_variables:
                for arg in step.inputs:
                    if type(arg) is Value and arg not in produced:
                        seen.setdefault(arg)
            produced.add(step.output)
        for v, _ in explicit[e:]:
            seen.setdefault(v)
        yours = {v: v for v in self._explicit}  # a watched Value read before its watch()
        return [yours.get(v, v) for v in seen]

    @contextmanager
    def stop_recording(self) -> Iterator[None]:
        """A block in which this tape records nothing (other tapes still record).

        Raises:
            TapeError: if the tape is not recording.

        Example:
            >>> import microtape as mt
            >>> x = mt.Value(2.0)
            >>> with mt.GradientTape() as tape:
            ...     with tape.stop_recording():
            ...         y = x * x          # not recorded: y is a constant to the tape
            ...     z = y * x
            >>> tape.gradient(z, x)        # y.data, not 3 * x**2
            Value(4.0)
        """
        if self._state is not TapeState.RECORDING:
            raise TapeError(
                "stop_recording: the tape is not recording (use it inside `with tape:`)"
            )
        sink = self._sink
        flat = self._flat
        assert flat is not None and sink is not None
        pause = Pause(sink, flat, outermost=self._paused == 0)
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1
            still = self._state is TapeState.RECORDING and self._sink is sink
            span = pause.end(still, self._flat)
            if span is not None:
                self._pauses.append(span)

    def reset(self) -> None:
        """Forget everything recorded and watched so far; a recording tape keeps recording.

        Raises:
            TapeError: if the tape was released.
        """
        if self._state is TapeState.RELEASED:
            raise TapeError("reset: the tape was released; create a new GradientTape")
        if self._flat is None:  # a used non-persistent tape becomes a fresh one
            self._flat = Flat()
            self._state = TapeState.EXITED
        elif self._flat:
            self._dropped = frozenset(record.nodes(self._flat))
            self._flat.clear()  # in place: the recording context holds this list
        recording = self._state is TapeState.RECORDING
        self._flat.starts.clear()
        self._flat.ends.clear()
        if recording:
            self._flat.begin(last_change())
        self._pauses.clear()
        self._last_seeds = None
        self._explicit.clear()
        if isinstance(self._sink, WatchFilter):
            self._sink.connected.clear()

    def release(self) -> None:
        """Free the records and everything they keep alive; later use raises TapeError.

        Raises:
            TapeError: if called inside the tape's own ``with`` block.
        """
        if self._state is TapeState.RECORDING:
            raise TapeError("release: the tape is still recording; call release() after its block")
        self._free(TapeState.RELEASED)

    # ---- what the tape holds -----------------------------------------------------------------

    @property
    def state(self) -> TapeState:
        """Where the tape is in its life (see :class:`TapeState`)."""
        return self._state

    def view(self) -> TapeView:
        """A read-only view of the tape's state and records, for inspection.

        Example:
            >>> import microtape as mt
            >>> x = mt.Value(2.0)
            >>> with mt.GradientTape() as tape:
            ...     y = x * x
            >>> [(r.op.name, r.inputs, r.partials) for r in tape.view().records]
            [('mul', (Value(2.0), Value(2.0)), (2.0, 2.0))]
        """
        return TapeView(
            state=self._state,
            persistent=self.persistent,
            watch_accessed_variables=self.watch_accessed_variables,
            flat=self._flat,
            watched_explicitly=tuple(self._explicit),
            pauses=len(self._pauses),
            forgotten=self._dropped,
            seeds=self._last_seeds,
            names=self._names,
        )

    def _free(self, state: TapeState) -> None:
        self._flat = None
        self._explicit = {}
        self._sink = None
        self._state = state
        self._dropped = frozenset()
        self._pauses = []
        self._last_seeds = None
        self._names = NOTHING

    def _check_alive(self, what: str) -> None:
        if self._state is TapeState.RELEASED:
            raise TapeError(
                f"{what}: the tape was released and holds nothing any more; "
                "create a new GradientTape"
            )
        if self._state is TapeState.USED:
            raise TapeError(
                f"{what}: this tape was non-persistent and is used up: its one gradient() or "
                "jacobian() call already freed it. Record again on a new tape, or create it "
                "with GradientTape(persistent=True) to ask for several gradients"
            )

    def _check_can_differentiate(self, what: str) -> None:
        self._check_alive(what)
        if self._state is TapeState.FRESH:
            raise TapeError(
                f"{what}: this tape was never entered, so it recorded nothing: only ops run "
                "inside `with tape:` are recorded. Compute the target inside "
                "`with GradientTape() as tape:`, then ask for the gradient after the block"
            )
        if self._state is TapeState.RECORDING and not self.persistent:
            raise TapeError(
                f"{what}: called inside the with block of a non-persistent tape. Call it after "
                "the block ends (dedent it), or use GradientTape(persistent=True) to differentiate "
                "inside the block (the gradient's own ops are then recorded on the tape)"
            )

    # ---- differentiation -------------------------------------------------------------------

    # The overloads give each common shape of `sources` its own result type, and a
    # non-optional one when unconnected_gradients="zero" guarantees a Value everywhere.
    @overload
    def gradient(
        self,
        target: Target,
        sources: Value,
        output_gradients: object = None,
        *,
        unconnected_gradients: Zero,
    ) -> Value: ...
    @overload
    def gradient(
        self,
        target: Target,
        sources: Value,
        output_gradients: object = None,
        unconnected_gradients: Unconnected = "none",
    ) -> Value | None: ...
    @overload
    def gradient(
        self,
        target: Target,
        sources: list[Value],
        output_gradients: object = None,
        *,
        unconnected_gradients: Zero,
    ) -> list[Value]: ...
    @overload
    def gradient(
        self,
        target: Target,
        sources: list[Value],
        output_gradients: object = None,
        unconnected_gradients: Unconnected = "none",
    ) -> list[Value | None]: ...
    @overload
    def gradient(
        self,
        target: Target,
        sources: tuple[Value, ...],
        output_gradients: object = None,
        *,
        unconnected_gradients: Zero,
    ) -> tuple[Value, ...]: ...
    @overload
    def gradient(
        self,
        target: Target,
        sources: tuple[Value, ...],
        output_gradients: object = None,
        unconnected_gradients: Unconnected = "none",
    ) -> tuple[Value | None, ...]: ...
    @overload
    def gradient(
        self,
        target: Target,
        sources: dict[K, Value],
        output_gradients: object = None,
        *,
        unconnected_gradients: Zero,
    ) -> dict[K, Value]: ...
    @overload
    def gradient(
        self,
        target: Target,
        sources: dict[K, Value],
        output_gradients: object = None,
        unconnected_gradients: Unconnected = "none",
    ) -> dict[K, Value | None]: ...
    @overload
    def gradient(
        self,
        target: Target,
        sources: object,
        output_gradients: object = None,
        unconnected_gradients: Unconnected = "none",
    ) -> NestedGradient: ...
    def gradient(
        self,
        target: Target,
        sources: object,
        output_gradients: object = None,
        unconnected_gradients: Unconnected = "none",
    ) -> object:
        """The gradient of ``target`` with respect to each of ``sources``.

        Args:
            target: a Value, or a list or tuple of Values whose sum is differentiated.
                ``None`` (an unconnected gradient, differentiated again) contributes
                nothing.
            sources: a Value, or any nesting of lists, tuples and dicts of Values.
            output_gradients: the upstream gradient of the target, a number or a Value
                (or a structure of them matching ``target``). Default 1.0.
            unconnected_gradients: ``"none"`` gives None for a source the target does
                not depend on through recorded ops; ``"zero"`` gives ``Value(0.0)``;
                ``"raise"`` raises :class:`UnconnectedGradientError` saying why. Or the
                mode's member of ``mt.UnconnectedGradients`` (``.NONE``, ``.ZERO``,
                ``.RAISE``).

        Returns:
            The gradients, in the structure of ``sources``.

        Raises:
            TapeError: on a used-up non-persistent tape, a released tape, or a
                non-persistent tape inside its own block.
            ArgumentTypeError: if the target or a source is not a Value.
            ValueError: if ``output_gradients`` does not match ``target``, or the
                ``unconnected_gradients`` mode is unknown.
        """
        self._check_can_differentiate("gradient")
        unconnected = mode(unconnected_gradients)
        seeded = seeds(target, output_gradients)
        leaves, rebuild = flatten(sources, "sources")
        result = self._differentiate(seeded, leaves, unconnected)
        if not self.persistent:
            self._free(TapeState.USED)
        return rebuild(result)

    # One row per target leaf, in the targets' structure, each row typed as gradient()
    # types its result for these sources; a flat list or tuple of targets is typed here,
    # any other nest of them (a list of lists, a dict) gives a NestedGradient.
    @overload
    def jacobian(
        self, targets: list[Value] | list[Value | None], sources: Value, unconnected_gradients: Zero
    ) -> list[Value]: ...
    @overload
    def jacobian(
        self,
        targets: list[Value] | list[Value | None],
        sources: Value,
        unconnected_gradients: Unconnected = "none",
    ) -> list[Value | None]: ...
    @overload
    def jacobian(
        self,
        targets: list[Value] | list[Value | None],
        sources: list[Value],
        unconnected_gradients: Zero,
    ) -> list[list[Value]]: ...
    @overload
    def jacobian(
        self,
        targets: list[Value] | list[Value | None],
        sources: list[Value],
        unconnected_gradients: Unconnected = "none",
    ) -> list[list[Value | None]]: ...
    @overload
    def jacobian(
        self,
        targets: list[Value] | list[Value | None],
        sources: tuple[Value, ...],
        unconnected_gradients: Zero,
    ) -> list[tuple[Value, ...]]: ...
    @overload
    def jacobian(
        self,
        targets: list[Value] | list[Value | None],
        sources: tuple[Value, ...],
        unconnected_gradients: Unconnected = "none",
    ) -> list[tuple[Value | None, ...]]: ...
    @overload
    def jacobian(
        self,
        targets: list[Value] | list[Value | None],
        sources: dict[K, Value],
        unconnected_gradients: Zero,
    ) -> list[dict[K, Value]]: ...
    @overload
    def jacobian(
        self,
        targets: list[Value] | list[Value | None],
        sources: dict[K, Value],
        unconnected_gradients: Unconnected = "none",
    ) -> list[dict[K, Value | None]]: ...
    @overload
    def jacobian(
        self,
        targets: list[Value] | list[Value | None],
        sources: object,
        unconnected_gradients: Unconnected = "none",
    ) -> list[NestedGradient]: ...
    @overload
    def jacobian(
        self, targets: tuple[Value | None, ...], sources: Value, unconnected_gradients: Zero
    ) -> tuple[Value, ...]: ...
    @overload
    def jacobian(
        self,
        targets: tuple[Value | None, ...],
        sources: Value,
        unconnected_gradients: Unconnected = "none",
    ) -> tuple[Value | None, ...]: ...
    @overload
    def jacobian(
        self, targets: tuple[Value | None, ...], sources: list[Value], unconnected_gradients: Zero
    ) -> tuple[list[Value], ...]: ...
    @overload
    def jacobian(
        self,
        targets: tuple[Value | None, ...],
        sources: list[Value],
        unconnected_gradients: Unconnected = "none",
    ) -> tuple[list[Value | None], ...]: ...
    @overload
    def jacobian(
        self,
        targets: tuple[Value | None, ...],
        sources: tuple[Value, ...],
        unconnected_gradients: Zero,
    ) -> tuple[tuple[Value, ...], ...]: ...
    @overload
    def jacobian(
        self,
        targets: tuple[Value | None, ...],
        sources: tuple[Value, ...],
        unconnected_gradients: Unconnected = "none",
    ) -> tuple[tuple[Value | None, ...], ...]: ...
    @overload
    def jacobian(
        self,
        targets: tuple[Value | None, ...],
        sources: dict[K, Value],
        unconnected_gradients: Zero,
    ) -> tuple[dict[K, Value], ...]: ...
    @overload
    def jacobian(
        self,
        targets: tuple[Value | None, ...],
        sources: dict[K, Value],
        unconnected_gradients: Unconnected = "none",
    ) -> tuple[dict[K, Value | None], ...]: ...
    @overload
    def jacobian(
        self,
        targets: tuple[Value | None, ...],
        sources: object,
        unconnected_gradients: Unconnected = "none",
    ) -> tuple[NestedGradient, ...]: ...
    @overload
    def jacobian(
        self,
        targets: object,
        sources: object,
        unconnected_gradients: Unconnected = "none",
    ) -> NestedGradient: ...
    def jacobian(
        self,
        targets: object,
        sources: object,
        unconnected_gradients: Unconnected = "none",
    ) -> object:
        """One gradient structure per target, in the structure of the targets.

        ``targets`` is a Value, or any nest of lists, tuples and dicts of Values (a None
        leaf, an unconnected gradient, depends on nothing). Each leaf ``t`` of it is
        replaced by ``gradient(t, sources)``, in the structure of ``sources``: the shape
        of TensorFlow's jacobian, the target's followed by the source's. So a flat list of
        targets gives one row per target, ``[[y1, y2], [y3, y4]]`` a list of two lists of
        rows, ``{"loss": y}`` a dict, and one Value its gradient. On a non-persistent tape
        this is its one allowed call.

        Each row has the type ``gradient(t, sources)`` has: ``tape.jacobian([y, z], x)``
        is a ``list[Value | None]``, ``tape.jacobian([y, z], [a, b])`` a
        ``list[list[Value | None]]``, a tuple of targets a tuple, and with
        ``unconnected_gradients="zero"`` no None.

        Example:
            >>> import microtape as mt
            >>> a, b = mt.Value(2.0), mt.Value(3.0)
            >>> with mt.GradientTape(persistent=True) as tape:
            ...     ys = [a * b, a * a]
            >>> tape.jacobian(ys, [a, b])
            [[Value(3.0), Value(2.0)], [Value(4.0), None]]
            >>> tape.jacobian({"ab": ys[0], "aa": ys[1]}, a)
            {'ab': Value(3.0), 'aa': Value(4.0)}

        Raises:
            ArgumentTypeError: if a leaf of ``targets`` is not a Value or None (the
                message names its place, ``targets[1][0]``), or one of ``sources`` not a
                Value.
        """
        self._check_can_differentiate("jacobian")
        unconnected = mode(unconnected_gradients)
        try:
            found, shape = flatten_targets(targets, "targets")
        except ArgumentTypeError as error:
            raise ArgumentTypeError(f"jacobian: {error}") from None
        seeded = [seeds(t, None) for t in found]
        leaves, rebuild = flatten(sources, "sources")
        rows = [rebuild(self._differentiate(s, leaves, unconnected)) for s in seeded]
        if not self.persistent:
            self._free(TapeState.USED)
        return shape(rows)

    # One function per mode; which one runs depends on what records while the tape
    # differentiates. A reader of one mode need not read the others.
    def _differentiate(
        self, seeded: dict[Value, Gradient], sources: list[Value], unconnected: str
    ) -> list[Value | None]:
        """The gradients of ``sources``, by the mode that fits what records here."""
        flat = self._flat
        assert flat is not None
        by_node = {t.node: s for t, s in seeded.items()}
        check_unchanged(flat, by_node)
        current = RECORDING.get()
        tracer = tracer_of(current)
        if current is None:
            results = self._first_order(flat, seeded, sources, unconnected)
        elif type(current) is Tangents:
            results = self._forward_over_reverse(current, flat, seeded, sources, unconnected)
        elif tracer is not None:
            results = self._traced(tracer, current, flat, seeded, sources, unconnected)
        else:
            results = self._higher_order(flat, seeded, sources, unconnected)
        if self.persistent:  # for print(tape): each node's gradient for these seeds
            self._last_seeds = {n: read(s) for n, s in by_node.items()}
        return results

    def _first_order(
        self, flat: Flat, seeded: dict[Value, Gradient], sources: list[Value], unconnected: str
    ) -> list[Value | None]:
        """Nothing records: the sweep runs on the floats stored in the records."""
        floats = {t.node: read(s) for t, s in seeded.items()}
        grads = float_sweep(flat, floats, {s.node for s in sources})
        taken = _taken(seeded)
        return [
            self._unconnected(seeded, source, unconnected) if g is None else _fresh(g, taken)
            for source, (g, _) in zip(sources, self._picked(grads, seeded, sources), strict=True)
        ]

    def _higher_order(
        self,
        flat: Flat,
        seeded: dict[Value, Gradient],
        sources: list[Value],
        unconnected: str,
        rule_called: RuleCalled | None = None,
    ) -> list[Value | None]:
        """Other tapes record: the sweep runs on Values, calling each op's derivative
        rules, so every step of the chain rule is recorded on them (the next derivative).

        Each gradient is *held* at the targets (``hold(g, target)``: g, with slope 0 in
        the target), so that to those tapes it depends on everything the targets depend
        on: differentiating it again gives 0, not None, even where the rules gave plain
        numbers (a constant, or a kink's slope), as TensorFlow does for relu and JAX
        everywhere. None means what it means on the first order: not connected.

        If the sweep fails part way (a DomainError at a point with no second derivative,
        say), its records are taken back off the recording tapes: a refused call leaves
        every tape as it was.
        """
        before = [(f, len(f)) for f in flats(sinks())]
        by_node = {t.node: s for t, s in seeded.items()}
        try:
            grads = value_sweep(flat, record.count(flat), by_node, rule_called)
            results: list[Value | None] = []
            for source, (g, _) in zip(sources, self._picked(grads, seeded, sources), strict=True):
                if g is None:
                    results.append(self._unconnected(seeded, source, unconnected))
                    continue
                for target in seeded:
                    g = hold(g, target)
                results.append(g)  # type: ignore[arg-type]  # hold of a Value is a Value
            return results
        except BaseException:
            for f, length in before:
                del f[length:]
            raise

    def _forward_over_reverse(
        self,
        accumulator: Tangents,
        flat: Flat,
        seeded: dict[Value, Gradient],
        sources: list[Value],
        unconnected: str,
    ) -> list[Value | None]:
        """One forward accumulator on floats records, and nothing else: it wants the
        gradients' tangents (``acc.jvp(tape.gradient(y, x))``, a Hessian-vector product),
        which ``tangent_sweep`` computes beside the gradients on floats, without building
        the chain rule's Values. No tape records the sweep, so nothing is held; each new
        gradient gets its tangent as if the accumulator had seen it computed (0.0 for one
        that does not move itself, where a target moves, as a held gradient's would be).
        """
        tangents = accumulator.tangents
        floats = {t.node: read(s) for t, s in seeded.items()}
        moving = {t.node: tangents.get(s.node) for t, s in seeded.items() if type(s) is Value}
        given = {n: read(t) for n, t in moving.items() if t is not None}
        grads, dgrads = tangent_sweep(flat, record.count(flat), floats, given, tangents)
        still = 0.0 if any(tangents.get(t.node) is not None for t in seeded) else None
        taken = _taken(seeded)
        results: list[Value | None] = []
        for source, (g, _) in zip(sources, self._picked(grads, seeded, sources), strict=True):
            if g is None:
                results.append(self._unconnected(seeded, source, unconnected))
                continue
            result = _fresh(g, taken)
            if type(g) is not Value:
                dg = dgrads.get(source.node, still)
                if dg is not None:
                    tangents[result.node] = dg
            results.append(result)
        return results

    def _traced(
        self,
        tracer: TracerSink,
        current: Sink,
        flat: Flat,
        seeded: dict[Value, Gradient],
        sources: list[Value],
        unconnected: str,
    ) -> list[Value | None]:
        """``mt.function``'s tracer records (see ``recording/context.py``).

        Where it alone records, the sweep runs on floats, as it would untraced, and the
        tracer is handed that sweep to write as code of its own (it records nothing).
        Where tapes record beside it, the sweep is the higher-order one, and the tracer
        hears of each rule it calls (a rule may read a number: a check in the code).
        """
        if current is not tracer:
            tracer.sweep_started()
            try:
                return self._higher_order(flat, seeded, sources, unconnected, tracer.rule_called)
            finally:
                tracer.sweep_ended()
        floats = {t.node: read(s) for t, s in seeded.items()}
        grads = float_sweep(flat, floats, {s.node for s in sources})
        taken = _taken(seeded)
        swept: dict[int, int] = {}
        results: list[Value | None] = []
        for source, (g, from_sweep) in zip(
            sources, self._picked(grads, seeded, sources), strict=True
        ):
            if g is None:
                results.append(self._unconnected(seeded, source, unconnected))
                continue
            result = _fresh(g, taken)
            if from_sweep and type(g) is not Value:
                swept[result.node] = source.node  # which gradient this result holds
            results.append(result)
        tracer.swept(flat, {t.node: s for t, s in seeded.items()}, sources, results, swept)
        return results

    def _picked(
        self, grads: Mapping[int, Gradient], seeded: dict[Value, Gradient], sources: list[Value]
    ) -> list[tuple[Gradient | None, bool]]:
        """Each source's gradient in a sweep's ``grads`` (None: not connected), and
        whether it came from the sweep.

        With ``watch_accessed_variables=False``, an unwatched source gets none, unless it
        is itself a target: then its gradient is 1 (its seed), as in TensorFlow.
        """
        connected = None if self.watch_accessed_variables else self._connected()
        picked: list[tuple[Gradient | None, bool]] = []
        for source in sources:
            g = grads.get(source.node)
            if g is not None and connected is not None and source.node not in connected:
                picked.append((seeded.get(source), False))
            else:
                picked.append((g, g is not None))
        return picked

    def _unconnected(self, seeded: dict[Value, Gradient], source: Value, mode: str) -> Value | None:
        """What an unconnected source gets, by ``unconnected_gradients``."""
        if mode == "raise":
            raise UnconnectedGradientError(self._explain(list(seeded), source))
        return Value(0.0) if mode == "zero" else None

    def _connected(self) -> set[int]:
        """With watch_accessed_variables=False: the watched nodes and those computed from them."""
        flat = self._flat
        assert flat is not None
        connected = {v.node for v in self._explicit}
        connected.update(record.outputs(flat))
        return connected

    # ---- seeing what the tape did ----------------------------------------------------------

    def explain(self, target: Target, source: Value) -> str:
        """Say in plain words why the gradient of ``target`` w.r.t. ``source`` is what it is.

        Above all why it is None: the source was never used, used only outside the
        recording, recorded before the last ``reset()``, not watched, or the target was not
        recorded on this tape, or the tape was used up or released.

        Example:
            >>> import microtape as mt
            >>> x = mt.Value(2.0)
            >>> loss = x * x                   # computed outside any tape
            >>> with mt.GradientTape() as tape:
            ...     pass
            >>> print(tape.explain(loss, x))   # doctest: +ELLIPSIS
            No gradient: the target loss = 4.0 was not computed while this tape was recording...
        """
        if type(source) is not Value:
            raise ArgumentTypeError(
                f"explain: source must be a Value, got {type(source).__name__} {source!r}"
            )
        return self._explain(targets(target), source)

    def _explain(self, found: Sequence[Value], source: Value) -> str:
        describer = described()
        if describer is None:
            return f"{self!r}: no describer installed (import microtape to install one)"
        return describer.explain(self.view(), found, source)

    def summary(self) -> str:
        """The recorded ops as a table: index, op, inputs, output, local derivatives and,
        after a gradient call on a persistent tape, each node's gradient."""
        describer = described()
        if describer is None:
            return repr(self)
        return describer.summary(self.view())

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """What Jupyter shows for a tape: the table of ``print(tape)``, as HTML."""
        describer = described()
        if describer is None:
            from html import escape

            return f"<pre>{escape(repr(self))}</pre>"
        return describer.html(self.view())

    def __repr__(self) -> str:
        flags = "persistent" if self.persistent else "non-persistent"
        return (
            f"<GradientTape {flags}, {self._state.value}, {counted(self.view().count, 'record')}>"
        )


def _taken(seeded: dict[Value, Gradient]) -> set[Value]:
    """The Values a result must not be: the caller's ``output_gradients``."""
    return {s for s in seeded.values() if type(s) is Value}


def _fresh(g: Gradient, taken: set[Value]) -> Value:
    """A gradient as a Value of its own: never the caller's ``output_gradients``, never
    one object for two sources, so that changing one in place changes no other."""
    if type(g) is not Value:
        return Value(g)
    if g in taken:
        g = g * 1.0  # a new Value, still connected for the next derivative
    taken.add(g)
    return g
