"""The learner's names for Values: ``w`` in displays where the node number would be.

A Value has no slot for a name (every Value would pay for it): names live beside the
Values, keyed by node number, in two places.

- **Given** names, in this module's table: ``mt.Value(0.5, name="w")``, and the path of a
  parameter in an ``mt.nn`` model (``layers[0].kernel[1][0]``). An entry leaves the table
  when its Value is collected (a weak reference), so a training loop that names new Values
  every step holds only the names of the Values still alive.
- **Found** names, kept by the tape or accumulator that found them: when a block ends,
  the names of the variables that hold Values (``core/tapes/found.py``). They die with
  their tape, so intermediates are never named globally.

Displays (``print(tape)``, ``explain``, ``to_dot``, ``print(acc)``, ``mt.function``'s
code) ask :func:`name_of`: a name given by the learner first, then a variable's, then an
``mt.nn`` path, then a place in a list (``xs[0]``); a Value with none is shown by number
(``v3``). Names change nothing but
text: ``==``, ``hash`` and copies of Values ignore them (a copy is a new, unnamed node).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Final, TypeAlias, Union, final

from ..errors import ArgumentTypeError

if TYPE_CHECKING:
    from .value import Value

__all__ = ["NOTHING", "Found", "Places", "give", "given", "given_by_learner", "name_of"]


@final
class _Name(weakref.ref["Value"]):
    """A given name, held by a weak reference to its Value: the entry goes with it."""

    __slots__ = ("by_nn", "node", "text")

    node: int
    text: str
    by_nn: bool

    def __new__(cls, value: Value, node: int, text: str, by_nn: bool) -> _Name:
        self = super().__new__(cls, value, _forget)
        self.node = node
        self.text = text
        self.by_nn = by_nn
        return self

    def __init__(self, value: Value, node: int, text: str, by_nn: bool) -> None:
        super().__init__(value, _forget)  # type: ignore[call-arg]


_GIVEN: Final[dict[int, _Name]] = {}
"""Given names by node number, while their Values are alive."""


def _forget(ref: weakref.ref[Value]) -> None:
    assert isinstance(ref, _Name)
    if _GIVEN.get(ref.node) is ref:
        del _GIVEN[ref.node]


def give(value: Value, name: object, *, by_nn: bool = False) -> None:
    """Name ``value`` (``Value(x, name=...)``), or with ``by_nn``, give it the path ``mt.nn``
    found it at, unless the learner named it.

    Raises:
        ArgumentTypeError: if ``name`` is not a non-empty str.
    """
    if not isinstance(name, str) or not name:
        raise ArgumentTypeError(f"Value: name must be a non-empty str, got {name!r}")
    node = value.node
    if by_nn:
        old = _GIVEN.get(node)
        if old is not None and not old.by_nn:
            return  # the learner's own name stays
    _GIVEN[node] = _Name(value, node, name, by_nn)


def given(node: int) -> str | None:
    """The name given to node ``node`` (by the learner, or an ``mt.nn`` path), if any."""
    found = _GIVEN.get(node)
    return None if found is None else found.text


def given_by_learner(node: int) -> str | None:
    """The name the learner gave node ``node`` with ``Value(x, name=...)``, if any."""
    found = _GIVEN.get(node)
    return None if found is None or found.by_nn else found.text


Places: TypeAlias = dict[str, tuple[Union[tuple[str, ...], None], tuple[Union[int, None], ...]]]
"""Lists, tuples and dicts of Values by the name that held them: for each, the keys of a
dict (their ``repr``, ``"'w'"``; None for a list or tuple) and the node of each item (None
for an item that is not a Value)."""


@final
class Found:
    """The names a tape or an accumulator found when its blocks ended (``core/tapes/found.py``):
    variables holding Values, and lists, tuples and dicts of them, whose items are named by
    their places (``xs[0]``) only when a display asks, so that finding them costs one node
    number per item. Never changed once made (but for the index of places, made once)."""

    __slots__ = ("_index", "places", "variables")

    def __init__(self, variables: dict[int, str] | None = None, places: Places | None = None):
        self.variables: dict[int, str] = {} if variables is None else variables
        """The name of each Value a variable held, by node number."""
        self.places: Places = {} if places is None else places
        self._index: dict[int, str] | None = None

    def merged(self, new: Found) -> Found:
        """These names and those a later block's end found (``new``), as a new Found (a
        Found never changes, so views share it): a name now held by another Value leaves
        the Value that had it (the variable was assigned again), and a list found again
        replaces the one found before."""
        if not self.variables and not self.places:
            return new
        if not new.variables and not new.places:
            return self
        taken = set(new.variables.values())
        variables = {n: name for n, name in self.variables.items() if name not in taken}
        variables.update(new.variables)
        return Found(variables, {**self.places, **new.places})

    def __bool__(self) -> bool:
        return bool(self.variables or self.places)

    def place(self, node: int) -> str | None:
        """The place of node ``node`` in a list, tuple or dict found (``xs[0]``), if any."""
        if self._index is None:
            index: dict[int, str] = {}
            for path, (keys, nodes) in self.places.items():
                for i, n in enumerate(nodes):
                    if n is not None and n not in index:
                        index[n] = f"{path}[{i if keys is None else keys[i]}]"
            self._index = index
        return self._index.get(node)

    def flat(self) -> dict[int, str]:
        """Every name found, by node number: the variables' first, then the places."""
        return {n: name for n in self._all() if (name := self.get(n)) is not None}

    def get(self, node: int) -> str | None:
        """The name found for node ``node``: a variable's, else a place's."""
        return self.variables.get(node) or self.place(node)

    def _all(self) -> dict[int, None]:
        nodes = dict.fromkeys(self.variables)
        for _, ns in self.places.values():
            nodes.update(dict.fromkeys(n for n in ns if n is not None))
        return nodes


NOTHING: Final = Found()
"""No name found."""


def name_of(node: int, found: Found) -> str | None:
    """The name displays use for node ``node``: given by the learner, else held by a
    variable when a block ended, else an ``mt.nn`` path, else its place in a list found
    then; None if it has none."""
    entry = _GIVEN.get(node)
    if entry is not None and not entry.by_nn:
        return entry.text
    name = found.variables.get(node)
    if name is not None:
        return name
    if entry is not None:
        return entry.text
    return found.place(node)
