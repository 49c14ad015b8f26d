"""Records to code: a traced program written as straight-line Python on floats.

The third transformation, beside the reverse sweeps (``core/transforms/reverse.py``): a
recorded run is a straight-line program, and Python runs a straight-line program of float arithmetic
far faster than it records one. :func:`generate` writes one line per op, in record
order: ``+``, ``-``, ``*``, ``/``, unary ``-``, ``relu`` and ``hold`` as Python
expressions, every other op (plugins included) as a call of its own float ``forward``,
passed in through the function's globals. Where the run swept a gradient back on
floats (``Sweep``), the generated code does exactly what :func:`.reverse.float_sweep`
does there, row by row from the last: the same products, added in the same order, so
that the numbers are the same to the last bit.

What the code cannot decide it refuses, by raising, and the caller runs the function
again in Python:

- a check of the program that fails (:class:`Retrace`, with its index): a guard that
  comes out the other way, a number read that changed, a rule that gives another
  partial: another path through the function;
- an op that fails (``math.log(0.0)``, ``x / 0.0``, a domain test): the Python run
  raises the op's own :class:`~microtape.DomainError`;
- a gradient that comes out NaN (:class:`NotANumber`). The float sweep takes a product
  with a zero factor as 0, even where the other factor is infinite or NaN; doing the
  same would need a test per product. Instead none is made, and a NaN in a result (which
  any NaN on the way back would reach, since sums and products keep NaN) hands the call
  to Python. Without one, each gradient is the float sweep's exactly.

A program of at most :data:`CHUNK` ops is one function, ``run``, in record order,
for reading. A longer one is cut into functions of about :data:`CHUNK` ops, each
passing on only the variables later code reads, repeated blocks sharing one function
(``blocks.py``, ``chunks.py``): Python compiles one function of a million lines slowly
and may exhaust its limits, and a hundred copies of one block cost a hundred times the
compiling of one. The lines themselves are written by ``writer.py``.
"""

from __future__ import annotations

import itertools
import keyword
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Final, NoReturn, cast

from ..core.values import builtins as _b
from ..core.values.builtins import strong_product
from ..core.values.names import given
from ..core.values.op import Op
from .chunks import assemble
from .program import Program, Sweep
from .writer import Line, Writer

__all__ = ["CHUNK", "Generated", "NotANumber", "Retrace", "generate"]

CHUNK = 1000
"""Units (ops and checks) per generated function in a long program (runs of repeated
blocks take up to twice as many, in whole blocks)."""


class Retrace(Exception):
    """The generated code cannot answer this call: run the function in Python.

    ``check`` is the index of the check that failed (another path), or None; ``why``
    says why where no check of the code failed.
    """

    def __init__(self, check: int | None = None, why: str | None = None) -> None:
        super().__init__(check)
        self.check = check
        self.why = why


class NotANumber(Exception):
    """A gradient came out NaN, where the float sweep (which takes 0 times infinity as 0)
    may give a number: run in Python."""


def _miss(check: int) -> NoReturn:
    raise Retrace(check)


def _nan() -> NoReturn:
    raise NotANumber()


def _refuse() -> NoReturn:
    raise Retrace(None)


def _same(a: float, b: float) -> bool:
    """Bit for bit: ``-0.0`` is not ``0.0``, and NaN is NaN."""
    if a == b:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return a != a and b != b


def _fpow(x: float, y: float) -> float:
    """``x ** y`` of floats in the function as written: where Python's floats raise or
    give a complex number, the function runs as written."""
    try:
        z = x**y
    except (OverflowError, ZeroDivisionError):
        raise Retrace(None) from None
    if type(z) is not float:
        raise Retrace(None)
    return z


def _result(op: Op, y: object, args: tuple[float, ...]) -> float:
    return op._checked_result(y, args)


def _partial(op: Op, index: int, d: object, args: tuple[float, ...]) -> float:
    return op._checked_partial(d, index, args)


_HELPERS: Final[dict[str, object]] = {
    "inf": math.inf,
    "nan": math.nan,
    "_miss": _miss,
    "_nan": _nan,
    "_refuse": _refuse,
    "_fpow": _fpow,
    "_sigmoid": _b._sigmoid,
    "_same": _same,
    "_result": _result,
    "_partial": _partial,
    "_strong": strong_product,
}


class Generated:
    """The code written for a program.

    Attributes:
        source: the Python source: a function ``run(_x)`` of the input floats that
            returns the output floats, after the functions it calls.
        run: that function, compiled.
        checks: how many checks it tests (guards and the like).
    """

    __slots__ = ("checks", "run", "source")

    def __init__(
        self, source: str, run: Callable[[Sequence[float]], tuple[float, ...]], checks: int
    ) -> None:
        self.source = source
        self.run = run
        self.checks = checks


def generate(program: Program, chunk: int | None = None) -> Generated:
    """Write ``program`` as Python and compile it.

    A program of at most ``chunk`` ops and checks is one function, ``run``, one line per
    op; a longer one is cut into functions of at most ``chunk`` units, repeated blocks
    sharing one (``chunks.py``).

    Raises:
        ValueError: if the program reads a node it gives no number for.
    """
    chunk = CHUNK if chunk is None else chunk
    writer = Writer(program, program.steps())
    checks = len(writer.checks)
    sweeps = sum(isinstance(e, Sweep) for e in program.events)
    title = (
        f"# {program.name}, traced by mt.function: {_count(len(writer.steps), 'op')}, "
        f"{_count(checks, 'check')}, {_count(sweeps, 'gradient')}"
    )
    inputs = [writer.names[n] for n in program.inputs]
    short = len(writer.steps) + len(program.events) <= chunk
    renamed = _learner_names(writer) if short else {}  # a short program is read: w, not v0
    if program.labels:
        shown = [
            label if renamed.get(name) == label else f"{renamed.get(name, name)} = {label}"
            for name, label in zip(inputs, program.labels, strict=True)
        ]
        more = f", and {len(shown) - 20} more" if len(shown) > 20 else ""
        title += "\n# inputs: " + ", ".join(shown[:20]) + more
    if short:
        body = _inline(writer)
        outputs = [writer.value(n) for n in program.outputs]
        code = "\n".join(
            [
                "def run(_x):",
                f"    ({''.join(i + ', ' for i in inputs)}) = _x",
                *(f"    {line.text}" for line in body),
                f"    return ({''.join(o + ', ' for o in outputs)})",
                "",
            ]
        )
        source = title + "\n" + _renamed(code, renamed)
    else:
        writer.named_constants = True
        source = title + "\n" + assemble(writer, chunk)
    namespace: dict[str, object] = {**_HELPERS, **writer.globals}
    exec(compile(source, f"<mt.function {program.name}>", "exec"), namespace)
    run = cast(Callable[[Sequence[float]], tuple[float, ...]], namespace["run"])
    return Generated(source, run, checks)


_NOT_NAMES: Final = re.compile(r"[vdgcs]\d+(?:_\d+)?|[dg]\d*_.*|run|inf|nan|type|float")
"""What a learner's name must not be in the code: the names the writer makes (``v3``,
``g3_1``, ``d3_0``, ``c0``, ``s4``), those made from a learner's name below (``g_w``,
``d0_w``), and the other names the code reads."""


def _learner_names(writer: Writer) -> dict[str, str]:
    """What each variable is renamed to: ``v3`` to the learner's name of its node, where it
    has one that can be a Python name (``xs[2]`` becomes ``xs_2``) and no other node takes
    it first; the others numbered again from ``v0``, in the order the code names them.
    Names found in the function come first (``loss``), then what each input is (``w``, a
    parameter's name), then names given with ``Value(x, name=...)`` or by ``mt.nn``."""
    program = writer.program
    wanted: list[tuple[int, str]] = [*program.names.items()]
    wanted += zip(program.inputs, program.labels, strict=False)  # labels may be empty
    wanted += [(node, name) for node in writer.names if (name := given(node)) is not None]
    renamed: dict[str, str] = {}
    taken: set[str] = set()
    for node, name in wanted:
        local = writer.names.get(node)
        if local is None or local in renamed:
            continue
        name = unicodedata.normalize("NFKC", re.sub(r"\W+", "_", name).strip("_"))
        if (
            name.isidentifier()
            and not name[0].isdigit()
            and not keyword.iskeyword(name)
            and not _NOT_NAMES.fullmatch(name)
            and name not in taken
        ):
            renamed[local] = name
            taken.add(name)
    numbers = (f"v{k}" for k in itertools.count())  # the others: v0, v1, ... in code order
    for local in writer.names.values():
        if local not in renamed:
            renamed[local] = next(numbers)
    return renamed


def _renamed(code: str, renamed: dict[str, str]) -> str:
    """``code`` with each variable renamed, and the gradients and partials written after it
    named after it: ``g3`` and ``g3_1``, ``d3_0`` for ``v3``; ``g_w``, ``g1_w``, ``d0_w``
    for ``w``; in the code and its comments alike."""
    if not renamed:
        return code

    def name(found: re.Match[str]) -> str:
        kind, number, suffix = found.groups()
        new = renamed.get(f"v{number}")
        if new is None or (kind == "v" and suffix is not None) or (kind == "d" and not suffix):
            return found.group()
        if kind == "v":
            return new
        if new[0] == "v" and new[1:].isdigit():  # numbered again: g3, g3_1, d3_0
            return f"{kind}{new[1:]}{'' if suffix is None else '_' + suffix}"
        if kind == "g":
            return f"g_{new}" if suffix is None else f"g{suffix}_{new}"
        return f"d{suffix}_{new}"

    return re.sub(r"\b([vgd])(\d+)(?:_(\d+))?\b", name, code)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _inline(writer: Writer) -> list[Line]:
    """Every line of a short program, in order: ops, checks, and each sweep back."""
    program = writer.program
    lines: list[Line] = []
    e = 0
    events = program.events
    sweeps = 0

    def event(e: int) -> None:
        nonlocal sweeps
        found = events[e]
        if not isinstance(found, Sweep):
            lines.extend(writer.event(e))
            return
        present = {t: writer.value(s) for t, s in found.seeds.items()}
        lines.append(Line(f"# the gradient of {', '.join(map(writer.name, found.seeds))}"))
        writer.back(
            list(reversed(found.rows)),
            sweeps,
            present,
            writer.leads(found),
            writer.arguments,
            None,
            lines,
        )
        lines.extend(writer.results(found, present))
        sweeps += 1

    for k, step in enumerate(writer.steps):
        while e < len(events) and events[e].at <= step.first:
            event(e)
            e += 1
        lines.extend(writer.forward(k, writer.arguments(k)))
    while e < len(events):
        event(e)
        e += 1
    return lines
