"""``custom_gradient``: a function whose gradient is given by another function, as
TensorFlow's ``tf.custom_gradient``.

The decorated function takes Values (or numbers) positionally and returns ``(y,
grad_fn)``: its value, and the function that turns the upstream gradient of ``y`` into
one gradient per argument. Tapes then use ``grad_fn`` instead of differentiating what
the function did: a numerically stable gradient (``log1pexp``), a clipped one, a
straight-through estimator.

How it is recorded. The function runs as written, its ops recorded by whatever records,
as TensorFlow's eager ``custom_gradient`` runs it: so the Values ``grad_fn`` closes over
(``e = exp(x)``) are connected to the arguments on every tape, and a tape that records
``grad_fn``'s ops differentiates them again. Its result is a new Value, recorded as one
op whose arguments are the function's Value arguments with no partials (``None``, see
``recording/record.py``): the op is a :class:`CustomOp` made for this one call, holding
``grad_fn`` and the arguments' nodes. The reverse sweeps call ``grad_fn`` with the
upstream gradient when they reach that row, as TensorFlow calls it, so a ``grad_fn``
that is not linear in the upstream gradient (clipping) gets the gradient that really
arrives. On floats (first order) its result is read as floats; on Values (a tape
records the sweep) its ops are recorded, which gives second derivatives; forward over
reverse pushes tangents through its ops.

What is refused, with an error saying so:

- a forward accumulator pushing a tangent *through* the function: that needs the
  function's Jacobian-vector product, and ``grad_fn`` gives vector-Jacobian products
  (JAX's ``custom_vjp`` refuses forward mode the same way); the tangent of a gradient
  taken through it (forward over reverse) is fine;
- ``mt.function``: its generated code cannot call ``grad_fn`` (Python, holding this
  call's Values), so a call while a function is traced refuses the trace, and the
  function runs as written (``TracingWarning``).
"""

from __future__ import annotations

import functools
import keyword
from collections.abc import Callable, Sequence
from types import CodeType
from typing import NoReturn, ParamSpec, TypeVar

from ..errors import ArgumentTypeError, TapeError
from ..recording.context import RECORDING, sinks, tracer_of
from ..recording.record import Rows
from ..values.numbers import constant, short_repr
from ..values.op import Op
from ..values.value import Value, next_node, node_value, read
from .forward import Tangents

__all__ = ["CustomOp", "custom_gradient", "pulled"]

P = ParamSpec("P")
Y = TypeVar("Y", bound="Value | float")

GradFn = Callable[..., object]
"""``grad_fn(upstream)``: one gradient per argument (a single one for one argument)."""


class CustomOp(Op):
    """The op one call of a ``custom_gradient`` function records.

    Made for that call alone: it holds the call's ``grad_fn`` and the nodes of its
    arguments (None for a number), which the reverse sweeps hand the upstream gradient
    to (:func:`pulled`). It has no derivative rules to call: its gradient is
    ``grad_fn``'s. Not in the registry.
    """

    __slots__ = ("grad_fn", "nodes")

    grad_fn: GradFn
    nodes: tuple[int | None, ...]


def custom_gradient(f: Callable[P, tuple[Y, GradFn]]) -> Callable[P, Y]:
    """Give a function its own gradient, as TensorFlow's ``tf.custom_gradient``.

    ``f`` takes Values (or numbers) positionally, and keyword arguments that are not
    Values (settings); it returns ``(y, grad_fn)``, ``y`` one Value or number.
    ``grad_fn(upstream)`` takes the upstream gradient of ``y`` (always a Value) and
    returns the gradient of each positional argument: a single Value or number for a
    function of one argument, a tuple or list of them (None for no gradient) for several.

    The decorated function returns ``y`` as a new Value (``y`` itself if no argument is
    a Value). Tapes differentiate it with ``grad_fn``, called with the upstream gradient
    that reaches it; an outer tape records ``grad_fn``'s ops, so second derivatives work
    when ``grad_fn`` is written with microtape's ops on Values the function computed
    (or on its arguments). Values ``f`` reads that are not its arguments get no gradient
    through it: pass them as arguments.

    Raises:
        ArgumentTypeError: if ``f`` is not callable; when called, if a positional
            argument is not a Value or a number, a keyword argument is a Value, ``f``
            does not return ``(y, grad_fn)``, or ``grad_fn`` returns the wrong number
            or kind of gradients.
        TapeError: when called while a forward accumulator is recording with a tangent
            for one of its arguments (see the module docstring).

    Example:
        >>> import microtape as mt
        >>> @mt.custom_gradient
        ... def log1pexp(x):
        ...     e = mt.exp(x)
        ...     def grad_fn(upstream):
        ...         return upstream * (1.0 - 1.0 / (1.0 + e))
        ...     return mt.log(1.0 + e), grad_fn
        >>> x = mt.Value(100.0)
        >>> with mt.GradientTape() as tape:
        ...     y = log1pexp(x)
        >>> tape.gradient(y, x)          # e / (1 + e) would be inf / inf = nan here
        Value(1.0)
    """
    if not callable(f):
        raise ArgumentTypeError(
            f"custom_gradient: expected a function, got {type(f).__name__} {short_repr(f)}"
        )
    given = getattr(f, "__name__", "")
    name = given if given.isidentifier() and not keyword.iskeyword(given) else "custom_gradient"
    code = getattr(f, "__code__", None)
    names = code.co_varnames[: code.co_argcount] if isinstance(code, CodeType) else ()

    @functools.wraps(f)
    def call(*args: P.args, **kwargs: P.kwargs) -> Y:
        return _call(f, name, names, args, kwargs)  # type: ignore[return-value]

    return call


def _call(
    f: Callable[..., tuple[object, GradFn]],
    name: str,
    names: Sequence[str],
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> object:
    """One call of a custom-gradient function ``f`` (see :func:`custom_gradient`)."""
    arg_names = tuple(names[i] if i < len(names) else f"x{i}" for i in range(len(args)))
    nodes: list[int | None] = []
    numbers: list[float] = []
    for arg_name, arg in zip(arg_names, args, strict=True):
        if type(arg) is Value:
            nodes.append(arg.node)
            numbers.append(read(arg))
            continue
        c = constant(arg)
        if c is None:
            raise ArgumentTypeError(
                f"custom_gradient: {name}'s argument {arg_name} must be a Value or a number, "
                f"got {type(arg).__name__} {short_repr(arg)}; pass settings as keyword "
                "arguments"
            )
        nodes.append(None)
        numbers.append(c)
    for key, value in kwargs.items():
        if type(value) is Value:
            raise ArgumentTypeError(
                f"custom_gradient: {name}'s keyword argument {key}={value!r} is a Value; pass "
                "Values positionally, so that grad_fn gives their gradients"
            )
    moving = any(node is not None for node in nodes)
    if moving and RECORDING.get() is not None:
        _refuse_tracing(name)
        _refuse_tangents(name, arg_names, nodes)
    y, grad_fn = _returned(name, f(*args, **kwargs))
    if not moving:
        return y  # no Value in: nothing to differentiate
    number = read(y) if type(y) is Value else y
    assert type(number) is float
    n = next_node()
    out = node_value(number, n)
    sink = RECORDING.get()
    if sink is not None:
        op = _op(name, arg_names, grad_fn, tuple(nodes))
        sink.extend(_rows(op, n, number, nodes, numbers))
    return out


def _returned(name: str, result: object) -> tuple[Value | float, GradFn]:
    """``f``'s ``(y, grad_fn)``, checked."""
    if isinstance(result, (tuple, list)) and len(result) == 2 and callable(result[1]):
        y = result[0]
        if type(y) is Value:
            return y, result[1]
        c = constant(y)
        if c is not None:
            return c, result[1]
    raise ArgumentTypeError(
        f"custom_gradient: {name} must return (y, grad_fn): y a Value or a number, and "
        f"grad_fn a function of the upstream gradient; got {type(result).__name__} "
        f"{short_repr(result)}"
    )


def _refuse_tracing(name: str) -> None:
    tracer = tracer_of(RECORDING.get())
    if tracer is not None:
        tracer.refuse(
            f"@mt.custom_gradient function {name}: the generated code cannot call its "
            "grad_fn, Python holding the Values of one call"
        )


def _refuse_tangents(name: str, arg_names: Sequence[str], nodes: Sequence[int | None]) -> None:
    for sink in sinks():
        if not isinstance(sink, Tangents):
            continue
        for arg_name, node in zip(arg_names, nodes, strict=True):
            if node is not None and sink.watches(node):
                _no_tangent(name, arg_name)


def _no_tangent(name: str, arg_name: str) -> NoReturn:
    raise TapeError(
        f"custom_gradient: a ForwardAccumulator is recording and {name}'s argument "
        f"{arg_name} has a tangent, but a custom gradient gives no tangent: its grad_fn "
        "turns gradients into gradients (reverse mode), and a tangent needs the function's "
        "Jacobian-vector product (JAX's custom_vjp refuses forward mode alike). "
        "Differentiate it with tapes (nested for second derivatives, mt.hessian), or call "
        "the function without @mt.custom_gradient under the accumulator"
    )


def _op(
    name: str, arg_names: tuple[str, ...], grad_fn: GradFn, nodes: tuple[int | None, ...]
) -> CustomOp:
    """The op of one call: built without ``Op.__init__``'s checks, which a function's
    every call would pay for, and frozen as every op is."""

    def no_rule(*args: Value | float) -> NoReturn:
        raise TypeError(
            f"custom_gradient: {name} has no derivative rules: its gradient is its grad_fn's, "
            "which the tape calls with the upstream gradient"
        )

    def forward(*args: float) -> NoReturn:
        raise TypeError(f"custom_gradient: call {name} itself, not the op of one of its calls")

    arity = len(arg_names)
    rules = (no_rule,) * arity
    op = object.__new__(CustomOp)
    set_ = object.__setattr__
    set_(op, "name", name)
    set_(op, "forward", forward)
    set_(op, "derivatives", rules)
    set_(op, "sympy", None)
    set_(op, "domain", (None,) * arity)
    set_(op, "doc", f"{name}, whose gradient is its grad_fn's (@mt.custom_gradient)")
    set_(op, "arity", arity)
    set_(op, "arg_names", arg_names)
    set_(op, "_outside", (None,) * arity)
    set_(op, "_guarded", False)
    set_(op, "_rule_a", no_rule)
    set_(op, "_rule_b", no_rule)
    set_(op, "grad_fn", grad_fn)
    set_(op, "nodes", nodes)
    return op


def _rows(
    op: CustomOp, n: int, y: float, nodes: Sequence[int | None], numbers: Sequence[float]
) -> Rows:
    """The rows of one call (see ``recording/record.py``), every partial None: nothing
    flows through them by a partial, the sweeps hand the op's row to ``grad_fn``. Three
    or more arguments chain through hidden nodes, as any op's do."""
    if op.arity == 1:
        return (n, y, nodes[0], numbers[0], None, None, None, None, op)
    hidden = n if op.arity == 2 else next_node()
    rows: Rows = (
        hidden, y, nodes[0], numbers[0], None, nodes[1], numbers[1], None,
        op if op.arity == 2 else None,
    )  # fmt: skip
    last = op.arity - 1
    for i in range(2, op.arity):
        out = n if i == last else next_node()
        rows += (out, y, hidden, y, None, nodes[i], numbers[i], None, op if i == last else None)
        hidden = out
    return rows


def pulled(op: CustomOp, upstream: Value | float) -> list[tuple[int, Value | float]]:
    """``grad_fn`` of the upstream gradient: each Value argument's node with its gradient
    (an argument whose gradient is None, or that is a number, is left out).

    Called by the reverse sweeps when they reach ``op``'s row. The upstream gradient is
    handed to ``grad_fn`` as a Value whatever the sweep holds, so that ``grad_fn`` is
    written once, with Value arithmetic and microtape's ops.

    Raises:
        ArgumentTypeError: if ``grad_fn`` returns the wrong number or kind of gradients.
    """
    given = op.grad_fn(upstream if type(upstream) is Value else Value(upstream))
    names = ", ".join(op.arg_names)
    if op.arity == 1 and not isinstance(given, (tuple, list)):
        given = (given,)
    if not isinstance(given, (tuple, list)) or len(given) != op.arity:
        raise ArgumentTypeError(
            f"custom_gradient: {op.name}'s grad_fn must return {op.arity} gradient"
            f"{'' if op.arity == 1 else 's'}, one per argument ({names}), "
            f"{'a Value or a number' if op.arity == 1 else 'as a tuple or list'}; got "
            f"{type(given).__name__} {short_repr(given)}"
        )
    found: list[tuple[int, Value | float]] = []
    for arg_name, node, g in zip(op.arg_names, op.nodes, given, strict=True):
        if g is None:
            continue
        if type(g) is not Value:
            c = constant(g)
            if c is None:
                raise ArgumentTypeError(
                    f"custom_gradient: {op.name}'s grad_fn gave {type(g).__name__} "
                    f"{short_repr(g)} as the gradient of {arg_name}; a gradient is a Value, "
                    "a number or None"
                )
            g = c
        if node is not None:
            found.append((node, g))
    return found
