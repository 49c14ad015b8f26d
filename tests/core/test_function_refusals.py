"""What mt.function cannot trace it refuses, never a silently wrong result.

A refused trace gives a TracingWarning saying why, and the function runs in Python for
that structure of arguments, that call and every later one. The call itself returns
what the Python run returned.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable

import pytest

import microtape as mt

READS: dict[str, Callable[[mt.Value], float]] = {
    ".data": lambda v: v.data,
    "float()": float,
    "mt.number()": mt.number,
    "math.sin": math.sin,
    "a copy": lambda v: copy.copy(v).data,
}


@pytest.mark.parametrize("how", sorted(READS))
def test_reading_the_number_of_a_computed_value_is_refused(how: str) -> None:
    read = READS[how]
    runs: list[int] = []
    w = mt.Value(2.0)

    @mt.function
    def f(x: mt.Value) -> tuple[mt.Value, float]:
        runs.append(1)
        y = w * x
        return y, read(y) * 10.0  # the number would be baked into the code

    with pytest.warns(mt.TracingWarning, match="runs in Python") as caught:
        y, number = f(mt.Value(1.0))
    assert (y.data, number) == (2.0, read(mt.Value(2.0)) * 10.0)
    assert "reads the number of a Value" in str(caught[0].message)
    assert "test_function_refusals.py" in str(caught[0].message)  # where it happened
    y, number = f(mt.Value(3.0))
    assert (y.data, number) == (6.0, read(mt.Value(6.0)) * 10.0)
    assert len(runs) == 2 and f.traces == 0


@pytest.mark.parametrize(
    "library",
    ["/lib/python312.zip/copy.py", "/usr/lib/python3.99/copy.py", "<frozen copy>"],
    ids=["zipped", "elsewhere", "frozen"],
)
def test_the_warning_skips_the_standard_library_wherever_it_is_stored(library: str) -> None:
    # Pyodide keeps copy.py in a zip file, away from os.py: the warning must still point
    # past copy.copy to the line that asked for the copy, so the library is known by its
    # module's name, not by the folder of os.py.
    stdlib_copy: dict[str, object] = {"__name__": "copy"}
    source = "def copy(x):\n    cls, args = x.__reduce__()\n    return cls(*args)\n"
    exec(compile(source, library, "exec"), stdlib_copy)  # copy.copy, as stored there
    w = mt.Value(2.0)

    @mt.function
    def f(x: mt.Value) -> float:
        y = w * x
        return stdlib_copy["copy"](y).data  # type: ignore[operator,no-any-return]

    with pytest.warns(mt.TracingWarning, match="reads the number of a Value") as caught:
        f(mt.Value(1.0))
    assert "(at test_function_refusals.py:" in str(caught[0].message)
    assert "copy.py" not in str(caught[0].message)


def test_reading_a_parameter_from_before_the_call_is_refused() -> None:
    scale = mt.Value(2.0)

    @mt.function
    def f(x: mt.Value) -> mt.Value:
        return x * scale.data  # a constant to the tape, but it may change between calls

    with pytest.warns(mt.TracingWarning):
        f(mt.Value(1.0))
    scale.data = 5.0
    assert f(mt.Value(1.0)).data == 5.0


def test_numbers_of_values_the_function_made_from_constants_may_be_read() -> None:
    @mt.function
    def f(x: mt.Value) -> mt.Value:
        c = mt.Value(3.0)
        return x * c.data  # the same number at every call

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(mt.Value(1.0)).data == 3.0
        assert f(mt.Value(2.0)).data == 6.0
    assert f.traces == 1


def test_reading_a_float_argument_keeps_its_number_and_checks_it() -> None:
    @mt.function
    def f(x: mt.Value, lr: float) -> mt.Value:
        step = float(lr)  # a float in the function as written: fine, but now a constant
        return x * step

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(mt.Value(2.0), 0.5).data == 1.0
        assert f(mt.Value(3.0), 0.5).data == 1.5
        assert f.traces == 1
        assert f(mt.Value(2.0), 0.25).data == 0.5  # another number: traced again
    assert f.traces == 2


def test_assigning_data_inside_the_function_is_refused() -> None:
    counter = mt.Value(0.0)

    @mt.function
    def f(x: mt.Value) -> mt.Value:
        counter.data = 1.0  # a change in place: the code could not repeat it
        return x * counter

    with pytest.warns(mt.TracingWarning, match=r"\.data was assigned"):
        assert f(mt.Value(2.0)).data == 2.0
    counter.data = 0.0
    assert f(mt.Value(3.0)).data == 3.0  # runs in Python: the assignment happens again
    assert counter.data == 1.0


def test_an_optimizer_step_inside_the_function_is_refused() -> None:
    w = mt.Value(1.0)
    optimizer = mt.optim.SGD(learning_rate=0.5)

    @mt.function
    def train_step(x: mt.Value) -> mt.Value:
        with mt.GradientTape() as tape:
            loss = (w * x - 1.0) * (w * x - 1.0)
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])  # reads and assigns
        return loss

    with pytest.warns(mt.TracingWarning, match="runs in Python"):
        train_step(mt.Value(2.0))
    assert w.data == -1.0
    train_step(mt.Value(2.0))  # runs in Python: the step happens at every call
    assert w.data == 5.0


def test_a_tape_kept_after_the_call_is_refused() -> None:
    kept: list[mt.GradientTape] = []

    @mt.function
    def f(x: mt.Value) -> mt.Value:
        tape = mt.GradientTape(persistent=True)
        with tape:
            y = x * x
        kept.append(tape)
        return y

    with pytest.warns(mt.TracingWarning, match="tape entered in the function still holds"):
        f(mt.Value(2.0))
    assert kept[0].gradient(kept[0].view().records[0].output, mt.Value(0.0)) is None


def test_a_persistent_tape_released_inside_is_fine() -> None:
    @mt.function
    def f(x: mt.Value) -> tuple[mt.Value | None, mt.Value | None]:
        with mt.GradientTape(persistent=True) as tape:
            y = x * x * x
            z = y * y
        first, second = tape.gradient(y, x), tape.gradient(z, x)
        tape.release()
        return first, second

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(mt.Value(1.0))
        first, second = f(mt.Value(2.0))
    assert (first.data, second.data) == (12.0, 192.0)  # type: ignore[union-attr]


def test_a_tape_with_records_from_before_the_call_is_refused() -> None:
    x = mt.Value(3.0)
    tape = mt.GradientTape(persistent=True)
    with tape:
        y = x * x

    @mt.function
    def f(v: mt.Value) -> mt.Value | None:
        with tape:
            z = y * v
        return tape.gradient(z, x)

    with pytest.warns(mt.TracingWarning, match="records made before the call"):
        assert f(mt.Value(2.0)).data == 12.0  # type: ignore[union-attr]
    tape.release()


def test_a_refused_trace_warns_once_per_reason() -> None:
    @mt.function
    def f(x: mt.Value) -> float:
        return (x * 2.0).data

    with pytest.warns(mt.TracingWarning):
        f(mt.Value(1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(mt.Value(4.0)) == 8.0


def test_a_value_from_before_the_call_with_a_live_copy_is_refused() -> None:
    w = mt.Value(1.0)
    with mt.GradientTape(persistent=True) as earlier:
        w * 2.0
    copies = earlier.watched()  # w as the tape read it: a second Value of w's node
    assert copies == [w] and copies[0] is not w

    @mt.function
    def f(x: mt.Value) -> mt.Value:
        return w * x

    with pytest.warns(mt.TracingWarning, match="held by several objects"):
        assert f(mt.Value(3.0)).data == 3.0
    w.data = 2.0
    assert f(mt.Value(3.0)).data == 6.0  # as written: never the copy's stale number
    earlier.release()
