"""mt.function is never silently wrong: every call returns what the function as written
returns, or runs it as written (with one TracingWarning).

One test per way ordinary code used to get a stale or wrong answer (results of other
shapes, arguments keyed by id(), errors caught inside, an argument that is also
captured, float arguments, a ForwardAccumulator inside, number reads through text,
captured state that changes). Each compares compiled calls with the function as
written, call by call, on new arguments.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from results import same

import microtape as mt
from microtape.tracing.function import Function


def _agree(fn: Callable[..., Any], calls: list[tuple[Any, ...]]) -> Function[..., Any]:
    """Call ``fn`` compiled and as written on each argument tuple (made fresh for each),
    and check that both give the same result or raise the same exception class."""
    compiled = mt.function(fn)
    for args in calls:
        try:
            expected: object = fn(*args)
            failure: type[BaseException] | None = None
        except Exception as error:
            failure = type(error)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mt.TracingWarning)
            warnings.simplefilter("ignore", mt.ValueAsNumberWarning)
            if failure is not None:
                with pytest.raises(failure):
                    compiled(*args)
                continue
            got = compiled(*args)
        assert same(got, expected), (args, got, expected)
    return compiled


V = mt.Value


# ---- a. results of other shapes -------------------------------------------------------------


@dataclasses.dataclass
class Step:
    loss: mt.Value
    grad: mt.Value | None


class Pair(NamedTuple):
    a: mt.Value
    b: float


def test_a_dataclass_result_is_made_anew_at_every_call() -> None:
    w = V(2.0)

    def step(x: mt.Value) -> Step:
        with mt.GradientTape() as tape:
            loss = w * x * x
        return Step(loss, tape.gradient(loss, x))

    compiled = _agree(step, [(V(1.0),), (V(3.0),), (V(-2.0),)])
    assert compiled.traces == 1  # handled, not refused


def test_a_frozen_dataclass_and_a_namedtuple_result() -> None:
    @dataclasses.dataclass(frozen=True)
    class Out:
        y: mt.Value
        tag: str

    _agree(lambda x, c: (Out(x * c, "y"), Pair(x + 1.0, c)), [(V(1.0), 2.0), (V(5.0), 0.5)])


def test_a_generator_or_set_result_runs_as_written() -> None:
    def gen(x: mt.Value) -> Iterator[mt.Value]:
        return (x * float(k) for k in range(2))

    compiled = mt.function(gen)
    with pytest.warns(mt.TracingWarning, match="returns a generator"):
        first = list(compiled(V(1.0)))
    assert [v.data for v in first] == [0.0, 1.0]
    assert [v.data for v in compiled(V(2.0))] == [0.0, 2.0]  # not used up
    with pytest.warns(mt.TracingWarning, match="returns a set"):
        assert mt.function(lambda x: ({1, 2}, x * 2.0))(V(1.0))[0] == {1, 2}


def test_a_plain_object_result_runs_as_written() -> None:
    class Box:
        def __init__(self, v: mt.Value) -> None:
            self.v = v

    compiled = mt.function(lambda x: Box(x * 2.0))
    with pytest.warns(mt.TracingWarning, match="returns a Box"):
        compiled(V(1.0))
    assert compiled(V(4.0)).v.data == 8.0


# ---- b. arguments that cannot be hashed ---------------------------------------------------


@dataclasses.dataclass
class Batch:
    x: mt.Value
    y: mt.Value


def test_b_a_fresh_dataclass_batch_per_call_is_a_nest_not_an_id() -> None:
    def loss(batch: Batch) -> mt.Value:
        return (batch.x - batch.y) * (batch.x - batch.y)

    calls = [(Batch(V(float(i)), V(0.5)),) for i in range(40)]
    compiled = _agree(loss, calls)
    assert compiled.traces == 1


def test_b_an_unhashable_argument_runs_as_written_never_keyed_by_id() -> None:
    class Config:  # __eq__ without __hash__: unhashable
        def __init__(self, scale: float) -> None:
            self.scale = scale

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Config) and other.scale == self.scale

    compiled = mt.function(lambda c, x: x * c.scale)
    with pytest.warns(mt.TracingWarning, match="cannot be hashed"):
        compiled(Config(1.0), V(2.0))
    results = []
    for i in range(39):  # new objects, whose ids Python reuses
        results.append(compiled(Config(float(i)), V(2.0)).data)
        gc.collect()
    assert results == [2.0 * i for i in range(39)]


# ---- c. errors caught inside ----------------------------------------------------------------


def test_c_a_caught_domain_error_is_a_branch_the_code_cannot_take() -> None:
    def safe_log(x: mt.Value) -> mt.Value:
        try:
            return mt.log(x)
        except mt.DomainError:
            return x * 0.0

    compiled = _agree(safe_log, [(V(-1.0),), (V(2.0),), (V(-3.0),), (V(0.5),)])
    assert compiled.traces == 0  # refused: runs as written


def test_c_traced_on_the_good_branch_the_failing_op_still_raises_as_written() -> None:
    def safe_log(x: mt.Value) -> mt.Value:
        try:
            return mt.log(x)
        except mt.DomainError:
            return x * 0.0

    _agree(safe_log, [(V(2.0),), (V(-1.0),), (V(3.0),)])


# ---- d. an argument that is also captured ---------------------------------------------------


def test_d_a_captured_value_passed_as_the_argument_then_another() -> None:
    w = V(2.0)
    _agree(lambda x: x * w, [(w,), (V(3.0),), (w,), (V(5.0),)])


def test_d_the_gradient_through_an_argument_that_is_the_captured_value() -> None:
    w = V(2.0)

    def grad(x: mt.Value) -> mt.Value | None:
        with mt.GradientTape() as tape:
            y = x * w
        return tape.gradient(y, x)

    _agree(grad, [(V(3.0),), (w,), (V(4.0),), (w,)])


# ---- e. float arguments keep float semantics -------------------------------------------------


def test_e_float_equality_takes_the_branch_python_takes() -> None:
    def f(c: float, w: mt.Value) -> mt.Value:
        if c == 0.0:
            return w * 2.0
        return w * c

    _agree(f, [(0.0, V(3.0)), (2.0, V(3.0)), (0.0, V(3.0)), (-0.0, V(1.0))])


def test_e_nan_check_hash_lookup_and_isinstance_of_a_float_argument() -> None:
    table = {1.0: "one", 2.0: "two"}

    def f(c: float, w: mt.Value) -> tuple[mt.Value, bool, str | None, bool]:
        return w * 1.0, c != c, table.get(c), isinstance(c, float)

    _agree(f, [(1.0, V(1.0)), (2.0, V(1.0)), (math.nan, V(1.0)), (3.0, V(1.0))])


def test_e_float_power_raises_overflow_error_as_python_does() -> None:
    _agree(lambda c, w: w * c**2, [(2.0, V(1.0)), (1e200, V(1.0)), (3.0, V(1.0)), (-8.0, V(1.0))])
    _agree(lambda c, w: w * c**0.5, [(4.0, V(1.0)), (-8.0, V(1.0))])  # complex as written


def test_e_a_float_argument_is_refused_as_a_gradient_source_or_target() -> None:
    def source(c: float, w: mt.Value) -> mt.Value | None:
        with mt.GradientTape() as tape:
            y = w * c
        found: Any = tape.gradient(y, c)
        return found  # type: ignore[no-any-return]

    def target(c: float, w: mt.Value) -> mt.Value | None:
        with mt.GradientTape() as tape:
            tape.watch(w)
        found: Any = tape.gradient(c, w)  # type: ignore[call-overload]
        return found  # type: ignore[no-any-return]

    def watched(c: float) -> None:
        with mt.GradientTape() as tape:
            tape.watch(c)  # type: ignore[arg-type]

    _agree(source, [(2.0, V(1.0)), (3.0, V(1.0))])
    _agree(target, [(2.0, V(1.0)), (3.0, V(1.0))])
    _agree(watched, [(2.0,), (3.0,)])


# ---- f. a ForwardAccumulator inside ----------------------------------------------------------


def test_f_an_accumulator_inside_runs_as_written() -> None:
    def jvp(x: mt.Value, a: mt.Value, b: mt.Value) -> mt.Value | None:
        with mt.ForwardAccumulator(x, 1.0) as acc:
            y = mt.tanh(x * a + b)
        return acc.jvp(y)

    nan = math.nan
    calls = [(V(1.0), V(0.0), V(nan)), (V(1.0), V(0.0), V(nan)), (V(2.0), V(1.0), V(0.5))]
    compiled = _agree(jvp, calls)
    assert compiled.traces == 0


def test_f_the_jvp_of_float_arguments_alone_is_a_float_as_written() -> None:
    def jvp(c: float, x: mt.Value) -> object:
        with mt.ForwardAccumulator(x, 1.0) as acc:
            y = mt.exp(c)
        return acc.jvp(y), y

    _agree(jvp, [(1.0, V(2.0)), (2.0, V(2.0))])


# ---- g. number reads the tracer did not see ---------------------------------------------------


def test_g_formatting_a_value_is_a_number_read() -> None:
    def f(w: mt.Value) -> tuple[str, str, str, str]:
        y = w * 2.0
        return f"{y:.1f}", format(y, "g"), repr(y), str(y)

    _agree(f, [(V(1.0),), (V(2.0),), (V(3.5),)])


def test_g_formatting_a_float_argument_is_formatting_the_float() -> None:
    _agree(lambda c, w: (f"{c:.2f}", repr(c), w * c), [(1.5, V(1.0)), (2.25, V(1.0))])


# ---- h. captured state that changes -----------------------------------------------------------

state: dict[str, Any] = {}
lr = 0.5
w_global = V(1.0)


def _scaled(x: mt.Value) -> mt.Value:
    return x * w_global * lr


def test_h_a_global_value_rebound_is_read_in_its_place() -> None:
    global w_global
    compiled = mt.function(_scaled)
    assert compiled(V(2.0)).data == 1.0
    w_global = w_global - 0.5 * V(4.0)  # an optimizer step that rebinds
    try:
        assert compiled(V(2.0)).data == _scaled(V(2.0)).data == -1.0
        assert compiled.traces == 1  # handled exactly: no new trace
    finally:
        w_global = V(1.0)


def test_h_a_module_level_float_changed_traces_again() -> None:
    global lr
    compiled = mt.function(_scaled)
    assert compiled(V(2.0)).data == 1.0
    lr = 0.25
    try:
        assert compiled(V(2.0)).data == 0.5
    finally:
        lr = 0.5


def test_h_a_list_entry_and_an_attribute_rebound() -> None:
    params = [V(1.0), V(2.0)]

    class Model:
        def __init__(self) -> None:
            self.w = V(3.0)

    model = Model()

    def f(x: mt.Value) -> mt.Value:
        return x * params[0] + params[1] * model.w

    compiled = mt.function(f)
    for step in range(4):
        assert same(compiled(V(1.5)), f(V(1.5)))
        params[0] = V(7.0 + step)
        model.w = model.w * 0.5
    assert compiled.traces == 1


def test_h_a_closure_variable_rebound() -> None:
    w = V(1.0)

    def f(x: mt.Value) -> mt.Value:
        return x * w

    compiled = mt.function(f)
    for _ in range(3):
        assert same(compiled(V(2.0)), f(V(2.0)))
        w = w - 0.1


def test_h_two_instances_equal_by_name_do_not_share_weights() -> None:
    class Named:
        def __init__(self, name: str, v: float) -> None:
            self.name = name
            self.w = V(v)

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Named) and other.name == self.name

        def __hash__(self) -> int:
            return hash(self.name)

    _agree(lambda m, x: m.w * x, [(Named("a", 1.0), V(2.0)), (Named("a", 5.0), V(2.0))])


def test_h_a_list_the_function_appends_to_is_a_side_effect_not_a_guard() -> None:
    log: list[int] = []

    def f(x: mt.Value) -> mt.Value:
        log.append(1)
        return x * 2.0

    compiled = mt.function(f)
    for v in (1.0, 2.0, 3.0):
        assert compiled(V(v)).data == 2.0 * v
    assert compiled.traces == 1 and log == [1]  # traced once; the code does not append


def test_h_a_list_of_data_that_grows_traces_again() -> None:
    xs = [1.0, 2.0]

    def total(w: mt.Value) -> mt.Value:
        out = w * 0.0
        for x in xs:
            out = out + w * x
        return out

    compiled = mt.function(total)
    assert compiled(V(1.0)).data == 3.0
    xs.append(4.0)
    assert compiled(V(1.0)).data == 7.0
    xs[0] = 10.0
    assert compiled(V(1.0)).data == 16.0


def test_h_a_long_list_of_data_changed_in_place_traces_again_once() -> None:
    xs = [float(i) for i in range(20)]  # checked in one comparison of bits

    def total(w: mt.Value) -> mt.Value:
        out = w * 0.0
        for x in xs:
            out = out + w * x
        return out

    compiled = mt.function(total)
    assert compiled(V(1.0)).data == 190.0
    xs[3] = 100.0
    for _ in range(3):
        assert same(compiled(V(1.0)), total(V(1.0)))
    assert compiled.traces == 2  # the new path is kept, not traced at every call
    xs[0] = -0.0  # another float to the bit: 0.0 * w and -0.0 * w differ in sign
    assert same(compiled(V(-1.0)), total(V(-1.0)))
    assert compiled.traces == 3
