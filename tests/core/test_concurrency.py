"""Threads and asyncio tasks training their own models at once: exactly the sequential results.

Each worker trains a small 2-4-1 tanh network with plain Values and manual SGD
(``p.data -= lr * g.data``), one fresh non-persistent tape per step. Run together, the
workers must produce bit-for-bit the numbers they produce one after another, and every
tape must hold exactly the records of its own worker's forward pass.
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

import microtape as mt
from microtape import GradientTape, Value

WORKERS = 8
STEPS = 50
LEARNING_RATE = 0.1
DATA = [((0.0, 0.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0)]


def records_on(tape: GradientTape) -> int:
    """The number of records a tape holds, as its repr reports it."""
    found = re.search(r"(\d+) records?\b", repr(tape))
    assert found is not None, repr(tape)
    return int(found.group(1))


@dataclass
class Run:
    """What one worker's training produced, compared exactly between schedules."""

    losses: list[float]
    params: list[float]
    records: list[int]


class Net:
    """A 2-4-1 network: tanh hidden layer, linear output; parameters seeded by ``seed``."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.w1 = [[Value(rng.uniform(-1, 1)) for _ in range(2)] for _ in range(4)]
        self.b1 = [Value(rng.uniform(-0.5, 0.5)) for _ in range(4)]
        self.w2 = [Value(rng.uniform(-1, 1)) for _ in range(4)]
        self.b2 = Value(0.0)

    def params(self) -> list[Value]:
        return [w for row in self.w1 for w in row] + self.b1 + self.w2 + [self.b2]

    def sample_loss(self, x: tuple[float, float], target: float) -> Value:
        hidden = [
            mt.tanh(row[0] * x[0] + row[1] * x[1] + b)
            for row, b in zip(self.w1, self.b1, strict=True)
        ]
        out = self.b2
        for w, h in zip(self.w2, hidden, strict=True):
            out = out + w * h
        err = out - target
        return err * err

    def step(self, tape: GradientTape, loss: Value, run: Run) -> None:
        run.records.append(records_on(tape))
        params = self.params()
        grads = tape.gradient(loss, params, unconnected_gradients="zero")
        for p, g in zip(params, grads, strict=True):
            p.data -= LEARNING_RATE * g.data
        run.losses.append(loss.data)


def train(seed: int) -> Run:
    net = Net(seed)
    run = Run([], [], [])
    for _ in range(STEPS):
        with GradientTape() as tape:
            loss: Value | float = 0.0
            for x, target in DATA:
                loss = loss + net.sample_loss(x, target)
        assert isinstance(loss, Value)
        net.step(tape, loss, run)
    run.params = [p.data for p in net.params()]
    return run


async def train_async(seed: int) -> Run:
    """``train``, with a yield to the event loop after every sample inside the tape block."""
    net = Net(seed)
    run = Run([], [], [])
    for _ in range(STEPS):
        with GradientTape() as tape:
            loss: Value | float = 0.0
            for x, target in DATA:
                await asyncio.sleep(0)
                loss = loss + net.sample_loss(x, target)
                await asyncio.sleep(0)
        assert isinstance(loss, Value)
        net.step(tape, loss, run)
    run.params = [p.data for p in net.params()]
    return run


@contextmanager
def frequent_thread_switches() -> Iterator[None]:
    """Make the interpreter switch threads as often as it can, to force interleaving."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.fixture(scope="module")
def sequential() -> list[Run]:
    return [train(seed) for seed in range(WORKERS)]


def test_the_sequential_runs_differ_from_each_other_and_learn(sequential: list[Run]) -> None:
    # guards the comparisons below: identical workers could not reveal a mix-up
    assert len({tuple(run.params) for run in sequential}) == WORKERS
    for run in sequential:
        assert run.losses[-1] < run.losses[0]


def run_threads() -> dict[int, Run]:
    results: dict[int, Run] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(WORKERS)

    def work(seed: int) -> None:
        try:
            barrier.wait()
            results[seed] = train(seed)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(WORKERS)]
    with frequent_thread_switches():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return results


@pytest.mark.threads
def test_eight_threads_training_at_once_match_the_sequential_runs_exactly(
    sequential: list[Run],
) -> None:
    results = run_threads()
    for seed in range(WORKERS):
        assert results[seed].params == sequential[seed].params
        assert results[seed].losses == sequential[seed].losses


@pytest.mark.threads
def test_each_threads_tapes_hold_exactly_its_own_records(sequential: list[Run]) -> None:
    results = run_threads()
    expected = sequential[0].records[0]
    assert expected > 0
    for seed in range(WORKERS):
        assert results[seed].records == [expected] * STEPS


@pytest.mark.threads
def test_a_tape_open_in_the_main_thread_records_none_of_the_workers_ops(
    sequential: list[Run],
) -> None:
    x = Value(2.0)
    with GradientTape() as main_tape:
        y = x * x
        run_threads()
        z = y * x
    assert records_on(main_tape) == 2
    g = main_tape.gradient(z, x)
    assert g is not None and g.data == 12.0


async def gather_training() -> list[Run]:
    return list(await asyncio.gather(*(train_async(seed) for seed in range(WORKERS))))


@pytest.mark.event_loop
def test_eight_asyncio_tasks_training_at_once_match_the_sequential_runs_exactly(
    sequential: list[Run],
) -> None:
    results = asyncio.run(gather_training())
    for seed in range(WORKERS):
        assert results[seed].params == sequential[seed].params
        assert results[seed].losses == sequential[seed].losses


@pytest.mark.event_loop
def test_each_tasks_tapes_hold_exactly_its_own_records(sequential: list[Run]) -> None:
    results = asyncio.run(gather_training())
    for seed in range(WORKERS):
        assert results[seed].records == sequential[seed].records


@pytest.mark.event_loop
def test_asyncio_tasks_really_interleave_inside_their_tape_blocks() -> None:
    # guards the task tests: without interleaving they would prove nothing
    order: list[int] = []

    async def task(i: int) -> None:
        x = Value(float(i))
        with GradientTape():
            for _ in range(3):
                order.append(i)
                x = x * 1.0
                await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(task(0), task(1))

    asyncio.run(main())
    assert order == [0, 1, 0, 1, 0, 1]


@pytest.mark.threads
def test_gradients_never_fail_while_other_threads_assign_data() -> None:
    # Optimizer steps in other threads (assigning .data of their own Values) must not
    # disturb this thread's gradients, however the threads interleave.
    stop = threading.Event()
    running = threading.Barrier(4)

    def optimizer_steps_elsewhere() -> None:
        params: list[Value] = []
        for _ in range(2000):
            params = [*params[-2000:], Value(0.0)]
            params[-1].data = 1.0
        running.wait()
        while not stop.is_set():
            params = [*params[-2000:], Value(0.0)]  # new parameters come, old ones go
            params[-1].data = 1.0

    others = [threading.Thread(target=optimizer_steps_elsewhere) for _ in range(3)]
    x = Value(3.0)
    failures: list[BaseException] = []
    with frequent_thread_switches():
        for t in others:
            t.start()
        try:
            running.wait()
            for _ in range(100):
                with GradientTape() as tape:
                    y = x * x
                    for _ in range(20):
                        y = y * 1.0
                    time.sleep(0)  # let the other threads step while this tape records
                try:
                    g = tape.gradient(y, x)
                except Exception as exc:  # collected, to report how often
                    failures.append(exc)
                else:
                    assert g is not None and g.data == 6.0
        finally:
            stop.set()
            for t in others:
                t.join()
    assert failures == []
