"""``Op``: one differentiable function, its derivative rules and its domain, as data.

An op is a frozen record::

    Op(name, forward, derivatives, *, sympy=None, domain=None, doc="")

- ``forward(*floats) -> float`` computes the value.
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
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Sequence
from types import BuiltinFunctionType, CodeType, MethodType
from typing import Final, NoReturn, TypeAlias, final, overload

from ._context import RECORDING
from ._errors import ArgumentTypeError, DomainError, OpDefinitionError
from ._value import Value, _next_id, as_number

__all__ = ["Forward", "Interval", "Op", "Rule", "SympyForm"]

Forward: TypeAlias = Callable[..., float]
"""The value of an op: takes one float per argument, returns a float."""

Rule: TypeAlias = Callable[..., Value | float]
"""A partial derivative: takes the op's arguments (floats or Values), returns a float or Value."""

SympyForm: TypeAlias = Callable[..., object]
"""Takes one sympy symbol per argument and returns the op's symbolic expression."""

_recording = RECORDING.get
_new: Final = object.__new__


@final
class Interval:
    """An interval of the real line, open at an end unless that end is included.

    Written by hand rather than as a dataclass: ``dataclasses`` imports ``inspect``,
    which would cost ``import microtape`` several milliseconds.

    Example:
        >>> Interval(0.0)                      # x > 0, the domain of log
        Interval(low=0.0, high=inf, include_low=False, include_high=False)
        >>> Interval(0.0, include_low=True).describe("x")
        'x >= 0'
    """

    __slots__ = ("high", "include_high", "include_low", "low")

    low: float
    high: float
    include_low: bool
    include_high: bool

    def __init__(
        self,
        low: float = -math.inf,
        high: float = math.inf,
        *,
        include_low: bool = False,
        include_high: bool = False,
    ) -> None:
        if not low <= high:
            raise OpDefinitionError(f"Interval: low={low!r} must not exceed high={high!r}")
        set_ = object.__setattr__
        set_(self, "low", float(low))
        set_(self, "high", float(high))
        set_(self, "include_low", bool(include_low))
        set_(self, "include_high", bool(include_high))

    def __setattr__(self, attr: str, value: object) -> NoReturn:
        raise AttributeError("Interval is frozen")

    def _key(self) -> tuple[float, float, bool, bool]:
        return (self.low, self.high, self.include_low, self.include_high)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Interval) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Interval(low={self.low!r}, high={self.high!r}, "
            f"include_low={self.include_low!r}, include_high={self.include_high!r})"
        )

    def excludes(self, x: float) -> bool:
        """True if ``x`` lies outside this interval.

        NaN is never excluded, and an infinite end admits that infinity: both propagate
        as IEEE arithmetic does (``log(inf)`` is ``inf``; ``1 / inf`` is ``0``).
        """
        return (
            x < self.low
            or (x == self.low and not self.include_low and x != -math.inf)
            or x > self.high
            or (x == self.high and not self.include_high and x != math.inf)
        )

    def describe(self, name: str) -> str:
        """The interval as a condition on ``name``, such as ``'-1 < x <= 1'``."""
        lo, hi = _g(self.low), _g(self.high)
        lower = "<=" if self.include_low else "<"
        upper = "<=" if self.include_high else "<"
        if self.low == -math.inf and self.high == math.inf:
            return f"any {name}"
        if self.low == -math.inf:
            return f"{name} {upper} {hi}"
        if self.high == math.inf:
            return f"{name} {'>=' if self.include_low else '>'} {lo}"
        return f"{lo} {lower} {name} {upper} {hi}"


def _g(x: float) -> str:
    return f"{x:g}"


Region: TypeAlias = tuple[Interval, ...]
"""Where one argument is valid: the union of these intervals."""


class Op:
    """A differentiable function with one or two arguments, its rules and domain.

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
            cls = _UnaryOp if arity == 1 else _BinaryOp
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
        if len(rules) not in (1, 2):
            raise OpDefinitionError(
                f"Op {name!r}: ops take one or two arguments, so derivatives must hold one or "
                f"two rules; got {len(rules)} (compose ops for functions of more arguments)"
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
        set_(self, "_outside", tuple(_outside_test(r) for r in regions))
        set_(self, "_guarded", any(r is not None for r in regions))
        set_(self, "_rule_a", rules[0])
        set_(self, "_rule_b", rules[-1])

    def __setattr__(self, attr: str, value: object) -> NoReturn:
        raise AttributeError(f"Op {self.name!r} is frozen; build a new Op instead")

    def __delattr__(self, attr: str) -> NoReturn:
        raise AttributeError(f"Op {self.name!r} is frozen")

    def __repr__(self) -> str:
        return f"<Op {self.name}({', '.join(self.arg_names)})>"

    def __reduce__(self) -> tuple[object, ...]:
        # Ops are singletons in the registry: pickle them by name.
        from ._registry import op as lookup

        return (lookup, (self.name,))

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
        # Replaced by the arity-specific subclasses below; this body only reports misuse.
        raise ArgumentTypeError(f"{self.name}: takes {self.arity} argument(s), got {len(args)}")

    # ---- the slow paths of a call: errors, and results that need converting ----------------

    def _reject(self, index: int, x: float) -> NoReturn:
        region = self.domain[index]
        assert region is not None
        name = self.arg_names[index]
        where = " or ".join(iv.describe(name) for iv in region)
        raise DomainError(f"{self.name}: {name}={x!r} is outside the domain {where}")

    def _point(self, args: Sequence[float]) -> str:
        return ", ".join(f"{n}={a!r}" for n, a in zip(self.arg_names, args, strict=True))

    def _forward_failed(self, args: Sequence[float], exc: Exception) -> DomainError:
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
            raise DomainError(
                f"{self.name}: the value at {self._point(args)} is not real ({y!r}); "
                "declare the op's domain so such points raise before forward runs"
            )
        raise OpDefinitionError(
            f"{self.name}: forward returned {type(y).__name__} {y!r} at {self._point(args)}, "
            "expected a float"
        )

    def _checked_partial(self, d: object, index: int, args: Sequence[float]) -> float:
        name = self.arg_names[index]
        if isinstance(d, (int, float)) and not isinstance(d, bool):
            d = float(d)
            if d != d and all(math.isfinite(a) for a in args):
                raise DomainError(
                    f"{self.name}: the derivative with respect to {name} is NaN at "
                    f"{self._point(args)}, where the op is defined; the rule is undefined there"
                )
            return d
        if isinstance(d, complex):
            raise DomainError(
                f"{self.name}: the derivative with respect to {name} is not real at "
                f"{self._point(args)} ({d!r})"
            )
        raise OpDefinitionError(
            f"{self.name}: derivatives[{index}] returned {type(d).__name__} {d!r} for float "
            f"arguments at {self._point(args)}, expected a float"
        )

    def _no_derivative(self, index: int, args: Sequence[float], cause: Exception) -> DomainError:
        return DomainError(
            f"{self.name}: the derivative with respect to {self.arg_names[index]} does not "
            f"exist at {self._point(args)} (it is infinite or undefined there: {cause}); "
            "the tape refuses to record a point it could not differentiate"
        )


def _operand(op: Op, index: int, x: object) -> float:
    return as_number(op.name, op.arg_names[index], x)


class _UnaryOp(Op):
    """An op of one argument. ``__call__`` is written out flat because it is hot: one
    call of ``forward``, one of the rule, and no helper call on the way."""

    __slots__ = ()

    def __call__(self, x: Value | float, /, *rest: Value | float) -> Value | float:  # type: ignore[override]
        if rest:
            return super().__call__(x, *rest)
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
        except DomainError:
            raise
        except (ArithmeticError, ValueError) as exc:
            raise self._forward_failed((xd,), exc) from exc
        if type(y) is not float:
            y = self._checked_result(y, (xd,))
        if type(x) is not Value:
            return y
        out = _new(Value)
        out._data = y
        out._id = n = _next_id()
        sink = _recording()
        if sink is not None:
            try:
                d = self._rule_a(xd)
            except (ArithmeticError, ValueError) as exc:  # DomainError is a ValueError
                raise self._no_derivative(0, (xd,), exc) from exc
            if type(d) is not float or d != d:
                d = self._checked_partial(d, 0, (xd,))
            sink.extend((n, y, x._id, xd, d, None, None, None, self))
        return out


class _BinaryOp(Op):
    """An op of two arguments; either may be a plain number (a constant)."""

    __slots__ = ()

    def __call__(  # type: ignore[override]
        self, a: Value | float, b: Value | float, /, *rest: Value | float
    ) -> Value | float:
        if rest:
            return super().__call__(a, b, *rest)
        ta = type(a)
        tb = type(b)
        # `type(x) is T` read once per argument; mypy narrows only `type(a) is Value`.
        ad: float = a._data if ta is Value else (a if ta is float else _operand(self, 0, a))  # type: ignore[union-attr, assignment]
        bd: float = b._data if tb is Value else (b if tb is float else _operand(self, 1, b))  # type: ignore[union-attr, assignment]
        if self._guarded:
            outside_a, outside_b = self._outside
            if outside_a is not None and outside_a(ad):
                self._reject(0, ad)
            if outside_b is not None and outside_b(bd):
                self._reject(1, bd)
        try:
            y = self.forward(ad, bd)
        except DomainError:
            raise
        except (ArithmeticError, ValueError) as exc:
            raise self._forward_failed((ad, bd), exc) from exc
        if type(y) is not float:
            y = self._checked_result(y, (ad, bd))
        if ta is not Value and tb is not Value:
            return y
        out = _new(Value)
        out._data = y
        out._id = n = _next_id()
        sink = _recording()
        if sink is None:
            return out
        # Two Values is the common case: written out on its own, with no per-argument
        # tests, it records about 5% faster per node than through the general path below.
        if ta is Value and tb is Value:
            index = 0
            try:
                pa = self._rule_a(ad, bd)
                index = 1
                pb = self._rule_b(ad, bd)
            except (ArithmeticError, ValueError) as exc:  # DomainError is a ValueError
                raise self._no_derivative(index, (ad, bd), exc) from exc
            if type(pa) is not float or pa != pa:
                pa = self._checked_partial(pa, 0, (ad, bd))
            if type(pb) is not float or pb != pb:
                pb = self._checked_partial(pb, 1, (ad, bd))
            sink.extend((n, y, a._id, ad, pa, b._id, bd, pb, self))  # type: ignore[union-attr]
            return out
        index = 0
        try:
            da = self._rule_a(ad, bd) if ta is Value else None
            index = 1
            db = self._rule_b(ad, bd) if tb is Value else None
        except (ArithmeticError, ValueError) as exc:  # DomainError is a ValueError
            raise self._no_derivative(index, (ad, bd), exc) from exc
        if da is not None and (type(da) is not float or da != da):
            da = self._checked_partial(da, 0, (ad, bd))
        if db is not None and (type(db) is not float or db != db):
            db = self._checked_partial(db, 1, (ad, bd))
        ia = a._id if ta is Value else None  # type: ignore[union-attr]
        ib = b._id if tb is Value else None  # type: ignore[union-attr]
        sink.extend((n, y, ia, ad, da, ib, bd, db, self))
        return out


def _argument_names(name: str, forward: Forward, arity: int) -> tuple[str, ...]:
    """Names of forward's arguments, for messages; checks they number ``arity``."""
    default = ("x",) if arity == 1 else ("a", "b")
    if isinstance(forward, BuiltinFunctionType):
        return default  # math.sin and friends: trust the number of derivatives
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
            params = list(inspect.signature(forward).parameters.values())
        except (TypeError, ValueError):
            return default  # no signature to read: trust the derivatives' count
        if any(p.kind is p.VAR_POSITIONAL for p in params):
            return default
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        usable = [p for p in params if p.kind in kinds]
        positional = [p.name for p in usable]
        required_count = sum(1 for p in usable if p.default is p.empty)
    required = positional[:required_count]
    if not len(required) <= arity <= len(positional):
        raise OpDefinitionError(
            f"Op {name!r}: forward takes {len(required)} argument(s) but {arity} "
            f"derivative rule(s) were given; give exactly one rule per argument"
        )
    return tuple(positional[:arity])


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


def _outside_test(region: Region | None) -> Callable[[float], bool] | None:
    """A fast 'is x outside this region?' test; None means the whole line."""
    if region is None:
        return None
    if len(region) == 1:
        return region[0].excludes
    parts = tuple(iv.excludes for iv in region)
    return lambda x: all(part(x) for part in parts)
