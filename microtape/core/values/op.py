"""``Op``: one differentiable function, its derivative rules and its domain, as data.

An op is a frozen record::

    Op(name, forward, derivatives, *, sympy=None, domain=None, doc="")

- ``forward(*floats) -> float`` computes the value; it takes any number of arguments.
- ``derivatives`` holds one rule per argument, taking the same arguments as
  ``forward`` and returning that partial derivative. Rules are written with
  microtape functions (``cos(x)``, ``1.0 / x``), so the same rule runs on floats for
  a first-order gradient and on Values, recorded, for higher orders.
- ``sympy(*symbols)`` returns the symbolic form; only ``microtape.testing`` and the
  tests call it.
- ``domain`` gives, per argument, the :class:`Interval` (or union of intervals)
  where the op is defined. Outside it the op raises :class:`DomainError` when called.

Calling an op applies it: floats in give a float out, recorded nowhere; any Value in
gives a Value out, recorded on every tape that is recording, together with its local
partials as floats. A rule that fails there (``sqrt`` at 0, whose derivative is
infinite) raises DomainError at that call, never later inside a gradient.

An op of one argument, and one of two applied to two Values, are the hot paths and are
written out flat; everything else (a constant argument, three or more arguments) goes
through one general path.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Sequence
from types import BuiltinFunctionType, CodeType, MethodType
from typing import NoReturn, TypeAlias, overload

from ..errors import ArgumentTypeError, DomainError, OpDefinitionError
from ..recording.context import RECORDING, TracerSink, tracer_of
from ..recording.record import Rows
from ..words import counted
from .interval import Interval, Region, outside_test
from .numbers import as_number
from .value import Value, next_node, node_value

__all__ = ["Forward", "Interval", "Op", "Rule", "SympyForm"]

Forward: TypeAlias = Callable[..., float]
"""The value of an op: takes one float per argument, returns a float."""

Rule: TypeAlias = Callable[..., Value | float]
"""A partial derivative: takes the op's arguments (floats or Values), returns a float or Value."""

SympyForm: TypeAlias = Callable[..., object]
"""Takes one sympy symbol per argument and returns the op's symbolic expression."""

_recording = RECORDING.get


class Op:
    """A differentiable function of any number of arguments, its rules and domain.

    Args:
        name: a Python identifier, unique in the registry (``"sinh"``).
        forward: computes the value from floats.
        derivatives: one rule per argument of ``forward`` (see the module docstring).
        sympy: the symbolic form, for the oracle tests and ``check_op``.
        domain: per argument, an :class:`Interval`, a sequence of them (their
            union), or None for all reals. Omit it if every argument takes any real.
        doc: one line saying what the op is.

    Raises:
        OpDefinitionError: if a part is missing, not callable, or the number of
            derivatives differs from the number of arguments of ``forward``.

    Example:
        >>> import math, microtape as mt
        >>> cube = mt.Op("cube", lambda x: x ** 3, [lambda x: 3 * x * x],
        ...              sympy=lambda x: x ** 3, doc="x cubed")
        >>> cube(2.0)
        8.0
        >>> lerp = mt.Op("lerp", lambda a, b, t: a + (b - a) * t,
        ...              [lambda a, b, t: 1.0 - t, lambda a, b, t: t, lambda a, b, t: b - a])
        >>> lerp(1.0, 3.0, 0.25)
        1.5
    """

    __slots__ = (
        "_guarded",
        "_outside",
        "_rule_a",
        "_rule_b",
        "arg_names",
        "arity",
        "derivatives",
        "doc",
        "domain",
        "forward",
        "name",
        "sympy",
    )

    name: str
    forward: Forward
    derivatives: tuple[Rule, ...]
    sympy: SympyForm | None
    domain: tuple[Region | None, ...]
    doc: str
    arity: int
    arg_names: tuple[str, ...]
    _outside: tuple[Callable[[float], bool] | None, ...]
    _guarded: bool  # some argument has a domain to check
    _rule_a: Rule  # derivatives[0] and [1], as slots: one attribute load on the hot path
    _rule_b: Rule

    def __new__(
        cls,
        name: str,
        forward: Forward,
        derivatives: Sequence[Rule],
        *,
        sympy: SympyForm | None = None,
        domain: Sequence[Interval | Sequence[Interval] | None] | None = None,
        doc: str = "",
    ) -> Op:
        if cls is Op:
            arity = len(derivatives) if isinstance(derivatives, Sequence) else 0
            cls = _UnaryOp if arity == 1 else _BinaryOp if arity == 2 else Op
        return object.__new__(cls)

    def __init__(
        self,
        name: str,
        forward: Forward,
        derivatives: Sequence[Rule],
        *,
        sympy: SympyForm | None = None,
        domain: Sequence[Interval | Sequence[Interval] | None] | None = None,
        doc: str = "",
    ) -> None:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise OpDefinitionError(f"Op: name must be a Python identifier, got {name!r}")
        if not callable(forward):
            raise OpDefinitionError(f"Op {name!r}: forward must be callable, got {forward!r}")
        given: object = derivatives  # checked as data: plugins hand us anything
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            raise OpDefinitionError(
                f"Op {name!r}: derivatives must be a list with one rule per argument, "
                f"got {type(given).__name__}"
            )
        rules: tuple[Rule, ...] = tuple(given)
        if not rules:
            raise OpDefinitionError(
                f"Op {name!r}: an op takes at least one argument, so derivatives must hold "
                "at least one rule (one per argument); got none"
            )
        for i, rule in enumerate(rules):
            if not callable(rule):
                raise OpDefinitionError(
                    f"Op {name!r}: derivatives[{i}] must be callable, got {rule!r}"
                )
        arg_names = _argument_names(name, forward, len(rules))
        if sympy is not None and not callable(sympy):
            raise OpDefinitionError(f"Op {name!r}: sympy must be callable or None, got {sympy!r}")
        if not isinstance(doc, str):
            raise OpDefinitionError(f"Op {name!r}: doc must be a str, got {doc!r}")
        regions = _regions(name, domain, len(rules))
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "forward", forward)
        set_(self, "derivatives", rules)
        set_(self, "sympy", sympy)
        set_(self, "domain", regions)
        set_(self, "doc", doc)
        set_(self, "arity", len(rules))
        set_(self, "arg_names", arg_names)
        set_(self, "_outside", tuple(outside_test(r) for r in regions))
        set_(self, "_guarded", any(r is not None for r in regions))
        set_(self, "_rule_a", rules[0])
        set_(self, "_rule_b", rules[-1])

    def __setattr__(self, attr: str, value: object) -> NoReturn:
        raise AttributeError(f"Op {self.name!r} is frozen; build a new Op instead")

    def __delattr__(self, attr: str) -> NoReturn:
        raise AttributeError(f"Op {self.name!r} is frozen")

    def __repr__(self) -> str:
        return f"<Op {self.name}({', '.join(self.arg_names)})>"

    def describe_domain(self) -> str:
        """The domain as text, such as ``'x > 0'`` or ``'any x, b < 0 or b > 0'``."""
        parts = []
        for name, region in zip(self.arg_names, self.domain, strict=True):
            if region is None:
                parts.append(f"any {name}")
            else:
                parts.append(" or ".join(iv.describe(name) for iv in region))
        return ", ".join(parts)

    @overload
    def __call__(self, *args: float) -> float: ...  # type: ignore[overload-overlap]
    @overload
    def __call__(self, *args: Value | float) -> Value: ...
    def __call__(self, *args: Value | float) -> Value | float:
        return self._apply(args)

    # ---- the general path: any arity, constants anywhere ------------------------------------

    def _apply(self, args: tuple[Value | float, ...]) -> Value | float:
        if len(args) != self.arity:
            raise ArgumentTypeError(
                f"{self.name}: takes {counted(self.arity, 'argument')}, got {len(args)}"
            )
        xs: list[float] = []
        nodes: list[int | None] = []
        for i, x in enumerate(args):
            if type(x) is Value:
                xs.append(x._data)
                nodes.append(x._id)
            else:
                xs.append(x if type(x) is float else _operand(self, i, x))
                nodes.append(None)
        if self._guarded:
            for i, outside in enumerate(self._outside):
                if outside is not None and outside(xs[i]):
                    self._reject(i, xs[i])
        try:
            y = self.forward(*xs)
        except DomainError as error:
            raise _failing(self, error) from None
        except (ArithmeticError, ValueError) as exc:
            raise self._forward_failed(xs, exc) from exc
        if type(y) is not float:
            y = self._checked_result(y, xs)
        if all(node is None for node in nodes):
            return y
        n = next_node()
        out = node_value(y, n)
        sink = _recording()
        if sink is None:
            return out
        partials: list[float | None] = []
        for i, node in enumerate(nodes):
            if node is None:
                partials.append(None)
                continue
            try:
                d = self.derivatives[i](*xs)
            except (ArithmeticError, ValueError) as exc:  # DomainError is a ValueError
                d = self._refused(i, xs, exc, sink)
            if type(d) is not float or d != d:
                d = self._checked_partial(d, i, xs, sink)
            partials.append(d)
        sink.extend(self._rows(n, y, nodes, xs, partials))
        return out

    def _rows(
        self, n: int, y: float, nodes: list[int | None], xs: list[float], ds: list[float | None]
    ) -> Rows:
        """The rows of one application (see ``recording/record.py``): one row for up to
        two arguments; for more, hidden nodes chain the arguments through, partial 1."""
        if self.arity == 1:
            return (n, y, nodes[0], xs[0], ds[0], None, None, None, self)
        if self.arity == 2:
            return (n, y, nodes[0], xs[0], ds[0], nodes[1], xs[1], ds[1], self)
        hidden = next_node()
        rows: Rows = (
            hidden, y, nodes[0], xs[0], ds[0], nodes[1], xs[1], ds[1], None,
        )  # fmt: skip
        last = self.arity - 1
        for i in range(2, self.arity):
            out = n if i == last else next_node()
            op = self if i == last else None
            rows += (out, y, hidden, y, 1.0, nodes[i], xs[i], ds[i], op)
            hidden = out
        return rows

    # ---- the slow paths of a call: errors, and results that need converting ----------------

    def _reject(self, index: int, x: float) -> NoReturn:
        region = self.domain[index]
        assert region is not None
        name = self.arg_names[index]
        where = " or ".join(iv.describe(name) for iv in region)
        raise _failing(
            self, DomainError(f"{self.name}: {name}={x!r} is outside the domain {where}")
        )

    def _point(self, args: Sequence[float]) -> str:
        return ", ".join(f"{n}={a!r}" for n, a in zip(self.arg_names, args, strict=True))

    def _forward_failed(self, args: Sequence[float], exc: Exception) -> DomainError:
        return _failing(self, self._forward_error(args, exc))

    def _forward_error(self, args: Sequence[float], exc: Exception) -> DomainError:
        if isinstance(exc, OverflowError):
            return DomainError(
                f"{self.name}: the value overflows a float at {self._point(args)} ({exc}); "
                "a forward should return inf or -inf there, as the built-in ops do"
            )
        return DomainError(f"{self.name}: not defined at {self._point(args)} ({exc})")

    def _checked_result(self, y: object, args: Sequence[float]) -> float:
        if isinstance(y, (int, float)) and not isinstance(y, bool):
            return float(y)
        if isinstance(y, complex):
            raise _failing(
                self,
                DomainError(
                    f"{self.name}: the value at {self._point(args)} is not real ({y!r}); "
                    "declare the op's domain so such points raise before forward runs"
                ),
            )
        raise OpDefinitionError(
            f"{self.name}: forward returned {type(y).__name__} {y!r} at {self._point(args)}, "
            "expected a float"
        )

    def _checked_partial(
        self, d: object, index: int, args: Sequence[float], sink: object = None
    ) -> float:
        name = self.arg_names[index]
        if isinstance(d, (int, float)) and not isinstance(d, bool):
            d = float(d)
            if d != d and all(math.isfinite(a) for a in args) and not _tracer_only(sink):
                raise _failing(
                    self,
                    DomainError(
                        f"{self.name}: the derivative with respect to {name} is NaN at "
                        f"{self._point(args)}, where the op is defined; the rule is "
                        "undefined there"
                    ),
                )
            return d
        if _tracer_only(sink):
            return math.nan  # no tape wants it: the call must not fail where it would not
        if isinstance(d, complex):
            raise _failing(
                self,
                DomainError(
                    f"{self.name}: the derivative with respect to {name} is not real at "
                    f"{self._point(args)} ({d!r})"
                ),
            )
        raise OpDefinitionError(
            f"{self.name}: derivatives[{index}] returned {type(d).__name__} {d!r} for float "
            f"arguments at {self._point(args)}, expected a float"
        )

    def _refused(self, index: int, args: Sequence[float], cause: Exception, sink: object) -> float:
        """A rule failed while recording: the point has no derivative. Refused with
        DomainError, unless the only one recording is a tracer, which recomputes the
        partials it needs when its code runs: then the call goes on, as it would with no
        tape recording."""
        if _tracer_only(sink):
            return math.nan
        raise self._no_derivative(index, args, cause) from cause

    def _no_derivative(self, index: int, args: Sequence[float], cause: Exception) -> DomainError:
        return _failing(self, self._no_derivative_error(index, args, cause))

    def _no_derivative_error(
        self, index: int, args: Sequence[float], cause: Exception
    ) -> DomainError:
        return DomainError(
            f"{self.name}: the derivative with respect to {self.arg_names[index]} does not "
            f"exist at {self._point(args)} (it is infinite or undefined there: {cause}); "
            "the tape refuses to record a point it could not differentiate"
        )


def _failing(op: Op, error: DomainError) -> DomainError:
    """``error``, raised by ``op``; a tracer recording here hears of it: a function that
    catches it takes a branch the generated code could not see (``tracing/trace.py``)."""
    tracer = tracer_of(RECORDING.get())
    if tracer is not None:
        tracer.op_failed(op, error)
    return error


def _tracer_only(sink: object) -> bool:
    """Whether ``sink`` is a tracer's own, with no tape recording beside it."""
    return isinstance(sink, TracerSink)


def _operand(op: Op, index: int, x: object) -> float:
    return as_number(op.name, op.arg_names[index], x)


class _UnaryOp(Op):
    """An op of one argument. ``__call__`` is written out flat because it is hot: one
    call of ``forward``, one of the rule, and no helper call on the way."""

    __slots__ = ()

    def __call__(self, x: Value | float, /, *rest: Value | float) -> Value | float:  # type: ignore[override]
        if rest:
            return self._apply((x, *rest))
        if type(x) is Value:
            xd = x._data
        elif type(x) is float:
            xd = x
        else:
            xd = _operand(self, 0, x)
        if self._guarded:
            outside = self._outside[0]
            if outside is not None and outside(xd):
                self._reject(0, xd)
        try:
            y = self.forward(xd)
        except DomainError as error:
            raise _failing(self, error) from None
        except (ArithmeticError, ValueError) as exc:
            raise self._forward_failed((xd,), exc) from exc
        if type(y) is not float:
            y = self._checked_result(y, (xd,))
        if type(x) is not Value:
            return y
        n = next_node()
        out = node_value(y, n)
        sink = _recording()
        if sink is not None:
            try:
                d = self._rule_a(xd)
            except (ArithmeticError, ValueError) as exc:  # DomainError is a ValueError
                d = self._refused(0, (xd,), exc, sink)
            if type(d) is not float or d != d:
                d = self._checked_partial(d, 0, (xd,), sink)
            sink.extend((n, y, x._id, xd, d, None, None, None, self))
        return out


class _BinaryOp(Op):
    """An op of two arguments. Two Values is the hot case and is written out flat; a
    constant argument goes through the general path."""

    __slots__ = ()

    def __call__(  # type: ignore[override]
        self, a: Value | float, b: Value | float, /, *rest: Value | float
    ) -> Value | float:
        if type(a) is not Value or type(b) is not Value or rest:
            return self._apply((a, b, *rest))
        ad = a._data
        bd = b._data
        if self._guarded:
            outside_a, outside_b = self._outside
            if outside_a is not None and outside_a(ad):
                self._reject(0, ad)
            if outside_b is not None and outside_b(bd):
                self._reject(1, bd)
        try:
            y = self.forward(ad, bd)
        except DomainError as error:
            raise _failing(self, error) from None
        except (ArithmeticError, ValueError) as exc:
            raise self._forward_failed((ad, bd), exc) from exc
        if type(y) is not float:
            y = self._checked_result(y, (ad, bd))
        n = next_node()
        out = node_value(y, n)
        sink = _recording()
        if sink is None:
            return out
        try:
            pa = self._rule_a(ad, bd)
        except (ArithmeticError, ValueError) as exc:  # DomainError is a ValueError
            pa = self._refused(0, (ad, bd), exc, sink)
        try:
            pb = self._rule_b(ad, bd)
        except (ArithmeticError, ValueError) as exc:
            pb = self._refused(1, (ad, bd), exc, sink)
        if type(pa) is not float or pa != pa:
            pa = self._checked_partial(pa, 0, (ad, bd), sink)
        if type(pb) is not float or pb != pb:
            pb = self._checked_partial(pb, 1, (ad, bd), sink)
        sink.extend((n, y, a._id, ad, pa, b._id, bd, pb, self))
        return out


def _argument_names(name: str, forward: Forward, arity: int) -> tuple[str, ...]:
    """Names of forward's arguments, for messages; checks they number ``arity``.

    Read from the code object of a Python function, from the text signature of a C
    function (``math.atan2`` says ``(y, x)``), or with ``inspect`` for other callables;
    where Python cannot tell, the names are ``x`` (one argument) or ``a, b, c, ...``.
    """
    default = ("x",) if arity == 1 else tuple(_letters(arity))
    if isinstance(forward, BuiltinFunctionType):
        # C functions: parse `__text_signature__` ("($module, y, x, /)"); importing
        # inspect for it would cost `import microtape` milliseconds.
        text = getattr(forward, "__text_signature__", None)
        if not text:
            return default  # math.log(x[, base]) has none: trust the derivatives' count
        params = [p.strip() for p in text.strip("()").split(",")]
        params = [p for p in params if p and not p.startswith("$") and p not in ("/", "*")]
        if any(p.startswith("*") or "=" in p for p in params):
            return default
        positional, required_count = params, len(params)
    else:
        code = getattr(forward, "__code__", None)
        if isinstance(code, CodeType) and not isinstance(forward, MethodType):
            # A plain function: read its code object (importing inspect costs milliseconds).
            if code.co_flags & 0x04:  # CO_VARARGS: any number of arguments
                return default
            names = code.co_varnames[: code.co_argcount]
            defaults = getattr(forward, "__defaults__", None) or ()
            positional, required_count = list(names), len(names) - len(defaults)
        else:
            import inspect

            try:
                params_ = list(inspect.signature(forward).parameters.values())
            except (TypeError, ValueError):
                return default  # no signature to read: trust the derivatives' count
            if any(p.kind is p.VAR_POSITIONAL for p in params_):
                return default
            kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            usable = [p for p in params_ if p.kind in kinds]
            positional = [p.name for p in usable]
            required_count = sum(1 for p in usable if p.default is p.empty)
    required = positional[:required_count]
    if not len(required) <= arity <= len(positional):
        raise OpDefinitionError(
            f"Op {name!r}: forward takes {counted(len(required), 'argument')} but "
            f"{counted(arity, 'derivative rule')} {'was' if arity == 1 else 'were'} given; give "
            "exactly one rule per argument"
        )
    return tuple(positional[:arity])


def _letters(count: int) -> list[str]:
    """``a, b, c, ...`` then ``x3, x4, ...`` past the alphabet's end."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [letters[i] if i < len(letters) else f"x{i}" for i in range(count)]


def _regions(
    name: str, domain: Sequence[Interval | Sequence[Interval] | None] | None, arity: int
) -> tuple[Region | None, ...]:
    if domain is None:
        return (None,) * arity
    given: object = domain  # checked as data: plugins hand us anything
    if isinstance(given, Interval):
        domain = [given]
    if not isinstance(domain, Sequence) or len(domain) != arity:
        raise OpDefinitionError(
            f"Op {name!r}: domain must give one entry per argument ({arity}), got {domain!r}"
        )
    regions: list[Region | None] = []
    for i, entry in enumerate(domain):
        if entry is None:
            regions.append(None)
        elif isinstance(entry, Interval):
            regions.append((entry,))
        elif isinstance(entry, Sequence) and entry and all(isinstance(e, Interval) for e in entry):
            regions.append(tuple(entry))
        else:
            raise OpDefinitionError(
                f"Op {name!r}: domain[{i}] must be an Interval, a list of Intervals or None, "
                f"got {entry!r}"
            )
    return tuple(regions)
