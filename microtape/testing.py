"""Prove an op's derivatives right: ``check_op`` compares it with sympy on drawn points.

This is the check microtape runs on its own ops, offered to plugin authors::

    from microtape.testing import check_op

    def test_sinh() -> None:
        check_op(sinh)              # value, first, second and third partials, 100 points

At each point hypothesis draws from the op's declared domain, ``check_op`` compares
the value, every first partial (one tape, and one forward accumulator per argument)
and every second partial (two nested tapes, and forward mode nested each way: forward
over forward, forward over reverse, reverse over forward) with sympy's symbolic
derivatives evaluated at 40 significant digits at the exact float point. Where sympy
says the op or a derivative is not a finite real number, the op must raise
:class:`~microtape.DomainError` instead (or, where sympy's formula is only
indeterminate, return the one-sided limit sympy finds). An op without a sympy form is
checked against central finite differences.

At a kink (a point where the op's sympy form switches branches: the argument of
``Abs``, ``sign``, ``Heaviside``, ``Max``/``Min`` or a ``Piecewise`` condition is 0
there) a derivative need not exist, though the op is defined. There a derivative passes
when it equals sympy's value, one of its one-sided limits (along each argument, from
each side), or sympy's formula with every ``DiracDelta`` taken as 0: microtape's
convention, under which a piecewise-constant factor of a rule (``abs' = sign``, the
step of ``relu'``) has derivative 0 everywhere, its kink included. The op may also
refuse to record there (DomainError). The report counts such points.

Needs the ``testing`` extra (sympy and hypothesis): ``pip install 'microtape[testing]'``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

try:
    import hypothesis
    import mpmath
    import sympy
    from hypothesis import strategies as st
    from sympy.core.relational import Relational
except ImportError as _missing:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "microtape.testing needs sympy and hypothesis, which the core does not install; "
        "install the 'testing' extra: pip install 'microtape[testing]'"
    ) from _missing

from .core.errors import ArgumentTypeError, DomainError
from .core.tapes.accumulator import ForwardAccumulator
from .core.tapes.tape import GradientTape
from .core.values.interval import Interval
from .core.values.op import Op
from .core.values.value import Value
from .core.words import counted
from .registry.table import op as op_named
from .registry.table import ops as op_namespace
from .registry.table import origin, plugin_ops

__all__ = ["CheckReport", "check_op", "check_op_at", "check_plugin", "point_strategy"]

DIGITS: Final = 40
"""Significant digits sympy evaluates the expected values with."""

MAX_PRECISION: Final = 2000
"""The most digits sympy may work with to settle a value that cancels (``1 - tanh(x)**2``
at ``x = 1000`` is ``1e-868``: it takes about 900)."""


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_op` (or :func:`check_op_at`) checked, once every point passed.

    Attributes:
        op: the op's name.
        points: how many distinct points were checked.
        kinks: the points among them that are kinks of the op (where the kink rule of
            the module docstring applies), in the order they were first checked.
    """

    op: str
    points: int
    kinks: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class _Expected:
    """A value sympy gives at a point: a float (inf past the float range) or undefined."""

    number: float | None  # None: not a finite real number there
    expr: object = None  # the sympy expression, for limits at indeterminate points

    @property
    def defined(self) -> bool:
        return self.number is not None


class _Oracle:
    """What an op's value and partials should be at a point."""

    def value(self, point: Sequence[float]) -> _Expected:
        raise NotImplementedError

    def first(self, point: Sequence[float], i: int) -> _Expected:
        raise NotImplementedError

    def second(self, point: Sequence[float], i: int, j: int) -> _Expected:
        raise NotImplementedError

    def third(self, point: Sequence[float], i: int, j: int, k: int) -> _Expected:
        raise NotImplementedError

    def limits(self, expected: _Expected, point: Sequence[float]) -> list[float]:
        """Candidate values at a point where ``expected`` is indeterminate."""
        return []

    def at_kink(self, point: Sequence[float]) -> bool:
        """Whether the op's form switches branches at ``point`` (see the module docstring)."""
        return False

    def by_convention(self, expected: _Expected, point: Sequence[float]) -> float | None:
        """``expected`` by the kink convention: its formula with every DiracDelta as 0."""
        return None


class _SympyOracle(_Oracle):
    def __init__(self, op: Op) -> None:
        assert op.sympy is not None
        self.symbols = [sympy.Symbol(name, real=True) for name in op.arg_names]
        self.expr = sympy.sympify(op.sympy(*self.symbols))
        self.d1 = [sympy.diff(self.expr, s) for s in self.symbols]
        self.d2 = [[sympy.diff(d, s) for s in self.symbols] for d in self.d1]
        self._d3: dict[tuple[int, int, int], object] = {}
        self._lambdas: dict[int, Callable[..., object]] = {}
        self._keep: list[object] = []
        self._switches = _switches([self.expr, *self.d1, *(d for row in self.d2 for d in row)])
        self._kinks: dict[tuple[float, ...], bool] = {}
        self._flat: dict[int, object] = {}  # id(formula) -> the formula with DiracDelta as 0

    def _at(self, expr: object, point: Sequence[float]) -> _Expected:
        number = self._evaluate(expr, point)
        if number is not _UNSETTLED:
            return _Expected(number, expr)  # type: ignore[arg-type]  # a float or None
        return self._at_exactly(expr, point)

    def _evaluate(self, expr: object, point: Sequence[float]) -> float | object | None:
        """``expr`` at ``point`` with mpmath, at rising precision until two agree.

        sympy turns each derivative into an mpmath function once per op (``lambdify``),
        and evaluating it takes microseconds where ``evalf`` takes milliseconds. mpmath
        numbers have no exponent limit, so far tails (``erfc(70)``) come out right; the
        precision rises (30, 60, ... digits) until two evaluations give the same float,
        which settles cancellations such as ``1 - tanh(x)**2``. Returns ``_UNSETTLED``
        where that does not happen, or where the formula is not one mpmath can run.
        """
        function = self._lambdas.get(id(expr))
        if function is None:
            try:
                function = sympy.lambdify(self.symbols, expr, modules="mpmath")
            except Exception:  # a form lambdify cannot translate: evaluate exactly instead
                return _UNSETTLED
            self._lambdas[id(expr)] = function
            self._keep.append(expr)  # keeps id(expr) from being reused
        previous: float | object | None = _UNSETTLED
        for digits in _PRECISIONS:
            with mpmath.workdps(digits):
                try:
                    result = function(*(mpmath.mpf(p) for p in point))
                except (ZeroDivisionError, ValueError, OverflowError):
                    number: float | object | None = None
                except Exception:  # e.g. a function mpmath lacks: evaluate exactly instead
                    return _UNSETTLED
                else:
                    number = _mp_real(result)
                    if number is _UNSETTLED:
                        return _UNSETTLED
            if previous is not _UNSETTLED and _same(number, previous):
                if number == 0.0 and digits < _CONFIRM_ZERO:
                    # Zero twice may be a cancellation both precisions were too short for
                    # (1 - tanh(100)**2 is 5e-87): look once more, with enough digits to
                    # see any float (the smallest normal one is 2e-308).
                    previous = _UNSETTLED if number != self._once(function, point) else number
                    if previous is _UNSETTLED:
                        continue
                return number
            previous = number
        return _UNSETTLED

    @staticmethod
    def _once(function: Callable[..., object], point: Sequence[float]) -> float | object | None:
        with mpmath.workdps(_CONFIRM_ZERO):
            try:
                return _mp_real(function(*(mpmath.mpf(p) for p in point)))
            except (ZeroDivisionError, ValueError, OverflowError):
                return None

    def _at_exactly(self, expr: object, point: Sequence[float]) -> _Expected:
        subs = {s: sympy.Rational(p) for s, p in zip(self.symbols, point, strict=True)}
        form = sympy.sympify(expr)
        try:
            try:
                result = form.evalf(DIGITS, subs=subs, strict=True, maxn=MAX_PRECISION)
            except ArithmeticError:
                # Some part cancels to exactly zero, which evalf cannot tell from a tiny
                # number: without strict, 1/sqrt(x - 1) at x = 1 comes out as 1.5e99, not
                # infinite. Substituting exactly settles it (zoo there, 0 for x**2 - 1).
                # What is left is smaller than MAX_PRECISION digits can tell from 0
                # (1 - tanh(x)**2 at x = 1e300): chopped to 0, as a float rounds it.
                result = form.subs(subs).evalf(DIGITS, chop=True, maxn=MAX_PRECISION)
        except (ArithmeticError, ValueError, TypeError):
            return _Expected(None, expr)
        return _Expected(_real_number(result), expr)

    def value(self, point: Sequence[float]) -> _Expected:
        return self._at(self.expr, point)

    def first(self, point: Sequence[float], i: int) -> _Expected:
        return self._at(self.d1[i], point)

    def second(self, point: Sequence[float], i: int, j: int) -> _Expected:
        return self._at(self.d2[i][j], point)

    def third(self, point: Sequence[float], i: int, j: int, k: int) -> _Expected:
        key = (i, j, k)
        if key not in self._d3:  # differentiated on first use: order=2 never needs them
            self._d3[key] = sympy.diff(self.d2[i][j], self.symbols[k])
        return self._at(self._d3[key], point)

    def limits(self, expected: _Expected, point: Sequence[float]) -> list[float]:
        # sympy's formula can be indeterminate where the derivative exists: d/dy 0**y is
        # 0**y * log(0). Approach the point along each argument, from each side.
        candidates: list[float] = []
        expr = sympy.sympify(expected.expr)
        for k, s in enumerate(self.symbols):
            others = {
                t: sympy.Rational(p)
                for m, (t, p) in enumerate(zip(self.symbols, point, strict=True))
                if m != k
            }
            along = expr.subs(others)
            for side in ("+", "-"):
                try:
                    found = sympy.limit(along, s, sympy.Rational(point[k]), side)
                except (NotImplementedError, ValueError, TypeError, ArithmeticError):
                    continue
                number = _real_number(sympy.sympify(found).evalf(DIGITS))
                if number is not None and math.isfinite(number):
                    candidates.append(number)
        return candidates

    def at_kink(self, point: Sequence[float]) -> bool:
        key = tuple(point)
        if key not in self._kinks:
            subs = {s: sympy.Rational(p) for s, p in zip(self.symbols, point, strict=True)}
            self._kinks[key] = any(s.subs(subs).is_zero is True for s in self._switches)
        return self._kinks[key]

    def by_convention(self, expected: _Expected, point: Sequence[float]) -> float | None:
        flat = self._flat.get(id(expected.expr))
        if flat is None:
            expr = sympy.sympify(expected.expr)
            flat = expr.replace(sympy.DiracDelta, lambda *args: sympy.Integer(0))
            self._flat[id(expected.expr)] = flat
            self._keep.append(expected.expr)  # keeps id(expected.expr) from being reused
        if flat == expected.expr:
            return None  # no DiracDelta: the formula's own value, already compared
        return self._at(flat, point).number


def _switches(forms: Sequence[object]) -> list[sympy.Expr]:
    """The expressions whose zeros are an op's kinks: the arguments of Abs, sign,
    Heaviside and DiracDelta, the differences of the arguments of Max and Min, and the
    two sides of each condition of a Piecewise, as ``left - right``."""
    found: dict[sympy.Expr, None] = {}
    for form in forms:
        for node in sympy.preorder_traversal(sympy.sympify(form)):
            kind = node.func
            if kind in (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.DiracDelta):
                found[sympy.sympify(node.args[0])] = None
            elif kind in (sympy.Max, sympy.Min):
                for a, b in itertools.combinations(node.args, 2):
                    found[sympy.sympify(a) - sympy.sympify(b)] = None
            elif kind is sympy.Piecewise:
                for piece in node.args:  # (expression, condition) pairs
                    for relation in piece.args[1].atoms(Relational):
                        found[relation.lhs - relation.rhs] = None
    return [s for s in found if s.free_symbols]


class _FiniteDifferenceOracle(_Oracle):
    """For an op without a sympy form: central differences of the op itself."""

    def __init__(self, op: Op) -> None:
        self.op = op

    def _f(self, point: Sequence[float]) -> float | None:
        try:
            return float(self.op(*point))
        except DomainError:
            return None

    def _df(self, point: Sequence[float], i: int) -> float | None:
        try:
            return _first_partials(self.op, point)[i]
        except DomainError:
            return None

    @staticmethod
    def _central(
        f: Callable[[Sequence[float]], float | None], point: Sequence[float], i: int
    ) -> _Expected:
        h = 1e-5 * max(1.0, abs(point[i]))
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        fu, fd = f(up), f(down)
        if fu is None or fd is None or not (math.isfinite(fu) and math.isfinite(fd)):
            return _Expected(None)
        return _Expected((fu - fd) / (2 * h))

    def value(self, point: Sequence[float]) -> _Expected:
        return _Expected(self._f(point))

    def first(self, point: Sequence[float], i: int) -> _Expected:
        return self._central(self._f, point, i)

    def second(self, point: Sequence[float], i: int, j: int) -> _Expected:
        return self._central(lambda p: self._df(p, i), point, j)

    def third(self, point: Sequence[float], i: int, j: int, k: int) -> _Expected:
        return self._central(lambda p: self.second(p, i, j).number, point, k)


_UNSETTLED: Final = object()
"""No answer yet: the formula did not settle in mpmath, or is not one mpmath can run."""

_PRECISIONS: Final = (30, 60, 120, 240, 480, 960, 1920)
"""Digits mpmath evaluates with, in turn, until two evaluations agree."""

_CONFIRM_ZERO: Final = 400
"""Digits that confirm a zero two shorter evaluations agreed on."""


def _mp_real(result: object) -> float | object | None:
    """The float of an mpmath result: None where it is infinite, NaN or not real (as for
    sympy's ``oo``, ``nan``, ``zoo``); inf past the float range (a huge finite number)."""
    if isinstance(result, mpmath.mpc):
        if result.imag != 0:
            return None
        result = result.real
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        result = mpmath.mpf(result)
    if not isinstance(result, mpmath.mpf):
        return _UNSETTLED
    if mpmath.isnan(result) or mpmath.isinf(result):
        return None
    return float(result)


def _same(a: object, b: object) -> bool:
    return a is b or (isinstance(a, float) and isinstance(b, float) and a == b)


def _real_number(result: object) -> float | None:
    """The float value of a sympy number, inf past the float range; None if not real."""
    number = sympy.sympify(result)
    if not number.is_number or number.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return None
    real, imag = number.as_real_imag()
    if not sympy.sympify(imag).is_zero:
        return None  # complex, however small: (-1e-6) ** 54.5 is not real, even if tiny
    try:
        return float(real)
    except (TypeError, ValueError):
        return None


# ---- running the op on the engine ---------------------------------------------------------


def _first_partials(op: Op, point: Sequence[float]) -> list[float]:
    values = [Value(p) for p in point]
    with GradientTape() as tape:
        out = op(*values)
    grads = tape.gradient(out, values, unconnected_gradients="zero")
    return [float(g) for g in grads if g is not None]


@dataclass(frozen=True)
class _Context:
    op: Op
    rtol: float
    atol: float
    points: dict[tuple[float, ...], None] = field(default_factory=dict)  # in order, as a set
    kinks: dict[tuple[float, ...], None] = field(default_factory=dict)

    def report(self) -> CheckReport:
        return CheckReport(self.op.name, len(self.points), tuple(self.kinks))

    def where(self, point: Sequence[float]) -> str:
        return ", ".join(
            f"{n}={float.hex(p)} ({p!r})" for n, p in zip(self.op.arg_names, point, strict=True)
        )

    def fail(self, what: str, point: Sequence[float], expected: object, actual: object) -> None:
        lines = [
            f"check_op: op {self.op.name!r} ({origin(self.op)}) is wrong: {what}",
            f"  at        {self.where(point)}",
            f"  expected  {expected!r}",
            f"  actual    {actual!r}",
        ]
        if isinstance(expected, float) and isinstance(actual, float):
            err = abs(actual - expected)
            rel = err / abs(expected) if expected else math.inf
            lines.append(
                f"  abs error {err:.3g}, rel error {rel:.3g} "
                f"(rtol={self.rtol:g}, atol={self.atol:g})"
            )
        raise AssertionError("\n".join(lines))

    def close(self, actual: float, expected: float) -> bool:
        if math.isinf(expected) or math.isinf(actual):
            return actual == expected
        return abs(actual - expected) <= self.atol + self.rtol * abs(expected)

    def compare(
        self, what: str, point: Sequence[float], oracle: _Oracle, expected: _Expected, actual: float
    ) -> None:
        if expected.number is not None and self.close(actual, expected.number):
            return
        kink = oracle.at_kink(point)
        if expected.number is not None and not kink:
            self.fail(what, point, expected.number, actual)
        # sympy's formula is undefined here, or the point is a kink, where a derivative
        # may be any of its one-sided limits, or the kink convention's value.
        limits = oracle.limits(expected, point)
        convention = oracle.by_convention(expected, point) if kink else None
        candidates = limits + ([convention] if convention is not None else [])
        if any(self.close(actual, c) for c in candidates):
            if kink or any(not self.close(c, limits[0]) for c in limits):
                self.kinks[tuple(point)] = None  # one-sided limits that disagree: a kink too
            return
        if kink and (candidates or expected.number is not None):
            shown = [expected.number] if expected.number is not None else []
            self.fail(
                f"{what}: at a kink, where a derivative may take sympy's value, a one-sided "
                f"limit or the kink convention's value (DiracDelta as 0); "
                f"limits: {limits or 'none'}, convention: "
                f"{convention if convention is not None else 'none'}",
                point,
                shown + candidates,
                actual,
            )
        self.fail(
            f"{what}: sympy says it is not a finite real number here (limits: "
            f"{candidates or 'none'}), yet the op gave a number instead of raising "
            "DomainError",
            point,
            "DomainError",
            actual,
        )


def check_op_at(
    op: Op, *point: float, order: int = 3, rtol: float = 1e-7, atol: float = 1e-10
) -> CheckReport:
    """Check ``op`` at one point (given as floats); see :func:`check_op`.

    Returns:
        A :class:`CheckReport` of that one point: its ``kinks`` holds it if it is a kink.

    Raises:
        AssertionError: on the first disagreement, with the point as ``float.hex``.
    """
    if len(point) != op.arity:
        raise ArgumentTypeError(
            f"check_op_at: {op.name} takes {counted(op.arity, 'argument')}, got {len(point)}"
        )
    oracle: _Oracle = _SympyOracle(op) if op.sympy is not None else _FiniteDifferenceOracle(op)
    ctx = _Context(op, rtol, atol)
    _check_point(ctx, oracle, [float(p) for p in point], order)
    return ctx.report()


def _check_point(ctx: _Context, oracle: _Oracle, point: list[float], order: int) -> None:
    op = ctx.op
    n = op.arity
    value = oracle.value(point)
    # -- the value, on floats ---------------------------------------------------------------
    try:
        actual = float(op(*point))
    except DomainError:
        if value.defined:
            ctx.fail(
                "value: raised DomainError where sympy gives a number",
                point,
                value.number,
                "DomainError",
            )
        return
    if not value.defined:
        ctx.fail(
            "value: sympy says the op is not a finite real number here, so it should "
            "raise DomainError",
            point,
            "DomainError",
            actual,
        )
    assert value.number is not None
    ctx.compare("value", point, oracle, value, actual)
    ctx.points[tuple(point)] = None
    # At a kink the op may refuse to record (as hypot does at its cone's tip), and the
    # higher orders are checked even where sympy has no number for a lower one.
    if order < 1:
        return  # values only: no derivative, so no kink to speak of
    kink = oracle.at_kink(point)
    if kink:
        ctx.kinks[tuple(point)] = None
    # -- first partials: all arguments Values, then each one alone ------------------------------
    first = [oracle.first(point, i) for i in range(n)]
    values = [Value(p) for p in point]
    try:
        with GradientTape() as tape:
            out = op(*values)
    except DomainError:
        if all(e.defined for e in first) and not kink:
            ctx.fail(
                "first derivatives: recording raised DomainError where sympy gives finite partials",
                point,
                [e.number for e in first],
                "DomainError",
            )
        return  # some partial is infinite or undefined here: refusing to record is right
    ctx.compare("value on a tape", point, oracle, value, out.data)
    grads = tape.gradient(out, values, unconnected_gradients="zero")
    for i in range(n):
        g = grads[i]
        assert g is not None
        ctx.compare(f"d/d{op.arg_names[i]} (argument {i})", point, oracle, first[i], g.data)
    if n > 1:
        for i in range(n):
            args: list[Value | float] = list(point)
            alone = Value(point[i])
            args[i] = alone
            with GradientTape() as tape:
                out = op(*args)
            g = tape.gradient(out, alone, unconnected_gradients="zero")
            assert g is not None
            ctx.compare(
                f"d/d{op.arg_names[i]} (argument {i}, the other argument a constant)",
                point,
                oracle,
                first[i],
                g.data,
            )
    # -- first partials in forward mode: one accumulator along each argument -----------------
    for i in range(n):
        values = [Value(p) for p in point]
        with ForwardAccumulator(values[i], 1.0) as acc:
            out = op(*values)
        ctx.compare(
            f"forward mode: d/d{op.arg_names[i]} (argument {i})",
            point,
            oracle,
            first[i],
            acc.jvp(out, "zero").data,
        )
    if order < 2 or not (kink or all(e.defined for e in first)):
        return
    # -- second partials: a gradient taken on an outer tape, differentiated again -------------
    second = [[oracle.second(point, i, j) for j in range(n)] for i in range(n)]
    values = [Value(p) for p in point]
    try:
        with GradientTape(persistent=True) as outer:
            with GradientTape() as inner:
                out = op(*values)
            firsts = inner.gradient(out, values, unconnected_gradients="zero")
        rows = [outer.gradient(g, values, unconnected_gradients="zero") for g in firsts]
    except DomainError:
        if all(e.defined for row in second for e in row) and not kink:
            ctx.fail(
                "second derivatives: raised DomainError where sympy gives finite values",
                point,
                [[e.number for e in row] for row in second],
                "DomainError",
            )
        return
    for i in range(n):
        for j in range(n):
            h = rows[i][j]
            assert h is not None
            ctx.compare(
                f"d2/d{op.arg_names[i]}d{op.arg_names[j]}", point, oracle, second[i][j], h.data
            )
    _check_forward_second(ctx, oracle, point, second, kink)
    if order < 3 or not (kink or all(e.defined for row in second for e in row)):
        return
    _check_third(ctx, oracle, point, kink)


def _check_forward_second(
    ctx: _Context, oracle: _Oracle, point: list[float], second: list[list[_Expected]], kink: bool
) -> None:
    """Second partials with forward mode nested each way, against the same oracle."""
    op = ctx.op
    n = op.arity
    for i in range(n):
        for j in range(n):
            name = f"d2/d{op.arg_names[i]}d{op.arg_names[j]}"
            found: list[tuple[str, float]] = []
            values = [Value(p) for p in point]
            try:
                with ForwardAccumulator(values[j], 1.0) as outer:  # forward over forward
                    with ForwardAccumulator(values[i], 1.0) as inner:
                        out = op(*values)
                found.append(
                    ("forward over forward", outer.jvp(inner.jvp(out, "zero"), "zero").data)
                )
                values = [Value(p) for p in point]
                with ForwardAccumulator(values[j], 1.0) as acc:  # forward over reverse
                    with GradientTape() as tape:
                        out = op(*values)
                    g = tape.gradient(out, values[i], unconnected_gradients="zero")
                found.append(("forward over reverse", acc.jvp(g, "zero").data))
                values = [Value(p) for p in point]
                with GradientTape() as tape:  # reverse over forward
                    with ForwardAccumulator(values[i], 1.0) as acc:
                        out = op(*values)
                    t = acc.jvp(out, "zero")
                h = tape.gradient(t, values[j], unconnected_gradients="zero")
                found.append(("reverse over forward", h.data))
            except DomainError:
                if all(e.defined for row in second for e in row) and not kink:
                    ctx.fail(
                        f"{name} in forward mode: raised DomainError where sympy gives finite "
                        "values",
                        point,
                        second[i][j].number,
                        "DomainError",
                    )
                return
            for how, actual in found:
                ctx.compare(f"{name} ({how})", point, oracle, second[i][j], actual)


def _check_third(ctx: _Context, oracle: _Oracle, point: list[float], kink: bool) -> None:
    """Third partials: three nested tapes, each gradient differentiated again."""
    op = ctx.op
    n = op.arity
    third = [[[oracle.third(point, i, j, k) for k in range(n)] for j in range(n)] for i in range(n)]
    values = [Value(p) for p in point]
    try:
        with GradientTape(persistent=True) as t3:
            with GradientTape(persistent=True) as t2:
                with GradientTape() as t1:
                    out = op(*values)
                firsts = t1.gradient(out, values, unconnected_gradients="zero")
            seconds = [t2.gradient(g, values, unconnected_gradients="zero") for g in firsts]
        thirds = [
            [t3.gradient(h, values, unconnected_gradients="zero") for h in row] for row in seconds
        ]
    except DomainError:
        if all(e.defined for plane in third for row in plane for e in row) and not kink:
            ctx.fail(
                "third derivatives: raised DomainError where sympy gives finite values",
                point,
                [[[e.number for e in row] for row in plane] for plane in third],
                "DomainError",
            )
        return
    names = op.arg_names
    for i in range(n):
        for j in range(n):
            for k in range(n):
                d = thirds[i][j][k]
                assert d is not None
                ctx.compare(
                    f"d3/d{names[i]}d{names[j]}d{names[k]}", point, oracle, third[i][j][k], d.data
                )


def point_strategy(
    op: Op, *, bound: float = 100.0, tiny: float = 1e-6
) -> st.SearchStrategy[list[float]]:
    """Hypothesis strategy for points in ``op``'s domain.

    Each coordinate is 0 or has a magnitude between ``tiny`` and ``bound``: far
    smaller magnitudes make correct rules overflow in intermediate steps, which is a
    limit of floats, not a wrong derivative.
    """
    return st.tuples(*(_region_strategy(r, bound, tiny) for r in op.domain)).map(list)


def _region_strategy(
    region: Sequence[Interval] | None, bound: float, tiny: float
) -> st.SearchStrategy[float]:
    if region is None:
        region = (Interval(),)
    parts = []
    for iv in region:
        low, high = max(iv.low, -bound), min(iv.high, bound)
        if low > high:  # the interval lies beyond the bound: take a stretch of it
            low, high = (
                (iv.low, iv.low + 2 * bound) if iv.low > -bound else (iv.high - 2 * bound, iv.high)
            )
        floats = st.floats(
            low,
            high,
            allow_nan=False,
            allow_infinity=False,
            exclude_min=low == iv.low and not iv.include_low,
            exclude_max=high == iv.high and not iv.include_high,
        )
        parts.append(floats.map(_away_from_tiny(iv, tiny)))
    return st.one_of(*parts)


def _away_from_tiny(iv: Interval, tiny: float) -> Callable[[float], float]:
    def move(x: float) -> float:
        if x == 0.0 or abs(x) >= tiny:
            return x
        moved = math.copysign(tiny, x)
        return x if iv.excludes(moved) else moved

    return move


def check_op(
    op: Op,
    *,
    order: int = 3,
    max_examples: int = 100,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    bound: float = 100.0,
) -> CheckReport:
    """Check ``op``'s value and derivatives against sympy at hypothesis-drawn points.

    Args:
        op: the op to check.
        order: 0 checks values only, 1 adds first partials (reverse and forward
            mode), 2 adds second partials through nested tapes and through forward mode
            nested each way, 3 (default) adds third partials through three tapes. An op
            without a ``sympy=`` form is compared with central finite differences of
            itself, with ``rtol`` at least 1e-4 and ``atol`` at least 1e-6 (``microtape
            check`` says so).
        max_examples: how many points hypothesis draws.
        rtol, atol: a result passes when ``|actual - expected| <= atol + rtol * |expected|``.
        bound: points are drawn with each coordinate in ``[-bound, bound]``.

    Returns:
        A :class:`CheckReport`: how many distinct points were checked, and which of
        them were kinks, where a derivative passed by the kink rule (module docstring).

    Raises:
        AssertionError: naming the op, its provider, the derivative, the point exactly
            (``float.hex``), the expected and actual numbers and both errors.

    Example:
        >>> import microtape as mt
        >>> from microtape.testing import check_op
        >>> check_op(mt.sin, max_examples=5).kinks
        ()
        >>> (0.0,) in check_op(mt.relu, max_examples=20).kinks
        True
    """
    if not isinstance(op, Op):
        raise ArgumentTypeError(f"check_op: expected an Op, got {type(op).__name__} {op!r}")
    oracle: _Oracle = _SympyOracle(op) if op.sympy is not None else _FiniteDifferenceOracle(op)
    if op.sympy is None:
        rtol, atol = max(rtol, 1e-4), max(atol, 1e-6)
    ctx = _Context(op, rtol, atol)

    @hypothesis.settings(
        hypothesis.settings.default,
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(point_strategy(op, bound=bound))
    def run(point: list[float]) -> None:
        _check_point(ctx, oracle, point, order)

    run()
    return ctx.report()


def check_plugin(distribution: str, ops: Sequence[Op]) -> None:
    """Check that the installed ``distribution`` offers each of ``ops`` through its
    ``microtape.ops`` entry points, and that microtape found and loaded it from there.

    For each op: ``mt.op(name)`` and ``mt.ops.<name>`` give this very object,
    ``mt.plugin_ops()`` lists it as loaded from ``distribution`` at the installed
    version, and it has a ``doc``. Run it in the plugin's own tests, after installing
    the plugin (``pip install -e .``).

    Raises:
        AssertionError: naming the op and what microtape found instead.

    Example:
        >>> from microtape.testing import check_plugin
        >>> from microtape_hyperbolic import ALL
        >>> check_plugin("microtape-hyperbolic", ALL)
    """
    import importlib.metadata

    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise AssertionError(
            f"check_plugin: no distribution {distribution!r} is installed; install the "
            "plugin (pip install -e .) before running its tests"
        ) from None
    listed = plugin_ops()
    for o in ops:
        if not isinstance(o, Op):
            raise ArgumentTypeError(f"check_plugin: expected Ops, got {type(o).__name__} {o!r}")
        mine = [(p.distribution, p.version, p.status) for p in listed if p.op is o]
        if mine != [(distribution, version, "loaded")]:
            named = [p for p in listed if p.name == o.name]
            found = [(p.distribution, p.version, p.status, p.error) for p in named]
            raise AssertionError(
                f"check_plugin: op {o.name!r} is not loaded from {distribution} {version} "
                f"through the microtape.ops entry points; found {found or 'no entry point'}. "
                f'Declare it in pyproject.toml: [project.entry-points."microtape.ops"] '
                f'{o.name} = "your_module:{o.name}"'
            )
        if op_named(o.name) is not o or getattr(op_namespace, o.name) is not o:
            raise AssertionError(
                f"check_plugin: mt.op({o.name!r}) is not the op the plugin defines: "
                f"{op_named(o.name)!r}"
            )
        if not o.doc:
            raise AssertionError(f"check_plugin: op {o.name!r} has no doc; say what it computes")
