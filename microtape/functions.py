"""Function transforms for tiny scripts: derivatives of plain functions, floats in and out.

JAX and HIPS autograd differentiate functions; TensorFlow differentiates what a tape
recorded. These are the first, built on the second: each runs ``f`` inside a
``GradientTape`` or a ``ForwardAccumulator`` and hands back plain floats, so they plug
into a hand-written Newton loop, or into ``scipy.optimize.minimize(fun, x0, jac=True)``
with ``fun = mt.value_and_grad(f)``.

- An argument is a number, or a list, tuple or dict nesting numbers (any other
  sequence, such as a numpy array, counts as a list). ``f`` receives each number as a
  ``Value``, in the same nesting, and returns a Value or a number (``jvp``, ``vjp`` and
  ``jacobian``: or a list, tuple or dict nesting them). A function that does not depend
  on an argument gives 0.0 for it, as JAX does.
- Results are floats in the nesting of the argument. Given Values instead of numbers,
  the transforms use them as they are and return Values, so that they compose:
  ``mt.grad(mt.grad(f))(x)`` is the second derivative.
- Annotate ``f`` (``def f(x: mt.Value) -> mt.Value``, or with ``float``) and mypy sees
  ``float`` in and ``float`` out; a lambda or an unusual signature gets ``Any``.

Example:
    >>> import microtape as mt
    >>> def f(x: mt.Value) -> mt.Value:
    ...     return x * x * x
    >>> mt.grad(f)(2.0)
    12.0
    >>> mt.value_and_grad(f)(2.0)
    (8.0, 12.0)
    >>> mt.hessian(f)(2.0)
    12.0
    >>> mt.grad(mt.grad(f))(2.0)
    12.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias, TypeVar, overload

from .core.errors import ArgumentTypeError, ShapeError
from .core.tapes.accumulator import ForwardAccumulator
from .core.tapes.arguments import pairs
from .core.tapes.tape import GradientTape
from .core.values.numbers import short_repr
from .core.values.value import Value

__all__ = [
    "AnyFunction",
    "Mode",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "value_and_grad",
    "vjp",
]

T = TypeVar("T")

Mode: TypeAlias = Literal["auto", "forward", "reverse"]
"""How ``jacobian`` differentiates: forward mode (one pass of ``f`` per input), reverse
mode (one sweep per output), or whichever needs fewer (``"auto"``)."""

_MODES = ("auto", "forward", "reverse")

ScalarOf: TypeAlias = Callable[[Value], "Value | float"]
VectorOf: TypeAlias = Callable[[list[Value]], "Value | float"]
Pair: TypeAlias = Callable[[Value, Value], "Value | float"]
Rebuild: TypeAlias = Callable[[list[Any]], Any]


class AnyFunction(Protocol):
    """What a transform returns for an ``f`` whose shape its overloads do not spell out
    (a lambda, three arguments, a dict): any arguments, any result. A Protocol rather
    than ``Callable[..., Any]``, which ``mypy --strict`` would not let a script call."""

    def __call__(self, *args: Any) -> Any: ...


Pullback: TypeAlias = Callable[[Any], tuple[Any, ...]]


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
    _callable(f, "grad")
    chosen = _argnums(argnums, "grad")

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
    _callable(f, "value_and_grad")
    chosen = _argnums(argnums, "value_and_grad")

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
    call, inputs = _lifted(args, argnums, chosen, what)
    with GradientTape() as tape:
        out = _scalar(f(*call), what)
    sources = [leaf for given in inputs for leaf in given.leaves]
    found: list[Value | None] = [None] * len(sources)
    if type(out) is Value:
        found = tape.gradient(out, sources)
    results = _split(inputs, found)
    as_values = any(given.given_values for given in inputs)
    value = out if as_values and type(out) is Value else float(out)
    return value, results[0] if isinstance(argnums, int) else tuple(results)


# ---- jvp and vjp ----------------------------------------------------------------------------


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
    _callable(f, "jvp")
    for name, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (list, tuple)):
            raise ArgumentTypeError(
                f"jvp: {name} must be a tuple (or list) of f's arguments, got "
                f"{type(given).__name__} {short_repr(given)}; write ({short_repr(given)},) for "
                "one argument"
            )
    inputs = [_Inputs(p, "jvp", f"primals[{i}]") for i, p in enumerate(primals)]
    nests = [given.nest for given in inputs]
    directions = _directions(tangents, "jvp", "tangents")
    pairs(nests, directions, "jvp")  # the nestings match, with "jvp" in the message
    with ForwardAccumulator(nests, directions) as acc:
        out = f(*nests)
    leaves, rebuild = _outputs(out, "jvp")
    moved = [acc.jvp(leaf) if type(leaf) is Value else None for leaf in leaves]
    as_values = any(given.given_values for given in inputs)
    return rebuild(_out(leaves, as_values)), rebuild(_out(moved, as_values))


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
def vjp(
    f: Callable[..., Any], /, *primals: Any
) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]: ...
def vjp(f: Callable[..., Any], /, *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
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
    _callable(f, "vjp")
    inputs = [_Inputs(p, "vjp", f"primals[{i}]") for i, p in enumerate(primals)]
    tape = GradientTape(persistent=True)
    with tape:
        out = f(*(given.nest for given in inputs))
    leaves, rebuild = _outputs(out, "vjp")
    as_values = any(given.given_values for given in inputs)
    targets = [leaf if type(leaf) is Value else None for leaf in leaves]
    sources = [leaf for given in inputs for leaf in given.leaves]

    def pullback(cotangent: Any) -> tuple[Any, ...]:
        upstream = _directions([cotangent], "vjp: pullback", "cotangent")[0]
        weights, _ = _nest(upstream, "cotangent", lambda x, path: x, "vjp: pullback")
        if len(weights) != len(leaves):
            raise ShapeError(
                f"vjp: pullback: the cotangent holds {len(weights)} number(s) but f returned "
                f"{len(leaves)}; give one per entry of f's value, nested like it"
            )
        found = tape.gradient(targets, sources, output_gradients=weights)
        return tuple(_split(inputs, found))

    return rebuild(_out(leaves, as_values)), pullback


# ---- second order ---------------------------------------------------------------------------


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
    _callable(f, "hessian")
    chosen = _argnums(argnums, "hessian", single=True)

    def second(*args: Any) -> Any:
        call, inputs = _lifted(args, argnums, chosen, "hessian")
        given = inputs[0]
        xs = given.leaves
        with GradientTape() as outer:
            with GradientTape() as inner:
                out = _scalar(f(*call), "hessian")
            firsts = inner.gradient(out, xs) if type(out) is Value else [None] * len(xs)
        rows = outer.jacobian(firsts, xs)  # type: ignore[arg-type]  # a None row is zeros
        return given.rebuild([given.results(row) for row in rows])  # type: ignore[arg-type]

    return second


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
    _callable(f, "hvp")
    given = _Inputs(x, "hvp", "x")
    direction = _directions([v], "hvp", "v")[0]
    pairs(given.nest, direction, "hvp")
    with ForwardAccumulator(given.nest, direction) as acc:
        with GradientTape() as tape:
            out = _scalar(f(given.nest), "hvp")
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
    _callable(f, "jacobian")
    chosen = _argnums(argnums, "jacobian", single=True)
    if mode not in _MODES:
        raise ValueError(
            f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {short_repr(mode)}"
        )

    def first(*args: Any) -> Any:
        call, inputs = _lifted(args, argnums, chosen, "jacobian")
        given = inputs[0]
        xs = given.leaves
        n = len(xs)
        columns: list[list[Value | None]] = []  # forward mode: d out / d x_j, per j
        tape = GradientTape(persistent=True)
        if mode == "reverse" or n == 0:
            with tape:
                out = f(*call)
        elif mode == "forward":
            with ForwardAccumulator(xs, _unit(n, 0)) as acc:
                out = f(*call)
        else:  # auto: both, the tape inside (it ignores the accumulator's arithmetic)
            with ForwardAccumulator(xs, _unit(n, 0)) as acc, tape:
                out = f(*call)
        leaves, rebuild = _outputs(out, "jacobian")
        m = len(leaves)
        forward = n > 0 and (mode == "forward" or (mode == "auto" and n < m))
        if forward:
            columns.append([acc.jvp(o) if type(o) is Value else None for o in leaves])
            for j in range(1, n):
                with ForwardAccumulator(xs, _unit(n, j)) as again:
                    more, _ = _outputs(f(*call), "jacobian")
                columns.append([again.jvp(o) if type(o) is Value else None for o in more])
            rows = [[column[i] for column in columns] for i in range(m)]
        else:
            rows = [tape.gradient(o, xs) if type(o) is Value else [None] * n for o in leaves]
        return rebuild([given.results(row) for row in rows])

    return first


def _unit(n: int, j: int) -> list[float]:
    return [1.0 if i == j else 0.0 for i in range(n)]


# ---- arguments in, results out ------------------------------------------------------------


def _callable(f: object, what: str) -> None:
    if not callable(f):
        raise ArgumentTypeError(
            f"{what}: f must be a function, got {type(f).__name__} {short_repr(f)}"
        )


def _argnums(argnums: object, what: str, single: bool = False) -> tuple[int, ...]:
    def index(i: object) -> bool:
        return isinstance(i, int) and not isinstance(i, bool) and i >= 0

    if index(argnums):
        return (argnums,)  # type: ignore[return-value]  # index() checked it
    if not single and isinstance(argnums, tuple) and argnums and all(map(index, argnums)):
        if len(set(argnums)) == len(argnums):
            return argnums
    wanted = "an int >= 0" if single else "an int >= 0 or a tuple of distinct ones"
    raise ArgumentTypeError(f"{what}: argnums must be {wanted}, got {short_repr(argnums)}")


def _lifted(
    args: tuple[Any, ...], argnums: object, chosen: tuple[int, ...], what: str
) -> tuple[list[Any], list[_Inputs]]:
    """``f``'s arguments with the differentiated ones as Values, and those ones."""
    if max(chosen) >= len(args):
        raise ArgumentTypeError(
            f"{what}: argnums={argnums!r}, but f was called with {len(args)} argument(s)"
        )
    call = list(args)
    inputs = []
    for i in chosen:
        given = _Inputs(args[i], what, f"args[{i}]")
        call[i] = given.nest
        inputs.append(given)
    return call, inputs


class _Inputs:
    """One argument of ``f`` as Values: the nest ``f`` receives, its leaves, and how to
    hand results back in its nesting (floats, or Values where Values were given)."""

    __slots__ = ("given_values", "leaves", "nest", "rebuild")

    def __init__(self, argument: object, what: str, root: str) -> None:
        self.given_values = False

        def lift(x: object, path: str) -> Value:
            if type(x) is Value:
                self.given_values = True
                return x
            if not _is_number(x):
                raise ArgumentTypeError(
                    f"{what}: {path} must be a number, or a list, tuple or dict of numbers; "
                    f"got {type(x).__name__} {short_repr(x)}"
                )
            return Value(x)  # type: ignore[arg-type]  # _is_number checked it

        self.leaves, self.rebuild = _nest(argument, root, lift, what)
        self.nest = self.rebuild(list(self.leaves))

    def results(self, found: Sequence[Value | None]) -> Any:
        """Results for the leaves (None, no dependence, as 0.0), in the argument's nesting."""
        return self.rebuild(_out(found, self.given_values))


def _split(inputs: list[_Inputs], found: Sequence[Value | None]) -> list[Any]:
    """One result per argument, from the results for all their leaves in a row."""
    results = []
    at = 0
    for given in inputs:
        results.append(given.results(found[at : at + len(given.leaves)]))
        at += len(given.leaves)
    return results


def _directions(given: Sequence[object], what: str, name: str) -> list[Any]:
    """Tangents (or a cotangent) as lists, tuples and dicts of numbers and Values."""

    def check(x: object, path: str) -> object:
        if type(x) is not Value and not _is_number(x):
            raise ArgumentTypeError(
                f"{what}: {path} must be a number, or a list, tuple or dict of numbers; "
                f"got {type(x).__name__} {short_repr(x)}"
            )
        return x

    found = []
    for i, entry in enumerate(given):
        path = f"{name}[{i}]" if name == "tangents" else name
        leaves, rebuild = _nest(entry, path, check, what)
        found.append(rebuild(leaves))
    return found


def _scalar(out: object, what: str) -> Value | float:
    """``f``'s result where one number is expected."""
    if type(out) is Value:
        return out
    if _is_number(out):
        return float(out)  # type: ignore[arg-type]  # _is_number checked it
    hint = ""
    if isinstance(out, (list, tuple, Mapping)):
        hint = "; for a function with several outputs use mt.jacobian, mt.jvp or mt.vjp"
    raise ArgumentTypeError(
        f"{what}: f must return one number (a Value or a float), got "
        f"{type(out).__name__} {short_repr(out)}{hint}"
    )


def _outputs(out: object, what: str) -> tuple[list[Value | float], Rebuild]:
    """``f``'s result as leaves (Values and floats) and how to rebuild its nesting."""

    def check(x: object, path: str) -> Value | float:
        if type(x) is Value:
            return x
        if _is_number(x):
            return float(x)  # type: ignore[arg-type]
        raise ArgumentTypeError(
            f"{what}: f must return a number, or a list, tuple or dict of numbers; {path} is "
            f"{type(x).__name__} {short_repr(x)}"
        )

    return _nest(out, "f's result", check, what)


def _out(values: Sequence[Value | float | None], as_values: bool) -> list[Any]:
    """Floats (None as 0.0), or Values where Values were given (composing transforms)."""
    if as_values:
        return [Value(0.0) if v is None else v if type(v) is Value else Value(v) for v in values]
    return [0.0 if v is None else float(v) for v in values]


def _is_number(x: object) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, (int, float)):
        return True
    return hasattr(x, "__float__") and not isinstance(x, (str, bytes, complex, Value))


def _is_sequence(x: object) -> bool:
    """A list, a tuple, or anything else indexable with a length (a numpy array)."""
    if isinstance(x, (list, tuple)):
        return True
    if isinstance(x, (str, bytes, Mapping, Value)):
        return False
    return hasattr(x, "__len__") and hasattr(x, "__getitem__")


def _nest(
    structure: object, root: str, leaf: Callable[[object, str], T], what: str
) -> tuple[list[T], Rebuild]:
    """The leaves of a nest of lists, tuples, dicts and other sequences, each passed
    through ``leaf(value, path)``, and a function that rebuilds the nest around new
    leaves (another sequence comes back as a list). No recursion."""
    found: list[T] = []
    plan: list[tuple[object, int]] = []  # postfix: (None, 0) a leaf; (container, n) rebuild
    stack: list[tuple[Any, str, bool]] = [(structure, root, False)]
    open_ids: set[int] = set()  # containers being expanded: meeting one again is a cycle
    while stack:
        node, path, expanded = stack.pop()
        if expanded:
            open_ids.discard(id(node))
            plan.append((node, len(node)))
            continue
        if isinstance(node, Mapping) or _is_sequence(node):
            if id(node) in open_ids:
                raise ArgumentTypeError(f"{what}: {path} contains itself")
            open_ids.add(id(node))
            stack.append((node, path, True))
            if isinstance(node, Mapping):
                for key in reversed(list(node.keys())):
                    stack.append((node[key], f"{path}[{key!r}]", False))
            else:
                for i in range(len(node) - 1, -1, -1):
                    stack.append((node[i], f"{path}[{i}]", False))
            continue
        found.append(leaf(node, path))
        plan.append((None, 0))

    def rebuild(results: list[Any]) -> Any:
        built: list[object] = []
        items = iter(results)
        for container, n in plan:
            if container is None:
                built.append(next(items))
                continue
            children = built[len(built) - n :] if n else []
            del built[len(built) - n :]
            built.append(_like(container, children))
        return built[0]

    return found, rebuild


def _like(container: object, children: list[object]) -> object:
    cls: Callable[..., object] = type(container)
    if isinstance(container, Mapping):
        entries = dict(zip(container.keys(), children, strict=True))
        return entries if cls is dict else cls(entries)
    if cls is tuple:
        return tuple(children)
    if isinstance(container, tuple) and hasattr(container, "_fields"):  # a namedtuple
        return cls(*children)
    return children  # a list, or another sequence (a numpy array comes back as a list)
