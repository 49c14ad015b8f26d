"""Arguments and results as nests: their leaves, and a key that says when a trace fits.

A traced function takes and returns *nests*: lists, tuples (named tuples too) and dicts,
to any depth, of leaves. A leaf is an *input* when it is a Value or a float: each call
passes its own number. Any other leaf (an int, a str, None, a model object) is
*static*: it is part of the nest's :func:`key`, so that a call with another one is
traced again (an int counts loops, a str names things: the traced code depends on
them). Static leaves compare by value when they can be hashed, else by identity.

Iteration is explicit (a stack): a deep nest needs no recursion.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeAlias, cast

from ..core.tapes.arguments import Plan, like, rebuilt
from ..core.values.value import Value

__all__ = ["Key", "Plan", "find", "flatten", "key", "keywords", "labels", "rebuild"]

Key: TypeAlias = tuple[Hashable, ...]
"""What two calls must share for one trace to fit both."""


def flatten(nest: object) -> tuple[list[object], Plan]:
    """The leaves of ``nest`` in order, and the plan to rebuild it around new leaves."""
    leaves: list[object] = []
    plan: Plan = []
    stack: list[tuple[object, bool]] = [(nest, False)]
    while stack:
        node, expanded = stack.pop()
        if _is_container(node):
            if expanded:
                plan.append((node, len(node)))  # type: ignore[arg-type]
                continue
            stack.append((node, True))
            children = list(node.values()) if isinstance(node, Mapping) else list(node)  # type: ignore[call-overload]
            stack.extend((child, False) for child in reversed(children))
        else:
            leaves.append(node)
            plan.append((None, 0))
    return leaves, plan


def _is_container(node: object) -> bool:
    kind = type(node)
    return (
        kind is list
        or kind is tuple
        or kind is dict
        or (isinstance(node, tuple) and hasattr(node, "_fields"))
    )


def key(leaves: list[object], plan: Plan) -> Key:
    """The structure of a nest: its containers, the kind of each leaf, the static ones.

    Two Value leaves that are the same object are marked as such: a trace made with
    ``f(w, w)`` reads one number for both, and does not fit ``f(a, b)``.
    """
    shape: list[Hashable] = []
    for container, n in plan:
        if container is None:
            continue
        if isinstance(container, Mapping):
            shape.append((dict, tuple(container.keys())))
        else:
            shape.append((type(container), n))
    kinds: list[Hashable] = []
    first: dict[int, int] = {}
    for i, leaf in enumerate(leaves):
        if type(leaf) is Value:
            kinds.append(("Value", first.setdefault(id(leaf), i)))
        elif isinstance(leaf, float):
            kinds.append(float)
        else:
            kinds.append(_static(leaf))
    return (tuple(shape), tuple(kinds))


def keywords(found: Key) -> Hashable:
    """The names of the keyword arguments, in order, in the key of ``(args, kwargs)``:
    the shape of the kwargs dict, the last container before the outer tuple."""
    shape = cast(tuple[Hashable, ...], found[0])
    return shape[-2]


def _static(leaf: object) -> Hashable:
    try:
        hash(leaf)
    except TypeError:
        return (type(leaf), "id", id(leaf))
    return (type(leaf), leaf)


def rebuild(plan: Plan, leaves: list[object]) -> object:
    """The nest ``plan`` describes, with ``leaves`` in its places (a mapping comes back as
    a dict)."""
    return rebuilt(plan, leaves, _like)


def _like(container: object, children: list[object]) -> object:
    if isinstance(container, Mapping):
        return dict(zip(container.keys(), children, strict=True))
    return like(container, children)


def labels(args: tuple[object, ...], kwargs: dict[str, object], names: list[str]) -> list[str]:
    """What each leaf of ``(args, kwargs)`` is, in :func:`flatten`'s order: ``x``,
    ``xs[2]``, ``batch['y'][0]`` (``names`` are the positional parameters' names)."""
    roots: list[tuple[object, str]] = [
        (arg, names[i] if i < len(names) else f"args[{i}]") for i, arg in enumerate(args)
    ]
    roots.extend((value, name) for name, value in kwargs.items())
    found: list[str] = []
    stack = list(reversed(roots))
    while stack:
        node, path = stack.pop()
        if not _is_container(node):
            found.append(path)
        elif isinstance(node, Mapping):
            stack.extend((v, f"{path}[{k!r}]") for k, v in reversed(list(node.items())))
        else:
            children = list(node)  # type: ignore[call-overload]
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(children))))
    return found


def find(wanted: list[Value], roots: list[tuple[str, object]], budget: int = 20_000) -> list[str]:
    """A name for each of ``wanted`` as reached from ``roots`` (``model.kernel[0][1]``),
    looking through lists, tuples, dicts and objects' attributes, nearest first; where
    none is found within ``budget`` objects, ``a Value from before the call``."""
    goal = {id(v): i for i, v in enumerate(wanted)}
    names = ["a Value from before the call"] * len(wanted)
    left = len(wanted)
    seen: set[int] = set()
    queue = list(roots)
    at = 0
    while at < len(queue) and left and len(seen) < budget:
        path, thing = queue[at]
        at += 1
        if id(thing) in seen:
            continue
        seen.add(id(thing))
        if type(thing) is Value:
            i = goal.get(id(thing))
            if i is not None and names[i].startswith("a Value"):
                names[i] = path
                left -= 1
            continue
        if isinstance(thing, (list, tuple)):
            queue.extend((f"{path}[{i}]", item) for i, item in enumerate(thing))
        elif isinstance(thing, dict):
            queue.extend((f"{path}[{k!r}]", item) for k, item in thing.items())
        elif hasattr(thing, "__dict__") and not isinstance(thing, type):
            attributes = vars(thing)
            if isinstance(attributes, dict):
                queue.extend(
                    (f"{path}.{k}", item)
                    for k, item in attributes.items()
                    if not k.startswith("__")
                )
    return names
