"""A traced path of a compiled function: its code, and how a call turns into its result.

``function.py`` keeps, per structure of arguments, an :class:`Entry` of the paths
traced for it (one per outcome of the guards); a :class:`Path` runs its generated code
on a call's numbers and builds the function's result from what the code returns.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import TypeAlias

from ..core.values.value import Value, read
from .codegen import Generated, Retrace
from .nest import Plan, rebuild
from .program import Guard, Program, RuleCheck, Same
from .sources import Sources

__all__ = ["ARGUMENT", "CONSTANT", "NUMBER", "SOURCE", "STATIC", "VALUE", "Entry", "Leaf", "Path"]

# How each leaf of a traced path's result is made on a call (see Function._results).
VALUE, NUMBER, ARGUMENT, CONSTANT, STATIC, SOURCE = range(6)

Leaf: TypeAlias = tuple[int, int, int, object]
"""(kind, index, node, thing): a new Value from output ``index`` (one per ``node``), a
float from output ``index``, the argument leaf ``index`` itself, a new Value holding the
number ``thing`` (one per ``node``), ``thing`` itself (a constant), or the Value from
before the call that the call finds at ``index`` (see ``sources.py``)."""


class Path:
    """One traced path: its code, the Values it reads from before the call, and how to
    turn the numbers it returns into the function's result."""

    __slots__ = ("expected", "generated", "leaves", "plan", "reads", "reasons", "sources")

    def __init__(
        self,
        program: Program,
        generated: Generated,
        sources: Sources,
        reads: int,
        leaves: list[Leaf],
        plan: Plan,
    ) -> None:
        self.generated = generated  # the records themselves are not kept: only the code
        self.sources = sources
        self.reads = reads  # the first `reads` Values found are inputs of the code
        self.leaves = leaves
        self.plan = plan
        checks = program.checks()
        self.expected: list[Hashable] = [_expected(c) for c in checks]
        shared: dict[str, str] = {}  # one string for the many checks of one line
        self.reasons = [shared.setdefault(r, r) for r in map(_reason, checks)]

    def why(self, check: int | None) -> str:
        """Why a call that failed check ``check`` (None: an op's domain) needs another path."""
        if check is None:
            return "an op's argument left its domain"
        return self.reasons[check]

    def same(self, other: Path) -> bool:
        """Whether ``other`` is this path traced again: the same checks, the same
        outcomes, the same things found before the call."""
        return (
            self.expected == other.expected
            and self.sources.same(other.sources)
            and self.generated.source == other.generated.source
        )

    def call(
        self,
        numbers: list[float],
        arguments: list[object],
        fn: object,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> object:
        found = self.sources.values(fn, args, kwargs, arguments)
        if found is None:
            raise Retrace(None, "something the function reads from before the call changed")
        numbers.extend(read(v) for v in found[: self.reads])  # type: ignore[arg-type]
        out = self.generated.run(numbers)
        made: dict[int, Value] = {}
        leaves: list[object] = []
        for kind, index, node, thing in self.leaves:
            if kind == VALUE or kind == CONSTANT:  # a Value: a new one per call
                v = made.get(node)
                if v is None:
                    v = made[node] = Value(out[index] if kind == VALUE else thing)  # type: ignore[arg-type]
                leaves.append(v)
            elif kind == NUMBER:
                leaves.append(out[index])
            elif kind == ARGUMENT:
                leaves.append(arguments[index])
            elif kind == SOURCE:
                leaves.append(found[self.reads + index])
            else:
                leaves.append(thing)
        return rebuild(self.plan, leaves)


def _expected(check: Guard | Same | RuleCheck) -> Hashable:
    if isinstance(check, Guard):
        return check.outcome
    if isinstance(check, Same):
        return ("same", check.number.hex())
    return ("rule", id(check))  # never equal across paths: any path may pass it


def _reason(check: Guard | Same | RuleCheck) -> str:
    if isinstance(check, Guard):
        return f"a comparison of Values came out the other way{check.where}"
    if isinstance(check, Same):
        return f"a number read by {check.how} changed{check.where}"
    return f"a derivative rule of {check.op.name} took another branch"


class Entry:
    """The paths traced for one structure of arguments, most recently used first.

    ``tracing`` is set while a thread traces for it (the others wait for its code);
    ``calls`` and ``misses`` count, once the function's traces are used up, the calls
    and those that fit no path (see ``Function._trace``).
    """

    __slots__ = ("calls", "eager", "misses", "paths", "tracing")

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self.eager = False
        self.tracing: threading.Event | None = None
        self.calls = 0
        self.misses = 0
