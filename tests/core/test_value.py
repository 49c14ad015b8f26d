"""Value: construction, the number it holds, comparisons, identity, conversions."""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

import microtape as mt


def test_value_from_int_holds_a_float() -> None:
    x = mt.Value(3)
    assert x.data == 3.0
    assert type(x.data) is float


def test_value_from_float_like_object_uses_its_float() -> None:
    assert mt.Value(Fraction(1, 4)).data == 0.25


@pytest.mark.parametrize("bad", ["3.0", None, 1j, [1.0], object(), b"1"])
def test_value_from_non_number_raises_type_error_naming_the_type(bad: object) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        mt.Value(bad)  # type: ignore[arg-type]


def test_value_from_bool_is_its_number() -> None:
    assert mt.Value(True).data == 1.0 and mt.Value(False).data == 0.0


def test_value_from_value_is_refused_with_a_hint() -> None:
    with pytest.raises(mt.ArgumentTypeError, match=r"data\.data"):
        mt.Value(mt.Value(1.0))


def test_float_and_repr_show_the_number() -> None:
    x = mt.Value(2.5)
    assert float(x) == 2.5
    assert repr(x) == "Value(2.5)"
    assert f"{x:.2f}" == "2.50"
    assert f"{x}" == "Value(2.5)"


def test_data_can_be_assigned_and_is_validated() -> None:
    x = mt.Value(1.0)
    x.data = 4
    assert x.data == 4.0
    with pytest.raises(TypeError):
        x.data = "5"  # type: ignore[assignment]


def test_order_compares_numbers_and_returns_bool() -> None:
    a, b = mt.Value(1.0), mt.Value(2.0)
    assert (a < b) is True
    assert (a <= 1.0) is True
    assert (b > a) is True
    assert (b >= 3) is False
    assert 0.5 < a  # reflected comparison


def test_equality_and_hash_are_by_node_so_two_values_made_apart_differ() -> None:
    a, b = mt.Value(1.0), mt.Value(1.0)
    assert a != b
    assert a == a
    with pytest.warns(mt.ValueAsNumberWarning, match=r"x\.data == 1\.0"):
        assert (a == 1.0) is False  # == is not a numeric comparison, and says so
    assert len({a, b}) == 2
    assert {a: 1}[a] == 1
    c = a + 0.0
    assert c != a and c.data == a.data  # a result is a new node


def test_a_value_rebuilt_by_the_tape_is_the_same_node_as_the_original() -> None:
    x, y = mt.Value(2.0), mt.Value(3.0)
    with mt.GradientTape() as tape:
        z = x * y
    x.data = 5.0
    watched = tape.watched()
    assert watched == [x, y] and {x, y} == set(watched)
    assert watched[0].data == 2.0  # the number the tape read, not the one assigned later
    assert z != x


def test_a_value_passed_to_watch_comes_back_as_the_very_object() -> None:
    x, y = mt.Value(2.0), mt.Value(3.0)
    with mt.GradientTape() as tape:
        z = x * y  # x is read before it is watched
        tape.watch(x)
    assert z.data == 6.0
    got = tape.watched()
    assert got == [x, y]
    assert got[0] is x  # watched explicitly: yours
    assert got[1] is not y and got[1].data == 3.0  # accessed: the same node, rebuilt


@pytest.mark.parametrize(
    "duplicate",
    [copy.copy, copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_a_copied_value_is_a_new_node_with_the_same_number(
    duplicate: Callable[[mt.Value], mt.Value],
) -> None:
    x = mt.Value(2.0)
    twin = duplicate(x)
    assert type(twin) is mt.Value and twin.data == 2.0 and twin != x
    with mt.GradientTape(persistent=True) as tape:
        y = x * x
        both = y + twin * 3.0
    assert tape.gradient(y, twin) is None  # the copy is not the original's node
    g = tape.gradient(both, [x, twin])
    assert [v.data for v in g if v is not None] == [4.0, 3.0]
    twin.data = 7.0
    assert x.data == 2.0  # changing the copy leaves the original alone


def test_truthiness_is_the_number_being_nonzero() -> None:
    assert not mt.Value(0.0)
    assert mt.Value(-2.0)


def test_ordering_against_a_string_raises_type_error() -> None:
    with pytest.raises(TypeError, match="str"):
        _ = mt.Value(1.0) < "a"  # type: ignore[operator]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda x: x + 2, 5.0),
        (lambda x: 2 + x, 5.0),
        (lambda x: x - 2, 1.0),
        (lambda x: 2 - x, -1.0),
        (lambda x: x * 2, 6.0),
        (lambda x: 2 * x, 6.0),
        (lambda x: x / 2, 1.5),
        (lambda x: 6 / x, 2.0),
        (lambda x: x**2, 9.0),
        (lambda x: 2**x, 8.0),
        (lambda x: x**x, 27.0),
        (lambda x: -x, -3.0),
        (lambda x: +x, 3.0),
        (lambda x: abs(-x), 3.0),
    ],
)
def test_arithmetic_with_values_and_numbers_on_either_side(expr: object, expected: float) -> None:
    result = expr(mt.Value(3.0))  # type: ignore[operator]
    assert isinstance(result, mt.Value)
    assert result.data == expected


@pytest.mark.parametrize("other", ["a", None, 1j, [1]])
def test_arithmetic_with_a_non_number_raises_type_error(other: Any) -> None:
    x = mt.Value(1.0)
    for apply in (
        lambda: x + other,
        lambda: other + x,
        lambda: x * other,
        lambda: x - other,
        lambda: x / other,
        lambda: x**other,
    ):
        with pytest.raises(TypeError):
            apply()  # type: ignore[no-untyped-call]


def test_functions_on_plain_numbers_return_floats_and_record_nothing() -> None:
    with mt.GradientTape() as tape:
        y = mt.sin(1.0)
        z = mt.exp(2)
    assert type(y) is float and y == math.sin(1.0)
    assert type(z) is float
    assert tape.watched() == []


def test_functions_on_values_return_values() -> None:
    assert isinstance(mt.sqrt(mt.Value(4.0)), mt.Value)
    assert mt.sqrt(mt.Value(4.0)).data == 2.0
