"""A long program as functions of at most a thousand units, repeated blocks sharing one.

``run(_x)`` calls, in order, one function per *chunk* of the program's ops and checks,
and at each gradient one function per chunk that the gradient sweeps back over, last
chunk first. Each function takes the variables its lines read that come from before
it, and returns those that lines after it read: the forward pass returns the numbers
the sweep needs, and a chunk's sweep returns the gradients it passes on. Python then
compiles a long program function by function, in linear time, and no function comes
near a limit of the compiler.

Chunks follow the repeated blocks that ``blocks.py`` finds: a run of equal blocks is
cut into chunks of whole blocks, and chunks that compute the same thing on other
numbers (same ops, same shape of arguments, the same of their values needed later)
share one compiled function, written once in the names of the first of them. Their
constants become arguments (``c0, c1, ...``). A chunk's sweep is shared the same way
when the gradients it starts from, and the nodes it may skip, have the same shape.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ..core.recording import record
from .blocks import WINDOW, runs
from .calls import Call, Function, Place, bundled
from .program import Copy, Guard, RuleCheck, Same, Sweep
from .writer import Line, Writer, literal

__all__ = ["assemble"]

_NEVER = 1 << 62  # a use after everything: a result the program returns


class _Chunk:
    """A stretch of units of the program, as one call of a generated function."""

    __slots__ = (
        "const",
        "end",
        "events",
        "external",
        "internal",
        "key",
        "rows",
        "saved",
        "start",
        "steps",
    )

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self.steps: list[int] = []
        self.events: list[int] = []
        self.internal: list[int] = []  # nodes it makes: row outputs, then copies
        self.external: list[int] = []  # nodes it reads from before it, first read first
        self.const: list[str] = []  # its constants' literals, in order
        self.rows: list[int] = []
        self.key: object = None
        self.saved = ""  # the variable of run() that holds what only its sweeps read


def assemble(writer: Writer, chunk: int) -> str:
    """The source of a long program: its functions, then ``run(_x)`` calling them."""
    return _Assembler(writer, chunk).source()


class _Assembler:
    def __init__(self, writer: Writer, size: int) -> None:
        self.writer = writer
        self.size = size
        program = writer.program
        events = program.events
        # ---- units: steps and events, in the order they happened --------------------------
        units: list[tuple[bool, int]] = []  # (is a step, its index)
        e = 0
        for k, step in enumerate(writer.steps):
            while e < len(events) and events[e].at <= step.first:
                units.append((False, e))
                e += 1
            units.append((True, k))
        units.extend((False, i) for i in range(e, len(events)))
        self.units = units
        self.outs = record.outputs(writer.flat)
        self.step_of = {step.out: k for k, step in enumerate(writer.steps)}
        self.signatures = self._signatures()
        self.last_use, self.readers = self._last_uses()
        self.chunks = self._plan()
        self.functions: dict[object, Function] = {}
        self.count: dict[object, int] = {}
        for c in self.chunks:
            self.count[c.key] = self.count.get(c.key, 0) + 1
        self.lines: list[str | Call] = []  # the body of run()

    # ---- planning ---------------------------------------------------------------------

    def _signatures(self) -> list[int]:
        """Per unit: equal for units that do the same to arguments in the same places."""
        writer = self.writer
        made: dict[int, int] = {}  # node -> the unit that made it
        ids: dict[tuple[object, ...], int] = {}
        signatures = []
        unique = -1
        for u, (is_step, i) in enumerate(self.units):
            if not is_step:
                event = writer.program.events[i]
                if isinstance(event, Copy):
                    made[event.node] = u
                signatures.append(unique)  # a check or a sweep: never part of a block
                unique -= 1
                continue
            step = writer.steps[i]
            shape: list[object] = [step.op, writer.program.taped[i]]
            for node in step.inputs:
                if node is None:
                    shape.append(-1)
                else:
                    at = made.get(node)
                    shape.append(0 if at is None or u - at > WINDOW else u - at)
            made[step.out] = u
            signatures.append(ids.setdefault(tuple(shape), len(ids)))
        return signatures

    def _last_uses(self) -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
        """The last unit that reads each node in the forward pass (ops, checks, the seeds
        of sweeps, results), and the first and last op whose partials read it in a sweep."""
        writer = self.writer
        last: dict[int, int] = {}
        readers: dict[int, tuple[int, int]] = {}
        for u, (is_step, i) in enumerate(self.units):
            if is_step:
                for node in writer.steps[i].inputs:
                    if node is not None:
                        last[node] = u
                continue
            event = writer.program.events[i]
            if isinstance(event, Sweep):
                for seed in event.seeds.values():
                    if type(seed) is int:
                        last[seed] = u
                for r in event.rows:
                    k = writer.row_step[r]
                    for node in writer.reads(k):
                        low, high = readers.get(node, (k, k))
                        readers[node] = (min(low, k), max(high, k))
                continue
            if isinstance(event, Guard):
                found = [event.left, event.right]
            elif isinstance(event, Same):
                found = [event.node]
            elif isinstance(event, RuleCheck):
                found = [*event.arguments, event.partial]
            else:
                assert isinstance(event, Copy)
                found = [event.source]
            for operand in found:
                if type(operand) is int:
                    last[operand] = u
        for node in writer.program.outputs:
            last[node] = _NEVER
        return last, readers

    def _plan(self) -> list[_Chunk]:
        """Cut the units into chunks: runs of blocks into chunks of whole blocks, the rest
        into chunks of at most ``size`` units; a sweep is a chunk of its own."""
        n = len(self.units)
        cuts: list[tuple[int, int]] = []
        start = 0
        sweeps = [
            u
            for u, (is_step, i) in enumerate(self.units)
            if not is_step and isinstance(self.writer.program.events[i], Sweep)
        ]
        for stop in [*sweeps, n]:
            at = start
            for first, period, count in runs(self.signatures, start, stop):
                self._straight(cuts, at, first)
                per = max(1, 2 * self.size // period)  # whole blocks, up to twice as many units
                for g in range(0, count, per):
                    cuts.append((first + g * period, first + min(g + per, count) * period))
                at = first + count * period
            self._straight(cuts, at, stop)
            if stop < n:
                cuts.append((stop, stop + 1))
            start = stop + 1
        return [self._chunk(a, b) for a, b in cuts]

    def _straight(self, cuts: list[tuple[int, int]], start: int, end: int) -> None:
        for a in range(start, end, self.size):
            cuts.append((a, min(a + self.size, end)))

    def _chunk(self, start: int, end: int) -> _Chunk:
        """A chunk, with its nodes in order and its key: chunks of equal keys compute the
        same on other numbers, and need the same of what they make afterwards."""
        writer = self.writer
        c = _Chunk(start, end)
        inside: set[int] = set()
        for is_step, i in self.units[start:end]:
            if is_step:
                c.steps.append(i)
                step = writer.steps[i]
                for r in range(step.first, step.first + max(step.op.arity - 2, 0) + 1):
                    c.rows.append(r)
                    c.internal.append(self.outs[r])
                    inside.add(self.outs[r])
            else:
                c.events.append(i)
                event = writer.program.events[i]
                if isinstance(event, Copy):
                    c.internal.append(event.node)
                    inside.add(event.node)
        pattern: list[int] = []
        position: dict[int, int] = {}
        for k in c.steps:
            step = writer.steps[k]
            for node, x in zip(step.inputs, step.values, strict=True):
                if node is None:
                    c.const.append(literal(x))
                elif node not in inside:
                    pattern.append(position.setdefault(node, len(position)))
        c.external = list(position)
        # What it makes that is read after it: by later code (named in run()), or only by
        # its own sweeps (kept in one tuple, which run() hands to them unopened).
        named: list[int] = []
        saved: list[int] = []
        low, high = (c.steps[0], c.steps[-1]) if c.steps else (0, -1)
        for p, node in enumerate(c.internal):
            read = self.readers.get(node)
            if self.last_use.get(node, -1) >= end or (
                read is not None and (read[0] < low or read[1] > high)
            ):
                named.append(p)
            elif read is not None:
                saved.append(p)
        kept = tuple(p for p, k in enumerate(c.steps) if k in writer.partials_kept)
        c.key = (
            tuple(self.signatures[start:end]),
            tuple(pattern),
            tuple(named),
            tuple(saved),
            kept,
        )
        return c

    # ---- naming across chunks of one kind ---------------------------------------------------

    def describe(self, c: _Chunk, name: str) -> Place:
        """A variable of chunk ``c``'s code, as a place that every chunk of its kind has."""
        if name == "_s":
            return ("saved", "", 0, 0)
        if name == "_k":
            return ("constants", "", 0, 0)
        writer = self.writer
        kind = name[0]
        base, _, suffix = name[1:].partition("_")
        number = int(suffix) if suffix else 0
        node = writer.nodes["v" + base]
        if kind == "d":
            return ("d", "", c.steps.index(self.step_of[node]), number)
        if node in c.internal:
            return (kind, "i", c.internal.index(node), number)
        if node in c.external:
            return (kind, "e", c.external.index(node), number)
        return ("abs", name, 0, 0)  # a seed: the same in every chunk of this kind

    def render(self, c: _Chunk, place: Place) -> str:
        """The variable of chunk ``c`` at ``place`` (from :meth:`describe`)."""
        writer = self.writer
        kind, side, p, number = place
        if kind == "abs":
            return side
        if kind == "saved":
            return c.saved
        if kind == "constants":
            return f"({''.join(x + ', ' for x in c.const)})"
        if kind == "d":
            return writer.partial_name(c.steps[p], number)
        node = c.internal[p] if side == "i" else c.external[p]
        return writer.value(node) if kind == "v" else writer.gradient(node, number)

    def function(
        self,
        key: object,
        c: _Chunk,
        lines: list[Line],
        returns: list[str],
        prefix: str,
        saved: list[str],
    ) -> Function:
        """The function of ``lines`` (written for chunk ``c``), taking what they read from
        before them and returning ``returns``. A forward function also returns ``saved``
        as one tuple; a sweep's takes that tuple as ``_s`` and opens it."""
        defined: set[str] = set()
        params: dict[str, None] = {}
        for line in lines:
            for use in line.uses:
                if use not in defined:
                    params.setdefault(use)
            defined.update(line.defs)
        body = [line.text for line in lines]
        if any(p[0] == "c" for p in params):
            # The constants come as one tuple, written as a literal at each call: Python
            # makes it once, when it compiles run().
            for j in range(len(c.const)):
                params.pop(f"c{j}", None)
            params["_k"] = None
            body.insert(0, f"({''.join(f'c{j}, ' for j in range(len(c.const)))}) = _k")
        saves: list[str] = []
        if prefix == "forward":
            saves = saved
        elif saved and any(p in params for p in saved):
            for p in saved:
                params.pop(p, None)
            params = {"_s": None, **params}
            body.insert(0, f"({''.join(s + ', ' for s in saved)}) = _s")
        found = Function(
            f"_{prefix}{len(self.functions)}",
            list(params),
            returns,
            body,
            saves,
            [self.describe(c, p) for p in params],
            [self.describe(c, r) for r in returns],
        )
        self.functions[key] = found
        return found

    def call(self, f: Function, c: _Chunk, comment: str) -> None:
        self.lines.append(
            Call(
                f,
                [self.render(c, p) for p in f.places],
                [self.render(c, r) for r in f.yields],
                c.saved if f.saves else "",
                comment,
            )
        )

    # ---- writing ----------------------------------------------------------------------------

    def source(self) -> str:
        writer = self.writer
        program = writer.program
        inputs = [writer.names[n] for n in program.inputs]
        self.lines.append(f"({''.join(i + ', ' for i in inputs)}) = _x")
        done: list[_Chunk] = []
        sweeps = 0
        for c in self.chunks:
            first_unit = self.units[c.start]
            if not first_unit[0] and isinstance(program.events[first_unit[1]], Sweep):
                self.sweep(program.events[first_unit[1]], sweeps, done)  # type: ignore[arg-type]
                sweeps += 1
                continue
            self.forward(c)
            done.append(c)
        outputs = [writer.value(n) for n in program.outputs]
        self.lines.append(f"return ({''.join(o + ', ' for o in outputs)})")
        constants = [
            f"{writer.names[n]} = {literal(x)}  # a Value made from a number"
            for n, x in program.constants.items()
            if n in writer.names
        ]
        self.lines[1:1] = constants
        texts, body = bundled(self.lines, self.functions.values())
        return "\n".join([*texts, "def run(_x):", *(f"    {line}" for line in body), ""])

    def forward(self, c: _Chunk) -> None:
        writer = self.writer
        f = self.functions.get(c.key)
        if f is None:
            shared = self.count[c.key] > 1
            constants = self._constant_names(c) if shared else None
            lines: list[Line] = []
            for is_step, i in self.units[c.start : c.end]:
                if is_step:
                    lines.extend(writer.forward(i, writer.arguments(i, constants)))
                else:
                    lines.extend(writer.event(i))
            f = self.function(c.key, c, lines, self.named(c), "forward", self.kept(c))
        if f.saves:
            c.saved = f"s{c.start}"
        self.call(f, c, f"{len(c.steps)} op{'' if len(c.steps) == 1 else 's'}")

    def named(self, c: _Chunk) -> list[str]:
        """What chunk ``c`` makes that later code reads: its variables in run()."""
        return [self.writer.value(c.internal[p]) for p in c.key[2]]  # type: ignore[index]

    def kept(self, c: _Chunk) -> list[str]:
        """What chunk ``c`` makes that only its own sweeps read: numbers, and partials
        its ops computed when they ran."""
        writer = self.writer
        kept = [writer.value(c.internal[p]) for p in c.key[3]]  # type: ignore[index]
        for p in c.key[4]:  # type: ignore[index]
            k = c.steps[p]
            if k not in writer.partials_kept or not writer.program.taped[k]:
                continue
            kept.extend(
                writer.partial_name(k, i)
                for i, node in enumerate(writer.steps[k].inputs)
                if node is not None
            )
        return kept

    def _constant_names(self, c: _Chunk) -> dict[tuple[int, int], str]:
        """The name of each constant argument of ``c``'s ops: ``c<j>`` for the ``j``-th."""
        names: dict[tuple[int, int], str] = {}
        for k in c.steps:
            for i, node in enumerate(self.writer.steps[k].inputs):
                if node is None:
                    names[(k, i)] = f"c{len(names)}"
        return names

    def sweep(self, sweep: Sweep, index: int, done: Sequence[_Chunk]) -> None:
        writer = self.writer
        present = {t: writer.value(s) for t, s in sweep.seeds.items()}
        leads = writer.leads(sweep)
        swept = set(sweep.rows)
        self.lines.append(f"# the gradient of {', '.join(map(writer.name, sweep.seeds))}")
        for c in reversed(done):
            rows = [r for r in reversed(c.rows) if r in swept]
            if not rows:
                continue
            inside = set(c.internal)
            nodes = [*c.internal, *c.external]

            def state(n: int) -> object:
                g = present.get(n)
                return 0 if g is None else 1 if g == writer.gradient(n, index) else g

            key = (
                c.key,
                index,
                tuple(r - c.rows[0] for r in rows),
                tuple(n in leads for n in nodes),
                tuple(state(n) for n in nodes),
            )
            f = self.functions.get(key)
            if f is None:
                shared = self.count[c.key] > 1
                constants = self._constant_names(c) if shared else None
                lines: list[Line] = []
                touched = writer.back(
                    rows,
                    index,
                    present,
                    leads,
                    functools.partial(writer.arguments, constants=constants),
                    inside.__contains__,
                    lines,
                )
                returns = [writer.gradient(n, index) for n in touched]
                f = self.function(key, c, lines, returns, "back", self.kept(c))
                f.touched = [c.external.index(n) for n in touched]
            else:
                # The same sweep as the chunk it was written for: it leaves the gradients of
                # the same externals in their own variables (its internals are done with).
                for p in f.touched:
                    node = c.external[p]
                    present[node] = writer.gradient(node, index)
            self.call(f, c, f"back over {len(c.steps)} op{'' if len(c.steps) == 1 else 's'}")
        self.lines.extend(line.text for line in writer.results(sweep, present))
