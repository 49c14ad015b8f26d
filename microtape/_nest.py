"""Flatten a nesting of lists, tuples and dicts of Values, and rebuild it around results.

``tape.gradient(loss, {"w": [w1, w2], "b": b})`` returns ``{"w": [g1, g2], "b": gb}``:
the sources are flattened to a list, the sweep fills in one result per leaf, and the
same structure is rebuilt around the results. Iteration is explicit (a stack), so
even a deeply nested structure needs no recursion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from ._errors import ArgumentTypeError
from ._value import Value

__all__ = ["flatten"]

T = TypeVar("T")


def flatten(structure: object, what: str) -> tuple[list[Value], Callable[[list[T]], object]]:
    """Return the Values at the leaves of ``structure`` and a function that rebuilds it.

    Args:
        structure: a Value, or lists / tuples / dicts nesting Values.
        what: the argument's name, used in error messages (``"sources"``).

    Raises:
        ArgumentTypeError: naming the path of the first leaf that is not a Value, or
            of a container that contains itself.
    """
    found, rebuild = _walk(structure, what, lambda leaf: type(leaf) is Value, "a Value")
    return found, rebuild  # type: ignore[return-value]  # _walk kept only Values


def leaves(
    structure: object, what: str, keep: Callable[[object], bool], expected: str
) -> list[object]:
    """The leaves of a nesting of lists, tuples and dicts, in order, each passing ``keep``.

    Raises:
        ArgumentTypeError: naming the path of the first leaf ``keep`` refuses (saying
            it should be ``expected``), or of a container that contains itself.
    """
    return _walk(structure, what, keep, expected)[0]


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
        elif isinstance(node, Mapping):
            if expanded:
                plan.append((node, len(node)))
            else:
                stack.append((node, path, True))
                for key in reversed(list(node.keys())):
                    stack.append((node[key], f"{path}[{key!r}]", False))
        elif isinstance(node, (list, tuple)):
            if expanded:
                plan.append((node, len(node)))
            else:
                stack.append((node, path, True))
                for i in range(len(node) - 1, -1, -1):
                    stack.append((node[i], f"{path}[{i}]", False))
        else:
            raise ArgumentTypeError(
                f"{what}: expected {expected}, or a list, tuple or dict of them, but {path} is "
                f"{type(node).__name__} {node!r}"
            )

    def rebuild(results: list[T]) -> object:
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

    return leaves, rebuild


def _like(container: object, children: list[object]) -> object:
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
