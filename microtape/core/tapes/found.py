"""Names found when a block ends: the variables that hold Values (``core/values/names.py``).

When a tape's or an accumulator's ``with`` block ends, it looks at the frame that ran the
block: its local variables, then its module's globals. A variable holding a Value names
it (``w``, ``loss``); a list, tuple or dict of them names each by its place (``xs[0]``,
``params['w']``, ``grid[1][2]``), one or two levels deep. Names starting with ``_`` are
skipped (a notebook's ``_``, ``_3``). Only what the variables hold at the end of the block
is seen: a variable assigned in a loop names the last Value it held. A Value given a name
(``mt.Value(x, name="w")``) in a variable is found under that name, which the tape then
keeps after the Value is gone; an ``mt.nn`` parameter in a list keeps its path
(``layers[0].bias[1]``) rather than its place in the list.

What it costs is paid once per block, never per op: reading the frame's variables, and
the node number of at most :data:`BUDGET` items of lists, tuples and dicts, whose places
(``xs[0]``) are written only when a display asks. The blocks of microtape's own
functions (``mt.grad``, ``mt.jvp``, ...) are not looked at. The names are node numbers and
strings, so a tape holds no Value alive by them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection
from itertools import islice
from types import FrameType
from typing import Final, cast

from ..values.names import NOTHING, Found, Places, given_by_learner
from ..values.value import Value

__all__ = ["BUDGET", "found_names"]

_SNAPSHOT: Final = sys.version_info < (3, 13)
_OPTIMIZED: Final = 0x0001  # inspect.CO_OPTIMIZED: a function's frame, with fast locals

BUDGET: Final = 256
"""Items of lists, tuples and dicts looked at per block, at most."""

_PACKAGE: Final = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_OWN: Final = (_PACKAGE + os.sep, os.path.join(_PACKAGE, "cli") + os.sep)
"""microtape's own files, whose blocks (mt.grad, mt.jvp...) no display shows; and the
command line's, whose blocks (the demo's graph) are shown."""


def found_names(depth: int = 2) -> Found:
    """The names of the Values held by the variables of the frame ``depth`` levels up
    from the caller (the frame whose ``with`` statement called ``__exit__``)."""
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:
        return NOTHING
    while frame is not None and frame.f_globals.get("__name__") == "contextlib":
        frame = frame.f_back  # an ExitStack or a @contextmanager ran the block's end
    if frame is None:
        return NOTHING
    file = frame.f_code.co_filename
    if file.startswith(_OWN[0]) and not file.startswith(_OWN[1]):
        return NOTHING  # a tape of microtape's own (mt.grad): nobody sees it, nothing to name
    try:
        return _names(frame)
    except RuntimeError:  # another thread changed the globals while they were read
        return NOTHING


def _names(frame: FrameType) -> Found:
    local = frame.f_locals
    try:
        return _held(local, frame.f_globals)
    finally:
        if _SNAPSHOT and frame.f_code.co_flags & _OPTIMIZED:
            # Before Python 3.13, f_locals of a function is a copy the frame keeps, with
            # a reference to every local: emptied, so that `del y` after the block frees
            # y as before. Reading f_locals or locals() again fills it anew.
            local.clear()


def _held(local: dict[str, object], globals_: dict[str, object]) -> Found:
    variables: dict[int, str] = {}
    containers: list[tuple[str, object]] = []
    _scan(local, variables, containers, ())
    if globals_ is not local:
        _scan(globals_, variables, containers, local)  # a local hides its global
    places: Places = {}
    budget = BUDGET
    for name, held in containers:
        budget = _inside(name, held, places, budget, depth=2)
        if budget <= 0:
            break
    return Found(variables, places) if variables or places else NOTHING


def _scan(
    scope: dict[str, object],
    variables: dict[int, str],
    containers: list[tuple[str, object]],
    hidden: Collection[str],
) -> None:
    for name, held in list(scope.items()):
        kind = type(held)
        if kind is Value:
            if type(name) is str and name[:1] != "_" and name not in hidden:
                node = held._id  # type: ignore[attr-defined]  # as op.py reads it: no call
                if node not in variables:
                    variables[node] = given_by_learner(node) or name
        elif kind is list or kind is tuple or kind is dict:
            if type(name) is str and name[:1] != "_" and name not in hidden:
                containers.append((name, held))


def _inside(path: str, held: object, places: Places, budget: int, depth: int) -> int:
    """Keep the nodes of the Values in ``held`` under ``path``, to be named by their places
    when a display asks; return the budget left."""
    keys: tuple[str, ...] | None = None
    items: list[object]
    if type(held) is dict:
        pairs = list(islice(cast("dict[object, object]", held).items(), budget))
        if any(type(k) is not str for k, _ in pairs):
            return budget - 1  # keys that are not names (a notebook's Out): not looked into
        keys = tuple(repr(k) for k, _ in pairs)
        items = [v for _, v in pairs]
    elif type(held) in (list, tuple):
        items = cast("list[object]", held)[:budget]
    else:
        return budget
    if not items or type(items[0]) not in (Value, list, tuple, dict):
        return budget - 1  # a list of numbers or strings: not looked into
    budget -= len(items)
    nodes = tuple([v._id if type(v) is Value else None for v in items])
    places.setdefault(path, (keys, nodes))
    if depth > 1 and None in nodes:
        for i, v in enumerate(items):
            if budget <= 0:
                break
            if type(v) in (list, tuple, dict):
                place = f"{path}[{i if keys is None else keys[i]}]"
                budget = _inside(place, v, places, budget, depth - 1)
    return budget
