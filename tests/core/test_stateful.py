"""Tapes fuzzed as a state machine, against a small reference model of the tape contract.

Hypothesis opens, nests, exits, pauses, resets and releases tapes (persistent or not,
watching accessed Values or not), watches Values, and applies built-in ops to a small pool
of Values in random order; it asks for gradients and Jacobians at random moments. A plain
Python model predicts, independently of the engine:

- which tapes record each op (the recording stack, pauses, watch filters, resets);
- every gradient, by forward-mode evaluation of the recorded ops with hand-written
  partials (and which sources are unconnected);
- exactly when a call must raise: TapeError for a tape in the wrong state, DomainError
  outside an op's domain, UnconnectedGradientError when asked for.

Ops are applied only where values and partials stay moderate (or where the model expects
a DomainError), so that expected and actual gradients agree to a tight tolerance.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Union

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from workload import examples

import microtape as mt
from microtape import GradientTape, Value
from microtape.core.recording.context import RECORDING
from microtape.core.tapes.arguments import Unconnected

# ---- the reference model of each op ---------------------------------------------------------


class ModelDomainError(Exception):
    """The model's prediction that the engine raises DomainError."""


Partials = tuple[Union[float, None], ...]


def _sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


UNARY: dict[str, Callable[[float], tuple[float, float]]] = {
    "neg": lambda x: (-x, -1.0),
    "abs": lambda x: (abs(x), _sign(x)),
    "exp": lambda x: (math.exp(x), math.exp(x)),
    "sin": lambda x: (math.sin(x), math.cos(x)),
    "cos": lambda x: (math.cos(x), -math.sin(x)),
    "tanh": lambda x: (math.tanh(x), 1.0 / math.cosh(x) ** 2),
    "sigmoid": lambda x: (_sigmoid(x), _sigmoid(x) * _sigmoid(-x)),
    "relu": lambda x: (max(x, 0.0), 1.0 if x > 0 else 0.0),
    "log": lambda x: (math.log(x), 1.0 / x),
    "sqrt": lambda x: (math.sqrt(x), 0.5 / math.sqrt(x) if x > 0 else math.inf),
}


def unary_model(name: str, x: float, recording: bool) -> tuple[float, float]:
    if name == "log" and x <= 0:
        raise ModelDomainError
    if name == "sqrt" and (x < 0 or (x == 0 and recording)):
        raise ModelDomainError  # sqrt at 0 is refused where a tape records: infinite slope
    return UNARY[name](x)


def binary_model(name: str, a: float, b: float) -> tuple[float, float, float]:
    if name == "add":
        return a + b, 1.0, 1.0
    if name == "sub":
        return a - b, 1.0, -1.0
    if name == "mul":
        return a * b, b, a
    if name == "div":
        if b == 0:
            raise ModelDomainError
        return a / b, 1.0 / b, -a / (b * b)
    assert name == "pow"  # only where the model's domain is simple (see apply_binary)
    if a == 0 and b < 0:
        raise ModelDomainError
    value = math.pow(a, b)
    da = 0.0 if (a == 0 and b == 0) else b * math.pow(a, b - 1)
    db = value * math.log(a) if a > 0 else 0.0
    return value, da, db


MODES: list[Unconnected] = ["none", "zero", "raise"]
CONSTANTS = [2.0, -1.5, 0.5, 3]  # 3 is an int: constants need not be floats
LEAVES = st.sampled_from([-2.0, -0.5, 0.0, 0.75, 1.5, 2.5])
MAX_NODES = 60
BINARY = ["add", "sub", "mul", "div", "pow"]
OP_SPEC = st.tuples(
    st.sampled_from(sorted(UNARY) + BINARY * 2),  # name
    st.integers(0, 100),  # the first argument, counted from the newest node
    st.integers(0, 100),  # the second argument, counted from the leaves
    st.sampled_from(["value-value", "value-constant", "constant-value"]),
    st.sampled_from(CONSTANTS),  # the constant, where the shape has one
    st.booleans(),  # through the arithmetic dunder rather than the table op
)
MAX_TAPES = 5


# ---- the model's state ------------------------------------------------------------------------

Arg = Union[int, float]  # a node index, or a constant (a float or an int constant)


@dataclass
class Node:
    value: Value
    args: tuple[Arg, ...] = ()  # empty for a leaf
    partials: tuple[float | None, ...] = ()  # None where the argument is a constant
    changed_at: int = 0  # the number of the last in-place change of its .data (0: none)


@dataclass(eq=False)
class TapeModel:
    tape: GradientTape
    persistent: bool
    watch_accessed: bool
    state: str = "fresh"
    recorded: list[int] = field(default_factory=list)  # node indices, in order
    explicit: list[int] = field(default_factory=list)  # watched node indices
    extra: int = 0  # records a higher-order sweep added (not modelled op by op)
    made_at: dict[int, int] = field(default_factory=dict)  # node -> changes made before it

    def count(self) -> int:
        return 0 if self.state in ("used", "released") else len(self.recorded) + self.extra

    def connected(self) -> set[int]:
        return set(self.explicit) | set(self.recorded)

    def forget(self) -> None:
        self.recorded, self.explicit, self.extra, self.made_at = [], [], 0, {}


@dataclass
class Frame:
    """One entry of the context stack: a tape's block, or a tape's stop_recording block."""

    kind: str  # "tape" or "pause"
    model: TapeModel
    manager: AbstractContextManager[object]
    active_before: list[TapeModel]


def records_on(tape: GradientTape) -> int:
    found = re.search(r"(\d+) records?\b", repr(tape))
    assert found is not None, repr(tape)
    return int(found.group(1))


def state_of(tape: GradientTape) -> str:
    found = re.search(r"(fresh|recording|exited|used|released)", repr(tape))
    assert found is not None, repr(tape)
    return found.group(1)


class TapeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.context_before = RECORDING.get()
        self.nodes: list[Node] = []
        self.tapes: list[TapeModel] = []
        self.stack: list[Frame] = []
        self.active: list[TapeModel] = []  # the recording tapes right now, outermost first
        self.changes = 0  # in-place changes so far

    # -- setup --------------------------------------------------------------------------------

    @initialize(
        values=st.lists(LEAVES, min_size=2, max_size=4),
        flags=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=3),
    )
    def start(self, values: list[float], flags: list[tuple[bool, bool]]) -> None:
        self.nodes = [Node(Value(v)) for v in values]
        for persistent, watch in flags:
            self.new_tape(persistent, watch)
        self.enter(0)  # start recording: most of the interest is in what gets recorded

    # -- helpers ------------------------------------------------------------------------------

    def node(self, i: int) -> int:
        """A node by position, leaves first."""
        return i % len(self.nodes)

    def ancestors(self, targets: list[int]) -> list[int]:
        """Every node the targets were computed from (on any tape or none), oldest first."""
        seen: set[int] = set()
        todo = list(targets)
        while todo:
            k = todo.pop()
            for arg, p in zip(self.nodes[k].args, self.nodes[k].partials, strict=True):
                if p is not None and int(arg) not in seen:
                    seen.add(int(arg))
                    todo.append(int(arg))
        return sorted(seen)

    def source(self, i: int, targets: list[int]) -> int:
        """Mostly a node the targets depend on; every third draw any node at all."""
        candidates = self.ancestors(targets)
        if i % 3 == 0 or not candidates:
            return self.node(i // 3)
        return candidates[i % len(candidates)]

    def tape_with_records(self, i: int) -> TapeModel:
        """Mostly a tape that holds records; every fourth draw any tape (to test refusals)."""
        holding = [m for m in self.tapes if m.recorded]
        if i % 4 == 0 or not holding:
            return self.tape_at(i // 4)
        return holding[i % len(holding)]

    def targets(self, model: TapeModel, picks: list[int]) -> list[int]:
        """Mostly outputs the tape recorded (newest first); otherwise recent nodes."""
        if not model.recorded:
            return [self.recent(t) for t in picks]
        newest = model.recorded[-6:]
        return [newest[t % len(newest)] if t % 5 else self.recent(t) for t in picks]

    def recent(self, i: int) -> int:
        """A node counted from the newest, so that graphs grow deep."""
        return len(self.nodes) - 1 - i % min(len(self.nodes), 6)

    def tape_at(self, i: int) -> TapeModel:
        return self.tapes[i % len(self.tapes)]

    def record(self, index: int) -> None:
        """Which tapes record the op that produced node ``index``: the model's prediction."""
        node = self.nodes[index]
        inputs = {int(a) for a, p in zip(node.args, node.partials, strict=True) if p is not None}
        for model in self.active:
            if model.watch_accessed or inputs & model.connected():
                model.recorded.append(index)
                model.made_at[index] = self.changes

    def expect_tape_error(self, call: Callable[[], object], pattern: str) -> None:
        with pytest.raises(mt.TapeError, match=pattern):
            call()

    # -- tapes --------------------------------------------------------------------------------

    @precondition(lambda self: len(self.tapes) < MAX_TAPES)
    @rule(persistent=st.booleans(), watch=st.booleans())
    def new_tape(self, persistent: bool, watch: bool) -> None:
        tape = GradientTape(persistent=persistent, watch_accessed_variables=watch)
        self.tapes.append(TapeModel(tape, persistent, watch))

    @precondition(lambda self: self.tapes and len(self.stack) < 8)
    @rule(i=st.integers(0, 100))
    def enter(self, i: int) -> None:
        model = self.tape_at(i)
        if model.state == "recording":
            self.expect_tape_error(model.tape.__enter__, "already recording")
        elif model.state in ("used", "released"):
            pattern = "released" if model.state == "released" else "used up"
            self.expect_tape_error(model.tape.__enter__, pattern)
        else:
            assert model.tape.__enter__() is model.tape
            self.stack.append(Frame("tape", model, model.tape, list(self.active)))
            self.active = [*self.active, model]
            model.state = "recording"

    @precondition(lambda self: self.stack)
    @rule(with_exception=st.booleans())
    def exit_innermost(self, with_exception: bool) -> None:
        frame = self.stack.pop()
        if with_exception:  # as when the block raises: the manager must not swallow it
            error = KeyError("raised in the block")
            assert not frame.manager.__exit__(KeyError, error, None)
        else:
            frame.manager.__exit__(None, None, None)
        self.active = frame.active_before
        if frame.kind == "tape":
            frame.model.state = "exited"

    @precondition(lambda self: self.tapes and len(self.stack) < 8)
    @rule(i=st.integers(0, 100))
    def stop_recording(self, i: int) -> None:
        model = self.tape_at(i)
        manager = model.tape.stop_recording()
        if model.state != "recording":
            self.expect_tape_error(manager.__enter__, "not recording")
            return
        manager.__enter__()
        self.stack.append(Frame("pause", model, manager, list(self.active)))
        self.active = [m for m in self.active if m is not model]

    @precondition(lambda self: self.tapes)
    @rule(i=st.integers(0, 100))
    def reset(self, i: int) -> None:
        model = self.tape_at(i)
        if model.state == "released":
            self.expect_tape_error(model.tape.reset, "released")
            return
        model.tape.reset()
        model.forget()
        if model.state == "used":
            model.state = "exited"

    @precondition(lambda self: self.tapes)
    @rule(i=st.integers(0, 100))
    def release(self, i: int) -> None:
        model = self.tape_at(i)
        if model.state == "recording":
            self.expect_tape_error(model.tape.release, "still recording")
            return
        model.tape.release()
        model.forget()
        model.state = "released"

    @precondition(lambda self: self.tapes)
    @rule(i=st.integers(0, 100), n=st.integers(0, 100))
    def watch(self, i: int, n: int) -> None:
        model, index = self.tape_at(i), self.node(n)
        if model.state in ("used", "released"):
            pattern = "released" if model.state == "released" else "used up"
            self.expect_tape_error(lambda: model.tape.watch(self.nodes[index].value), pattern)
            return
        model.tape.watch(self.nodes[index].value)
        if index not in model.explicit:
            model.explicit.append(index)

    @rule(n=st.integers(0, 100), new=LEAVES)
    def assign_data(self, n: int, new: float) -> None:
        """An optimizer step: a Value's number changed in place, recorded or not."""
        index = self.node(n)
        self.nodes[index].value.data = new
        self.changes += 1
        self.nodes[index].changed_at = self.changes

    # -- ops ----------------------------------------------------------------------------------

    def tame(self, value: float, partials: Partials) -> bool:
        numbers = [value] + ([p for p in partials if p is not None] if self.active else [])
        return all(math.isfinite(x) and abs(x) <= 1e4 for x in numbers) and all(
            p is None or p == 0 or abs(p) >= 1e-4 for p in partials
        )

    def finish(self, out: object, args: tuple[Arg, ...], partials: Partials) -> None:
        assert isinstance(out, Value)
        self.nodes.append(Node(out, args, partials))
        self.record(len(self.nodes) - 1)

    @precondition(lambda self: len(self.nodes) < MAX_NODES)
    @rule(ops=st.lists(OP_SPEC, min_size=1, max_size=8))
    def compute(self, ops: list[tuple[str, int, int, str, float, bool]]) -> None:
        for name, n, m, shape, c, dunder in ops:
            if len(self.nodes) >= MAX_NODES:
                return
            if name in UNARY:
                self.apply_unary(name, n, dunder)
            else:
                self.apply_binary(name, n, m, shape, c, dunder)

    def apply_unary(self, name: str, n: int, dunder: bool) -> None:
        index = self.recent(n)
        x = self.nodes[index].value
        call: Callable[[], object] = lambda: mt.op(name)(x)  # noqa: E731
        if dunder and name in ("neg", "abs"):
            call = (lambda: -x) if name == "neg" else (lambda: abs(x))
        try:
            value, partial = unary_model(name, x.data, bool(self.active))
        except ModelDomainError:
            with pytest.raises(mt.DomainError, match=rf"^{name}:"):
                call()
            return
        except ArithmeticError:  # the model's own floats overflow: far from tame
            return
        if not self.tame(value, (partial,)):
            return
        out = call()
        assert isinstance(out, Value) and out.data == pytest.approx(value, rel=1e-12, abs=1e-300)
        self.finish(out, (index,), (partial,))

    def apply_binary(self, name: str, n: int, m: int, shape: str, c: float, dunder: bool) -> None:
        i, j = self.recent(n), self.node(m)
        a_const, b_const = shape == "constant-value", shape == "value-constant"
        if name == "pow":  # keep pow where its domain is simple
            if shape == "value-constant":
                c = {2.0: 2.0, -1.5: -1.0, 0.5: 3.0, 3: 3}[c]  # integer exponents
            elif shape == "constant-value":
                c = 2.0  # a positive base
            elif self.nodes[i].value.data <= 0:
                return  # a Value base must be positive when the exponent is a Value
        a: Value | float = c if a_const else self.nodes[i].value
        b: Value | float = c if b_const else self.nodes[j].value
        args: tuple[Arg, ...] = (c if a_const else i, c if b_const else j)
        symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}[name]
        dunders: dict[str, Callable[[], object]] = {
            "+": lambda: a + b,
            "-": lambda: a - b,
            "*": lambda: a * b,
            "/": lambda: a / b,
            "**": lambda: a**b,
        }
        call = dunders[symbol] if dunder else (lambda: mt.op(name)(a, b))
        try:
            value, da, db = binary_model(name, mt.number(a), mt.number(b))
        except ModelDomainError:
            with pytest.raises(mt.DomainError, match=rf"^{name}:"):
                call()
            return
        except ArithmeticError:
            return
        partials: Partials = (None if a_const else da, None if b_const else db)
        if not self.tame(value, partials):
            return
        out = call()
        assert isinstance(out, Value) and out.data == pytest.approx(value, rel=1e-12, abs=1e-300)
        self.finish(out, args, partials)

    # -- gradients ----------------------------------------------------------------------------

    def expected(
        self, model: TapeModel, targets: list[int], weights: list[float], source: int
    ) -> tuple[bool, float, float]:
        """(connected, gradient, scale) by forward mode over the records on ``model``."""
        if not model.watch_accessed and source not in model.connected():
            # An unwatched source has no gradient, unless it is a target itself (then 1,
            # times its upstream weight, as in TensorFlow).
            mine = [w for t, w in zip(targets, weights, strict=True) if t == source]
            return bool(mine), sum(mine), sum(abs(w) for w in mine)
        produced = set(model.recorded)
        d = [0.0] * len(self.nodes)
        scale = [0.0] * len(self.nodes)
        reached = [False] * len(self.nodes)
        for k, node in enumerate(self.nodes):
            if k == source:
                d[k], scale[k], reached[k] = 1.0, 1.0, True
            elif k in produced:
                for arg, p in zip(node.args, node.partials, strict=True):
                    if p is None:
                        continue
                    a = int(arg)
                    d[k] += p * d[a]
                    scale[k] += abs(p) * scale[a]
                    reached[k] = reached[k] or reached[a]
        hit = any(reached[t] for t in targets)
        total = sum(w * d[t] for t, w in zip(targets, weights, strict=True))
        size = sum(abs(w) * scale[t] for t, w in zip(targets, weights, strict=True))
        return hit, total, size

    def check(
        self,
        model: TapeModel,
        targets: list[int],
        weights: list[float],
        sources: list[int],
        mode: str,
        grads: list[Value | None],
    ) -> None:
        assert len(grads) == len(sources)
        for s, g in zip(sources, grads, strict=True):
            hit, want, size = self.expected(model, targets, weights, s)
            if not hit:
                if mode == "zero":
                    assert g is not None and g.data == 0.0
                else:
                    assert g is None, f"source {s} should be unconnected, got {g!r}"
                continue
            assert g is not None, f"source {s} should have a gradient"
            assert abs(g.data - want) <= 1e-9 * size + 1e-12, (g.data, want)

    def can_differentiate(self, model: TapeModel, call: Callable[[], object]) -> bool:
        if model.state == "fresh":
            self.expect_tape_error(call, "never entered")
            return False
        if model.state in ("used", "released"):
            self.expect_tape_error(call, "used up" if model.state == "used" else "released")
            return False
        if model.state == "recording" and not model.persistent:
            self.expect_tape_error(call, "after the block")
            return False
        return True

    def stale(self, model: TapeModel, targets: list[int]) -> bool:
        """Whether a record on the way to the targets read a Value changed after it was made."""
        reached = set(targets)
        for k in reversed(model.recorded):
            if k not in reached:
                continue
            node = self.nodes[k]
            for arg, p in zip(node.args, node.partials, strict=True):
                if p is None:
                    continue
                reached.add(int(arg))
                if self.nodes[int(arg)].changed_at > model.made_at[k]:
                    return True
        return False

    def unconnected_somewhere(
        self, model: TapeModel, targets: list[int], sources: list[int]
    ) -> bool:
        return any(not self.expected(model, targets, [1.0] * len(targets), s)[0] for s in sources)

    def after_differentiating(self, model: TapeModel, before: list[int], used: bool) -> None:
        """Account for what the call did: a higher-order sweep records on the active tapes."""
        if used and not model.persistent:
            model.state = "used"
            model.forget()
        for other, count in zip(self.tapes, before, strict=True):
            if other is model and model.state == "used":
                continue
            delta = records_on(other.tape) - count
            if other in self.active and other.state == "recording":
                assert delta >= 0
                other.extra += delta
            else:
                assert delta == 0, "a tape that was not recording received records"

    @precondition(lambda self: self.tapes)
    @rule(
        i=st.integers(0, 100),
        ys=st.lists(st.integers(0, 100), min_size=1, max_size=2),
        xs=st.lists(st.integers(0, 100), min_size=1, max_size=3),
        mode=st.sampled_from(MODES),
        weight=st.sampled_from([None, 2.0, -0.5]),
    )
    def gradient(
        self, i: int, ys: list[int], xs: list[int], mode: Unconnected, weight: float | None
    ) -> None:
        model = self.tape_with_records(i)
        ts = self.targets(model, ys)
        ss = [self.source(s, ts) for s in xs]
        target: Value | list[Value] = (
            self.nodes[ts[0]].value if len(ts) == 1 else [self.nodes[t].value for t in ts]
        )
        upstream = None if weight is None else ([weight] * len(ts) if len(ts) > 1 else weight)
        weights = [1.0 if weight is None else weight] * len(ts)

        def call() -> object:
            return model.tape.gradient(
                target,
                [self.nodes[s].value for s in ss],
                output_gradients=upstream,
                unconnected_gradients=mode,
            )

        if not self.can_differentiate(model, call):
            return
        snapshot = _copy(model)  # a non-persistent tape forgets its records in the call
        before = [records_on(m.tape) for m in self.tapes]
        if self.stale(model, ts):
            self.expect_tape_error(call, "changed in place")
            self.after_differentiating(model, before, used=False)
            return
        if mode == "raise" and self.unconnected_somewhere(model, ts, ss):
            with pytest.raises(mt.UnconnectedGradientError):
                call()
            self.after_differentiating(model, before, used=False)
            return
        grads = call()
        assert isinstance(grads, list)
        self.after_differentiating(model, before, used=True)
        self.check(snapshot, ts, weights, ss, mode, grads)

    @precondition(lambda self: self.tapes)
    @rule(
        i=st.integers(0, 100),
        ys=st.lists(st.integers(0, 100), min_size=1, max_size=3),
        xs=st.lists(st.integers(0, 100), min_size=1, max_size=2),
    )
    def jacobian(self, i: int, ys: list[int], xs: list[int]) -> None:
        model = self.tape_with_records(i)
        ts = self.targets(model, ys)
        ss = [self.source(s, ts) for s in xs]

        def call() -> object:
            return model.tape.jacobian(
                [self.nodes[t].value for t in ts], [self.nodes[s].value for s in ss]
            )

        if not self.can_differentiate(model, call):
            return
        snapshot = _copy(model)
        before = [records_on(m.tape) for m in self.tapes]
        if any(self.stale(model, [t]) for t in ts):
            self.expect_tape_error(call, "changed in place")
            self.after_differentiating(model, before, used=False)
            return
        rows = call()
        assert isinstance(rows, list) and len(rows) == len(ts)
        self.after_differentiating(model, before, used=True)
        for t, row in zip(ts, rows, strict=True):
            assert isinstance(row, list)
            self.check(snapshot, [t], [1.0], ss, "none", row)

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def every_tape_holds_what_the_model_says(self) -> None:
        for model in self.tapes:
            assert state_of(model.tape) == model.state, (repr(model.tape), model.state)
            assert records_on(model.tape) == model.count(), (repr(model.tape), model.recorded)

    @invariant()
    def watched_values_are_the_leaves_and_explicit_watches(self) -> None:
        for model in self.tapes:
            if model.state in ("used", "released") or model.extra:
                continue
            produced = set(model.recorded)
            expected = set(model.explicit)
            if model.watch_accessed:
                for k in model.recorded:
                    node = self.nodes[k]
                    expected |= {
                        int(a)
                        for a, p in zip(node.args, node.partials, strict=True)
                        if p is not None and int(a) not in produced
                    }
            got = model.tape.watched()
            assert set(got) == {self.nodes[k].value for k in expected}  # == is by node
            assert len(got) == len(set(got))

    def teardown(self) -> None:
        try:
            while self.stack:
                self.stack.pop().manager.__exit__(None, None, None)
            assert RECORDING.get() == self.context_before, "a tape is still recording"
        finally:
            if RECORDING.get() != self.context_before:
                RECORDING.set(self.context_before)


def _copy(model: TapeModel) -> TapeModel:
    return TapeModel(
        model.tape,
        model.persistent,
        model.watch_accessed,
        model.state,
        list(model.recorded),
        list(model.explicit),
        model.extra,
        dict(model.made_at),
    )


TapeMachine.TestCase.settings = settings(max_examples=examples(300), stateful_step_count=50)
test_tapes_against_the_reference_model = TapeMachine.TestCase
