"""minitape: the reading edition of microtape, in one file.

microtape differentiates scalar programs in reverse mode with TensorFlow-style gradient
tapes. This file tells the same story, with the same names and the same numbers, short
enough to read top to bottom, as JAX's autodidax and micrograd's engine.py do. Its parts,
and where microtape keeps each (under microtape/core/):

1. ``Value``, one float that does not know how it was computed: values/value.py;
2. the op table, each op's forward beside one derivative rule per argument, the rules
   written in Value operations: values/builtins.py (``Op`` itself: values/op.py);
3. the recording context, which tapes record right now: recording/context.py;
4. ``GradientTape``, with ``watch``, ``gradient``, ``release`` and refusals: tapes/tape.py;
5. the reverse sweep, the records walked backwards without recursion: transforms/reverse.py;
6. the three examples of "Why is tape required when using a Tensor loss?", on scalars,
   which ``python docs/minitape.py`` prints.

Left out: speed (microtape records node numbers and local derivatives as floats in flat
lists; here a record holds the Values and the rules run during the sweep, so a Value
changed after it was recorded, which microtape refuses, goes unnoticed); DomainError and
its messages (here a point outside an op's domain raises what ``math`` raises, and ``exp``
overflows with OverflowError where microtape gives inf); ``pow``'s edge cases at a zero
base; forward mode, ``jacobian``, ``stop_recording``, ``reset``, ``explain``,
``print(tape)``; list targets, ``output_gradients``, ``unconnected_gradients``;
``mt.function``, the registry and plugins. The ops, the tapes' states and errors, and
every derivative convention are microtape's.

    >>> x = Value(3.0)
    >>> with GradientTape() as tape:
    ...     y = x * x + sin(x)
    >>> tape.gradient(y, x)  # 2*3 + cos(3)
    Value(5.010007503399555)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import TypeAlias, overload

# ---- 1. Value ------------------------------------------------------------------------------


class Value:
    """One float. It keeps no link to the Values it was computed from: only a tape that
    was recording knows that. Values compare by identity, so they can be dict keys."""

    __slots__ = ("data",)

    def __init__(self, data: float) -> None:
        self.data = float(data)

    def __repr__(self) -> str:
        return f"Value({self.data!r})"

    # Every operator is an op of the table below: `x * y` is `mul(x, y)`, `2 - x` is
    # `sub(2, x)`. An op reads numbers where a Value is not given.
    def __add__(self, other: Value | float) -> Value:
        return add(self, other)

    def __sub__(self, other: Value | float) -> Value:
        return sub(self, other)

    def __rsub__(self, other: float) -> Value:
        return sub(other, self)

    def __mul__(self, other: Value | float) -> Value:
        return mul(self, other)

    __radd__ = __add__  # 2 + x is x + 2, and 2 * x is x * 2, to the last bit
    __rmul__ = __mul__

    def __truediv__(self, other: Value | float) -> Value:
        return div(self, other)

    def __rtruediv__(self, other: float) -> Value:
        return div(other, self)

    def __pow__(self, other: Value | float) -> Value:
        return pow_(self, other)

    def __rpow__(self, other: float) -> Value:
        return pow_(other, self)

    def __neg__(self) -> Value:
        return neg(self)

    def __abs__(self) -> Value:
        return abs_(self)


def number(x: Value | float) -> float:
    """The float of a Value or of a plain number (``mt.number``)."""
    return x.data if isinstance(x, Value) else float(x)


# ---- 2. The op table -----------------------------------------------------------------------

Rule: TypeAlias = Callable[..., Value | float]


class Op:
    """A differentiable function: its forward on floats, and one derivative rule per
    argument. A rule takes the op's arguments and returns that partial derivative. It is
    written with Value operations, so it runs on floats for a first-order gradient and
    on Values, recorded by the tapes that record, for the second and third."""

    def __init__(self, name: str, forward: Callable[..., float], derivatives: list[Rule]) -> None:
        self.name, self.forward, self.derivatives = name, forward, derivatives

    # Numbers in give a number; any Value in gives a Value (a float call matches both
    # signatures, and the first wins, which is what mypy's overlap note is about).
    @overload
    def __call__(self, *args: float) -> float: ...  # type: ignore[overload-overlap]
    @overload
    def __call__(self, *args: Value | float) -> Value: ...
    def __call__(self, *args: Value | float) -> Value | float:
        args = tuple(a if isinstance(a, Value) else float(a) for a in args)  # 2 is 2.0
        y = self.forward(*[number(a) for a in args])
        if not any(isinstance(a, Value) for a in args):
            return y  # no Value, nothing to differentiate: recorded nowhere
        out = Value(y)
        for tape in RECORDING.get():  # every tape recording here, outermost first
            tape._record(out, self, args)
        return out


def _sigmoid(x: float) -> float:
    if x >= 0.0:  # two branches, so that exp never overflows
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _abs_dx(x: Value | float) -> float:
    xd = number(x)  # the sign of x; 0 at the kink, as relu's
    return 1.0 if xd > 0.0 else -1.0 if xd < 0.0 else 0.0 if xd == 0.0 else math.nan


# Read it as a derivative cheat sheet: name, forward, then d/d(first argument), d/d(second).
# A rule that calls an op (exp, cos, sigmoid) is what makes higher derivatives possible.
# fmt: off
add = Op("add", lambda a, b: a + b, [lambda a, b: 1.0, lambda a, b: 1.0])
sub = Op("sub", lambda a, b: a - b, [lambda a, b: 1.0, lambda a, b: -1.0])
mul = Op("mul", lambda a, b: a * b, [lambda a, b: b, lambda a, b: a])
div = Op("div", lambda a, b: a / b, [lambda a, b: 1.0 / b, lambda a, b: -(a / b) / b])
# (not -a / (b * b) for d/db: b * b can underflow to 0)
pow_: Op = Op("pow", math.pow,
         [lambda x, y: y * pow_(x, y - 1.0),
          lambda x, y: pow_(x, y) * log(x)])  # real for x > 0 only
neg = Op("neg", lambda x: -x, [lambda x: -1.0])
abs_ = Op("abs", math.fabs, [_abs_dx])
exp: Op = Op("exp", math.exp, [lambda x: exp(x)])
log: Op = Op("log", math.log, [lambda x: 1.0 / x])
sin: Op = Op("sin", math.sin, [lambda x: cos(x)])
cos: Op = Op("cos", math.cos, [lambda x: -sin(x)])
# sech(x)**2 as 4 s(2x) s(-2x): exact for large |x|, where 1 - tanh(x)**2 rounds to 0.
tanh = Op("tanh", math.tanh, [lambda x: 4.0 * sigmoid(2.0 * x) * sigmoid(-2.0 * x)])
sigmoid: Op = Op("sigmoid", _sigmoid, [lambda x: sigmoid(x) * sigmoid(-x)])
relu = Op("relu", lambda x: 0.0 if x <= 0.0 else x,   # relu(nan) is nan
          [lambda x: 1.0 if number(x) > 0.0 else 0.0])  # relu'(0) = relu'(nan) = 0
# A gradient taken under an outer tape is returned as hold(gradient, target): the
# gradient, as a function of the target with slope 0. So the outer tape sees it depend
# on everything the target depends on, and differentiating it again gives 0, not None,
# even where the rules gave a plain number (x + 1, relu at 2).
hold = Op("hold", lambda value, at: value, [lambda value, at: 1.0, lambda value, at: 0.0])
# fmt: on

# ---- 3. The recording context --------------------------------------------------------------

RECORDING: ContextVar[tuple[GradientTape, ...]] = ContextVar("recording", default=())
"""The tapes recording in this thread or asyncio task, outermost first. Entering a tape
sets a longer tuple and keeps the token; leaving resets the token, which restores the
tuple exactly, even when the block raised. Nothing ever mutates the tuple."""

Record: TypeAlias = tuple[Value, Op, tuple[Value | float, ...]]  # output, op, arguments

# ---- 4. GradientTape -----------------------------------------------------------------------


class TapeError(RuntimeError):
    """A tape asked for something it cannot give: used up, released, or asked too early."""


class GradientTape:
    """Records the ops run inside its ``with`` block, then differentiates them.

    A non-persistent tape (the default) answers one ``gradient()`` call and then frees
    its records; a persistent one answers any number until ``release()``. With
    ``watch_accessed_variables=False`` only the Values passed to ``watch()``, and what is
    computed from them, are recorded.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._records: list[Record] = []
        self._watched: set[Value] = set()  # watched, and (not watching all) computed from them
        self._state = "fresh"  # then "recording", "exited", and at last "used" or "released"
        self._token: Token[tuple[GradientTape, ...]] | None = None

    def __enter__(self) -> GradientTape:
        if self._state == "recording":
            raise TapeError("GradientTape: this tape is already recording")
        self._check_alive("enter")
        self._token = RECORDING.set((*RECORDING.get(), self))
        self._state = "recording"
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._token is not None
        RECORDING.reset(self._token)
        self._token = None
        self._state = "exited"

    def _record(self, out: Value, op: Op, args: tuple[Value | float, ...]) -> None:
        if not self.watch_accessed_variables:
            if not any(a in self._watched for a in args):
                return  # reads nothing watched: a constant to this tape
            self._watched.add(out)
        self._records.append((out, op, args))

    def watch(self, *values: Value) -> None:
        """Make ``values`` sources; needed only with ``watch_accessed_variables=False``."""
        self._check_alive("watch")
        self._watched.update(values)

    @overload
    def gradient(self, target: Value, sources: Value) -> Value | None: ...
    @overload
    def gradient(self, target: Value, sources: list[Value]) -> list[Value | None]: ...
    def gradient(
        self, target: Value, sources: Value | list[Value]
    ) -> Value | list[Value | None] | None:
        """The gradient of ``target`` with respect to each source: a new Value, or None
        where the target does not depend on the source through the recorded ops."""
        self._check_alive("gradient")
        if self._state == "fresh":
            raise TapeError(
                "gradient: this tape was never entered, so it recorded nothing: only ops run "
                "inside `with tape:` are recorded"
            )
        if self._state == "recording" and not self.persistent:
            raise TapeError(
                "gradient: called inside the with block of a non-persistent tape. Call it "
                "after the block ends, or use GradientTape(persistent=True)"
            )
        grads = reverse_sweep(self._records, target)
        listed = [sources] if isinstance(sources, Value) else sources
        found = [self._result(grads, target, s) for s in listed]
        if not self.persistent:
            self._free("used")
        return found[0] if isinstance(sources, Value) else found

    def _result(
        self, grads: dict[Value, Value | float], target: Value, source: Value
    ) -> Value | None:
        g = grads.get(source)
        if not self.watch_accessed_variables and source not in self._watched:
            g = 1.0 if source is target else None  # the target itself: 1, watched or not
        if g is None:
            return None
        if RECORDING.get():  # some tape records this call: the gradient must stay connected
            return hold(g, target)
        return Value(number(g))

    def release(self) -> None:
        """Free the records now (TensorFlow's ``del tape``); later use raises TapeError."""
        if self._state == "recording":
            raise TapeError("release: the tape is still recording; call release() after its block")
        self._free("released")

    def _free(self, state: str) -> None:
        self._records, self._watched, self._state = [], set(), state

    def _check_alive(self, what: str) -> None:
        if self._state == "released":
            raise TapeError(
                f"{what}: the tape was released and holds nothing any more; "
                "create a new GradientTape"
            )
        if self._state == "used":
            raise TapeError(
                f"{what}: this tape was non-persistent and is used up: its one gradient() "
                "call already freed it. Record again on a new tape, or create it with "
                "GradientTape(persistent=True) to ask for several gradients"
            )


# ---- 5. The reverse sweep ------------------------------------------------------------------


def reverse_sweep(records: list[Record], target: Value) -> dict[Value, Value | float]:
    """The gradient of ``target`` with respect to every Value it depends on, by records.

    An op is recorded after its arguments exist, so walking the records from last to
    first reaches each op only after every later use of its output has sent back its
    share: a loop, no recursion, no topological sort, however deep the graph.

    While no tape records, the rules run on floats. While one does (an outer tape, or
    this persistent tape inside its own block), they run on the Values themselves, so
    every product and sum of the chain rule is an op that tape records: the gradient
    can be differentiated again.
    """
    on_values = bool(RECORDING.get())
    grads: dict[Value, Value | float] = {target: 1.0}
    for i in range(len(records) - 1, -1, -1):  # fixed now: a recording tape grows as we go
        out, op, args = records[i]
        g = grads.get(out)
        if g is None:
            continue  # the target does not depend on this op
        xs: tuple[Value | float, ...] = args if on_values else tuple(number(a) for a in args)
        for arg, rule in zip(args, op.derivatives, strict=True):
            if isinstance(arg, Value):  # a constant needs no gradient
                step = _times(g, rule(*xs), on_values)
                before = grads.get(arg)
                grads[arg] = step if before is None else before + step
    return grads


def _times(g: Value | float, partial: Value | float, on_values: bool) -> Value | float:
    """``g * partial``, where a zero factor gives 0 even against inf (0 * inf is NaN), as a
    relu that is off does in TensorFlow and PyTorch. On Values, slopes of exactly 0, 1 and
    -1 multiply nothing, so that a recorded sweep stays about as small as its graph."""
    if on_values and isinstance(partial, float) and partial in (0.0, 1.0, -1.0):
        return 0.0 if partial == 0.0 else g if partial == 1.0 else -g
    if on_values and isinstance(g, float) and g == 0.0:
        return 0.0
    step = g * partial
    return 0.0 if step != step and (g == 0.0 or partial == 0.0) else step


# ---- 6. The three examples -----------------------------------------------------------------

X, Y = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]  # y = 2x, to be learnt by y = w*x + b


def _total(terms: list[Value]) -> Value:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def mean_squared_error(y_true: list[float], y_pred: list[Value]) -> Value:
    """The mean of ``(p - t) ** 2``, computed as ``microtape.losses`` computes it."""
    errors = [p - t for t, p in zip(y_true, y_pred, strict=True)]
    return _total([d * d for d in errors]) / len(y_true)


def sum_of_absolute_errors(y_true: list[float], y_pred: list[Value]) -> Value:
    """TensorFlow's ``reduce_sum(abs(y_true - y_pred))``: a loss is just arithmetic."""
    return _total([abs(t - p) for t, p in zip(y_true, y_pred, strict=True)])


def main() -> None:
    """Print the three examples: with a tape, without one, and a persistent tape."""
    print("1. Correct usage: the model and the loss computed inside the tape's block")
    w, b = Value(1.0), Value(0.0)
    with GradientTape() as tape:
        loss = mean_squared_error(Y, [w * x + b for x in X])
    grads = tape.gradient(loss, [w, b])
    print(f"   loss = {loss!r}   (mean squared error of y = w*x + b at w = 1, b = 0)")
    print(f"   tape.gradient(loss, [w, b]) = {grads!r}")
    for p, g in zip([w, b], grads, strict=True):
        if g is not None:
            p.data -= 0.1 * g.data  # one step of SGD, learning rate 0.1
    print(f"   after one SGD step (learning rate 0.1): w = {w!r}, b = {b!r}")

    print("\n2. The loss computed without a tape")
    w, b = Value(1.0), Value(0.0)
    loss = mean_squared_error(Y, [w * x + b for x in X])  # before the block: not recorded
    with GradientTape() as tape:
        pass  # the computation already happened: there is nothing left to record
    print(f"   loss = {loss!r}   (a number like any other: the Value has no history)")
    print(f"   tape.gradient(loss, [w, b]) = {tape.gradient(loss, [w, b])!r}")
    print("   None: nothing was recorded, so the tape cannot tell how loss depends on w or b")

    print("\n3. A persistent tape: two losses from one recording")
    w, b = Value(1.0), Value(0.0)
    with GradientTape(persistent=True) as tape:
        y_pred = [w * x + b for x in X]
        loss1 = mean_squared_error(Y, y_pred)
        loss2 = sum_of_absolute_errors(Y, y_pred)
    print(f"   loss1 = {loss1!r}   (mean squared error)")
    print(f"   tape.gradient(loss1, [w, b]) = {tape.gradient(loss1, [w, b])!r}")
    print(f"   loss2 = {loss2!r}   (sum of absolute errors)")
    print(f"   tape.gradient(loss2, [w, b]) = {tape.gradient(loss2, [w, b])!r}")
    tape.release()  # the records, and every number they hold, are freed now
    try:
        tape.gradient(loss1, [w, b])
    except TapeError as error:
        print(f"   after tape.release(), a third call raises TapeError: {error}")


if __name__ == "__main__":
    main()
