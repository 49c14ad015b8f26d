"""The transforms built on tapes: ``grad``, ``value_and_grad``, ``vjp``, ``hessian``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from ..core.errors import ShapeError
from ..core.tapes.tape import GradientTape
from ..core.values.value import Value, number
from ..core.words import counted
from .shapes import (
    AnyFunction,
    Inputs,
    Pair,
    Pullback,
    ScalarOf,
    VectorOf,
    argument_numbers,
    check_function,
    directions,
    lifted,
    nest,
    outputs,
    results,
    scalar,
    split,
)

__all__ = ["grad", "hessian", "value_and_grad", "vjp"]


# ---- grad and value_and_grad -----------------------------------------------------------------


@overload
def grad(f: ScalarOf, argnums: int = 0) -> Callable[[float], float]: ...
@overload
def grad(f: Callable[[float], float], argnums: int = 0) -> Callable[[float], float]: ...
@overload
def grad(f: VectorOf, argnums: int = 0) -> Callable[[Sequence[float]], list[float]]: ...
@overload
def grad(
    f: Callable[[list[float]], float], argnums: int = 0
) -> Callable[[Sequence[float]], list[float]]: ...
@overload
def grad(f: Pair, argnums: int = 0) -> Callable[[float, float], float]: ...
@overload
def grad(f: Pair, argnums: tuple[int, int]) -> Callable[[float, float], tuple[float, float]]: ...
@overload
def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> AnyFunction: ...
def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The gradient of ``f`` as a function: floats in, floats out.

    Args:
        f: returns one number (a Value or a float).
        argnums: which argument to differentiate with respect to, or a tuple of them
            (then the result is a tuple of gradients).

    Returns:
        A function taking ``f``'s arguments and returning the gradient, in the nesting
        of the argument (a float for a number, a list for a list, ...).

    Raises:
        ArgumentTypeError: if ``f`` is not callable or ``argnums`` is not an int or a
            tuple of ints; when called, if an argument is not a number (or a nesting of
            numbers), ``argnums`` names an argument ``f`` was not given, or ``f``
            returns something other than one number.

    Example:
        >>> import microtape as mt
        >>> mt.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
        (5.0, 2.0)
        >>> mt.grad(lambda xs: xs[0] * xs[1])([2.0, 5.0])
        [5.0, 2.0]
    """
    check_function(f, "grad")
    chosen = argument_numbers(argnums, "grad")

    def gradient(*args: Any) -> Any:
        return _value_and_grad(f, args, argnums, chosen, "grad")[1]

    return gradient


@overload
def value_and_grad(f: ScalarOf, argnums: int = 0) -> Callable[[float], tuple[float, float]]: ...
@overload
def value_and_grad(
    f: Callable[[float], float], argnums: int = 0
) -> Callable[[float], tuple[float, float]]: ...
@overload
def value_and_grad(
    f: VectorOf, argnums: int = 0
) -> Callable[[Sequence[float]], tuple[float, list[float]]]: ...
@overload
def value_and_grad(
    f: Callable[[list[float]], float], argnums: int = 0
) -> Callable[[Sequence[float]], tuple[float, list[float]]]: ...
@overload
def value_and_grad(f: Pair, argnums: int = 0) -> Callable[[float, float], tuple[float, float]]: ...
@overload
def value_and_grad(
    f: Pair, argnums: tuple[int, int]
) -> Callable[[float, float], tuple[float, tuple[float, float]]]: ...
@overload
def value_and_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> AnyFunction: ...
def value_and_grad(
    f: Callable[..., Any], argnums: int | tuple[int, ...] = 0
) -> Callable[..., tuple[Any, Any]]:
    """``f`` and its gradient as one function, ``(value, gradient)``: one recording.

    The shape ``scipy.optimize.minimize(fun, x0, jac=True)`` asks for. Arguments,
    results and errors as :func:`grad`.

    Example:
        >>> import microtape as mt
        >>> def rosenbrock(p: list[mt.Value]) -> mt.Value:
        ...     x, y = p
        ...     return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2
        >>> mt.value_and_grad(rosenbrock)([0.0, 0.0])
        (1.0, [-2.0, 0.0])
    """
    check_function(f, "value_and_grad")
    chosen = argument_numbers(argnums, "value_and_grad")

    def both(*args: Any) -> tuple[Any, Any]:
        return _value_and_grad(f, args, argnums, chosen, "value_and_grad")

    return both


def _value_and_grad(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    argnums: int | tuple[int, ...],
    chosen: tuple[int, ...],
    what: str,
) -> tuple[Any, Any]:
    call, inputs = lifted(args, argnums, chosen, what)
    with GradientTape() as tape:
        out = scalar(f(*call), what)
    sources = [leaf for given in inputs for leaf in given.leaves]
    found: list[Value | None] = [None] * len(sources)
    if type(out) is Value:
        found = tape.gradient(out, sources)
    results = split(inputs, found)
    as_values = any(given.given_values for given in inputs)
    value = out if as_values and type(out) is Value else number(out)
    return value, results[0] if isinstance(argnums, int) else tuple(results)


# ---- vjp ------------------------------------------------------------------------------------


@overload
def vjp(
    f: ScalarOf | Callable[[float], float], primal: float, /
) -> tuple[float, Callable[[float], tuple[float]]]: ...
@overload
def vjp(
    f: VectorOf | Callable[[list[float]], float], primal: Sequence[float], /
) -> tuple[float, Callable[[float], tuple[list[float]]]]: ...
@overload
def vjp(
    f: Pair, first: float, second: float, /
) -> tuple[float, Callable[[float], tuple[float, float]]]: ...
@overload
def vjp(f: Callable[..., Any], /, *primals: Any) -> tuple[Any, Pullback]: ...
def vjp(f: Callable[..., Any], /, *primals: Any) -> tuple[Any, Pullback]:
    """``f``'s value at ``primals``, and its pullback: cotangent in, one gradient per primal.

    Reverse mode: one recording of ``f`` on a persistent tape, which the pullback holds
    (and sweeps once per call) until it is dropped.

    Returns:
        ``(value, pullback)``: the value in the nesting of ``f``'s result;
        ``pullback(cotangent)``, with the cotangent nested like the value, returns a
        tuple with the gradient of ``sum(cotangent * value)`` for each primal.

    Raises:
        ArgumentTypeError: as :func:`jvp`; the pullback, if the cotangent is not a
            number or a nesting of numbers.
        ShapeError: the pullback, if the cotangent holds another number of entries
            than the value.

    Example:
        >>> import microtape as mt
        >>> value, pullback = mt.vjp(lambda x, y: [x * y, x + y], 2.0, 5.0)
        >>> value, pullback([1.0, 0.0]), pullback([0.0, 1.0])
        ([10.0, 7.0], (5.0, 2.0), (1.0, 1.0))
    """
    check_function(f, "vjp")
    inputs = [Inputs(p, "vjp", f"primals[{i}]") for i, p in enumerate(primals)]
    tape = GradientTape(persistent=True)
    with tape:
        out = f(*(given.nest for given in inputs))
    leaves, rebuild = outputs(out, "vjp")
    as_values = any(given.given_values for given in inputs)
    targets = [leaf if type(leaf) is Value else None for leaf in leaves]
    sources = [leaf for given in inputs for leaf in given.leaves]

    def pullback(cotangent: Any) -> tuple[Any, ...]:
        upstream = directions([cotangent], "vjp: pullback", "cotangent")[0]
        weights, _ = nest(upstream, "cotangent", lambda x, path: x, "vjp: pullback")
        if len(weights) != len(leaves):
            raise ShapeError(
                f"vjp: pullback: the cotangent holds {counted(len(weights), 'number')} but f "
                f"returned {len(leaves)}; give one per entry of f's value, nested like it"
            )
        found = tape.gradient(targets, sources, output_gradients=weights)
        return tuple(split(inputs, found))

    return rebuild(results(leaves, as_values)), pullback


# ---- the Hessian ----------------------------------------------------------------------------


@overload
def hessian(
    f: ScalarOf | Callable[[float], float], argnums: int = 0
) -> Callable[[float], float]: ...
@overload
def hessian(
    f: VectorOf | Callable[[list[float]], float], argnums: int = 0
) -> Callable[[Sequence[float]], list[list[float]]]: ...
@overload
def hessian(f: Callable[..., Any], argnums: int = 0) -> AnyFunction: ...
def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """The matrix of second derivatives of ``f`` as a function.

    Reverse over reverse: ``f`` recorded on a tape inside another, the gradient taken
    while the outer one records, then one float sweep of the outer tape per input.
    For ``n`` inputs that costs about as much as ``n`` gradients of the gradient, which
    beats ``n`` Hessian-vector products (see :func:`hvp`) except for one direction.

    Args:
        f: returns one number.
        argnums: which argument (an int).

    Returns:
        A function of ``f``'s arguments returning the Hessian: a float for a number, a
        list of lists for a list (``H[i][j] = d2f / dx_i dx_j``), and in general the
        argument's nesting of the argument's nesting.

    Example:
        >>> import microtape as mt
        >>> mt.hessian(lambda p: p[0] * p[0] * p[1])([3.0, 5.0])
        [[10.0, 6.0], [6.0, 0.0]]
    """
    check_function(f, "hessian")
    chosen = argument_numbers(argnums, "hessian", single=True)

    def second(*args: Any) -> Any:
        call, inputs = lifted(args, argnums, chosen, "hessian")
        given = inputs[0]
        xs = given.leaves
        with GradientTape() as outer:
            with GradientTape() as inner:
                out = scalar(f(*call), "hessian")
            firsts: list[Value | None] = (
                inner.gradient(out, xs) if type(out) is Value else [None] * len(xs)
            )
        rows = outer.jacobian(firsts, xs)  # a None row is zeros
        return given.rebuild([given.results(row) for row in rows])

    return second
