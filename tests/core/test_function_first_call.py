"""mt.function's first call and its fallbacks: one thread traces, and falling back runs
the function as written with nothing tried first."""

from __future__ import annotations

import threading
import warnings

import pytest

import microtape as mt


@pytest.mark.threads
def test_threads_making_the_first_call_at_once_trace_it_once() -> None:
    runs: list[int] = []
    w = mt.Value(2.0)

    @mt.function
    def f(x: mt.Value) -> mt.Value:
        runs.append(1)
        y = x
        for _ in range(200):
            y = y * w * 0.5 + 0.25
        return y

    barrier = threading.Barrier(4)
    results: list[float] = []

    def call(v: float) -> None:
        barrier.wait()
        results.append(f(mt.Value(v)).data)

    threads = [threading.Thread(target=call, args=(float(i),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert f.traces == 1 and len(runs) == 1  # one traced; the others ran its code
    expected = []
    for v in range(4):
        y = float(v)
        for _ in range(200):
            y = y * 2.0 * 0.5 + 0.25
        expected.append(y)
    assert sorted(results) == sorted(expected)


def test_a_structure_that_keeps_missing_its_paths_then_runs_as_written() -> None:
    runs: list[int] = []

    @mt.function(max_traces=2)
    def f(zs: list[mt.Value]) -> mt.Value:
        runs.append(1)
        total = mt.Value(0.0)
        for z in zs:
            total = total + (z if z > 0.0 else z * -0.5)
        return total

    signs = [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mt.TracingWarning)
        for a, b in signs * 3:  # two paths traced; the other patterns keep missing
            assert f([mt.Value(a), mt.Value(b)]).data == sum(
                v if v > 0 else v * -0.5 for v in (a, b)
            )
    assert f.traces == 2
    before = len(runs)
    f([mt.Value(1.0), mt.Value(1.0)])  # a traced path, but the structure runs as written
    assert len(runs) == before + 1
