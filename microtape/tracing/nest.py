"""Arguments and results as nests: their leaves, and a key that says when a trace fits.

A traced function takes and returns *nests*: lists, tuples (named tuples too), dicts
and dataclass instances (their fields), to any depth, of leaves. A leaf is an *input*
when it is a Value or a float: each call passes its own number. Any other leaf (an int,
a str, None, a model object) is *static*: it is part of the nest's :func:`key`, so that
a call with another one is traced again (an int counts loops, a str names things: the
traced code depends on them). Static leaves compare by value (``==`` and ``hash``); one
that cannot be hashed has no key (:func:`key` gives None), and the call runs as written:
a key by ``id()`` would match a new object that took a dead one's id.

Iteration is explicit (a stack): a deep nest needs no recursion.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Hashable, Mapping
from typing import TypeAlias, cast

from ..core.tapes.arguments import Plan, like, rebuilt
from ..core.values.value import Value

__all__ = ["Key", "Plan", "expressions", "find", "flatten", "key", "keywords", "labels", "rebuild"]

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
                plan.append((node, len(_children(node))))
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(_children(node)))
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
        or _is_record(node)
    )


def _is_record(node: object) -> bool:
    """A dataclass instance that holds nothing but its fields: rebuilt around new leaves
    at each call, as the function as written makes a new one (state set beside the
    fields, in ``__post_init__`` say, could not be made again)."""
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return False
    names = {f.name for f in dataclasses.fields(node)}
    state = getattr(node, "__dict__", None)
    return state is None or set(state) <= names


def _children(node: object) -> list[object]:
    if isinstance(node, Mapping):
        return list(node.values())
    if _is_record(node):
        return [getattr(node, f.name) for f in dataclasses.fields(node)]  # type: ignore[arg-type]
    return list(node)  # type: ignore[call-overload,no-any-return]


def _names(node: object) -> list[str]:
    """How to reach each child of a container: ``[0]``, ``['y']``, ``.loss``."""
    if isinstance(node, Mapping):
        return [f"[{k!r}]" for k in node]
    if _is_record(node):
        return [f".{f.name}" for f in dataclasses.fields(node)]  # type: ignore[arg-type]
    return [f"[{i}]" for i in range(len(node))]  # type: ignore[arg-type]


def key(leaves: list[object], plan: Plan) -> Key | None:
    """The structure of a nest: its containers, the kind of each leaf, the static ones;
    None where a static leaf cannot be hashed.

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
            try:
                hash(leaf)
            except TypeError:
                return None
            kinds.append((type(leaf), leaf))
    return (tuple(shape), tuple(kinds))


def keywords(found: Key) -> Hashable:
    """The names of the keyword arguments, in order, in the key of ``(args, kwargs)``:
    the shape of the kwargs dict, the last container before the outer tuple."""
    shape = cast(tuple[Hashable, ...], found[0])
    return shape[-2]


def rebuild(plan: Plan, leaves: list[object]) -> object:
    """The nest ``plan`` describes, with ``leaves`` in its places (a mapping comes back as
    a dict)."""
    return rebuilt(plan, leaves, _like)


def _like(container: object, children: list[object]) -> object:
    if isinstance(container, Mapping):
        return dict(zip(container.keys(), children, strict=True))
    if _is_record(container):
        made = copy.copy(container)  # frozen, slots and init=False fields included
        for field, child in zip(dataclasses.fields(made), children, strict=True):  # type: ignore[arg-type]
            object.__setattr__(made, field.name, child)
        return made
    return like(container, children)


def labels(args: tuple[object, ...], kwargs: dict[str, object], names: list[str]) -> list[str]:
    """What each leaf of ``(args, kwargs)`` is, in :func:`flatten`'s order: ``x``,
    ``xs[2]``, ``batch['y'][0]`` (``names`` are the positional parameters' names)."""
    roots = [(a, names[i] if i < len(names) else f"args[{i}]") for i, a in enumerate(args)]
    return _paths(roots + [(v, k) for k, v in kwargs.items()])


def expressions(args: tuple[object, ...], kwargs: dict[str, object]) -> list[str]:
    """Each leaf of ``(args, kwargs)`` as a Python expression over ``args`` and
    ``kwargs``, in :func:`flatten`'s order: ``args[0]``, ``args[1][2]``,
    ``kwargs['batch'].y``."""
    roots = [(a, f"args[{i}]") for i, a in enumerate(args)]
    return _paths(roots + [(v, f"kwargs[{k!r}]") for k, v in kwargs.items()])


def _paths(roots: list[tuple[object, str]]) -> list[str]:
    """The path of each leaf under ``roots`` (object, path), depth first, in order."""
    found: list[str] = []
    stack = list(reversed(roots))
    while stack:
        node, path = stack.pop()
        if not _is_container(node):
            found.append(path)
        else:
            named = zip(_children(node), _names(node), strict=True)
            stack.extend((v, path + name) for v, name in reversed(list(named)))
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
