"""The lines of generated code: one per op forward, one per product on the way back.

:class:`Writer` names the program's nodes as ``print(tape)`` does (``v0, v1, ...``:
leaves first, then outputs in record order) and writes, for any op, check or row, the
lines that compute it. ``codegen.py`` decides where the lines go: all in one function
for a short program, in shared functions for a long one (``chunks.py``).

Names: ``v12`` is the number of node ``v12``, ``d12_0`` the partial of ``v12`` with
respect to its first argument (computed when the op ran, as a tape does, for ops not
written as expressions), ``g12`` the gradient of ``v12`` in the first sweep (``g12_1``
in the second, and so on). Constants are written as literals, or as names ``c0, c1,
...`` in a function shared by blocks that differ only in their constants.

An op not written as an expression is reached through the code's globals: ``_f_sq``
is the forward of the op ``sq``, ``_rule0_sq`` its first rule, ``_outside0_sq`` the
test of its first argument's domain, ``_op_sq`` the op itself. An op may have any
identifier as its name (``x``, ``forward0``, ``rule0_sq``), so these names are kept
apart by their prefixes: none of ``_f_``, ``_op_``, ``_rule<i>_``, ``_outside<i>_``
begins another, nor any other name the code uses (``_x``, ``_miss``, ``_forward0``,
``v0``, ``inf``, ...). Two ops of one name (or of names Python reads as one) are
numbered: whatever an op is called, its names are its own.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Final

from ..core.recording import record
from ..core.recording.record import NodeRecord
from ..core.values import builtins as _b
from ..core.values.op import Op
from .program import Copy, Guard, Operand, Program, RuleCheck, Same, Sweep

__all__ = ["LOCAL", "MINUS_ONE", "ONE", "Line", "Writer", "literal"]

ONE: Final = "1"
"""A partial of exactly 1: the gradient passes unchanged (``g * 1.0`` is ``g``)."""
MINUS_ONE: Final = "-1"
"""A partial of exactly -1: the gradient is negated (``g * -1.0`` is ``-g``)."""

LOCAL: Final = re.compile(r"\b[vdgc]\d+(?:_\d+)?\b")
"""The names generated code gives its local variables."""

# The ops written as Python expressions, on operand texts (names or literals); each gives
# the same float as the op's forward and rules on floats, and raises where it does
# (x / 0.0): the generated code then hands the call to Python, whose op raises its own
# DomainError.
_FORWARD: Final[dict[Op, Callable[[list[str]], str]]] = {
    _b.add: lambda x: f"{x[0]} + {x[1]}",
    _b.sub: lambda x: f"{x[0]} - {x[1]}",
    _b.mul: lambda x: f"{x[0]} * {x[1]}",
    _b.strong_mul: lambda x: f"{x[0]} * {x[1]}",  # and a line for the strong zero
    _b.div: lambda x: f"{x[0]} / {x[1]}",
    _b.neg: lambda x: f"-{x[0]}",
    _b.relu: lambda x: f"0.0 if {x[0]} <= 0.0 else {x[0]}",
    _b.hold: lambda x: f"{x[0]}",
}
_PARTIAL: Final[dict[Op, Callable[[int, list[str]], str]]] = {
    _b.add: lambda i, x: ONE,
    _b.sub: lambda i, x: ONE if i == 0 else MINUS_ONE,
    _b.mul: lambda i, x: x[1 - i],
    _b.strong_mul: lambda i, x: x[1 - i],
    _b.div: lambda i, x: f"(1.0 / {x[1]})" if i == 0 else f"(-({x[0]} / {x[1]}) / {x[1]})",
    _b.neg: lambda i, x: MINUS_ONE,
    _b.relu: lambda i, x: f"(1.0 if {x[0]} > 0.0 else 0.0)",
    # tanh's rule, 4 s(2x) s(-2x), on floats: the same operations as the rule's own.
    _b.tanh: lambda i, x: f"(4.0 * _sigmoid(2.0 * {x[0]}) * _sigmoid(-2.0 * {x[0]}))",
    _b.hold: lambda i, x: ONE if i == 0 else "0.0",
}
_READS: Final[dict[Op, tuple[int, ...]]] = {
    _b.mul: (0, 1),
    _b.strong_mul: (0, 1),
    _b.div: (0, 1),
    _b.relu: (0,),
    _b.tanh: (0,),
}
"""The arguments whose numbers an op's written-out partials read."""
_FLOAT_FORWARDS: Final = frozenset(_b.BUILTINS)
"""Ops whose forward returns a float for floats, so that no check is written."""


def literal(x: float) -> str:
    """``x`` as Python source that evaluates to exactly ``x``."""
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def _negated(expr: str) -> str:
    return expr[1:] if expr.startswith("-") and LOCAL.fullmatch(expr[1:]) else f"-{expr}"


class Line:
    """One statement: its text, and the local variables it defines and uses."""

    __slots__ = ("defs", "text", "uses")

    def __init__(self, text: str, *defs: str) -> None:
        self.text = text
        self.defs = defs
        body = "" if text.startswith("#") else text.split("  #", 1)[0]
        if defs and body.startswith(f"{defs[0]} = "):
            body = body[len(defs[0]) + 3 :]
        self.uses = tuple(dict.fromkeys(LOCAL.findall(body)))


class Writer:
    """Writes the lines of one program's ops, checks and sweeps (see the module docstring)."""

    def __init__(self, program: Program, steps: Sequence[NodeRecord]) -> None:
        self.program = program
        self.flat = program.flat
        self.steps = steps
        self.globals: dict[str, object] = {}
        self.names: dict[int, str] = {}
        self.nodes: dict[str, int] = {}  # the other way round
        self.values: dict[int, str] = {}  # node -> the text of its number
        self.row_step: list[int] = []
        for k, step in enumerate(steps):
            self.row_step.extend([k] * (max(step.op.arity - 2, 0) + 1))
        self._ops: dict[Op, str] = {}
        self.checks: dict[int, int] = {}  # event index -> its check's index
        self.partials_kept: set[int] = set()  # steps whose partials a sweep reads
        self.named_constants = False
        self._name_nodes()

    # ---- names -----------------------------------------------------------------------------

    def _name_nodes(self) -> None:
        program = self.program
        produced = {step.out for step in self.steps}
        for step in self.steps:
            for node in step.inputs:
                if node is not None and node not in produced:
                    self.name(node)
        for step in self.steps:
            self.values[step.out] = self.name(step.out)
        for node in program.inputs:
            self.values[node] = self.name(node)
        check = 0
        for e, event in enumerate(program.events):
            if isinstance(event, (Guard, Same, RuleCheck)):
                self.checks[e] = check
                check += 1
            elif isinstance(event, Copy):
                self.values[event.node] = self.name(event.node)
            elif isinstance(event, Sweep):
                for result in event.results:
                    self.values[result] = self.name(result)
                for i in event.rows:
                    k = self.row_step[i]
                    if self.steps[k].op not in _PARTIAL:
                        self.partials_kept.add(k)

    def name(self, node: int) -> str:
        """The variable of ``node``'s number."""
        name = self.names.get(node)
        if name is None:
            name = self.names[node] = f"v{len(self.names)}"
            self.nodes[name] = node
        return name

    def gradient(self, node: int, sweep: int) -> str:
        """The variable of ``node``'s gradient in sweep number ``sweep``."""
        name = self.name(node)
        return f"g{name[1:]}" if sweep == 0 else f"g{name[1:]}_{sweep}"

    def global_(self, prefix: str, thing: object, op: Op) -> str:
        """The name under which the code reaches ``thing`` (an op's forward, rule or domain
        test, or the op): ``prefix`` (``f_``, ``op_``, ``rule<i>_``, ``outside<i>_``; see
        the module docstring) and the op's name, numbered where two ops share one."""
        base = self._ops.get(op)
        if base is None:
            taken = set(self._ops.values())
            # Python reads an identifier in its NFKC form: "ｘ" in the source is "x".
            given = unicodedata.normalize("NFKC", op.name)
            base, k = given, 1
            while base in taken:
                k += 1
                base = f"{given}{k}"
            self._ops[op] = base
        name = f"_{prefix}{base}"
        self.globals[name] = thing
        return name

    def value(self, operand: Operand) -> str:
        """The text of an operand's number: a constant's literal or a node's variable."""
        if type(operand) is not int:
            return literal(operand)
        text = self.values.get(operand)
        if text is None:
            constant = self.program.constants.get(operand)
            if constant is None:
                raise ValueError(f"the traced program reads node {operand} but never sets it")
            # In shared functions a constant Value is a variable, set once in run().
            named = self.named_constants and operand in self.names
            text = self.values[operand] = self.names[operand] if named else literal(constant)
        return text

    def arguments(self, k: int, constants: dict[tuple[int, int], str] | None = None) -> list[str]:
        """The texts of step ``k``'s arguments: a node's variable, a constant's literal, or
        the name ``constants`` gives the constant argument ``(k, i)``."""
        step = self.steps[k]
        texts = []
        for i, (node, x) in enumerate(zip(step.inputs, step.values, strict=True)):
            if node is not None:
                texts.append(self.value(node))
            elif constants is None:
                texts.append(literal(x))
            else:
                texts.append(constants[(k, i)])
        return texts

    # ---- forward -----------------------------------------------------------------------------

    def forward(self, k: int, args: list[str]) -> list[Line]:
        """Record ``k``: its value, and the partials a tape computed when it ran."""
        step = self.steps[k]
        op = step.op
        out = self.names[step.out]
        lines: list[Line] = []
        inline = _FORWARD.get(op)
        if op is _b.pow_ and step.out in self.program.numeric:
            # Floats in the function as written: Python's ** (1e200 ** 2 raises there).
            lines.append(Line(f"{out} = _fpow({', '.join(args)})  # ** of floats", out))
        elif inline is not None:
            lines.append(Line(f"{out} = {inline(args)}  # {op.name}", out))
            if op is _b.strong_mul:  # NaN only where a zero met inf or NaN: then 0.0
                lines.append(Line(f"if {out} != {out}: {out} = _strong({args[0]}, {args[1]})", out))
        else:
            call = ", ".join(args)
            if op._guarded and op not in _FLOAT_FORWARDS:
                for i, outside in enumerate(op._outside):
                    if outside is not None:
                        test = self.global_(f"outside{i}_", outside, op)
                        lines.append(Line(f"if {test}({args[i]}): _refuse()  # {op.name}'s domain"))
            forward = self.global_("f_", op.forward, op)
            lines.append(Line(f"{out} = {forward}({call})  # {op.name}", out))
            if op not in _FLOAT_FORWARDS:
                name = self.global_("op_", op, op)
                lines.append(
                    Line(
                        f"if type({out}) is not float: {out} = _result({name}, {out}, ({call},))",
                        out,
                    )
                )
        if op in _PARTIAL or not self.program.taped[k]:
            return lines
        # A tape recorded this op: it computed its partials when it ran, and they may fail.
        name = self.global_("op_", op, op)
        for i, node in enumerate(step.inputs):
            if node is None:
                continue
            rule = self.global_(f"rule{i}_", op.derivatives[i], op)
            d = self.partial_name(k, i)
            lines.append(Line(f"{d} = {rule}({', '.join(args)})  # d {out}/d {args[i]}", d))
            lines.append(
                Line(
                    f"if type({d}) is not float or {d} != {d}: "
                    f"{d} = _partial({name}, {i}, {d}, ({', '.join(args)},))",
                    d,
                )
            )
        return lines

    def partial_name(self, k: int, argument: int) -> str:
        return f"d{self.names[self.steps[k].out][1:]}_{argument}"

    def reads(self, k: int) -> list[int]:
        """The nodes whose numbers the written-out partials of step ``k`` read."""
        step = self.steps[k]
        return [n for i in _READS.get(step.op, ()) if (n := step.inputs[i]) is not None]

    def event(self, e: int) -> list[Line]:
        """The lines of a check or a copy (a sweep is written by :meth:`sweep`)."""
        event = self.program.events[e]
        if isinstance(event, Guard):
            test = f"{self.value(event.left)} {event.symbol} {self.value(event.right)}"
            test = f"not ({test})" if event.outcome else test
            return [Line(f"if {test}: _miss({self.checks[e]})  # guard")]
        if isinstance(event, Same):
            number = literal(event.number)
            return [
                Line(
                    f"if not _same({self.value(event.node)}, {number}): _miss({self.checks[e]})"
                    f"  # {event.how} read as {number}"
                )
            ]
        if isinstance(event, RuleCheck):
            rule = self.global_(f"rule{event.index}_", event.op.derivatives[event.index], event.op)
            args = ", ".join(self.value(a) for a in event.arguments)
            return [
                Line(
                    f"if not _same({rule}({args}), {self.value(event.partial)}): "
                    f"_miss({self.checks[e]})  # the rule took this branch"
                )
            ]
        assert isinstance(event, Copy)
        name = self.names[event.node]
        return [Line(f"{name} = {self.value(event.source)}  # Value(x) of a float argument", name)]

    # ---- back: the float sweep, written out ---------------------------------------------

    def leads(self, sweep: Sweep) -> set[int]:
        """The nodes whose gradient reaches a source: the sweep skips the others."""
        leads = set(sweep.keep)
        flat = self.flat
        for i in sweep.rows:
            out, _, a, _, da, b, _, db, _ = record.row(flat, i)
            if (da is not None and a in leads) or (db is not None and b in leads):
                leads.add(out)
        return leads

    def partial(self, row: int, slot: int, args: list[str]) -> str:
        """The text of the partial in slot ``slot`` (0 for A, 1 for B) of row ``row``,
        whose step has the argument texts ``args``."""
        k = self.row_step[row]
        step = self.steps[k]
        position = row - step.first
        if position == 0:
            argument = slot
        elif slot == 0:
            return ONE  # the hidden node that chains an op's arguments through its rows
        else:
            argument = position + 1
        inline = _PARTIAL.get(step.op)
        if inline is not None:
            return inline(argument, args)
        return self.partial_name(k, argument)

    def back(
        self,
        rows: Sequence[int],
        sweep: int,
        present: dict[int, str],
        leads: set[int],
        arguments: Callable[[int], list[str]],
        inside: Callable[[int], bool] | None = None,
        lines: list[Line] | None = None,
    ) -> dict[int, None]:
        """Sweep back over ``rows`` (descending), as :func:`.reverse.float_sweep` does.

        ``present`` holds the text of each gradient so far (a name, a literal, or another
        gradient's name where it is the same number) and is updated. A contribution to a
        node for which ``inside`` is false is written to the node's own variable, never
        aliased, so that it can be passed on. Lines go to ``lines``, if given.

        Returns the nodes ``inside`` refused whose gradient changed here.
        """
        flat = self.flat
        touched: dict[int, None] = {}
        for i in rows:
            out, _, a, _, da, b, _, db, _ = record.row(flat, i)
            g = present.get(out)
            if g is None or out not in leads:
                continue
            args = arguments(self.row_step[i])
            for slot, node, d in ((0, a, da), (1, b, db)):
                if d is None or node not in leads:
                    continue
                assert node is not None
                p = self.partial(i, slot, args)
                c = g if p == ONE else _negated(g) if p == MINUS_ONE else f"{g} * {p}"
                prev = present.get(node)
                local = inside is None or inside(node)
                if prev is not None:
                    grad = self.gradient(node, sweep)
                    if lines is not None:
                        lines.append(Line(f"{grad} = {prev} + {c}{self._why(i, out, node)}", grad))
                    present[node] = grad
                elif local and LOCAL.fullmatch(c.lstrip("-")):
                    present[node] = c  # the same number under another name: no line
                else:
                    grad = self.gradient(node, sweep)
                    if lines is not None:
                        lines.append(Line(f"{grad} = {c}{self._why(i, out, node)}", grad))
                    present[node] = grad
                if not local:
                    touched[node] = None
        return touched

    def _why(self, row: int, out: int, node: int) -> str:
        """A comment naming the op a gradient line goes back through."""
        step = self.steps[self.row_step[row]]
        return f"  # {step.op.name}: d {self.name(step.out)}/d {self.name(node)}"

    def results(self, sweep: Sweep, present: dict[int, str]) -> list[Line]:
        """A sweep's results named as the Values the gradient call returned, and the NaN
        test: a NaN anywhere on the way back reaches a result (see ``codegen.py``)."""
        lines = []
        names = []
        for result, source in sweep.results.items():
            name = self.names[result]
            lines.append(Line(f"{name} = {present[source]}  # d/d {self.name(source)}", name))
            names.append(name)
        if names:
            test = " or ".join(f"{n} != {n}" for n in names)
            lines.append(
                Line(f"if {test}: _nan()  # NaN: Python's sweep, where 0 * inf is 0, answers")
            )
        return lines
