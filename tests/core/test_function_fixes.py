"""mt.function is never silently wrong: fixes for what it got wrong at the edges.

The garbage collector after traces in several threads at once; pickling and copying a
compiled function; ops whose names are names of the generated code; what the warning
says when ``max_traces`` is used up; and the strong zero, the same in every sweep.
"""

from __future__ import annotations

import copy
import gc
import math
import pickle
import struct
import sys
import threading
import warnings
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from messages import flat

import microtape as mt
from microtape.tracing import codegen

# ---- the garbage collector, with traces in several threads at once ----------------------------


@pytest.fixture
def collector_left_on() -> Iterator[None]:
    """Whatever a test does to the garbage collector, it is on again afterwards."""
    assert gc.isenabled()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.threads
def test_traces_in_many_threads_at_once_leave_the_garbage_collector_on(
    collector_left_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A trace turns the collector off while it writes code, and on again if it was on. The
    # race: a trace that finds it off (another trace is writing) must not leave it off. To
    # make the race certain rather than rare, a check that finds the collector off waits
    # until every other thread is done before its caller acts on the answer; and the
    # interpreter switches threads as often as it can.
    workers = 8
    really_enabled = gc.isenabled
    settled = threading.Condition()
    done: set[int] = set()  # threads that finished their call, or wait in the check

    def slow_isenabled() -> bool:
        on = really_enabled()
        if not on:
            with settled:
                done.add(threading.get_ident())
                settled.notify_all()
                settled.wait_for(lambda: len(done) >= workers, timeout=1.0)
        return on

    def polynomial(x: mt.Value) -> mt.Value:
        y = x
        for _ in range(20):
            y = y * x + 1.0
        return y

    def first_call(f: Callable[[mt.Value], mt.Value], barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            assert f(mt.Value(0.5)).data > 0.0
        finally:
            with settled:
                done.add(threading.get_ident())
                settled.notify_all()

    monkeypatch.setattr(gc, "isenabled", slow_isenabled)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(20):  # a round shows the race if two traces overlap: most do
            done.clear()
            barrier = threading.Barrier(workers)
            threads = [
                threading.Thread(target=first_call, args=(mt.function(polynomial), barrier))
                for _ in range(workers)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert really_enabled(), "the traces left the garbage collector off"
    finally:
        sys.setswitchinterval(previous)


# ---- pickling and copying a compiled function ----------------------------------------------------

scale = mt.Value(3.0)


@mt.function
def scaled_square(x: mt.Value) -> mt.Value:
    return scale * x * x


class Affine:
    """A callable object holding its own parameters: a copy of it has other ones."""

    def __init__(self, w: float) -> None:
        self.w = mt.Value(w)

    def __call__(self, x: mt.Value) -> mt.Value:
        return self.w * x + 1.0


@pytest.mark.parametrize("traced_first", [False, True])
def test_a_compiled_function_at_module_level_pickles_as_a_reference_to_itself(
    traced_first: bool,
) -> None:
    if traced_first:
        assert scaled_square(mt.Value(2.0)).data == 12.0
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(scaled_square, protocol))
        assert restored is scaled_square  # as a plain function: by its qualified name
        assert restored(mt.Value(5.0)).data == 75.0


def test_copying_a_compiled_function_at_module_level_gives_the_function_itself() -> None:
    assert scaled_square(mt.Value(2.0)).data == 12.0
    assert copy.copy(scaled_square) is scaled_square  # as copy does with a plain function
    assert copy.deepcopy(scaled_square) is scaled_square
    held = copy.deepcopy({"step": scaled_square, "numbers": [1.0]})
    assert held["step"] is scaled_square
    assert held["step"](mt.Value(-1.0)).data == 3.0


def test_a_deep_copy_of_a_compiled_callable_object_computes_with_the_copy_s_parameters() -> None:
    model = Affine(2.0)
    compiled = mt.function(model)
    assert compiled(mt.Value(1.0)).data == 3.0  # traced: reads model.w
    twin = copy.deepcopy(compiled)
    assert twin is not compiled and twin.traces == 0  # nothing traced: a fresh cache
    model.w.data = 10.0  # the original's parameter, not the copy's
    assert twin(mt.Value(1.0)).data == 3.0
    assert compiled(mt.Value(1.0)).data == 11.0
    restored = pickle.loads(pickle.dumps(compiled))  # an object pickles by value
    assert restored.traces == 0
    assert restored(mt.Value(1.0)).data == 11.0


def test_a_copy_of_a_compiled_function_made_in_a_function_works() -> None:
    def cube(x: mt.Value) -> mt.Value:
        return x * x * x

    compiled = mt.function(cube, max_traces=3)
    assert compiled(mt.Value(2.0)).data == 8.0
    for twin in (copy.copy(compiled), copy.deepcopy(compiled)):
        assert twin(mt.Value(3.0)).data == 27.0
        assert twin.max_traces == 3 and twin.python_function is cube


# ---- ops whose names are names of the generated code ---------------------------------------------

# Names the generated code gives its parameters, locals, helpers and functions, as op names:
# the code reaches an op through globals named after it, which must never be one of these.
INTERNAL_NAMES = [
    "x", "k", "s", "b", "t", "run", "forward0", "forward1", "back0", "bforward2",
    "tback0", "v0", "g0", "d0", "d0_0", "c0", "s0", "math", "inf", "nan", "type",
    "float", "miss", "same", "result", "partial", "refuse",
]  # fmt: skip


def _bits(x: object) -> object:
    """A result with every float as its bits, so that == compares to the last bit."""
    if isinstance(x, mt.Value):
        return ("Value", struct.pack("<d", mt.number(x)))
    if isinstance(x, float):
        return ("float", struct.pack("<d", x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_bits(e) for e in x])
    return x


def _scaled_square(name: str, scale: float) -> mt.Op:
    """An op named ``name``, ``scale * x * x`` for ``x > -100``: each its own scale, so
    that code calling one op's forward or rule for another's gives other numbers."""
    return mt.Op(
        name,
        lambda x: scale * x * x,
        [lambda x: 2.0 * scale * x],
        domain=[mt.Interval(-100.0)],
    )


def _compiled(ops: list[mt.Op]) -> Callable[[list[float]], object]:
    params = [mt.Value(0.1 * i) for i in range(8)]

    def loss(xs: list[float]) -> tuple[mt.Value, list[mt.Value | None]]:
        with mt.GradientTape() as tape:
            total = mt.Value(0.0)
            for x in xs:
                for op in ops:
                    h = [op(p * x) for p in params]
                    total = total + sum(h[1:], h[0]) * 0.5
        return total, tape.gradient(total, params)

    return loss


@pytest.mark.parametrize("long", [False, True], ids=["one function", "cut into functions"])
@pytest.mark.parametrize("name", INTERNAL_NAMES)
def test_an_op_named_as_the_generated_code_names_things_runs_as_code(
    name: str, long: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if long:  # a few ops a function: shared functions, bundled arguments, constants
        monkeypatch.setattr(codegen, "CHUNK", 30)
    loss = _compiled([_scaled_square(name, 1.0)])
    compiled = mt.function(loss)
    xs = [0.01 * i for i in range(12 if long else 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fall back to Python, no warning
        compiled(xs)
        others = [0.5 + 0.02 * i for i in range(len(xs))]
        assert _bits(compiled(others)) == _bits(loss(others))
        assert ("def _forward" in compiled.code(others)) == long  # runs as code
    assert compiled.traces == 1


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("sq", "rule0_sq"),
        ("sq", "outside0_sq"),
        ("sq", "op_sq"),
        ("sq", "f_sq"),
        ("sq", "sq2"),
        ("x", "\uff58"),  # a fullwidth x: Python reads it as x
        ("fix", "\ufb01x"),  # a ligature fi
    ],
)
def test_ops_whose_names_meet_in_the_generated_code_each_call_their_own(
    name: str, other: str
) -> None:
    # The code reached an op "sq" as _sq, its rule as _rule0_sq: an op named "rule0_sq"
    # had its forward written as _rule0_sq too, and one of the two took the other's place.
    ops = [_scaled_square(name, 1.0), _scaled_square(other, 100.0)]
    ops.append(_scaled_square(name, 10_000.0))  # another op of the same name
    loss = _compiled(ops)
    compiled = mt.function(loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled([0.25])
        assert _bits(compiled([0.75])) == _bits(loss([0.75]))
        compiled.code([0.75])


# ---- what the warning says when max_traces is used up --------------------------------------------


def test_traces_used_up_by_sets_of_keyword_arguments_are_said_to_be() -> None:
    def weighted(x: mt.Value, **weights: float) -> mt.Value:
        return x * sum(weights.values(), 0.0)

    compiled = mt.function(weighted, max_traces=3)
    for name in ("a", "b", "c"):
        assert compiled(mt.Value(2.0), **{name: 0.5}).data == 1.0
    with pytest.warns(mt.TracingWarning) as caught:
        assert compiled(mt.Value(2.0), d=0.5).data == 1.0  # a fourth set: Python
    (message,) = [flat(w.message) for w in caught]
    assert "max_traces=3 is used up" in message
    assert "3 traces were made for 3 different sets of keyword arguments" in message
    assert "This call's arguments have a structure not traced yet" in message
    assert "comparison" not in message  # no guard flipped: none is blamed


def test_traces_used_up_by_other_ints_are_said_to_be_for_structures_of_arguments() -> None:
    def power(x: mt.Value, n: int) -> mt.Value:
        y = x
        for _ in range(n - 1):
            y = y * x
        return y

    compiled = mt.function(power, max_traces=2)
    assert compiled(mt.Value(2.0), 2).data == 4.0
    assert compiled(mt.Value(2.0), 3).data == 8.0
    with pytest.warns(mt.TracingWarning) as caught:
        assert compiled(mt.Value(2.0), 4).data == 16.0
    (message,) = [flat(w.message) for w in caught]
    assert "2 traces were made for 2 different structures of arguments" in message
    assert "each int, str or other object" in message
    assert "comparison" not in message


def test_traces_used_up_by_a_guard_that_flips_name_its_line() -> None:
    def bucket(x: mt.Value) -> mt.Value:
        if x < 1.0:
            return x
        if x < 2.0:
            return x * 2.0
        return x * 3.0

    first = bucket.__code__.co_firstlineno + 1  # the line of each comparison
    second = first + 2
    compiled = mt.function(bucket, max_traces=2)
    assert compiled(mt.Value(0.5)).data == 0.5
    assert compiled(mt.Value(1.5)).data == 3.0  # the first guard flipped: a second path
    with pytest.warns(mt.TracingWarning) as caught:
        assert compiled(mt.Value(2.5)).data == 7.5  # the second one flips: Python
    (message,) = [flat(w.message) for w in caught]
    file = "test_function_fixes.py"
    assert (
        "2 traces were made for one structure of arguments: the first path, and 1 more where "
        f"a comparison of Values came out the other way (at {file}:{first})"
    ) in message
    assert (
        "This call takes another path: a comparison of Values came out the other way "
        f"(at {file}:{second})"
    ) in message
    assert "keyword" not in message  # one structure of arguments: none is blamed


def test_traces_used_up_by_both_say_how_many_of_each() -> None:
    def step(x: mt.Value, lr: float, **options: float) -> mt.Value:
        if x > 0.0:
            return x * float(lr)
        return -x

    compiled = mt.function(step, max_traces=4)
    compiled(mt.Value(1.0), 0.5, a=1.0)
    compiled(mt.Value(1.0), 0.5, b=1.0)
    compiled(mt.Value(-1.0), 0.5, b=1.0)  # the comparison flips
    compiled(mt.Value(1.0), 0.25, b=1.0)  # float(lr) reads another number
    with pytest.warns(mt.TracingWarning) as caught:
        assert compiled(mt.Value(1.0), 0.125, b=1.0).data == 0.125
    (message,) = [flat(w.message) for w in caught]
    line = step.__code__.co_firstlineno
    assert (
        "4 traces were made: the first paths of 2 different sets of keyword arguments, and 2 "
        "more where a comparison of Values came out the other way "
        f"(at test_function_fixes.py:{line + 1}) or where a number read by float() changed "
        f"(at test_function_fixes.py:{line + 2})"
    ) in message


# ---- the strong zero, the same in every sweep ----------------------------------------------------

INF = math.inf


def exp_of_product(x: mt.Value, y: mt.Value) -> mt.Value:
    return mt.exp(x * y)  # at x = -0.5, y = inf: exp(-inf) = 0, with slope 0, times y = inf


def _first_order(f: Callable[..., mt.Value], point: list[float]) -> list[float]:
    """The gradient of ``f`` at ``point`` on the float sweep (no other tape records)."""
    xs = [mt.Value(p) for p in point]
    with mt.GradientTape() as tape:
        y = f(*xs)
    return [mt.number(g) for g in tape.gradient(y, xs, unconnected_gradients="zero")]


def _recorded(f: Callable[..., mt.Value], point: list[float]) -> list[float]:
    """The same gradient on the Value sweep: taken while an outer tape records."""
    xs = [mt.Value(p) for p in point]
    with mt.GradientTape(persistent=True) as outer:
        with mt.GradientTape() as tape:
            y = f(*xs)
        grads = tape.gradient(y, xs, unconnected_gradients="zero")
    outer.release()
    return [mt.number(g) for g in grads]


def _number(x: mt.Value | float | None) -> float:
    assert x is not None
    return mt.number(x)


def test_a_zero_slope_stops_an_infinite_factor_alone_under_a_tape_and_compiled() -> None:
    point = [-0.5, INF]
    assert _first_order(exp_of_product, point)[0] == 0.0
    assert _recorded(exp_of_product, point)[0] == 0.0  # was NaN: 0 * inf on Values

    x, y = mt.Value(-0.5), mt.Value(INF)
    with mt.GradientTape() as outer:  # the second derivative still works through it
        with mt.GradientTape() as inner:
            z = exp_of_product(x, y)
        dx = inner.gradient(z, x)
        assert dx is not None and dx.data == 0.0
    second = outer.gradient(dx, x)
    assert second is not None and second.data == 0.0

    @mt.function
    def gradient(x: mt.Value, y: mt.Value) -> mt.Value | None:
        with mt.GradientTape() as tape:
            tape.watch(x)
            z = exp_of_product(x, y)
        return tape.gradient(z, x)

    for _ in range(2):  # traced, then as code
        dx = gradient(mt.Value(-0.5), mt.Value(INF))
        assert dx is not None and dx.data == 0.0
    with mt.GradientTape() as outer:  # under a tape it runs as written: the Value sweep
        dx = gradient(x, y)
    assert dx is not None and dx.data == 0.0


def test_a_tape_holding_a_strong_zero_records_it_and_copies() -> None:
    x, y = mt.Value(-0.5), mt.Value(INF)
    with mt.GradientTape(persistent=True) as kept:
        with mt.GradientTape() as inner:
            z = exp_of_product(x, y)
        dx = inner.gradient(z, x)
    ops = [record.op.name for record in kept.view().records]
    assert ops.count("strong_mul") == 1  # the one product where 0 met inf, and no NaN
    assert all(
        mt.number(record.output) == mt.number(record.output) for record in kept.view().records
    )
    twin = copy.deepcopy(kept)  # an op pickles by name: this one is not registered
    assert [record.op.name for record in twin.view().records] == ops
    assert _number(kept.gradient(dx, x)) == 0.0
    kept.release()


def test_forward_mode_on_values_stops_an_infinite_tangent_with_a_zero_slope() -> None:
    x, y = mt.Value(-0.5), mt.Value(INF)
    with mt.ForwardAccumulator(x, 1.0) as alone:
        z = exp_of_product(x, y)
    assert _number(alone.jvp(z)) == 0.0
    with mt.GradientTape() as tape:  # a tape outside: the tangents are Values
        tape.watch(x)
        with mt.ForwardAccumulator(x, 1.0) as recorded:
            z = exp_of_product(x, y)
        tangent = recorded.jvp(z)
    assert _number(tangent) == 0.0
    with mt.ForwardAccumulator(x, 1.0) as accumulator:  # forward over reverse
        with mt.GradientTape() as tape:
            tape.watch(x)
            z = exp_of_product(x, y)
        dx = tape.gradient(z, x)
    assert _number(dx) == 0.0 and _number(accumulator.jvp(dx)) == 0.0


@pytest.mark.parametrize("first", [[0.5, 2.0], [-0.5, INF]], ids=["traced at 2", "traced at inf"])
@pytest.mark.parametrize("second_order", [False, True], ids=["first", "and second"])
def test_compiled_recorded_gradients_apply_the_strong_zero_at_every_call(
    first: list[float], second_order: bool
) -> None:
    # A gradient taken inside the function while another tape records is a recorded
    # sweep, in the code too: each of its products must give the strong zero at any call,
    # not only where the function was traced (nor give 0 where it was, at every call).
    def gradients(x: mt.Value, y: mt.Value) -> list[mt.Value | None]:
        with mt.GradientTape() as outer:
            outer.watch(x)
            with mt.GradientTape() as inner:
                inner.watch(x)
                z = exp_of_product(x, y)
            dx = inner.gradient(z, x)
        return [dx, outer.gradient(dx, x)] if second_order else [dx]

    compiled = mt.function(gradients)
    for point in (first, [0.5, 2.0], [-0.5, INF], [-0.25, 3.0], [0.0, INF], [-1.0, INF]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = compiled(mt.Value(point[0]), mt.Value(point[1]))
        assert _bits(got) == _bits(gradients(mt.Value(point[0]), mt.Value(point[1]))), point
    assert compiled.traces == 1


def test_compiled_forward_mode_applies_the_strong_zero_at_every_call() -> None:
    # An accumulator entered in a traced function refuses the trace (forward mode is not
    # written as code); every call, the first included, gives what the function as written
    # gives: 0.0 at (-0.5, inf), where a traced accumulator once gave NaN.
    def jvp(x: mt.Value, y: mt.Value) -> tuple[mt.Value, mt.Value | float | None]:
        with mt.ForwardAccumulator(x, 1.0) as accumulator:
            z = exp_of_product(x, y)
        return z, accumulator.jvp(z)

    compiled = mt.function(jvp)
    for point in ([0.5, 2.0], [-0.5, INF], [-0.25, 3.0], [0.0, INF]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mt.TracingWarning)
            got = compiled(mt.Value(point[0]), mt.Value(point[1]))
        assert _bits(got) == _bits(jvp(mt.Value(point[0]), mt.Value(point[1]))), point
    assert compiled.traces == 0
    assert _number(compiled(mt.Value(-0.5), mt.Value(INF))[1]) == 0.0


def _product(x: mt.Value, y: mt.Value) -> mt.Value:
    return x * y


def _relu_times(x: mt.Value, y: mt.Value) -> mt.Value:
    return mt.relu(x) * y


def _saturated(x: mt.Value, y: mt.Value) -> mt.Value:
    return mt.tanh(x * y) + mt.sigmoid(y - x) * x


def _exp_sum(x: mt.Value, y: mt.Value) -> mt.Value:
    return mt.exp(x * y) * (x + y) + mt.exp(-x) * y


SWEPT = [exp_of_product, _product, _relu_times, _saturated, _exp_sum]
POINTS = st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, INF, -INF, 1.0, -0.5, 1e308])


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("f", SWEPT, ids=lambda f: f.__name__.strip("_"))
@given(x=POINTS, y=POINTS)
def test_the_float_and_value_sweeps_give_the_same_first_order_gradients(
    f: Callable[[mt.Value, mt.Value], mt.Value], x: float, y: float
) -> None:
    try:
        on_floats = _first_order(f, [x, y])
    except mt.DomainError:  # no gradient there (an op refuses the point)
        return
    on_values = _recorded(f, [x, y])
    assert all(_same(a, b) for a, b in zip(on_floats, on_values, strict=True)), (
        on_floats,
        on_values,
    )
