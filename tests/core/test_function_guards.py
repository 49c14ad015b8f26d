"""mt.function and control flow: a comparison of Values while tracing is a guard.

The generated code checks every guard; where one comes out the other way the function
is traced again for that path, and both paths are kept, up to ``max_traces`` per
function. Past that, a call on a new path runs in Python, with one warning.
"""

from __future__ import annotations

import math
import warnings

import pytest

import microtape as mt
from microtape.tracing.function import Function


def _piecewise(runs: list[int]) -> Function[[mt.Value], mt.Value]:
    @mt.function
    def f(x: mt.Value) -> mt.Value:
        runs.append(1)
        if x > 0.0:
            return x * x
        return -x

    return f


def test_a_guard_that_flips_traces_the_other_path_and_both_are_kept() -> None:
    runs: list[int] = []
    f = _piecewise(runs)
    assert [f(mt.Value(v)).data for v in (2.0, 3.0, -1.0, -4.0, 5.0, -0.5)] == [
        4.0,
        9.0,
        1.0,
        4.0,
        25.0,
        0.5,
    ]
    assert f.traces == 2 and len(runs) == 2  # the Python function ran once per path


def test_bool_of_a_value_is_a_guard() -> None:
    @mt.function
    def f(x: mt.Value) -> mt.Value:
        return x * 2.0 if x else x + 1.0

    assert [f(mt.Value(v)).data for v in (1.0, 0.0, 3.0, 0.0)] == [2.0, 1.0, 6.0, 1.0]
    assert f.traces == 2


def test_several_guards_each_path_found_again_from_the_flipped_guard() -> None:
    @mt.function
    def sign_and_size(x: mt.Value) -> mt.Value:
        y = x if x >= 0.0 else -x
        return y * 10.0 if y > 1.0 else y

    values = [0.5, 2.0, -0.5, -2.0, 0.25, -3.0, 3.0, -0.1]
    assert [sign_and_size(mt.Value(v)).data for v in values] == [
        0.5,
        20.0,
        0.5,
        20.0,
        0.25,
        30.0,
        30.0,
        0.1,
    ]
    assert sign_and_size.traces == 4


def test_a_guard_can_compare_two_values_and_a_value_with_an_int() -> None:
    @mt.function
    def larger(a: mt.Value, b: mt.Value) -> mt.Value:
        return max(a, b) * (2 if a < 1 else 3)

    assert larger(mt.Value(0.0), mt.Value(5.0)).data == 10.0
    assert larger(mt.Value(7.0), mt.Value(5.0)).data == 21.0
    assert larger(mt.Value(0.5), mt.Value(0.25)).data == 1.0


def test_a_guard_on_a_float_argument() -> None:
    @mt.function
    def clip(x: mt.Value, limit: float) -> mt.Value:
        return x * 0.0 + limit if x > limit else x

    assert clip(mt.Value(5.0), 1.0).data == 1.0
    assert clip(mt.Value(0.5), 1.0).data == 0.5
    assert clip(mt.Value(5.0), 2.0).data == 2.0  # the limit is an input, not a constant
    assert clip.traces == 2


def test_past_max_traces_a_new_path_runs_in_python_with_one_warning() -> None:
    @mt.function(max_traces=2)
    def bucket(x: mt.Value) -> mt.Value:
        if x < 1.0:
            return x
        if x < 2.0:
            return x * 2.0
        return x * 3.0

    assert bucket(mt.Value(0.5)).data == 0.5
    assert bucket(mt.Value(1.5)).data == 3.0
    with pytest.warns(mt.TracingWarning, match="max_traces=2"):
        assert bucket(mt.Value(2.5)).data == 7.5  # a third path: Python
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bucket(mt.Value(4.0)).data == 12.0  # no second warning
        assert bucket(mt.Value(0.25)).data == 0.25  # the traced paths still run as code
    assert bucket.traces == 2


def test_a_guard_inside_a_sweep_that_flips_gives_the_other_gradient() -> None:
    w = mt.Value(1.0)

    @mt.function
    def loss_and_grad(x: mt.Value) -> tuple[mt.Value, mt.Value | None]:
        with mt.GradientTape() as tape:
            z = w * x
            loss = z * z if z > 0.0 else mt.abs(z) * 3.0
        return loss, tape.gradient(loss, w)

    for x, expected in ((2.0, 8.0), (-2.0, 6.0), (1.0, 2.0), (-1.0, 3.0)):
        _, grad = loss_and_grad(mt.Value(x))
        assert grad is not None and grad.data == expected
    assert loss_and_grad.traces == 2


def test_past_max_traces_an_op_that_fails_raises_its_error_with_no_warning() -> None:
    @mt.function(max_traces=1)
    def f(x: mt.Value) -> mt.Value:
        return mt.log(x) * 2.0

    assert f(mt.Value(1.0)).data == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(mt.DomainError, match=r"log: x=-1\.0 is outside the domain x > 0"):
            f(mt.Value(-1.0))
        assert f(mt.Value(math.e)).data == 2.0
