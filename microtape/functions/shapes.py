"""What the function transforms take and give: ``f``'s types, argument nests, results.

An argument is a number, or a list, tuple or dict nesting numbers (any other sequence,
such as a numpy array, counts as a list); ``f`` receives each number as a Value in the
same nesting. Results come back in the argument's nesting, as floats, or as Values
where Values were given (so that transforms compose). Every walk here is flat: no
recursion. Errors name the transform, the place (``args[0][1]``) and the value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias, TypeVar

from ..core.errors import ArgumentTypeError
from ..core.tapes.arguments import expand, rebuilt
from ..core.values.numbers import short_repr
from ..core.values.value import Value, number
from ..core.words import counted

__all__ = [
    "MODES",
    "AnyFunction",
    "Inputs",
    "Mode",
    "Pair",
    "Pullback",
    "Rebuild",
    "ScalarOf",
    "VectorOf",
    "argument_numbers",
    "check_function",
    "directions",
    "is_number",
    "lifted",
    "nest",
    "outputs",
    "results",
    "scalar",
    "split",
    "unit",
]

T = TypeVar("T")

Mode: TypeAlias = Literal["auto", "forward", "reverse"]
"""How ``jacobian`` differentiates: forward mode (one pass of ``f`` per input), reverse
mode (one sweep per output), or whichever needs fewer (``"auto"``)."""

MODES = ("auto", "forward", "reverse")

ScalarOf: TypeAlias = Callable[[Value], "Value | float"]
"""A function of one number, written for Values."""
VectorOf: TypeAlias = Callable[[list[Value]], "Value | float"]
"""A function of a list of numbers, written for Values."""
Pair: TypeAlias = Callable[[Value, Value], "Value | float"]
"""A function of two numbers, written for Values."""
Rebuild: TypeAlias = Callable[[list[Any]], Any]
"""Puts new leaves back into the nesting they came from."""
Pullback: TypeAlias = Callable[[Any], tuple[Any, ...]]
"""``vjp``'s second result: a cotangent in, one gradient per primal out."""


class AnyFunction(Protocol):
    """What a transform returns for an ``f`` whose shape its overloads do not spell out
    (a lambda, three arguments, a dict): any arguments, any result. A Protocol rather
    than ``Callable[..., Any]``, which ``mypy --strict`` would not let a script call."""

    def __call__(self, *args: Any) -> Any: ...


def check_function(f: object, what: str) -> None:
    if not callable(f):
        raise ArgumentTypeError(
            f"{what}: f must be a function, got {type(f).__name__} {short_repr(f)}"
        )


def argument_numbers(argnums: object, what: str, single: bool = False) -> tuple[int, ...]:
    def index(i: object) -> bool:
        return isinstance(i, int) and not isinstance(i, bool) and i >= 0

    if index(argnums):
        return (argnums,)  # type: ignore[return-value]  # index() checked it
    if not single and isinstance(argnums, tuple) and argnums and all(map(index, argnums)):
        if len(set(argnums)) == len(argnums):
            return argnums
    wanted = "an int >= 0" if single else "an int >= 0 or a tuple of distinct ones"
    raise ArgumentTypeError(f"{what}: argnums must be {wanted}, got {short_repr(argnums)}")


def lifted(
    args: tuple[Any, ...], argnums: object, chosen: tuple[int, ...], what: str
) -> tuple[list[Any], list[Inputs]]:
    """``f``'s arguments with the differentiated ones as Values, and those ones."""
    if max(chosen) >= len(args):
        raise ArgumentTypeError(
            f"{what}: argnums={argnums!r}, but f was called with {counted(len(args), 'argument')}"
        )
    call = list(args)
    inputs = []
    for i in chosen:
        given = Inputs(args[i], what, f"args[{i}]")
        call[i] = given.nest
        inputs.append(given)
    return call, inputs


class Inputs:
    """One argument of ``f`` as Values: the nest ``f`` receives, its leaves, and how to
    hand results back in its nesting (floats, or Values where Values were given)."""

    __slots__ = ("given_values", "leaves", "nest", "rebuild")

    def __init__(self, argument: object, what: str, root: str) -> None:
        self.given_values = False

        def lift(x: object, path: str) -> Value:
            if type(x) is Value:
                self.given_values = True
                return x
            if not is_number(x):
                raise ArgumentTypeError(
                    f"{what}: {path} must be a number, or a list, tuple or dict of numbers; "
                    f"got {type(x).__name__} {short_repr(x)}"
                )
            return Value(x)  # type: ignore[arg-type]  # _is_number checked it

        self.leaves, self.rebuild = nest(argument, root, lift, what)
        self.nest = self.rebuild(list(self.leaves))

    def results(self, found: Sequence[Value | None]) -> Any:
        """Results for the leaves (None, no dependence, as 0.0), in the argument's nesting."""
        return self.rebuild(results(found, self.given_values))


def split(inputs: list[Inputs], found: Sequence[Value | None]) -> list[Any]:
    """One result per argument, from the results for all their leaves in a row."""
    results = []
    at = 0
    for given in inputs:
        results.append(given.results(found[at : at + len(given.leaves)]))
        at += len(given.leaves)
    return results


def directions(given: Sequence[object], what: str, name: str) -> list[Any]:
    """Tangents (or a cotangent) as lists, tuples and dicts of numbers and Values."""

    def check(x: object, path: str) -> object:
        if type(x) is not Value and not is_number(x):
            raise ArgumentTypeError(
                f"{what}: {path} must be a number, or a list, tuple or dict of numbers; "
                f"got {type(x).__name__} {short_repr(x)}"
            )
        return x

    found = []
    for i, entry in enumerate(given):
        path = f"{name}[{i}]" if name == "tangents" else name
        leaves, rebuild = nest(entry, path, check, what)
        found.append(rebuild(leaves))
    return found


def scalar(out: object, what: str) -> Value | float:
    """``f``'s result where one number is expected."""
    if type(out) is Value:
        return out
    if is_number(out):
        return float(out)  # type: ignore[arg-type]  # _is_number checked it
    hint = ""
    if isinstance(out, (list, tuple, Mapping)):
        hint = "; for a function with several outputs use mt.jacobian, mt.jvp or mt.vjp"
    raise ArgumentTypeError(
        f"{what}: f must return one number (a Value or a float), got "
        f"{type(out).__name__} {short_repr(out)}{hint}"
    )


def outputs(out: object, what: str) -> tuple[list[Value | float], Rebuild]:
    """``f``'s result as leaves (Values and floats) and how to rebuild its nesting."""

    def check(x: object, path: str) -> Value | float:
        if type(x) is Value:
            return x
        if is_number(x):
            return float(x)  # type: ignore[arg-type]
        raise ArgumentTypeError(
            f"{what}: f must return a number, or a list, tuple or dict of numbers; {path} is "
            f"{type(x).__name__} {short_repr(x)}"
        )

    return nest(out, "f's result", check, what)


def results(values: Sequence[Value | float | None], as_values: bool) -> list[Any]:
    """Floats (None as 0.0), or Values where Values were given (composing transforms)."""
    if as_values:
        return [Value(0.0) if v is None else v if type(v) is Value else Value(v) for v in values]
    return [0.0 if v is None else number(v) for v in values]


def is_number(x: object) -> bool:
    if isinstance(x, (int, float)):  # a bool too: True is 1.0, as in Python
        return True
    return hasattr(x, "__float__") and not isinstance(x, (str, bytes, complex, Value))


def is_sequence(x: object) -> bool:
    """A list, a tuple, or anything else indexable with a length (a numpy array)."""
    if isinstance(x, (list, tuple)):
        return True
    if isinstance(x, (str, bytes, Mapping, Value)):
        return False
    return hasattr(x, "__len__") and hasattr(x, "__getitem__")


def nest(
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
        if isinstance(node, Mapping) or is_sequence(node):
            if id(node) in open_ids:
                raise ArgumentTypeError(f"{what}: {path} contains itself")
            open_ids.add(id(node))
            expand(stack, node, path)
            continue
        found.append(leaf(node, path))
        plan.append((None, 0))

    def rebuild(results: list[Any]) -> Any:
        return rebuilt(plan, results, like)

    return found, rebuild


def like(container: object, children: list[object]) -> object:
    cls: Callable[..., object] = type(container)
    if isinstance(container, Mapping):
        entries = dict(zip(container.keys(), children, strict=True))
        return entries if cls is dict else cls(entries)
    if cls is tuple:
        return tuple(children)
    if isinstance(container, tuple) and hasattr(container, "_fields"):  # a namedtuple
        return cls(*children)
    return children  # a list, or another sequence (a numpy array comes back as a list)


def unit(n: int, j: int) -> list[float]:
    return [1.0 if i == j else 0.0 for i in range(n)]
