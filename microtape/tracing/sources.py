"""Where a traced function finds what it reads from before the call, checked at every call.

The generated code reads numbers; the function as written reads objects, through its
arguments, its closure cells, its globals and their attributes and entries, which a
program may rebind between calls (``w = w - lr * g``, ``params[0] = mt.Value(7.0)``,
``model.w = ...``, ``lr = 0.01``). So, at the end of a trace, the objects the function can
reach are walked breadth first from its *roots* (the function itself, whose closure
cells, defaults and named globals lead on, and its arguments), and written down as one
generated Python function, :attr:`Sources.fetch`, that walks the same way at each call:

- a Value the code reads (or returns) from before the call is fetched where it was
  found, so a rebound one is read in its place: handled exactly, with no new trace;
- every other way to reach it, and every object reached twice, must give the same
  object: otherwise which one the function reads is unknown, and it is traced again;
- a number, str, bool or None met on the way must be the same (a float to the bit):
  the code keeps it as a constant;
- a list, tuple or dict must keep its length (and a dict its keys), an object its class,
  and a function, class or module (or an object not looked into) must be the same one.

A miss (a changed object, a missing attribute) makes the call take another traced path
or trace again. Objects of Python's own library and of microtape are checked by identity
only. The walk stops after ``BUDGET`` objects: a Value read from before the call that it
did not reach refuses the trace (the function then runs as written).

Which objects the function really reads is unknown (no bytecode is followed): the
guards are therefore on all that it can reach, within the budget.
"""

from __future__ import annotations

import keyword
import math
import os
import sys
import types
from array import array
from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

from ..core.values.value import Value

__all__ = ["BUDGET", "Pattern", "Sources", "pattern", "reach"]

BUDGET: Final = 5000
"""Objects walked at most at the end of a trace."""

BULK: Final = 8
"""A list or tuple of this many floats or more is checked in one comparison of bits."""

Fetch: TypeAlias = Callable[[object, tuple[object, ...], dict[str, object]], "list[object] | None"]
"""``fetch(fn, args, kwargs)``: the Values found, in order, or None on a miss."""

_SCALARS: Final = (bool, int, float, str, bytes, complex, type(None))
_VALUES: Final = (*_SCALARS, tuple)  # constants compared by value (a tuple: data's bits)
_ALWAYS_SAME: Final = (types.ModuleType, types.BuiltinFunctionType, type)
_PACKAGE: Final = __name__.partition(".")[0]  # microtape
_HOME: Final = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY: Final = frozenset(sys.stdlib_module_names) | {_PACKAGE, "builtins"}
_ENGINE: Final = tuple(f"{_PACKAGE}.{part}" for part in ("core", "tracing", "registry"))


class Sources:
    """The guards and fetches of one traced path (see the module docstring).

    Attributes:
        fetch: the generated walk; it returns the Values of ``targets`` in order.
        source: its Python source, for reading.
        found: for each target, whether it was reached (an argument need not be).
        constants: what its checks compare with, in order (the objects and numbers found).
    """

    __slots__ = ("constants", "fetch", "found", "pattern", "source")

    def __init__(
        self,
        fetch: Fetch,
        source: str,
        found: list[bool],
        pattern: Pattern,
        constants: list[object],
    ) -> None:
        self.fetch = fetch
        self.source = source
        self.found = found
        self.pattern = pattern
        self.constants = constants

    def same(self, other: Sources) -> bool:
        """Whether ``other`` checks exactly what this checks: the same walk, the same
        objects (by identity) and constants (by type and value)."""
        return (
            self.source == other.source
            and self.pattern == other.pattern
            and len(self.constants) == len(other.constants)
            and all(map(_same_constant, self.constants, other.constants))
        )

    def values(
        self, fn: object, args: tuple[object, ...], kwargs: dict[str, object], leaves: list[object]
    ) -> list[object] | None:
        """The Values the function reads from before this call, where it finds them now;
        None if anything it can reach changed, or the Values alias the arguments (or
        each other) otherwise than when traced: ``f(w)`` with ``w`` captured is another
        function than ``f(v)``."""
        found = self.fetch(fn, args, kwargs)
        if found is None or pattern(found, leaves) != self.pattern:
            return None
        return found


Pattern: TypeAlias = tuple[int, ...]
"""Which target is which: an argument leaf's index, or ``-1 - k`` for the first target
``k`` that is the same object (``len(leaves)`` for one not found)."""


def pattern(found: Sequence[object], leaves: Sequence[object]) -> Pattern:
    """How the found Values alias the Value arguments and each other (see :data:`Pattern`)."""
    arguments = {id(leaf): i for i, leaf in enumerate(leaves) if type(leaf) is Value}
    first: dict[int, int] = {}
    made: list[int] = []
    for k, thing in enumerate(found):
        if thing is None:
            made.append(len(leaves))
            continue
        i = arguments.get(id(thing))
        made.append(i if i is not None else -1 - first.setdefault(id(thing), k))
    return tuple(made)


def _module_of(thing: object) -> str:
    name = getattr(thing, "__module__", None) or getattr(thing, "__name__", "")
    return str(name).partition(".")[0]


def _names_used(code: types.CodeType) -> set[str]:
    """The global (and attribute) names a code object and its nested ones use."""
    names: set[str] = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


class _Writer:
    """Writes the walk as straight-line Python: one local per object, checks as ``if``s."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.space: dict[str, object] = {"Value": Value, "_same": _same_float, "_data": _data}
        self.count = 0

    def constant(self, thing: object) -> str:
        name = f"k{len(self.space)}"
        self.space[name] = thing
        return name

    def local(self, expression: str) -> str:
        name = f"o{self.count}"
        self.count += 1
        self.lines.append(f"{name} = {expression}")
        return name

    def check(self, condition: str) -> None:
        self.lines.append(f"if {condition}: return None")


def _same_constant(a: object, b: object) -> bool:
    if a is b:
        return True
    if type(a) is not type(b) or type(a) not in _VALUES:
        return False  # an object checked by identity
    return a == b  # a number, a str, the bits of data: by value


def _same_float(a: object, b: float) -> bool:
    if type(a) is not float:
        return False
    if a == b:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return a != a and b != b


def _attribute(owner: str, name: str) -> str:
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__"):
        return f"{owner}.{name}"
    return f"getattr({owner}, {name!r})"


def _edges(thing: object, names: set[str]) -> list[tuple[str, object]]:
    """The objects ``thing`` leads to, each with how to reach it from ``thing`` (a Python
    expression with ``{}`` standing for ``thing``)."""
    kind = type(thing)
    if isinstance(thing, (list, tuple)) and (kind in (list, tuple) or hasattr(thing, "_fields")):
        return [(f"{{}}[{i}]", x) for i, x in enumerate(thing)]
    if isinstance(thing, dict) and kind is dict:
        return [(f"{{}}[{k!r}]", x) for k, x in thing.items() if _literal_key(k)]
    if isinstance(thing, types.FunctionType):
        found: list[tuple[str, object]] = []
        for i, cell in enumerate(thing.__closure__ or ()):
            try:
                found.append((f"{{}}.__closure__[{i}].cell_contents", cell.cell_contents))
            except ValueError:
                continue
        space = thing.__globals__
        for name in sorted(_names_used(thing.__code__)):
            if name in space:
                found.append((f"{{}}.__globals__[{name!r}]", space[name]))
        for i, d in enumerate(thing.__defaults__ or ()):
            found.append((f"{{}}.__defaults__[{i}]", d))
        for name, d in (thing.__kwdefaults__ or {}).items():
            found.append((f"{{}}.__kwdefaults__[{name!r}]", d))
        return found
    if isinstance(thing, types.MethodType):
        return [("{}.__self__", thing.__self__), ("{}.__func__", thing.__func__)]
    if isinstance(thing, types.ModuleType):
        space = vars(thing)
        return [(_attribute("{}", n), space[n]) for n in sorted(names) if n in space]
    attributes: list[tuple[str, object]] = []
    state = getattr(thing, "__dict__", None)
    if isinstance(state, dict):
        attributes += [(_attribute("{}", k), v) for k, v in state.items() if isinstance(k, str)]
    for cls in kind.__mro__:
        for slot in cls.__dict__.get("__slots__", ()):
            if isinstance(slot, str) and slot not in ("__dict__", "__weakref__"):
                try:
                    attributes.append((_attribute("{}", slot), getattr(thing, slot)))
                except AttributeError:
                    continue
    # The methods it runs: their globals and defaults are read too.
    attributes += [
        (f"type({{}}).__dict__[{name!r}]", f)
        for name, f in kind.__dict__.items()
        if isinstance(f, types.FunctionType)
    ]
    return attributes


def _literal_key(k: object) -> bool:
    return type(k) in (str, int, bool, float, bytes) or k is None


def _opaque(thing: object) -> bool:
    """Checked by identity, not looked into: modules, functions and classes of Python's
    library and microtape's, every class, and objects of Python's library and of
    microtape's engine (an op, a tape); microtape's models and optimizers are walked."""
    if isinstance(thing, type):
        return True
    if isinstance(thing, types.FunctionType):  # by its file: a doctest's is the user's
        module = _module_of(thing)
        return module in sys.stdlib_module_names or thing.__code__.co_filename.startswith(_HOME)
    if isinstance(thing, (types.ModuleType, types.BuiltinFunctionType)):
        return _module_of(thing) in _LIBRARY
    kind = type(thing)
    if kind in (list, tuple, dict) or isinstance(thing, tuple):
        return False
    module = kind.__module__
    if module.partition(".")[0] in sys.stdlib_module_names or module == "builtins":
        return True
    return module.startswith(_ENGINE)


Visit: TypeAlias = Callable[[str, object, bool], "str | None"]
"""``visit(expression, thing, first)`` for each thing reached (``first``: not reached
before); returns the expression its children are reached through, or None to stop."""


def _walk(fn: object, roots: Sequence[tuple[str, object]], visit: Visit) -> None:
    """Walk from ``fn`` and ``roots`` breadth first, at most ``BUDGET`` objects. Scalars
    and Values are visited, never walked on; an object reached again is visited again
    (with ``first`` False) and not walked on."""
    seen: set[int] = set()
    names: set[str] = set()
    queue: list[tuple[str, object]] = [("fn", fn), *roots]
    walked = 0
    head = 0
    while head < len(queue) and walked < BUDGET:
        expression, thing = queue[head]
        head += 1
        scalar = type(thing) in _SCALARS
        first = scalar or id(thing) not in seen
        seen.add(id(thing))
        through = visit(expression, thing, first)
        if not first or scalar or through is None or type(thing) is Value or _opaque(thing):
            continue
        walked += 1
        if isinstance(thing, types.FunctionType):
            names |= _names_used(thing.__code__)
        queue.extend((how.format(through), child) for how, child in _edges(thing, names))


def lengths(fn: object, roots: Sequence[tuple[str, object]]) -> dict[int, tuple[object, int]]:
    """The length of every list and dict reachable now (kept with the object, so that its
    id stays its own): taken before a traced call, to tell which ones the call itself
    changed (a log the function appends to), which are then neither checked nor walked."""
    found: dict[int, tuple[object, int]] = {}

    def visit(expression: str, thing: object, first: bool) -> str:
        if first and type(thing) in (list, dict):
            found[id(thing)] = (thing, len(thing))  # type: ignore[arg-type]
        return expression

    _walk(fn, roots, visit)
    return found


def reach(
    fn: object,
    roots: Sequence[tuple[str, object]],
    targets: Sequence[Value],
    required: int,
    leaves: Sequence[object],
    before: dict[int, tuple[object, int]] | None = None,
) -> Sources | None:
    """The walk from ``fn`` and ``roots`` (the arguments' leaves that are not floats, each
    with its expression over ``args`` and ``kwargs``) that finds ``targets`` again at each
    call, with the checks of all else it reaches (see the module docstring).

    The first ``required`` targets (Values the code reads, or returns, from before the
    call) must be found, or None is returned; the others (Value arguments, found where
    the function could also reach them) are checked where found. ``before``: the
    :func:`lengths` taken before the call.
    """
    writer = _Writer()
    wanted: dict[int, list[int]] = {}
    for i, t in enumerate(targets):
        wanted.setdefault(id(t), []).append(i)
    at: list[str | None] = [None] * len(targets)
    local_of: dict[int, str] = {}

    def visit(expression: str, thing: object, first: bool) -> str | None:
        if type(thing) in _SCALARS:
            _check_scalar(writer, expression, thing)
            return None
        if not first:
            known = local_of.get(id(thing))
            if known is not None:
                writer.check(f"({expression}) is not {known}")  # reached twice: one object
            return None
        if type(thing) is Value:
            indices = wanted.get(id(thing))
            if indices is None:
                return None  # a Value the code does not read: nothing to check
            local = local_of[id(thing)] = writer.local(expression)
            writer.check(f"type({local}) is not Value")
            for i in indices:
                at[i] = local
            return None
        earlier = None if before is None else before.get(id(thing))
        if earlier is not None and earlier[0] is thing and earlier[1] != len(thing):  # type: ignore[arg-type]
            return None  # the call itself changed it (a log): neither checked nor walked
        local = local_of[id(thing)] = writer.local(expression)
        if _opaque(thing):
            writer.check(f"{local} is not {writer.constant(thing)}")
            return None
        data = _data(thing)
        if data is not None:  # numbers: one check, bit for bit
            writer.check(f"_data({local}) != {writer.constant(data)}")
            return None
        _check_shape(writer, local, thing)
        return local

    _walk(fn, roots, visit)
    if any(a is None for a in at[:required]):
        return None
    results = ", ".join(a if a is not None else "None" for a in at)
    body = "\n".join(f"        {line}" for line in writer.lines)
    source = (
        "def fetch(fn, args, kwargs):\n"
        "    try:\n"
        f"{body}\n"
        f"        return [{results}]\n"
        "    except Exception:\n"
        "        return None\n"
    )
    space = dict(writer.space)
    exec(compile(source, "<mt.function sources>", "exec"), space)
    fetch: Fetch = space["fetch"]  # type: ignore[assignment]
    found = [t if a is not None else None for t, a in zip(targets, at, strict=True)]
    constants = [v for k, v in writer.space.items() if k.startswith("k")]
    return Sources(fetch, source, [a is not None for a in at], pattern(found, leaves), constants)


def _check_scalar(writer: _Writer, expression: str, thing: object) -> None:
    if thing is None:
        writer.check(f"({expression}) is not None")
    elif type(thing) is float:
        writer.check(f"not _same({expression}, {thing!r})")
    elif type(thing) is bool:
        writer.check(f"({expression}) is not {thing!r}")
    else:
        k = writer.constant(thing)
        writer.check(
            f"type({expression}) is not {writer.constant(type(thing))} or ({expression}) != {k}"
        )


def _data(thing: object) -> tuple[object, bytes] | None:
    """A list or tuple of at least ``BULK`` floats as what identifies it bit for bit: its
    type and the bits of every float (-0.0 is not 0.0); None for anything else."""
    kind = type(thing)
    if kind is not list and kind is not tuple:
        return None
    items: Sequence[object] = thing  # type: ignore[assignment]
    if len(items) < BULK or not all(type(x) is float for x in items):
        return None
    return (kind, array("d", items).tobytes())  # type: ignore[type-var]


def _check_shape(writer: _Writer, local: str, thing: object) -> None:
    kind = type(thing)
    if kind is dict:
        keys = writer.constant(tuple(thing))  # type: ignore[arg-type]
        writer.check(f"type({local}) is not dict or tuple({local}) != {keys}")
    elif kind is list or isinstance(thing, tuple):
        writer.check(
            f"type({local}) is not {writer.constant(kind)} or len({local}) != {len(thing)}"  # type: ignore[arg-type]
        )
    elif isinstance(thing, (types.FunctionType, types.ModuleType)):
        writer.check(f"{local} is not {writer.constant(thing)}")
    else:
        writer.check(f"type({local}) is not {writer.constant(kind)}")
