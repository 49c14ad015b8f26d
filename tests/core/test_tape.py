"""GradientTape semantics, one behaviour per test, as the core issue specifies them."""

from __future__ import annotations

import asyncio
import math
import threading
from collections import OrderedDict, namedtuple
from typing import assert_type

import pytest
from messages import loose
from workload import length

import microtape as mt
from microtape import GradientTape, Value

# ---- the basic contract ----------------------------------------------------------------------


def test_gradient_of_the_quickstart_example() -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        y = x * x + mt.sin(x)
    dy = tape.gradient(y, x)
    assert isinstance(dy, Value)
    assert dy.data == pytest.approx(6 + math.cos(3.0), rel=1e-15)


def test_only_ops_inside_the_block_are_recorded() -> None:
    x = Value(2.0)
    y = x * x  # before the tape: a constant to it
    with GradientTape() as tape:
        z = y * x
    g = tape.gradient(z, x)
    assert g is not None and g.data == 4.0  # d(y*x)/dx with y constant is y, not 3x^2


def test_nothing_is_recorded_outside_any_tape() -> None:
    x = Value(2.0)
    loss = x * x
    with GradientTape() as tape:
        pass
    assert tape.gradient(loss, x) is None


def test_gradient_of_a_value_with_respect_to_itself_is_one() -> None:
    x = Value(5.0)
    with GradientTape() as tape:
        pass
    g = tape.gradient(x, x)
    assert g is not None and g.data == 1.0


def test_unconnected_source_gives_none_by_default_and_zero_on_request() -> None:
    x, z = Value(1.0), Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = x * 3
    assert tape.gradient(y, z) is None
    zero = tape.gradient(y, z, unconnected_gradients="zero")
    assert isinstance(zero, Value) and zero.data == 0.0


def test_a_connected_source_with_zero_gradient_gets_zero_not_none() -> None:
    x = Value(-1.0)
    with GradientTape() as tape:
        y = mt.relu(x)
    g = tape.gradient(y, x)
    assert g is not None and g.data == 0.0


def test_unknown_unconnected_mode_raises_value_error_and_tape_still_works() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        y = x * x
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, x, unconnected_gradients="nan")  # type: ignore[call-overload]
    g = tape.gradient(y, x)
    assert g is not None and g.data == 2.0


def test_gradients_do_not_accumulate_between_calls() -> None:
    x = Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = x * x * x
    first = tape.gradient(y, x)
    second = tape.gradient(y, x)
    assert first is not None and second is not None
    assert first.data == second.data == 27.0


def test_a_value_used_many_times_sums_its_gradients() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x + x * 3 + x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 2 * 2 + 3 + 1


# ---- sources and targets as structures ---------------------------------------------------------


def test_sources_structure_is_mirrored_in_the_result() -> None:
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    with GradientTape() as tape:
        y = a * b * c
    result = tape.gradient(y, {"w": [a, (b,)], "c": c})
    assert isinstance(result, dict)
    assert list(result) == ["w", "c"]
    w = result["w"]
    assert isinstance(w, list) and isinstance(w[1], tuple)
    assert [float(w[0]), float(w[1][0]), float(result["c"])] == [6.0, 3.0, 2.0]


def test_namedtuple_and_ordered_dict_sources_keep_their_types() -> None:
    Pair = namedtuple("Pair", "left right")
    a, b = Value(1.0), Value(2.0)
    with GradientTape() as tape:
        y = a * b
    result = tape.gradient(y, [Pair(a, b), OrderedDict(x=a)])
    assert isinstance(result, list)
    assert isinstance(result[0], Pair) and isinstance(result[1], OrderedDict)


def test_list_and_tuple_sources_return_list_and_tuple() -> None:
    a, b = Value(1.0), Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = a + b
    assert isinstance(tape.gradient(y, [a, b]), list)
    assert isinstance(tape.gradient(y, (a, b)), tuple)


def test_a_source_that_is_not_a_value_raises_naming_its_path() -> None:
    a = Value(1.0)
    with GradientTape() as tape:
        y = a * a
    with pytest.raises(TypeError, match=r"sources\['w'\]\[1\]"):
        tape.gradient(y, {"w": [a, 3.0]})
    g = tape.gradient(y, a)  # the tape was not consumed by the bad call
    assert g is not None and g.data == 2.0


def test_a_target_that_is_not_a_value_raises_type_error() -> None:
    a = Value(1.0)
    with GradientTape() as tape:
        a * a
    with pytest.raises(TypeError, match="target"):
        tape.gradient(1.0, a)  # type: ignore[call-overload]


def test_target_structure_differentiates_the_sum() -> None:
    a = Value(2.0)
    with GradientTape() as tape:
        y1 = a * a
        y2 = a * 3
    g = tape.gradient([y1, y2], a)
    assert g is not None and g.data == 4 + 3


def test_output_gradients_scale_the_target() -> None:
    a = Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = a * a
    g = tape.gradient(y, a, output_gradients=0.5)
    assert g is not None and g.data == 2.0
    g2 = tape.gradient([y, y], a, output_gradients=[1.0, 2.0])
    assert g2 is not None and g2.data == 12.0


def test_output_gradients_that_do_not_match_the_target_raise() -> None:
    a = Value(2.0)
    with GradientTape() as tape:
        y = a * a
    with pytest.raises(ValueError, match="output_gradients"):
        tape.gradient(y, a, output_gradients=[1.0, 2.0])
    with pytest.raises(TypeError, match="output_gradients"):
        tape.gradient(y, a, output_gradients="one")
    g = tape.gradient(y, a)
    assert g is not None and g.data == 4.0


def test_jacobian_gives_one_gradient_structure_per_target() -> None:
    a, b = Value(2.0), Value(3.0)
    with GradientTape() as tape:
        ys = [a * b, a + b, a * a]
    rows = tape.jacobian(ys, [a, b])
    numbers = [[None if g is None else float(g) for g in row] for row in rows]
    assert numbers == [[3.0, 2.0], [1.0, 1.0], [4.0, None]]
    with pytest.raises(mt.TapeError):
        tape.jacobian(ys, [a, b])  # non-persistent: its one call is spent


def test_jacobian_rows_are_typed_as_gradient_types_its_result() -> None:
    """mypy (run by test_tooling) checks the assert_type lines; at run time they pass through."""
    a, b = Value(2.0), Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = a * b
    by_value = tape.jacobian([y, y], a)
    assert_type(by_value, list[Value | None])
    assert_type(tape.jacobian([y], a, "zero"), list[Value])
    assert_type(tape.jacobian([y], a, unconnected_gradients="zero"), list[Value])
    assert_type(tape.jacobian([y], [a, b]), list[list[Value | None]])
    assert_type(tape.jacobian([y], [a, b], unconnected_gradients="zero"), list[list[Value]])
    assert_type(tape.jacobian([y], (a, b)), list[tuple[Value | None, ...]])
    assert_type(tape.jacobian([y], {"a": a}), list[dict[str, Value | None]])
    assert_type(tape.jacobian([y], {"a": a}, "zero"), list[dict[str, Value]])
    assert [float(g) for g in by_value if g is not None] == [3.0, 3.0]
    unrelated = Value(1.0)
    zeros = tape.jacobian([y], [a, unrelated], "zero")[0]
    assert [g.data for g in zeros] == [3.0, 0.0]


def test_jacobian_of_a_single_value_is_its_gradient() -> None:
    a = Value(2.0)
    with GradientTape() as tape:
        y = a * a
    assert repr(tape.jacobian(y, [a])) == "[Value(4.0)]"  # TensorFlow's shape: the source's


# ---- non-persistent and persistent tapes ---------------------------------------------------


def test_non_persistent_tape_second_gradient_raises_tape_error_with_a_fix() -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(mt.TapeError, match=loose(r"non-persistent.*persistent=True")):
        tape.gradient(y, x)
    assert issubclass(mt.TapeError, RuntimeError)


def test_non_persistent_gradient_inside_its_block_raises_and_says_to_dedent() -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        y = x * x
        with pytest.raises(mt.TapeError, match="after the block"):
            tape.gradient(y, x)
    g = tape.gradient(y, x)  # still usable after the block
    assert g is not None and g.data == 6.0


def test_persistent_tape_allows_many_gradients_until_release() -> None:
    x = Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = x * x
        z = y * x
    assert float(tape.gradient(y, x)) == 6.0  # type: ignore[arg-type]
    assert float(tape.gradient(z, x)) == 27.0  # type: ignore[arg-type]
    tape.release()
    with pytest.raises(mt.TapeError, match="released"):
        tape.gradient(y, x)
    with pytest.raises(mt.TapeError, match="released"):
        tape.jacobian([y], x)


def test_persistent_gradient_inside_its_own_block_is_recorded_on_it() -> None:
    x = Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = x * x * x
        dy = tape.gradient(y, x)  # 3x^2, recorded on this very tape
    assert dy is not None and dy.data == 27.0
    d2y = tape.gradient(dy, x)
    assert d2y is not None and d2y.data == 18.0


def test_release_inside_the_block_raises() -> None:
    with GradientTape(persistent=True) as tape:
        with pytest.raises(mt.TapeError, match="still recording"):
            tape.release()


def test_release_frees_the_records() -> None:
    x = Value(1.0)
    with GradientTape(persistent=True) as tape:
        for _ in range(10):
            x = x * 2
    assert "10 records" in repr(tape)
    tape.release()
    assert "0 records" in repr(tape)


# ---- higher order ---------------------------------------------------------------------------


def test_second_derivative_through_nested_tapes() -> None:
    x = Value(2.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert dy is not None and d2y is not None
    assert (dy.data, d2y.data) == (12.0, 12.0)  # 3x^2 and 6x at x = 2


def test_third_derivative_through_three_tapes() -> None:
    x = Value(2.0)
    with GradientTape() as t3:
        with GradientTape() as t2:
            with GradientTape() as t1:
                y = x**4
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert [float(d) for d in (d1, d2, d3)] == [32.0, 48.0, 48.0]  # type: ignore[arg-type]


def test_third_derivative_of_sin_through_three_tapes() -> None:
    x = Value(0.7)
    with GradientTape() as t3:
        with GradientTape() as t2:
            with GradientTape() as t1:
                y = mt.sin(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert d3 is not None and d3.data == pytest.approx(-math.cos(0.7), rel=1e-15)


def test_first_order_gradient_with_no_outer_tape_is_a_fresh_leaf() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
    dy = tape.gradient(y, x)
    with GradientTape() as other:
        pass
    assert other.gradient(dy, x) is None


def test_stop_recording_on_the_outer_tape_makes_the_inner_gradient_first_order() -> None:
    x = Value(2.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x * x * x
        with outer.stop_recording():
            dy = inner.gradient(y, x)
    assert dy is not None and dy.data == 12.0
    assert outer.gradient(dy, x) is None


def test_hessian_of_two_variables_through_nested_tapes() -> None:
    a, b = Value(1.5), Value(-0.5)
    with GradientTape(persistent=True) as outer:
        with GradientTape() as inner:
            f = a * a * b + mt.exp(a * b)
        ga, gb = inner.gradient(f, [a, b])
    e = math.exp(1.5 * -0.5)
    h_aa = outer.gradient(ga, a)
    h_ab = outer.gradient(ga, b)
    h_bb = outer.gradient(gb, b)
    assert float(h_aa) == pytest.approx(2 * -0.5 + 0.25 * e)  # type: ignore[arg-type]
    assert float(h_ab) == pytest.approx(2 * 1.5 + e + 1.5 * -0.5 * e)  # type: ignore[arg-type]
    assert float(h_bb) == pytest.approx(1.5**2 * e)  # type: ignore[arg-type]


# ---- watching -----------------------------------------------------------------------------


def test_watched_lists_leaves_in_first_use_order() -> None:
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    with GradientTape() as tape:
        tape.watch(c)
        y = b * a
        z = y * a + c
    assert tape.watched() == [c, b, a]
    assert z not in tape.watched() and y not in tape.watched()


def test_watch_rejects_non_values() -> None:
    with GradientTape() as tape:
        with pytest.raises(TypeError, match="argument 0"):
            tape.watch(1.0)  # type: ignore[arg-type]


def test_without_accessed_watching_only_watched_values_are_connected() -> None:
    x, z = Value(2.0), Value(5.0)
    with GradientTape(watch_accessed_variables=False, persistent=True) as tape:
        tape.watch(x)
        y = x * z
    assert float(tape.gradient(y, x)) == 5.0  # type: ignore[arg-type]
    # z fed a recorded op but was never watched: TensorFlow gives None, so do we
    assert tape.gradient(y, z) is None
    assert tape.watched() == [x]


def test_without_accessed_watching_unwatched_ops_are_not_recorded() -> None:
    x, z = Value(2.0), Value(5.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        w = z * z  # nothing watched yet: not recorded
        tape.watch(x)
        y = x * w
    assert "1 record>" in repr(tape)
    gx, gz = tape.gradient(y, [x, z])
    assert gx is not None and gx.data == 25.0
    assert gz is None


def test_without_accessed_watching_connection_survives_reentry() -> None:
    x = Value(2.0)
    tape = GradientTape(watch_accessed_variables=False, persistent=True)
    with tape:
        tape.watch(x)
        y = x * x
    with tape:
        z = y * 3
    g = tape.gradient(z, x)
    assert g is not None and g.data == 12.0


# ---- stop_recording and reset -------------------------------------------------------------------


def test_stop_recording_excludes_ops_from_this_tape_only() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as outer:
        with GradientTape(persistent=True) as inner:
            with inner.stop_recording():
                y = x * x
            z = y * x
    assert float(inner.gradient(z, x)) == 4.0  # type: ignore[arg-type]
    assert float(outer.gradient(z, x)) == 12.0  # type: ignore[arg-type]


def test_stop_recording_outside_the_block_raises() -> None:
    tape = GradientTape()
    with pytest.raises(mt.TapeError, match="not recording"):
        with tape.stop_recording():
            pass


def test_reset_forgets_earlier_records_and_keeps_recording() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
        tape.reset()
        z = x * 3
    result = tape.gradient([y, z], x)
    assert result is not None and result.data == 3.0  # y's record is gone: only z counts


def test_reset_revives_a_used_non_persistent_tape() -> None:
    x = Value(2.0)
    tape = GradientTape()
    with tape:
        y = x * x
    tape.gradient(y, x)
    tape.reset()
    with tape:
        z = x * 5
    g = tape.gradient(z, x)
    assert g is not None and g.data == 5.0


# ---- entering and leaving -------------------------------------------------------------------


def test_entering_a_recording_tape_again_raises() -> None:
    tape = GradientTape()
    with tape:
        with pytest.raises(mt.TapeError, match="already recording"):
            tape.__enter__()


@pytest.mark.parametrize("persistent", [True, False], ids=["persistent", "non-persistent"])
def test_reentering_an_exited_tape_before_its_gradient_resumes_recording(
    persistent: bool,
) -> None:
    x = Value(2.0)
    tape = GradientTape(persistent=persistent)
    with tape:
        y = x * x
    with tape:
        z = y * x
    g = tape.gradient(z, x)
    assert g is not None and g.data == 12.0


def test_an_exception_inside_the_block_leaves_no_tape_recording() -> None:
    x = Value(2.0)
    tape = GradientTape()
    with pytest.raises(ZeroDivisionError):
        with tape:
            y = x * x
            1 / 0  # noqa: B018
    with GradientTape() as later:
        pass
    w = x * x  # recorded nowhere
    assert later.gradient(w, x) is None
    g = tape.gradient(y, x)  # what was recorded before the error is usable
    assert g is not None and g.data == 4.0


# ---- scale, threads and tasks ----------------------------------------------------------------


def test_a_million_deep_chain_records_and_sweeps_without_recursion() -> None:
    n = length(1_000_000)  # a million as written; never under 100,000 (tests/workload.py)
    x = Value(1.0)
    y = x
    with GradientTape() as tape:
        for _ in range(n):
            y = y * 1.000001
    g = tape.gradient(y, x)
    assert g is not None
    assert g.data == pytest.approx(1.000001**n, rel=1e-9)


def test_a_deep_chain_has_a_second_derivative() -> None:
    n = length(200_000)
    x = Value(0.5)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x
            for _ in range(n):
                y = y * x * 2.0  # y = 2^n x^(n+1), which stays 0.5 at x = 0.5
        dy = inner.gradient(y, x)
    d2 = outer.gradient(dy, x)
    # dy = (n+1) 2^n x^n = n+1 and d2 = (n+1) n 2^n x^(n-1) = 2n(n+1) at x = 0.5
    assert dy is not None and d2 is not None
    assert dy.data == pytest.approx(n + 1, rel=1e-9)
    assert d2.data == pytest.approx(2 * n * (n + 1), rel=1e-9)


@pytest.mark.threads
def test_threads_never_record_on_each_others_tapes() -> None:
    barrier = threading.Barrier(8)
    results: dict[int, tuple[float, int]] = {}
    mine = Value(1.0)

    def work(i: int) -> None:
        x = Value(float(i))
        with GradientTape() as tape:
            barrier.wait()
            y = x
            for _ in range(2000):
                y = y * 1.0001 + 0.0
        records = int(repr(tape).split(", ")[2].split()[0])
        g = tape.gradient(y, x)
        assert g is not None
        results[i] = (g.data, records)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    with GradientTape() as main_tape:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        mine * 2.0
    assert len(results) == 8
    for g, records in results.values():
        assert g == pytest.approx(1.0001**2000)
        assert records == 4000  # its own 2000 mul + 2000 add, nobody else's
    assert "1 record>" in repr(main_tape)


@pytest.mark.threads
def test_an_op_in_another_thread_is_not_recorded_on_this_threads_tape() -> None:
    x = Value(2.0)
    out: list[Value] = []
    with GradientTape() as tape:
        t = threading.Thread(target=lambda: out.append(x * x))
        t.start()
        t.join()
    assert "0 records" in repr(tape)
    assert tape.gradient(out[0], x) is None


@pytest.mark.event_loop
def test_asyncio_tasks_record_on_their_own_tapes_only() -> None:
    async def task(x: Value, started: asyncio.Event, other: asyncio.Event) -> float:
        with GradientTape() as tape:
            started.set()
            y = x * x
            await other.wait()  # the other task records while this tape is open
            y = y * x
        g = tape.gradient(y, x)
        assert g is not None
        return g.data

    async def main() -> list[float]:
        e1, e2 = asyncio.Event(), asyncio.Event()
        return list(await asyncio.gather(task(Value(2.0), e1, e2), task(Value(3.0), e2, e1)))

    assert asyncio.run(main()) == [12.0, 27.0]


@pytest.mark.event_loop
def test_a_task_started_inside_the_block_records_on_the_tape() -> None:
    async def main() -> float:
        x = Value(3.0)
        with GradientTape() as tape:
            y = await asyncio.create_task(_square(x))
        g = tape.gradient(y, x)
        assert g is not None
        return g.data

    assert asyncio.run(main()) == 6.0


async def _square(x: Value) -> Value:
    return x * x


@pytest.mark.event_loop
def test_a_task_outliving_the_block_does_not_add_records() -> None:
    async def main() -> str:
        x = Value(3.0)
        go = asyncio.Event()

        async def late() -> Value:
            await go.wait()
            return x * x

        with GradientTape(persistent=True) as tape:
            pending = asyncio.create_task(late())
        go.set()
        await pending
        return repr(tape)

    assert "0 records" in asyncio.run(main())


# ---- changes in place ---------------------------------------------------------------------


def test_gradient_after_an_in_place_change_of_a_recorded_value_raises() -> None:
    w, x = Value(2.0), Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = w * x
    first = tape.gradient(y, w)
    assert first is not None and first.data == 3.0
    w.data = 2.5  # an optimizer step
    with pytest.raises(
        mt.TapeError, match=loose(r"Value\(2\.5\) was changed in place.*argument a of mul")
    ):
        tape.gradient(y, x)


def test_in_place_change_is_refused_in_the_higher_order_sweep_too() -> None:
    x = Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = x * x
    x.data = 1.0
    with GradientTape() as outer:
        with pytest.raises(mt.TapeError, match="changed in place"):
            tape.gradient(y, x)
    assert "0 records" in repr(outer)  # refused before the sweep recorded anything


def test_a_change_before_recording_is_fine() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        x.data = 4.0
        y = x * x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 8.0


def test_a_change_that_the_target_does_not_depend_on_is_fine() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        x * 2  # recorded before the change, but not on the way to y
        x.data = 4.0
        y = x * 3
    g = tape.gradient(y, x)
    assert g is not None and g.data == 3.0


def test_a_training_loop_with_one_tape_per_step_never_trips_the_check() -> None:
    w = Value(0.0)
    for _ in range(20):
        with GradientTape() as tape:
            loss = (w * 2.0 - 4.0) ** 2
        g = tape.gradient(loss, w)
        assert g is not None
        w.data -= 0.05 * g.data
    assert w.data == pytest.approx(2.0, abs=1e-3)


def test_a_changed_value_recorded_again_after_reset_is_fine() -> None:
    x = Value(1.0)
    with GradientTape(persistent=True) as tape:
        x * x
        x.data = 2.0
        tape.reset()
        y = x * x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 4.0
