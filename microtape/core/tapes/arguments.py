"""What ``gradient`` and ``ForwardAccumulator`` are asked: targets, sources, upstream
gradients, the unconnected mode, primals and their tangents.

``tape.gradient(loss, {"w": [w1, w2], "b": b})`` returns ``{"w": [g1, g2], "b": gb}``:
the sources are flattened to a list, the sweep fills in one result per leaf, and the
same structure is rebuilt around the results (:func:`flatten`). Iteration is explicit
(a stack), so even a deeply nested structure needs no recursion. The target may be a
Value, None, or a nesting of them (summed), with upstream gradients in the same
structure; :func:`seeds` turns them into what a sweep starts from, with errors that say
which argument is wrong. :func:`pairs` matches a forward accumulator's primals with
their tangents, nest by nest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Final, Literal, NoReturn, TypeAlias, TypeVar, Union

from ..errors import ArgumentTypeError, ShapeError
from ..transforms.reverse import Gradient
from ..values.numbers import as_number, short_repr
from ..values.value import Value, is_value
from ..words import counted

__all__ = [
    "NestedGradient",
    "Plan",
    "Target",
    "Unconnected",
    "UnconnectedGradients",
    "UnconnectedTangents",
    "Watchable",
    "Zero",
    "expand",
    "flatten",
    "flatten_targets",
    "leaves",
    "like",
    "mode",
    "pairs",
    "rebuilt",
    "seeds",
    "targets",
    "values_of",
]


class UnconnectedGradients(StrEnum):
    """What ``gradient`` does for a source the target does not depend on, as TensorFlow's
    ``tf.UnconnectedGradients`` names it: give None, give ``Value(0.0)``, or (microtape's
    own) raise :class:`UnconnectedGradientError` explaining why.

    Each member is also its string (``UnconnectedGradients.ZERO == "zero"``), and either
    is taken wherever ``unconnected_gradients=`` is.
    """

    NONE = "none"
    ZERO = "zero"
    RAISE = "raise"


Unconnected: TypeAlias = Union[Literal["none", "zero", "raise"], UnconnectedGradients]
"""What ``unconnected_gradients=`` takes: a mode's string, or its member of
:class:`UnconnectedGradients`."""

Zero: TypeAlias = Literal["zero", UnconnectedGradients.ZERO]
"""The mode that gives ``Value(0.0)``, never None: its own overloads say so."""

UnconnectedTangents: TypeAlias = Literal[
    "none", "zero", UnconnectedGradients.NONE, UnconnectedGradients.ZERO
]
"""What ``jvp`` gives for a target that does not depend on any primal: None or 0."""

_MODES: Final = ("none", "zero", "raise")

Target: TypeAlias = Union[Value, Sequence[Value | None], None]
"""What ``gradient`` differentiates: a Value, or a list of Values (their sum)."""

Watchable: TypeAlias = Union[Value, Sequence["Watchable"], Mapping[Any, "Watchable"]]
"""What ``tape.watch`` takes: a Value, or lists, tuples and dicts nesting Values."""

NestedGradient: TypeAlias = Union[
    Value, Sequence["NestedGradient"], Mapping[object, "NestedGradient"], None
]
"""The nesting of the sources, with a gradient (or None) in place of each Value."""


def mode(mode: object) -> UnconnectedGradients:
    """``mode`` checked to be one of ``"none"``, ``"zero"``, ``"raise"`` (or their members
    of :class:`UnconnectedGradients`)."""
    if not isinstance(mode, str) or mode not in _MODES:
        raise ValueError(
            f"gradient: unconnected_gradients must be one of {', '.join(map(repr, _MODES))}, "
            f"got {mode!r} (mt.UnconnectedGradients.NONE, .ZERO and .RAISE are taken too)"
        )
    return UnconnectedGradients(mode)


def _target_leaves(target: object) -> list[Value | None]:
    """The target's leaves, keeping None (an unconnected gradient) in its place."""
    found = leaves(target, "target", lambda v: v is None or is_value(v), "a Value or None")
    return found  # type: ignore[return-value]  # only Values and None pass the test


def targets(target: object) -> list[Value]:
    """The Values of ``target`` (a Value, or a nesting of them; None entries dropped)."""
    return [t for t in _target_leaves(target) if t is not None]


def seeds(target: object, output_gradients: object) -> dict[Value, Gradient]:
    """Each target Value with its upstream gradient (default 1.0; repeats add up).

    Raises:
        ArgumentTypeError: if a target is not a Value or None, or an upstream
            gradient is not a number or a Value.
        ValueError: if ``output_gradients`` does not match ``target``.
    """
    targets = _target_leaves(target)
    if output_gradients is None:
        upstream: list[object] = [1.0] * len(targets)
    else:
        upstream = leaves(
            output_gradients,
            "gradient: output_gradients",
            lambda v: not isinstance(v, str),
            "a number or a Value",
        )
        if len(upstream) != len(targets):
            raise ValueError(
                f"gradient: output_gradients has {counted(len(upstream), 'entry', 'entries')} "
                f"but target has {counted(len(targets), 'Value')}; give one upstream gradient "
                "per target Value, in the same structure"
            )
    seeds: dict[Value, Gradient] = {}
    for t, u in zip(targets, upstream, strict=True):
        if t is None:
            continue  # None depends on nothing: its upstream gradient goes nowhere
        seed: Gradient = u if type(u) is Value else as_number("gradient", "output_gradients", u)
        prev = seeds.get(t)
        seeds[t] = seed if prev is None else prev + seed
    return seeds


T = TypeVar("T")


def values_of(arguments: Sequence[object], what: str) -> list[Value]:
    """The Values of ``arguments``, each a Value or a nest of lists, tuples and dicts of
    Values, in order.

    Raises:
        ArgumentTypeError: naming the first leaf that is not a Value by its place
            (``argument 0['w'][1]``) and type, and how many such leaves there are, never
            printing the whole nest; or a container that contains itself.
    """
    found: list[Value] = []
    wrong: tuple[str, object] | None = None
    wrong_count = 0
    open_ids: set[int] = set()  # containers being expanded: meeting one again is a cycle
    stack: list[tuple[object, str, bool]] = [
        (a, f"argument {i}", False) for i, a in reversed(list(enumerate(arguments)))
    ]
    while stack:
        node, path, expanded = stack.pop()
        if is_value(node):
            found.append(node)
        elif expanded:
            open_ids.discard(id(node))
        elif isinstance(node, (Mapping, list, tuple)):
            if id(node) in open_ids:
                raise ArgumentTypeError(
                    f"{what}: {path} contains itself (a {type(node).__name__} that holds "
                    "itself), so it has no Values to watch"
                )
            open_ids.add(id(node))
            expand(stack, node, path)
        else:
            wrong_count += 1
            if wrong is None:
                wrong = (path, node)
    if wrong is not None:
        path, leaf = wrong
        more = f" ({wrong_count} leaves in all are not Values)" if wrong_count > 1 else ""
        raise ArgumentTypeError(
            f"{what}: {path} must be a Value, got {type(leaf).__name__} {short_repr(leaf)}"
            f"{more}; watch takes Values, or lists, tuples and dicts nesting them"
        )
    return found


def flatten(structure: object, what: str) -> tuple[list[Value], Callable[[list[T]], object]]:
    """Return the Values at the leaves of ``structure`` and a function that rebuilds it.

    Args:
        structure: a Value, or lists / tuples / dicts nesting Values.
        what: the argument's name, used in error messages (``"sources"``).

    Raises:
        ArgumentTypeError: naming the path of the first leaf that is not a Value, or
            of a container that contains itself.
    """
    found, rebuild = _walk(structure, what, is_value, "a Value")
    return found, rebuild  # type: ignore[return-value]  # _walk kept only Values


def flatten_targets(
    structure: object, what: str
) -> tuple[list[Value | None], Callable[[list[T]], object]]:
    """:func:`flatten`, keeping None leaves (a gradient that was None) in their places."""
    found, rebuild = _walk(
        structure, what, lambda leaf: leaf is None or is_value(leaf), "a Value or None"
    )
    return found, rebuild  # type: ignore[return-value]  # _walk kept only Values and None


def leaves(
    structure: object, what: str, keep: Callable[[object], bool], expected: str
) -> list[object]:
    """The leaves of a nesting of lists, tuples and dicts, in order, each passing ``keep``.

    Raises:
        ArgumentTypeError: naming the path of the first leaf ``keep`` refuses (saying
            it should be ``expected``), or of a container that contains itself.
    """
    return _walk(structure, what, keep, expected)[0]


def expand(stack: list[tuple[object, str, bool]], node: object, path: str) -> None:
    """Push ``node`` back as expanded, then its children, first child on top, each with
    its path (``path[0]``, ``path['key']``): the step of every walk over a nest here."""
    stack.append((node, path, True))
    if isinstance(node, Mapping):
        for key in reversed(list(node.keys())):
            stack.append((node[key], f"{path}[{key!r}]", False))
    else:
        items: Sequence[object] = node  # type: ignore[assignment]
        for i in range(len(items) - 1, -1, -1):
            stack.append((items[i], f"{path}[{i}]", False))


def _walk(
    structure: object, what: str, keep: Callable[[object], bool], expected: str
) -> tuple[list[object], Callable[[list[T]], object]]:
    leaves: list[object] = []
    open_ids: set[int] = set()  # containers being expanded: meeting one again is a cycle
    # The plan is a postfix program: (None, 0) pushes the next result; (container, n)
    # pops n built children and rebuilds that container's type around them.
    plan: list[tuple[object, int]] = []
    stack: list[tuple[object, str, bool]] = [(structure, what, False)]
    while stack:
        node, path, expanded = stack.pop()
        if type(node) is Value and keep(node):  # the usual leaf: no container checks
            leaves.append(node)
            plan.append((None, 0))
            continue
        if isinstance(node, (Mapping, list, tuple)) and not expanded:
            if id(node) in open_ids:
                raise ArgumentTypeError(
                    f"{what}: {path} contains itself (a {type(node).__name__} that holds "
                    "itself), so it has no leaves to differentiate"
                )
            open_ids.add(id(node))
        elif expanded:
            open_ids.discard(id(node))
        if not isinstance(node, (Mapping, list, tuple)) and keep(node):
            leaves.append(node)
            plan.append((None, 0))
        elif isinstance(node, (Mapping, list, tuple)):
            if expanded:
                plan.append((node, len(node)))
            else:
                expand(stack, node, path)
        else:
            raise ArgumentTypeError(
                f"{what}: expected {expected}, or a list, tuple or dict of them, but {path} is "
                f"{type(node).__name__} {node!r}"
            )

    def rebuild(results: list[T]) -> object:
        return rebuilt(plan, results, like)

    return leaves, rebuild


Plan: TypeAlias = list[tuple[object, int]]
"""How to rebuild a nest: a postfix program, ``(None, 0)`` for a leaf and
``(container, n)`` for a container of the last ``n`` things built."""


def rebuilt(
    plan: Plan,
    leaves: Iterable[object],
    like: Callable[[object, list[object]], object],
) -> object:
    """The nest ``plan`` describes, with ``leaves`` in its places and each container
    made by ``like(container, children)``. No recursion, however deep the nest."""
    built: list[object] = []
    items = iter(leaves)
    for container, n in plan:
        if container is None:
            built.append(next(items))
            continue
        children = built[len(built) - n :] if n else []
        del built[len(built) - n :]
        built.append(like(container, children))
    return built[0]


def like(container: object, children: list[object]) -> object:
    """A container of ``container``'s type holding ``children`` in its places."""
    cls: Callable[..., object] = type(container)
    if isinstance(container, Mapping):
        pairs = dict(zip(container.keys(), children, strict=True))
        return pairs if cls is dict else cls(pairs)
    if cls is list or cls is tuple:
        return cls(children)
    if isinstance(container, tuple) and hasattr(container, "_fields"):  # a namedtuple
        return cls(*children)
    return cls(children)


def _refuse_primals(primals: object, what: str) -> NoReturn:
    """Raise the error :func:`flatten` gives for ``primals``, for the accumulator."""
    try:
        flatten(primals, "primals")
    except ArgumentTypeError as error:
        raise ArgumentTypeError(f"{what}: {error}; a primal is a Value to differentiate") from None
    raise AssertionError("flatten accepted what pairs refused")  # pragma: no cover


def pairs(primals: object, tangents: object, what: str) -> list[tuple[str, Value, Value | float]]:
    """Each primal with its tangent and its path (``primals['w'][1]``), in order.

    ``primals`` is a Value or a nest of lists, tuples and dicts of Values; ``tangents``
    has the same nesting (a list may stand for a tuple), with a number or a Value for
    each primal.

    Raises:
        ArgumentTypeError: naming the path of a primal that is not a Value, or of a
            tangent that is not a number or a Value.
        ShapeError: naming the path where the two nestings differ, or a Value listed
            twice as a primal.
    """
    found: list[tuple[str, Value, Value | float]] = []
    open_ids: set[int] = set()  # containers being expanded: meeting one again is a cycle
    stack: list[tuple[object, object, str, bool]] = [(primals, tangents, "", False)]
    while stack:
        primal, tangent, at, done = stack.pop()
        if done:  # every entry of this container has been paired
            open_ids.discard(id(primal))
            continue
        if is_value(primal):
            # The usual leaf first, without the container checks (Mapping is an ABC).
            if type(tangent) is float or type(tangent) is Value:
                given: Value | float = tangent  # checked just above
            elif isinstance(tangent, (Mapping, list, tuple)):
                raise ShapeError(
                    f"{what}: tangents{at} is a {type(tangent).__name__} but primals{at} is "
                    f"one Value ({primal!r}); give one number (or Value) per primal"
                )
            else:
                given = as_number(what, f"tangents{at}", tangent)
            found.append((f"primals{at}", primal, given))
            continue
        if not isinstance(primal, (Mapping, list, tuple)) or id(primal) in open_ids:
            _refuse_primals(primals, what)  # not a Value, or a container inside itself
        open_ids.add(id(primal))
        stack.append((primal, None, at, True))
        if isinstance(primal, Mapping):
            if not isinstance(tangent, Mapping):
                raise ShapeError(
                    f"{what}: primals{at} is a {type(primal).__name__} but tangents{at} is "
                    f"{type(tangent).__name__} {short_repr(tangent)}; give tangents the "
                    "nesting of primals"
                )
            missing = [k for k in primal if k not in tangent]
            extra = [k for k in tangent if k not in primal]
            if missing or extra:
                raise ShapeError(
                    f"{what}: the keys of tangents{at} differ from those of primals{at}: "
                    + "; ".join(
                        part
                        for part in (
                            f"no tangent for {', '.join(map(repr, missing))}" if missing else "",
                            f"a tangent for {', '.join(map(repr, extra))}, which is not a primal"
                            if extra
                            else "",
                        )
                        if part
                    )
                )
            for key in reversed(list(primal.keys())):
                stack.append((primal[key], tangent[key], f"{at}[{key!r}]", False))
        else:
            if not isinstance(tangent, (list, tuple)):
                raise ShapeError(
                    f"{what}: primals{at} is a {type(primal).__name__} of {len(primal)} but "
                    f"tangents{at} is {type(tangent).__name__} {short_repr(tangent)}; give "
                    "tangents the nesting of primals"
                )
            if len(tangent) != len(primal):
                raise ShapeError(
                    f"{what}: primals{at} holds {len(primal)} entr"
                    f"{'y' if len(primal) == 1 else 'ies'} but tangents{at} holds "
                    f"{len(tangent)}; give one tangent per primal"
                )
            for i in range(len(primal) - 1, -1, -1):
                stack.append((primal[i], tangent[i], f"{at}[{i}]", False))
    first: dict[Value, str] = {}
    for path, primal, _ in found:
        seen = first.setdefault(primal, path)
        if seen is not path:
            raise ShapeError(
                f"{what}: {seen} and {path} are the same Value ({primal!r}); list each primal "
                "once (add up the tangents if you meant both)"
            )
    return found
