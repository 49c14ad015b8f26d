"""mt.function: traced once, run as generated code, with the eager function's results.

What is an input (arguments, Values read from before the call), what the results are,
what the generated code looks like, and how a compiled function behaves under an outer
tape, in threads, and as a method. Exactness on random programs is in
``test_function_exactness.py``; guards in ``test_function_guards.py``; what is refused
in ``test_function_refusals.py``.
"""

from __future__ import annotations

import math
import struct
import threading
from collections import namedtuple
from typing import assert_type, cast

import pytest

import microtape as mt


def bits(x: object) -> object:
    """A result with every float as its bits, so that == compares to the last bit."""
    if isinstance(x, mt.Value):
        return ("Value", struct.pack("<d", mt.number(x)))
    if isinstance(x, float):
        return ("float", struct.pack("<d", x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [bits(e) for e in x])
    if isinstance(x, dict):
        return {k: bits(v) for k, v in x.items()}
    return x


def test_the_first_call_traces_and_later_calls_run_the_code() -> None:
    runs = []
    w = mt.Value(0.5)

    @mt.function
    def loss_and_grad(x: mt.Value) -> tuple[mt.Value, mt.Value | None]:
        runs.append(1)  # a Python side effect: it happens when the function is traced
        with mt.GradientTape() as tape:
            loss = (w * x - 1.0) * (w * x - 1.0)
        return loss, tape.gradient(loss, w)

    results = [loss_and_grad(mt.Value(x)) for x in (1.0, 2.0, 3.0)]
    assert len(runs) == 1 and loss_and_grad.traces == 1
    assert [(r[0].data, r[1].data) for r in results] == [  # type: ignore[union-attr]
        (0.25, -1.0),
        (0.0, 0.0),
        (0.25, 3.0),
    ]


def test_results_have_the_structure_and_types_the_function_returned() -> None:
    Pair = namedtuple("Pair", ["value", "grad"])
    w = mt.Value(2.0)

    @mt.function
    def f(x: mt.Value) -> dict[str, object]:
        with mt.GradientTape() as tape:
            y = w * x
        return {"pair": Pair(y, tape.gradient(y, w)), "none": None, "n": 3, "list": [y, x]}

    f(mt.Value(1.0))
    x = mt.Value(5.0)
    out = f(x)
    assert set(out) == {"pair", "none", "n", "list"}
    pair = out["pair"]
    assert isinstance(pair, Pair) and pair.value.data == 10.0 and pair.grad.data == 5.0
    assert out["none"] is None and out["n"] == 3
    y, same_x = cast(list[mt.Value], out["list"])
    assert y is pair.value  # one Value, wherever the function returned it
    assert same_x is x  # an argument comes back as that very Value


def test_a_float_argument_is_an_input_and_its_results_are_floats() -> None:
    w = mt.Value(3.0)

    @mt.function
    def f(x: float, scale: float) -> tuple[mt.Value, float]:
        return w * x, scale * 2.0

    assert bits(f(1.0, 0.5)) == bits((mt.Value(3.0), 1.0))
    assert bits(f(2.0, 0.25)) == bits((mt.Value(6.0), 0.5))
    assert f.traces == 1  # other numbers, the same code


def test_values_read_from_before_the_call_are_read_again_at_each_call() -> None:
    weight, frozen = mt.Value(1.0), mt.Value(10.0)

    @mt.function
    def f(x: mt.Value) -> tuple[mt.Value, mt.Value | None]:
        with mt.GradientTape() as tape:
            y = weight * x + frozen * x  # frozen is never compared nor differentiated
        return y, tape.gradient(y, weight)

    f(mt.Value(1.0))
    weight.data, frozen.data = 2.0, 20.0  # an optimizer step, outside the function
    y, g = f(mt.Value(3.0))
    assert (y.data, g.data) == (66.0, 3.0)  # type: ignore[union-attr]


def test_an_int_argument_is_part_of_the_structure_and_traces_again() -> None:
    @mt.function
    def power(x: mt.Value, n: int) -> mt.Value:
        y = x
        for _ in range(n - 1):
            y = y * x
        return y

    assert power(mt.Value(2.0), 3).data == 8.0
    assert power(mt.Value(3.0), 3).data == 27.0
    assert power(mt.Value(2.0), 4).data == 16.0
    assert power.traces == 2


def test_the_same_value_twice_is_not_the_structure_of_two_values() -> None:
    @mt.function
    def product(a: mt.Value, b: mt.Value) -> mt.Value:
        return a * b

    x = mt.Value(3.0)
    assert product(x, x).data == 9.0
    assert product(mt.Value(2.0), mt.Value(5.0)).data == 10.0
    assert product.traces == 2


def test_keyword_arguments_and_methods() -> None:
    class Model:
        def __init__(self) -> None:
            self.w = mt.Value(2.0)

        @mt.function
        def __call__(self, x: float, *, bias: float = 0.0) -> mt.Value:
            return self.w * x + bias

    model = Model()
    assert model(1.0, bias=1.0).data == 3.0
    assert model(2.0, bias=0.5).data == 4.5
    model.w.data = 10.0
    assert model(2.0, bias=0.5).data == 20.5


def test_value_made_from_a_float_argument_is_an_input_too() -> None:
    @mt.function
    def f(x0: float) -> tuple[mt.Value, mt.Value | None]:
        x = mt.Value(x0)
        with mt.GradientTape() as tape:
            y = x * x
        return y, tape.gradient(y, x)

    f(1.0)
    y, g = f(3.0)
    assert (y.data, g.data) == (9.0, 6.0)  # type: ignore[union-attr]


def test_the_code_is_one_line_per_op_named_as_print_tape_names_them() -> None:
    w, b = mt.Value(0.5), mt.Value(0.0)

    @mt.function
    def step(x: float, y: float) -> tuple[mt.Value, list[mt.Value | None]]:
        with mt.GradientTape() as tape:
            error = w * x + b - y
            loss = error * error
        return loss, tape.gradient(loss, [w, b])

    code = step.code(3.0, 6.0)
    assert step.code() == code  # one path: no arguments needed
    lines = [line.strip() for line in code.splitlines()]
    assert "v0 = w * x  # mul" in lines  # the learner's names; numbers for the others
    assert "loss = error * error  # mul" in lines
    forward = lines.index("loss = error * error  # mul")
    back = [i for i, line in enumerate(lines) if line.startswith("g")]
    assert back and min(back) > forward  # the sweep back below the forward pass
    assert "# inputs: x, y, w, b" in code
    assert "g_error = 1.0 * error  # mul: d loss/d error" in lines


def test_a_long_program_is_cut_into_functions_and_repeated_blocks_share_one() -> None:
    params = [mt.Value(0.1 * i) for i in range(8)]

    @mt.function
    def loss(xs: list[float]) -> tuple[mt.Value, list[mt.Value | None]]:
        with mt.GradientTape() as tape:
            total = mt.Value(0.0)
            for x in xs:
                h = [mt.tanh(p * x) for p in params]
                total = total + sum(h[1:], h[0]) * 0.5
        return total, tape.gradient(total, params)

    xs = [0.01 * i for i in range(400)]
    eager = loss.python_function(xs)
    compiled = loss(xs)
    assert bits(loss(xs)) == bits(eager) == bits(compiled)
    code = loss.code()
    assert code.count("def _forward") < 10  # 400 repetitions, a handful of functions
    assert max(len(line) for line in code.splitlines()) < 20_000


def test_under_an_outer_tape_the_function_runs_as_written() -> None:
    x = mt.Value(2.0)

    @mt.function
    def cube(v: mt.Value) -> mt.Value:
        return v * v * v

    cube(mt.Value(1.0))  # traced and compiled
    with mt.GradientTape() as outer:
        y = cube(x)
    assert outer.gradient(y, x, unconnected_gradients="zero").data == 12.0  # saw every op
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            y = cube(x)
        dy = inner.gradient(y, x)
    assert dy.data == 12.0 and outer.gradient(dy, x).data == 12.0  # type: ignore[union-attr]


def test_a_compiled_function_called_inside_another_is_traced_into_it() -> None:
    @mt.function
    def inner(v: mt.Value) -> mt.Value:
        return mt.sin(v) * v

    @mt.function
    def outer(v: mt.Value) -> tuple[mt.Value, mt.Value | None]:
        with mt.GradientTape() as tape:
            y = inner(v) + 1.0
        return y, tape.gradient(y, v)

    x = mt.Value(0.3)
    assert bits(outer(x)) == bits(outer.python_function(x))
    assert bits(outer(mt.Value(1.3))) == bits(outer.python_function(mt.Value(1.3)))
    assert outer.traces == 1 and inner.traces == 0


def test_errors_are_the_eager_ones() -> None:
    @mt.function
    def f(x: mt.Value, y: mt.Value) -> mt.Value:
        return mt.log(x) / y

    assert f(mt.Value(1.0), mt.Value(2.0)).data == 0.0
    for args in ((mt.Value(-1.0), mt.Value(1.0)), (mt.Value(2.0), mt.Value(0.0))):
        with pytest.raises(mt.DomainError) as eager:
            f.python_function(*args)
        with pytest.raises(mt.DomainError) as compiled:
            f(*args)
        assert str(compiled.value) == str(eager.value)
    assert f(mt.Value(math.e), mt.Value(1.0)).data == 1.0


def test_a_nan_on_the_way_back_gives_the_sweeps_strong_zero() -> None:
    @mt.function
    def f(x: mt.Value, big: mt.Value) -> tuple[mt.Value, list[mt.Value | None]]:
        with mt.GradientTape() as tape:
            y = mt.relu(x) * big
        return y, tape.gradient(y, [x, big])

    f(mt.Value(1.0), mt.Value(2.0))
    out = f(mt.Value(-1.0), mt.Value(math.inf))  # relu'(-1) = 0 stops the infinite gradient
    assert bits(out) == bits(f.python_function(mt.Value(-1.0), mt.Value(math.inf)))
    assert out[1][0].data == 0.0  # type: ignore[union-attr]


@pytest.mark.threads
def test_threads_share_a_compiled_function() -> None:
    w = mt.Value(1.5)

    @mt.function
    def f(x: float) -> tuple[mt.Value, mt.Value | None]:
        with mt.GradientTape() as tape:
            y = mt.tanh(w * x)
        return y, tape.gradient(y, w)

    errors: list[str] = []
    start = threading.Barrier(4)

    def work(k: int) -> None:
        start.wait()  # the four first calls trace at once
        for i in range(50):
            x = 0.01 * (k * 50 + i)
            if bits(f(x)) != bits(f.python_function(x)):
                errors.append(f"{k} {i}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert f.traces <= 4  # each thread may trace before the first code is cached


def test_the_signature_is_the_functions_own() -> None:
    def step(x: float, n: int = 2) -> tuple[mt.Value, float]:
        return mt.Value(x) * n, x

    compiled = mt.function(step)
    assert_type(compiled(1.0), tuple[mt.Value, float])
    assert_type(mt.function(max_traces=2)(step)(1.0, n=3), tuple[mt.Value, float])
    assert compiled.__name__ == "step" and compiled.python_function is step


def test_max_traces_must_be_a_positive_int() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="max_traces"):
        mt.function(max_traces=0)
    with pytest.raises(mt.ArgumentTypeError, match="expected a function"):
        mt.function(3)  # type: ignore[call-overload]


def test_a_failed_trace_leaves_no_tracing_behind() -> None:
    from microtape.core.recording.context import RECORDING
    from microtape.core.recording.observer import OBSERVER
    from microtape.core.values import value

    @mt.function
    def f(x: mt.Value) -> mt.Value:
        y = x * 2.0
        if y > 1.0:
            raise KeyError("boom")
        return y

    with pytest.raises(KeyError):
        f(mt.Value(3.0))
    assert RECORDING.get() is None and OBSERVER.get() is None
    assert value._observing is False
    assert f(mt.Value(0.25)).data == 0.5


def test_an_op_without_a_derivative_outside_any_tape_does_not_fail_while_traced() -> None:
    @mt.function
    def f(x: mt.Value) -> mt.Value:
        return mt.sqrt(x) + x  # sqrt has no derivative at 0, but no tape asks for one

    assert f(mt.Value(0.0)).data == 0.0
    assert f(mt.Value(4.0)).data == 6.0
    assert f(mt.Value(0.0)).data == 0.0


def test_a_second_derivative_through_a_kink_follows_the_rules_branch() -> None:
    w = mt.Value(1.0)

    @mt.function
    def curvature(x: mt.Value) -> tuple[mt.Value | None, mt.Value | None]:
        with mt.GradientTape() as outer:
            with mt.GradientTape() as inner:
                y = mt.relu(w * x) * (w * x)
            g = inner.gradient(y, w)
        return g, outer.gradient(g, w)

    for x in (2.0, -2.0, 3.0, -1.0):
        compiled = curvature(mt.Value(x))
        eager = curvature.python_function(mt.Value(x))
        assert [v.data for v in compiled] == [v.data for v in eager]  # type: ignore[union-attr]
    assert curvature.traces == 2  # relu's rule read its argument: checked, traced again
