"""``tape.jacobian`` keeps the targets' nesting, as TensorFlow's jacobian keeps the
target's shape: the result is the targets' structure with, at each leaf, the gradient
structure of the sources (TensorFlow's ``target.shape + source.shape``)."""

from __future__ import annotations

from typing import assert_type

import pytest
from messages import loose

import microtape as mt
from microtape import GradientTape, Value
from microtape.core.tapes.arguments import NestedGradient


def numbers(nest: object) -> object:
    """The nest with each Value replaced by its number (None kept)."""
    if isinstance(nest, Value):
        return nest.data
    if isinstance(nest, dict):
        return {k: numbers(v) for k, v in nest.items()}
    if isinstance(nest, (list, tuple)):
        return type(nest)(numbers(v) for v in nest)
    return nest


def test_a_list_of_lists_of_targets_keeps_its_rows_where_it_summed_them_before() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        targets = [[x, 2.0 * x], [3.0 * x, 4.0 * x]]
    jac = tape.jacobian(targets, x)
    assert_type(jac, NestedGradient)
    assert numbers(jac) == [[1.0, 2.0], [3.0, 4.0]]  # shape (2, 2) + () = (2, 2)


def test_tensorflows_documented_example_square_of_a_vector() -> None:
    # TensorFlow: x = [1., 2.]; y = x * x; g.jacobian(y, x) == [[2., 0.], [0., 4.]]
    x = [Value(1.0), Value(2.0)]
    with GradientTape() as tape:
        y = [xi * xi for xi in x]
    jac = tape.jacobian(y, x, unconnected_gradients="zero")  # dense zeros, as TensorFlow's
    assert_type(jac, list[list[Value]])
    assert numbers(jac) == [[2.0, 0.0], [0.0, 4.0]]


def test_the_sources_structure_sits_inside_each_target_leaf() -> None:
    x, w = Value(2.0), Value(3.0)
    with GradientTape() as tape:
        targets = [[x * w], [x + w, w * w]]
    jac = tape.jacobian(targets, {"x": x, "w": [w]})
    assert numbers(jac) == [
        [{"x": 3.0, "w": [2.0]}],
        [{"x": 1.0, "w": [1.0]}, {"x": None, "w": [6.0]}],
    ]


def test_dict_and_tuple_targets_keep_their_types() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as tape:
        loss, aux = x * x, x * 5.0
    assert numbers(tape.jacobian({"loss": loss, "aux": (aux, loss)}, [x])) == {
        "loss": [4.0],
        "aux": ([5.0], [4.0]),
    }
    rows = tape.jacobian((loss, aux), x)
    assert_type(rows, tuple[Value | None, ...])
    assert numbers(rows) == (4.0, 5.0)
    zeros = tape.jacobian((loss, aux), (x, Value(0.0)), "zero")
    assert_type(zeros, tuple[tuple[Value, ...], ...])
    assert numbers(zeros) == ((4.0, 0.0), (5.0, 0.0))


def test_a_flat_list_gives_what_it_always_gave() -> None:
    a, b = Value(2.0), Value(3.0)
    with GradientTape(persistent=True) as tape:
        ys = [a * b, a * a]
    rows = tape.jacobian(ys, [a, b])
    assert_type(rows, list[list[Value | None]])
    assert numbers(rows) == [[3.0, 2.0], [4.0, None]]
    assert_type(tape.jacobian(ys, a), list[Value | None])
    assert_type(tape.jacobian(ys, {"a": a}, "zero"), list[dict[str, Value]])
    assert numbers(tape.jacobian([], a)) == []


def test_a_single_target_gives_its_gradient_and_a_none_leaf_an_unconnected_row() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = x * x
    assert numbers(tape.jacobian(y, {"x": x})) == {"x": 4.0}
    assert numbers(tape.jacobian([y, None], [x])) == [[4.0], [None]]
    assert numbers(tape.jacobian([[None]], x, "zero")) == [[0.0]]


def test_the_nesting_matches_mt_jacobian_of_a_function() -> None:
    def f(p: list[Value]) -> list[list[Value]]:
        return [[p[0] * p[1]], [p[0] + p[1], mt.exp(p[0])]]

    point = [0.5, 2.0]
    xs = [Value(v) for v in point]
    with GradientTape() as tape:
        out = f(xs)
    by_tape = numbers(tape.jacobian(out, xs, "zero"))
    assert (
        by_tape == mt.jacobian(f)(point) == [[[2.0, 0.5]], [[1.0, 1.0], [1.6487212707001282, 0.0]]]
    )


def test_a_wrong_leaf_is_named_by_its_place_and_the_tape_stays_usable() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
    with pytest.raises(
        mt.ArgumentTypeError, match=loose(r"jacobian: targets: .* targets\[1\]\[0\] is str")
    ):
        tape.jacobian([[y], ["y"]], x)
    assert numbers(tape.jacobian([[y]], x)) == [[4.0]]  # the refused call did not use it up
    with pytest.raises(mt.TapeError, match="used up"):
        tape.jacobian([y], x)


def test_a_second_derivative_through_nested_targets() -> None:
    x = Value(3.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            ys = {"sq": x * x, "cube": [x * x * x]}
        firsts = inner.jacobian(ys, x)
    assert numbers(firsts) == {"sq": 6.0, "cube": [27.0]}
    assert isinstance(firsts, dict)
    second = outer.jacobian(firsts, x)
    assert numbers(second) == {"sq": 2.0, "cube": [18.0]}
