"""Names found when a block ends: the variables that hold Values (``core/values/names.py``).

When a tape's or an accumulator's ``with`` block ends, it looks at the frame that ran the
block: its local variables, then its module's globals. A variable holding a Value names
it (``w``, ``loss``); a list, tuple or dict of them names each by its place (``xs[0]``,
``params['w']``, ``grid[1][2]``), one or two levels deep. Names starting with ``_`` are
skipped (a notebook's ``_``, ``_3``). Only what the variables hold at the end of the block
is seen: a variable assigned in a loop names the last Value it held. A Value given a name
(``mt.Value(x, name="w")``) is found under that name, which the tape then keeps after the
Value is gone.

What it costs is paid once per block, never per op: reading the frame's variables, and at
most :data:`BUDGET` items of lists, tuples and dicts. The names are node numbers and
strings, so a tape holds no Value alive by them.
"""

from __future__ import annotations

import sys
from itertools import islice
from types import FrameType
from typing import Final, cast

from ..values.names import given, given_by_learner
from ..values.value import Value

__all__ = ["BUDGET", "found_names"]

_SNAPSHOT: Final = sys.version_info < (3, 13)
_OPTIMIZED: Final = 0x0001  # inspect.CO_OPTIMIZED: a function's frame, with fast locals

BUDGET: Final = 1000
"""Items of lists, tuples and dicts looked at per block, at most."""


def found_names(depth: int = 2) -> dict[int, str]:
    """The names of the Values held by the variables of the frame ``depth`` levels up
    from the caller (the frame whose ``with`` statement called ``__exit__``)."""
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:
        return {}
    while frame is not None and frame.f_globals.get("__name__") == "contextlib":
        frame = frame.f_back  # an ExitStack or a @contextmanager ran the block's end
    if frame is None:
        return {}
    try:
        return _names(frame)
    except RuntimeError:  # another thread changed the globals while they were read
        return {}


def _names(frame: FrameType) -> dict[int, str]:
    local = frame.f_locals
    try:
        return _held(local, frame.f_globals)
    finally:
        if _SNAPSHOT and frame.f_code.co_flags & _OPTIMIZED:
            # Before Python 3.13, f_locals of a function is a copy the frame keeps, with
            # a reference to every local: emptied, so that `del y` after the block frees
            # y as before. Reading f_locals or locals() again fills it anew.
            local.clear()


def _held(local: dict[str, object], globals_: dict[str, object]) -> dict[int, str]:
    scopes = [local]
    if globals_ is not local:
        scopes.append(globals_)
    names: dict[int, str] = {}
    containers: list[tuple[str, object]] = []
    seen: set[str] = set()
    for scope in scopes:
        for name, held in list(scope.items()):
            if type(name) is not str or name.startswith("_") or name in seen:
                continue  # a global of a local's name is not what the name holds there
            seen.add(name)
            if type(held) is Value:
                names.setdefault(held.node, given_by_learner(held.node) or name)
            elif type(held) in (list, tuple, dict):
                containers.append((name, held))
    budget = BUDGET
    for name, held in containers:
        budget = _inside(name, held, names, budget, depth=2)
        if budget <= 0:
            break
    return names


def _inside(path: str, held: object, names: dict[int, str], budget: int, depth: int) -> int:
    """Name the Values in ``held`` by their places under ``path``; return the budget left.

    A Value with a name of its own keeps it: an ``mt.nn`` parameter its path
    (``layers[0].bias[1]``) rather than its place in a list of parameters."""
    if type(held) is dict:
        pairs = islice(cast("dict[object, object]", held).items(), budget)
        items = [(f"{path}[{k!r}]", v) for k, v in pairs if type(k) is str]
    elif type(held) in (list, tuple):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(cast("list[object]", held)[:budget])]
    else:
        return budget
    if not items or type(items[0][1]) not in (Value, list, tuple, dict):
        return budget - 1  # a list of numbers or strings: not looked into
    budget -= len(items)
    for place, v in items:
        if type(v) is Value:
            names.setdefault(v.node, given(v.node) or place)
        elif depth > 1 and budget > 0:
            budget = _inside(place, v, names, budget, depth - 1)
    return budget
