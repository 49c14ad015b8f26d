"""The transforms built on forward accumulators: ``jvp``, ``hvp`` and ``jacobian``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from ..core.errors import ArgumentTypeError
from ..core.tapes.accumulator import ForwardAccumulator
from ..core.tapes.arguments import pairs
from ..core.tapes.tape import GradientTape
from ..core.values.numbers import short_repr
from ..core.values.value import Value
from .shapes import (
    MODES,
    AnyFunction,
    Inputs,
    Mode,
    ScalarOf,
    VectorOf,
    argument_numbers,
    check_function,
    directions,
    lifted,
    outputs,
    results,
    scalar,
    unit,
)

__all__ = ["hvp", "jacobian", "jvp"]


# ---- jvp and hvp ---------------------------------------------------------------------------


@overload
def jvp(
    f: ScalarOf | Callable[[float], float], primals: tuple[float], tangents: tuple[float]
) -> tuple[float, float]: ...
@overload
def jvp(
    f: VectorOf | Callable[[list[float]], float],
    primals: tuple[Sequence[float]],
    tangents: tuple[Sequence[float]],
) -> tuple[float, float]: ...
@overload
def jvp(
    f: Callable[[Value], Sequence[Value | float]], primals: tuple[float], tangents: tuple[float]
) -> tuple[list[float], list[float]]: ...
@overload
def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[Any, Any]: ...
def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``f``'s value at ``primals`` and its directional derivative along ``tangents``.

    Forward mode: one pass of ``f`` inside a ``ForwardAccumulator``.

    Args:
        f: returns a number, or a list, tuple or dict nesting numbers.
        primals: a tuple (or list) of ``f``'s arguments, as JAX takes them: ``(x,)``.
        tangents: a tuple of the same length, each entry nested like its argument.

    Returns:
        ``(value, tangent)``, each in the nesting of ``f``'s result.

    Raises:
        ArgumentTypeError: if ``primals`` or ``tangents`` is not a tuple or list, or an
            entry is not a number (or a nesting of numbers), or ``f`` returns something
            else.
        ShapeError: if ``tangents`` is not nested like ``primals``.

    Example:
        >>> import microtape as mt
        >>> mt.jvp(lambda x, y: x * y, (2.0, 5.0), (1.0, 0.0))
        (10.0, 5.0)
    """
    check_function(f, "jvp")
    for name, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (list, tuple)):
            raise ArgumentTypeError(
                f"jvp: {name} must be a tuple (or list) of f's arguments, got "
                f"{type(given).__name__} {short_repr(given)}; write ({short_repr(given)},) for "
                "one argument"
            )
    inputs = [Inputs(p, "jvp", f"primals[{i}]") for i, p in enumerate(primals)]
    nests = [given.nest for given in inputs]
    along = directions(tangents, "jvp", "tangents")
    pairs(nests, along, "jvp")  # the nestings match, with "jvp" in the message
    with ForwardAccumulator(nests, along) as acc:
        out = f(*nests)
    leaves, rebuild = outputs(out, "jvp")
    moved = [acc.jvp(leaf) if type(leaf) is Value else None for leaf in leaves]
    as_values = any(given.given_values for given in inputs)
    return rebuild(results(leaves, as_values)), rebuild(results(moved, as_values))


@overload
def hvp(f: ScalarOf | Callable[[float], float], x: float, v: float) -> float: ...
@overload
def hvp(
    f: VectorOf | Callable[[list[float]], float], x: Sequence[float], v: Sequence[float]
) -> list[float]: ...
@overload
def hvp(f: Callable[[Any], Any], x: Any, v: Any) -> Any: ...
def hvp(f: Callable[[Any], Any], x: Any, v: Any) -> Any:
    """The Hessian of ``f`` at ``x`` times the vector ``v``, forward over reverse.

    A forward accumulator along ``v`` around a tape: the tape's gradient is computed
    while the accumulator records, and its tangent is ``H v``. One pass and one sweep,
    a few gradients' cost whatever the number of inputs, where the Hessian needs one
    sweep per input.

    Args:
        f: a function of one argument returning one number.
        x: the point: a number or a nesting of numbers.
        v: the direction, nested like ``x``.

    Returns:
        ``H v``, nested like ``x``.

    Example:
        >>> import microtape as mt
        >>> mt.hvp(lambda p: p[0] * p[0] * p[1], [3.0, 5.0], [1.0, 0.0])
        [10.0, 6.0]
    """
    check_function(f, "hvp")
    given = Inputs(x, "hvp", "x")
    direction = directions([v], "hvp", "v")[0]
    pairs(given.nest, direction, "hvp")
    with ForwardAccumulator(given.nest, direction) as acc:
        with GradientTape() as tape:
            out = scalar(f(given.nest), "hvp")
        firsts = tape.gradient(out, given.leaves) if type(out) is Value else []
    if not firsts:
        firsts = [None] * len(given.leaves)
    return given.results(acc.jvp(firsts))


# ---- jacobian -------------------------------------------------------------------------------


@overload
def jacobian(
    f: ScalarOf | Callable[[float], float], argnums: int = 0, mode: Mode = "auto"
) -> Callable[[float], float]: ...
@overload
def jacobian(
    f: VectorOf | Callable[[list[float]], float], argnums: int = 0, mode: Mode = "auto"
) -> Callable[[Sequence[float]], list[float]]: ...
@overload
def jacobian(
    f: Callable[[Value], Sequence[Value | float]], argnums: int = 0, mode: Mode = "auto"
) -> Callable[[float], list[float]]: ...
@overload
def jacobian(
    f: Callable[[list[Value]], Sequence[Value | float]], argnums: int = 0, mode: Mode = "auto"
) -> Callable[[Sequence[float]], list[list[float]]]: ...
@overload
def jacobian(f: Callable[..., Any], argnums: int = 0, mode: Mode = "auto") -> AnyFunction: ...
def jacobian(f: Callable[..., Any], argnums: int = 0, mode: Mode = "auto") -> Callable[..., Any]:
    """The matrix of first derivatives of ``f`` as a function.

    Args:
        f: returns a number, or a list, tuple or dict nesting numbers.
        argnums: which argument (an int).
        mode: ``"forward"``: one pass of ``f`` per input, each inside a forward
            accumulator along that input; ``"reverse"``: one recording and one sweep
            per output; ``"auto"`` (default): forward when ``f`` has fewer inputs than
            outputs. Auto runs ``f`` once inside a persistent tape and an accumulator
            along the first input, counts the outputs, and goes on in the cheaper
            mode from there.

    Returns:
        A function of ``f``'s arguments returning ``J[i][j] = d out_i / d x_j``: the
        nesting of ``f``'s result, with the nesting of the argument at each entry
        (a float for a number to a number, a list for a list to a number or a number
        to a list, a list of lists for a list to a list).

    Raises:
        ValueError: if ``mode`` is not one of the three.

    Example:
        >>> import microtape as mt
        >>> mt.jacobian(lambda p: [p[0] * p[1], p[0] + p[1], mt.exp(p[0])])([0.0, 5.0])
        [[5.0, 0.0], [1.0, 1.0], [1.0, 0.0]]
    """
    check_function(f, "jacobian")
    chosen = argument_numbers(argnums, "jacobian", single=True)
    if mode not in MODES:
        raise ValueError(
            f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {short_repr(mode)}"
        )

    def first(*args: Any) -> Any:
        call, inputs = lifted(args, argnums, chosen, "jacobian")
        given = inputs[0]
        xs = given.leaves
        n = len(xs)
        columns: list[list[Value | None]] = []  # forward mode: d out / d x_j, per j
        tape = GradientTape(persistent=True)
        if mode == "reverse" or n == 0:
            with tape:
                out = f(*call)
        elif mode == "forward":
            with ForwardAccumulator(xs, unit(n, 0)) as acc:
                out = f(*call)
        else:  # auto: both, the tape inside (it ignores the accumulator's arithmetic)
            with ForwardAccumulator(xs, unit(n, 0)) as acc, tape:
                out = f(*call)
        leaves, rebuild = outputs(out, "jacobian")
        m = len(leaves)
        forward = n > 0 and (mode == "forward" or (mode == "auto" and n < m))
        if forward:
            columns.append([acc.jvp(o) if type(o) is Value else None for o in leaves])
            for j in range(1, n):
                with ForwardAccumulator(xs, unit(n, j)) as again:
                    more, _ = outputs(f(*call), "jacobian")
                columns.append([again.jvp(o) if type(o) is Value else None for o in more])
            rows = [[column[i] for column in columns] for i in range(m)]
        else:
            rows = [tape.gradient(o, xs) if type(o) is Value else [None] * n for o in leaves]
        return rebuild([given.results(row) for row in rows])

    return first
