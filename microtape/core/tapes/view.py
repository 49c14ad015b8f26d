"""What a tape holds, read-only: its state and its records, for inspection.

``tape.view()`` returns a :class:`TapeView`. ``print(tape)``, ``tape.explain``,
``mt.to_dot`` and the benchmark read a tape through it, the way your own code can; only
the tape touches its private state.
"""

# No `from __future__ import annotations` here: `Record`'s annotations are then real
# types, which NamedTuple checks without compiling strings (faster `import microtape`).

from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple, final

from ..recording import record
from ..transforms.reverse import float_sweep
from ..values.names import NOTHING, Found, name_of
from ..values.op import Op
from ..values.value import Value, rebuilt

if TYPE_CHECKING:
    from .storage import Flat

__all__ = ["Record", "TapeState", "TapeView"]


class TapeState(Enum):
    """Where a tape is in its life."""

    FRESH = "fresh"
    """Created, never entered."""
    RECORDING = "recording"
    """Inside its ``with`` block."""
    EXITED = "exited"
    """Left its block; holds its records."""
    USED = "used"
    """Non-persistent, and its one ``gradient()`` or ``jacobian()`` freed it."""
    RELEASED = "released"
    """``release()`` freed it."""


class Record(NamedTuple):
    """One recorded op, as ``print(tape)`` shows it.

    Attributes:
        output: the Value the op produced (a Value of that node, ``==`` to yours,
            holding the number the op gave).
        inputs: the op's arguments: a Value of each argument's node holding the number
            the op read, or the plain number for a constant argument.
        partials: the local derivative d(output)/d(input) for each input, as computed
            when the op ran; None for a constant argument.
        op: the :class:`~microtape.Op` that ran.
    """

    output: Value
    inputs: tuple[Value | float, ...]
    partials: tuple[float | None, ...]
    op: Op


@final
class TapeView:
    """A tape's state and records at the moment ``tape.view()`` was called.

    The records are built (as :class:`Record`) the first time :attr:`records` is read;
    :attr:`count` does not build them.

    Example:
        >>> import microtape as mt
        >>> x = mt.Value(3.0)
        >>> with mt.GradientTape() as tape:
        ...     y = mt.sin(x) * x
        >>> view = tape.view()
        >>> view.state, view.count
        (<TapeState.EXITED: 'exited'>, 2)
        >>> [(r.op.name, len(r.inputs)) for r in view.records]
        [('sin', 1), ('mul', 2)]
    """

    __slots__ = (
        "_built",
        "_flat",
        "_forgotten",
        "_names",
        "_rows",
        "_seeds",
        "pauses",
        "persistent",
        "state",
        "watch_accessed_variables",
        "watched_explicitly",
    )

    def __init__(
        self,
        *,
        state: TapeState,
        persistent: bool,
        watch_accessed_variables: bool,
        flat: "Flat | None",
        watched_explicitly: tuple[Value, ...] = (),
        pauses: int = 0,
        forgotten: frozenset[int] = frozenset(),
        seeds: Mapping[int, float] | None = None,
        names: Found = NOTHING,
    ) -> None:
        self.state = state
        """The tape's :class:`TapeState`."""
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self.watched_explicitly = watched_explicitly
        """The Values passed to ``watch()``, in the order they were first watched."""
        self.pauses = pauses
        """How many ``stop_recording()`` blocks paused the tape since its last reset."""
        self._flat = flat
        self._rows = 0 if flat is None else record.count(flat)
        self._forgotten = forgotten
        self._seeds = seeds
        self._names = names
        self._built: tuple[Record, ...] | None = None

    @property
    def freed(self) -> bool:
        """True once the tape holds no records any more (used up or released)."""
        return self._flat is None

    @property
    def count(self) -> int:
        """How many ops the tape recorded (0 once freed), without building the records."""
        return 0 if self._flat is None else record.op_count(self._flat, self._rows)

    @property
    def records(self) -> tuple[Record, ...]:
        """The recorded ops in order (empty once freed).

        Each node becomes a Value rebuilt from its number (``==`` to the Value that was
        recorded), holding the number the record read; a constant argument stays a float.
        """
        if self._built is None:
            self._built = () if self._flat is None else _build(self._flat, self._rows)
        return self._built

    def name_of(self, value: Value) -> str | None:
        """The learner's name for ``value``: given (``Value(x, name="w")``), found in a
        variable when the tape's block ended, or an ``mt.nn`` path; None if it has none.

        Example:
            >>> import microtape as mt
            >>> w = mt.Value(0.5)
            >>> with mt.GradientTape() as tape:
            ...     loss = (w * 3.0 - 1.0) ** 2
            >>> view = tape.view()
            >>> [view.name_of(r.output) for r in view.records]
            [None, None, 'loss']
        """
        return name_of(value.node, self._names)

    def forgotten(self, value: Value) -> bool:
        """True if ``value`` appeared only in records that the last ``reset()`` dropped."""
        return value.node in self._forgotten

    def last_gradients(self) -> dict[int, float] | None:
        """After a ``gradient()`` call on a persistent tape: every node's gradient from
        that call, by node number (``value.node``); None before such a call.

        Recomputed on demand from the seeds of that call, so the tape holds no per-node
        gradients between calls.
        """
        if self._flat is None or self._seeds is None:
            return None
        return float_sweep(record.first(self._flat, self._rows), dict(self._seeds))


def _build(flat: "Flat", rows: int) -> tuple[Record, ...]:
    values: dict[int, Value] = {}
    built: list[Record] = []
    for step in record.ops(flat, rows):
        inputs = tuple(
            x if node is None else rebuilt(values, node, x)
            for node, x in zip(step.inputs, step.values, strict=True)
        )
        built.append(Record(rebuilt(values, step.out, step.value), inputs, step.partials, step.op))
    return tuple(built)
