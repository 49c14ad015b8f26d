"""The tracer: records one run of a function, rows and events, as a :class:`Program`.

While a function is traced, a :class:`Tracer` is the outermost sink of the recording
context (every op hands it its rows, with or without a tape recording) and the
observer in ``OBSERVER`` (``core/recording/observer.py``): it hears of comparisons,
number reads and copies as the observer, and of tapes entered and gradients taken as
the tracer sink of ``core/recording/context.py``. The run itself is an ordinary
eager run: its results are the function's results.

What the generated code could not reproduce *refuses* the trace: the reason is kept
(:attr:`Tracer.refusal`), the run goes on in Python, and the caller warns and keeps
running the function in Python for that structure of arguments.

Nodes: every Value made during the call has a node number from ``start`` on. A leaf of
the records (an argument of an op that no op made) is then

- an *input*: a Value argument, a float argument (seen by the function as a Value), or a
  Value made before the call that the function reads (a model's parameter, through a
  closure or an attribute), found among the live objects when the trace ends: each call
  reads its number again;
- a *constant*: a Value the function made from a number (``mt.Value(2.0)``);
- a copy (``Value(x)`` of a float argument), or a gradient a sweep returned.
"""

from __future__ import annotations

import gc
import os
import sys
import weakref
from collections.abc import Mapping, Sequence
from types import FrameType

from ..core.recording import record
from ..core.recording.context import RECORDING, TracerSink
from ..core.recording.record import Entry, Rows
from ..core.tapes.tape import GradientTape
from ..core.values.builtins import pow_
from ..core.values.op import Op
from ..core.values.value import Value, next_node, read, shown
from .program import (
    Copy,
    Event,
    Guard,
    Operand,
    Program,
    RuleCheck,
    Same,
    Sweep,
)

__all__ = ["Tracer"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# Where the standard library lives, for a frame that names no module: the folder of os.py,
# and a zip file on sys.path. Pyodide keeps most of the library in /lib/python312.zip and
# some beside it (/lib/python3.12/os.py), so the folder of os.py alone misses copy.py.
_LIBRARY_FOLDERS = tuple(
    {os.path.dirname(os.path.abspath(os.__file__)) + os.sep}
    | {entry + os.sep for entry in sys.path if entry.endswith(".zip")}
)


def _ours(frame: FrameType) -> bool:
    """Whether ``frame`` runs microtape or Python's standard library (copy, math's
    callers, ...): by its module's name, wherever and however the library is stored."""
    filename = frame.f_code.co_filename
    if filename.startswith(_PACKAGE):
        return True
    module = frame.f_globals.get("__name__")
    if isinstance(module, str):
        return module.partition(".")[0] in sys.stdlib_module_names
    return filename.startswith(_LIBRARY_FOLDERS) and "site-packages" not in filename


def _where() -> str:
    """The first line of the stack outside microtape and Python's own library: where the
    user's code did it."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _ours(frame):
        frame = frame.f_back
    if frame is None:
        return ""
    return f" (at {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno})"


class Tracer(TracerSink):
    """Records the rows and events of one traced call (see the module docstring)."""

    def __init__(self) -> None:
        self.flat: list[Entry] = []
        self.taped: list[bool] = []
        self.events: list[Event] = []
        self.start = next_node()  # every Value made from here on was made by the call
        self.inputs: list[int] = []  # the node of each argument that is an input
        self.arguments: dict[int, int] = {}  # node -> its first position among them
        self.numeric: set[int] = set()  # float arguments, and what ops made of them alone
        self.copied_from: dict[int, int] = {}
        self.results: set[int] = set()
        self.produced: set[int] = set()
        self.row_of: dict[int, int] = {}  # an op's output node -> its row
        self.tapes: list[weakref.ref[GradientTape]] = []
        self.refusal: str | None = None
        self.sweeping = 0  # recorded sweeps under way: their rules may read numbers
        self.python_differs = False  # float arithmetic where Python's floats raise or differ
        self.failed: list[str] = []  # ops that raised during the call (caught or not)
        self.rule_reads = 0
        self._scanned = 0
        self.names: dict[int, str] = {}  # the learner's names, found as tapes' blocks ended

    # ---- the sink: rows, and changes in place ---------------------------------------------

    def extend(self, rows: Rows, /) -> None:
        self.flat.extend(rows)
        self.taped.append(RECORDING.get() is not self)  # a tape records it too

    def note_change(self, change: int, /) -> None:
        self.refuse(
            "a Value's .data was assigned inside the function; the generated code could "
            "not repeat that. Change Values (an optimizer step) outside the function"
        )

    def watches(self, node: int, /) -> bool:
        return False  # float(x) warns for the tapes the user opened, not for the tracer

    # ---- the observer ----------------------------------------------------------------------

    def compared(self, value: Value, symbol: str, other: Value | float, result: bool) -> None:
        left = self.operand(value)
        right = self.operand(other) if type(other) is Value else float(other)
        if type(left) is int or type(right) is int:
            self.events.append(Guard(self.rows(), left, symbol, right, result, _where()))

    def read(self, value: Value, how: str) -> bool:
        if self.sweeping:
            self.rule_reads += 1  # a derivative rule's branch: checked by its partial
            return False
        operand = self.operand(value)
        if type(operand) is not int:
            return False  # a Value the function made from a number: its number is fixed
        if operand in self.numeric:
            # A float argument, or a number computed from them alone: the code keeps this
            # number, and checks that it is the same at each call.
            self.events.append(Same(self.rows(), operand, read(value), how, _where()))
            return True
        self.refuse(
            f"{how} of {shown(value)} reads the number of a Value the function computes or "
            "reads, which the generated code would keep from this call; compute with "
            "Values (mt.sin(x), x * 2.0), or return the Value and read it outside" + _where()
        )
        return False

    def stands_for_float(self, value: Value) -> bool:
        self.scan()
        return value.node in self.numeric

    def copied(self, copy: Value, original: Value) -> bool:
        self.scan()
        if original.node not in self.numeric:
            return False
        self.copied_from[copy.node] = original.node
        self.events.append(Copy(self.rows(), copy.node, original.node))
        return True

    def entered(self, tape: object) -> None:
        if isinstance(tape, GradientTape):
            self.tapes.append(weakref.ref(tape))
            return
        self.refuse(
            "a ForwardAccumulator is entered inside the function; forward mode is not "
            "written as code (enter it outside, around the call)" + _where()
        )

    def named(self, names: Mapping[int, str]) -> None:
        self.names.update(names)

    def op_failed(self, op: Op, error: Exception) -> None:
        self.failed.append(f"{op.name} raised {type(error).__name__}{_where()}")

    def swept(
        self,
        flat: Sequence[Entry],
        seeds: dict[int, Value | float],
        sources: Sequence[Value],
        results: Sequence[Value | None],
        swept: dict[int, int],
    ) -> None:
        self.scan()
        rows = [self.row_of.get(out) for out in record.outputs(flat)]
        if any(i is None for i in rows):
            self.refuse(
                "a tape differentiated in the function holds records made before the call"
                + _where()
            )
            return
        operands = {
            node: self.operand(s) if type(s) is Value else float(s) for node, s in seeds.items()
        }
        self.results.update(swept)
        self.events.append(
            Sweep(self.rows(), rows, operands, [s.node for s in sources], swept)  # type: ignore[arg-type]
        )

    def sweep_started(self) -> None:
        self.sweeping += 1
        self.rule_reads = 0

    def rule_called(
        self,
        op: Op,
        index: int,
        nodes: Sequence[int | None],
        numbers: Sequence[float],
        partial: Value | float,
    ) -> None:
        if not self.rule_reads:
            return
        self.rule_reads = 0
        arguments: list[Operand] = [
            x if n is None else n for n, x in zip(nodes, numbers, strict=True)
        ]
        made = self.operand(partial) if type(partial) is Value else float(partial)
        self.events.append(RuleCheck(self.rows(), op, index, arguments, made))

    def sweep_ended(self) -> None:
        self.sweeping -= 1

    # ---- what the tracer knows -------------------------------------------------------------

    def refuse(self, reason: str) -> None:
        """The trace cannot be used; keep the first reason."""
        if self.refusal is None:
            self.refusal = reason

    def rows(self) -> int:
        """How many rows were recorded so far: where an event happens."""
        return record.count(self.flat)

    def scan(self) -> None:
        """Learn the rows recorded since the last scan: their outputs, and which stand
        for floats (the float arguments, and ops on them and constants alone)."""
        flat = self.flat
        numeric = self.numeric
        for i in range(self._scanned, record.count(flat)):
            out, y, a, xa, _, b, xb, _, op = record.row(flat, i)
            self.produced.add(out)
            self.row_of[out] = i
            if (
                (a in numeric or b in numeric)
                and (a is None or a in numeric)
                and (b is None or b in numeric)
            ):
                numeric.add(out)
                if op is pow_ and not _python_pow_agrees(xa, xb, y):  # type: ignore[arg-type]
                    self.python_differs = True
        self._scanned = record.count(flat)

    def operand(self, value: Value) -> Operand:
        """A Value as an operand: its node, or its number if it is a constant."""
        self.scan()
        node = value.node
        if node in self.produced or node in self.arguments or node in self.copied_from:
            return node
        if node in self.results:
            return node
        if node >= self.start:
            return read(value)  # made by the function from a number: a constant
        return node  # a Value made before the call: found among the live objects at the end

    # ---- the program -----------------------------------------------------------------------

    def program(self, outputs: Sequence[int], name: str) -> tuple[Program, list[Value]]:
        """The program of this run, returning ``outputs``; and the Values read from
        before the call (the inputs after the arguments), in order.

        Refuses the trace (and returns an empty program) if a tape entered during the
        call still holds records, or a Value read from before the call cannot be found.
        """
        self.scan()
        for ref in self.tapes:
            tape = ref()
            if tape is not None and not tape.view().freed:
                self.refuse(
                    "a tape entered in the function still holds its records after the call "
                    "(a persistent tape kept, or returned); release() it inside the function"
                )
        program = Program(self.flat, self.taped, self.events, self.inputs, {}, outputs, name)
        program.numeric = self.numeric
        program.names = self.names
        steps = program.steps()
        constants = program.constants
        leaves: dict[int, None] = {}
        for step in steps:
            for node, x in zip(step.inputs, step.values, strict=True):
                if node is None or node in self.produced:
                    continue
                if node >= self.start and node not in self.copied_from and node not in self.results:
                    if node not in self.arguments:
                        constants.setdefault(node, x)
                        continue
                leaves.setdefault(node)
        for event in self.events:
            for node in _nodes_of(event):
                if node not in self.produced and node not in constants:
                    leaves.setdefault(node)
        for node in outputs:
            if node not in self.produced:
                leaves.setdefault(node)
        wanted = [
            n
            for n in leaves
            if n < self.start and n not in self.arguments and n not in self.copied_from
        ]
        captured = self._find(wanted)
        if self.refusal is not None:
            return Program([], [], [], [], {}, [], name), []
        program.inputs = [*self.inputs, *(v.node for v in captured)]
        return program, captured

    def _find(self, nodes: list[int]) -> list[Value]:
        """The Values of ``nodes``, made before the call, found among the live objects.

        Each must be the only live Value of its node. Two (a copy a tape rebuilt from its
        records, say, which holds the number the tape read) would leave the code to read
        the wrong one after the original changes: that refuses the trace.
        """
        if not nodes:
            return []
        wanted = set(nodes)
        found: dict[int, dict[int, Value]] = {}
        for thing in gc.get_objects():
            if type(thing) is Value and thing.node in wanted:
                found.setdefault(thing.node, {})[id(thing)] = thing
        captured = []
        for node in nodes:
            candidates = list(found.get(node, {}).values())
            if len(candidates) != 1:
                self.refuse(
                    f"the function reads a Value made before the call (node {node}) "
                    + (
                        "that no longer exists"
                        if not candidates
                        else "held by several objects (a copy rebuilt by a tape)"
                    )
                    + "; pass it as an argument"
                )
                return []
            captured.append(candidates[0])
        return captured


def _python_pow_agrees(x: float, y: float, result: float) -> bool:
    """Whether Python's ``x ** y`` on floats gives ``result`` (the op's) without raising:
    a float argument is a float in the function as written, where ``1e200 ** 2`` raises
    OverflowError and ``(-8.0) ** 0.5`` is complex."""
    try:
        python = x**y
    except (OverflowError, ZeroDivisionError):
        return False
    return type(python) is float and (python == result or (python != python and result != result))


def _nodes_of(event: Event) -> list[int]:
    """The nodes an event reads."""
    if isinstance(event, Guard):
        found = [event.left, event.right]
    elif isinstance(event, Same):
        found = [event.node]
    elif isinstance(event, RuleCheck):
        found = [*event.arguments, event.partial]
    elif isinstance(event, Copy):
        found = [event.source]
    else:
        found = list(event.seeds.values())
    return [n for n in found if type(n) is int]
