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
code) ask :func:`name_of`: a name given by the learner first, then a found one, then an
``mt.nn`` path; a Value with none is shown by number (``v3``). Names change nothing but
text: ``==``, ``hash`` and copies of Values ignore them (a copy is a new, unnamed node).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, final

from ..errors import ArgumentTypeError

if TYPE_CHECKING:
    from .value import Value

__all__ = ["give", "given", "given_by_learner", "merge", "name_of"]


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


def name_of(node: int, found: Mapping[int, str]) -> str | None:
    """The name displays use for node ``node``: given by the learner, else in ``found`` (the
    names a tape or accumulator found), else an ``mt.nn`` path; None if it has none."""
    entry = _GIVEN.get(node)
    if entry is not None and not entry.by_nn:
        return entry.text
    name = found.get(node)
    if name is not None:
        return name
    return None if entry is None else entry.text


def merge(into: dict[int, str], found: Mapping[int, str]) -> None:
    """Add the names ``found`` when a block ended to those of earlier blocks: a name now
    held by another Value leaves the Value that had it (the variable was assigned again)."""
    if not found:
        return
    taken = set(found.values())
    for node in [n for n, name in into.items() if name in taken and found.get(n) != name]:
        del into[node]
    into.update(found)
