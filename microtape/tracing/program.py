"""A traced program: the records of one run of a function, and what happened between them.

A tracer (``mt.function``) hands :func:`~microtape.tracing.codegen.generate` a
:class:`Program`: every row recorded while the function ran (see
``core/recording/record.py``), which of those a tape also recorded, and the *events* between
the rows, each at the number of rows recorded before it:

- :class:`Guard`: a comparison of Values (a branch of the Python code) and its outcome;
- :class:`Same`: a number the code read as a plain float, which must be the same again;
- :class:`RuleCheck`: a derivative rule, called on Values by a recorded sweep, that read
  its arguments' numbers; the code it recorded holds only where it gives the same partial;
- :class:`Copy`: ``Value(x)`` of a float argument ``x``;
- :class:`Sweep`: a first-order gradient, swept back on floats over some of the rows.

Guards, :class:`Same` and :class:`RuleCheck` are the program's *checks*: the generated
code tests each, in order, and stops at the first that fails (another path of the
function, to be traced again).

An operand is a node number (an ``int``) or a constant (a ``float``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias, Union

from ..core.recording import record
from ..core.recording.record import NodeRecord

if TYPE_CHECKING:
    from ..core.recording.record import Entry
    from ..core.values.op import Op

__all__ = ["Copy", "Event", "Guard", "Operand", "Program", "RuleCheck", "Same", "Sweep"]

Operand: TypeAlias = Union[int, float]
"""A node number (``int``) or a constant (``float``)."""


class Guard:
    """``left <symbol> right`` gave ``outcome`` (``bool(x)`` is ``x != 0.0``); ``where``
    names the line of the function that compared (`` (at step.py:12)``), or is empty."""

    __slots__ = ("at", "left", "outcome", "right", "symbol", "where")

    def __init__(
        self,
        at: int,
        left: Operand,
        symbol: str,
        right: Operand,
        outcome: bool,
        where: str = "",
    ) -> None:
        self.at = at
        self.left = left
        self.symbol = symbol
        self.right = right
        self.outcome = outcome
        self.where = where


class Same:
    """The number of ``node`` was read as the float ``number`` (by ``how``, at ``where``,
    as for a :class:`Guard`)."""

    __slots__ = ("at", "how", "node", "number", "where")

    def __init__(self, at: int, node: int, number: float, how: str, where: str = "") -> None:
        self.at = at
        self.node = node
        self.number = number
        self.how = how
        self.where = where


class RuleCheck:
    """Rule ``index`` of ``op`` at ``arguments`` gave ``partial`` (recorded, or a constant)."""

    __slots__ = ("arguments", "at", "index", "op", "partial")

    def __init__(
        self, at: int, op: Op, index: int, arguments: Sequence[Operand], partial: Operand
    ) -> None:
        self.at = at
        self.op = op
        self.index = index
        self.arguments = tuple(arguments)
        self.partial = partial


class Copy:
    """``node`` is a new Value holding the number of ``source``."""

    __slots__ = ("at", "node", "source")

    def __init__(self, at: int, node: int, source: int) -> None:
        self.at = at
        self.node = node
        self.source = source


class Sweep:
    """A first-order gradient: the rows ``rows`` (ascending indices) swept from ``seeds``.

    Attributes:
        seeds: the upstream gradient of each target node.
        keep: the source nodes.
        results: the node of each Value the gradient call returned that holds a swept
            gradient, with the source node whose gradient it holds.
    """

    __slots__ = ("at", "keep", "results", "rows", "seeds")

    def __init__(
        self,
        at: int,
        rows: Sequence[int],
        seeds: dict[int, Operand],
        keep: Sequence[int],
        results: dict[int, int],
    ) -> None:
        self.at = at
        self.rows = rows
        self.seeds = seeds
        self.keep = keep
        self.results = results


Event: TypeAlias = Union[Guard, Same, RuleCheck, Copy, Sweep]
"""Something that happened between two rows."""


class Program:
    """One traced run of a function, ready to be written as Python.

    Attributes:
        flat: every row recorded during the run.
        taped: per op (in record order), whether a tape recorded it: only then did the
            op compute its partials when it ran, and only then may they fail.
        events: in the order they happened.
        inputs: the node each of the generated function's float arguments stands for.
        constants: leaves with a fixed number (Values the function made from numbers).
        outputs: the nodes whose numbers the generated function returns.
        name: the traced function's name, for the code's first line.
        labels: what each input is, for a comment (``"x"``, ``"xs[2]"``); may be empty.
        names: the learner's names of nodes, found when a tape's block ended in the
            function (``loss``), for the names in the code.
    """

    __slots__ = (
        "_steps",
        "constants",
        "events",
        "flat",
        "inputs",
        "labels",
        "name",
        "names",
        "numeric",
        "outputs",
        "taped",
    )

    def __init__(
        self,
        flat: Sequence[Entry],
        taped: Sequence[bool],
        events: Sequence[Event],
        inputs: Sequence[int],
        constants: dict[int, float],
        outputs: Sequence[int],
        name: str = "traced",
    ) -> None:
        self.flat = flat
        self.taped = taped
        self.events = events
        self.inputs = inputs
        self.constants = constants
        self.outputs = outputs
        self.name = name
        self.labels: list[str] = []
        self.names: dict[int, str] = {}
        self.numeric: set[int] = set()  # nodes that are floats in the function as written
        self._steps: list[NodeRecord] | None = None

    def steps(self) -> list[NodeRecord]:
        """The ops of :attr:`flat`, read once (see ``record.ops``)."""
        if self._steps is None:
            self._steps = list(record.ops(self.flat))
        return self._steps

    def checks(self) -> list[Guard | Same | RuleCheck]:
        """The checks, in the order the generated code tests them."""
        return [e for e in self.events if isinstance(e, (Guard, Same, RuleCheck))]
