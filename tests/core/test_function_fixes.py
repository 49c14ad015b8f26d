"""mt.function is never silently wrong: fixes for what it got wrong at the edges.

The garbage collector after traces in several threads at once; pickling and copying a
compiled function; ops whose names are names of the generated code; what the warning
says when ``max_traces`` is used up; and the strong zero, the same in every sweep.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator

import pytest

import microtape as mt

# ---- the garbage collector, with traces in several threads at once ----------------------------


@pytest.fixture
def collector_left_on() -> Iterator[None]:
    """Whatever a test does to the garbage collector, it is on again afterwards."""
    assert gc.isenabled()
    try:
        yield
    finally:
        gc.enable()


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
