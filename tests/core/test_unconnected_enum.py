"""``mt.UnconnectedGradients``, TensorFlow's enum (plus microtape's RAISE), taken beside
the strings wherever ``unconnected_gradients=`` is, with types as precise as the strings'."""

from __future__ import annotations

from typing import assert_type

import pytest

import microtape as mt
from microtape import UnconnectedGradients as UG


def test_the_members_are_tensorflows_names_and_the_strings() -> None:
    assert [m.name for m in UG] == ["NONE", "ZERO", "RAISE"]
    assert [m.value for m in UG] == ["none", "zero", "raise"]
    assert UG("zero") is UG.ZERO and str(UG.ZERO) == "zero" and isinstance(UG.NONE, str)


def _recorded() -> tuple[mt.GradientTape, mt.Value, mt.Value, mt.Value]:
    x, unused = mt.Value(2.0), mt.Value(5.0)
    tape = mt.GradientTape(persistent=True)
    with tape:
        y = x * x
    return tape, x, unused, y


def test_gradient_takes_each_member_as_its_string() -> None:
    tape, x, unused, y = _recorded()
    none = tape.gradient(y, [x, unused], unconnected_gradients=UG.NONE)
    assert_type(none, list[mt.Value | None])
    assert none[1] is None
    zero = tape.gradient(y, [x, unused], unconnected_gradients=UG.ZERO)
    assert_type(zero, list[mt.Value])  # no None: typed as precisely as "zero"
    assert [g.data for g in zero] == [4.0, 0.0]
    single = tape.gradient(y, unused, unconnected_gradients=UG.ZERO)
    assert_type(single, mt.Value)
    assert single.data == 0.0
    with pytest.raises(mt.UnconnectedGradientError, match="not used by any op"):
        tape.gradient(y, unused, unconnected_gradients=UG.RAISE)
    keyed = tape.gradient(y, {"x": x, "u": unused}, unconnected_gradients=UG.ZERO)
    assert_type(keyed, dict[str, mt.Value])


def test_jacobian_takes_the_members_too() -> None:
    tape, x, unused, y = _recorded()
    rows = tape.jacobian([y, y], [x, unused], UG.ZERO)
    assert_type(rows, list[list[mt.Value]])
    assert [[g.data for g in row] for row in rows] == [[4.0, 0.0], [4.0, 0.0]]
    with pytest.raises(mt.UnconnectedGradientError):
        tape.jacobian([y], unused, UG.RAISE)


def test_jvp_takes_none_and_zero() -> None:
    x, other = mt.Value(2.0), mt.Value(1.0)
    with mt.ForwardAccumulator(x, 1.0) as acc:
        y = other * 3.0
    assert acc.jvp(y, UG.NONE) is None
    zero = acc.jvp(y, UG.ZERO)
    assert_type(zero, mt.Value)
    assert zero.data == 0.0
    assert_type(acc.jvp([y], UG.ZERO), list[mt.Value])
    with pytest.raises(ValueError, match=r"'none' or 'zero', got <UnconnectedGradients\.RAISE"):
        acc.jvp(y, UG.RAISE)  # type: ignore[call-overload]


def test_an_unknown_mode_names_the_members_too() -> None:
    tape, x, _, y = _recorded()
    with pytest.raises(ValueError, match=r"got 'ZERO' \(mt.UnconnectedGradients.NONE, .ZERO"):
        tape.gradient(y, x, unconnected_gradients="ZERO")  # type: ignore[call-overload]
    assert tape.gradient(y, x) is not None  # the tape is untouched by the refused call
