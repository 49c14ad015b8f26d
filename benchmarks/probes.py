"""The smaller figures' workloads: plugin ops, second order, bare arithmetic, forward mode.

- Plugin ops built with ``mt.Op`` (not built-ins), and chains that apply one op per
  node, to compare a plugin op with built-in ops of the same arity.
- A function of ten variables whose Hessian, through nested tapes, and Hessian-vector
  product, forward over reverse, are compared with one first-order gradient.
- An arithmetic expression written once and run on Values outside any tape and on floats.
- The reference workloads as forward passes whose inputs exist before the pass (an
  accumulator is given its primals before the ops run).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from typing import Any, Final

import microtape as mt

from . import workloads as w
from .workloads import Build

__all__ = [
    "ARITHMETIC_OPS_PER_STEP",
    "Pass",
    "arithmetic",
    "bench_cosh",
    "bench_hypot",
    "bench_mul",
    "bench_sinh",
    "binary_chain_build",
    "chain_pass",
    "mlp_pass",
    "product_chain_build",
    "second_order_function",
    "unary_chain_build",
]

# ---- plugin ops: built with mt.Op, shaped like built-ins of the same arity ----------------
# Not registered: a registered op is called the same way, and the registry stays as it was.
# sinh/cosh mirror the built-in sin/cos (one math call forward, one op call per rule).
# hypot is a plugin with math of its own (plain arithmetic in its rules); mul is the
# built-in mul's forward and rules again, so that comparing the two measures the path a
# plugin op takes, not a difference in the math.

bench_sinh: Final[mt.Op] = mt.Op(
    "bench_sinh", math.sinh, [lambda x: bench_cosh(x)], doc="hyperbolic sine (a plugin op)"
)
bench_cosh: Final[mt.Op] = mt.Op(
    "bench_cosh", math.cosh, [lambda x: bench_sinh(x)], doc="hyperbolic cosine (a plugin op)"
)
bench_hypot: Final[mt.Op] = mt.Op(
    "bench_hypot",
    math.hypot,
    [lambda a, b: a / (a * a + b * b) ** 0.5, lambda a, b: b / (a * a + b * b) ** 0.5],
    doc="sqrt(a*a + b*b) (a plugin op); not differentiable at (0, 0)",
)
bench_mul: Final[mt.Op] = mt.Op(
    "bench_mul",
    lambda a, b: a * b,
    [lambda a, b: b, lambda a, b: a],
    doc="a * b (a plugin op with the built-in mul's forward and rules)",
)


def unary_chain_build(op: mt.Op, n: int) -> Build:
    """``y = op(y)``, ``n`` times, from a small ``y`` (sinh grows, but not that far)."""

    def build() -> tuple[Any, Any]:
        x = y = mt.Value(1e-4)
        for _ in range(n):
            y = op(y)
        return y, x

    return build


def binary_chain_build(op: mt.Op, n: int) -> Build:
    """``y = op(y, c)``, ``n`` times; both arguments are Values, so both partials count."""

    def build() -> tuple[Any, Any]:
        x = y = mt.Value(1.0)
        c = mt.Value(1.0)
        for _ in range(n):
            y = op(y, c)
        return y, [x, c]

    return build


def product_chain_build(n: int) -> Build:
    """``y = y * c``, ``n`` times: the built-in mul through its hand-specialised dunder."""

    def build() -> tuple[Any, Any]:
        x = y = mt.Value(1.0)
        c = mt.Value(1.0)
        for _ in range(n):
            y = y * c
        return y, [x, c]

    return build


# ---- second order and plain arithmetic ---------------------------------------------------


def second_order_function(xs: list[mt.Value]) -> mt.Value:
    """A Rosenbrock sum plus ``tanh(x) * sin(x)`` terms: arithmetic and generic ops mixed."""
    total: mt.Value = mt.Value(0.0)
    for left, right in itertools.pairwise(xs):
        a = right - left * left
        b = 1.0 - left
        total = total + 100.0 * a * a + b * b
    for x in xs:
        total = total + mt.tanh(x) * mt.sin(x)
    return total


ARITHMETIC_OPS_PER_STEP: Final = 4


def arithmetic(y: Any, a: Any, b: Any, steps: int) -> Any:
    """``y = y * a + b - 0.5 * y``, ``steps`` times: the same code for floats and Values."""
    for _ in range(steps):
        y = y * a + b - 0.5 * y
    return y


# ---- forward mode: the reference workloads with their inputs made first ----------------------

Pass = tuple[list[mt.Value], Callable[[], mt.Value]]
"""The sources of a workload, made once, and its forward pass, which returns the output."""


def chain_pass(depth: int) -> Pass:
    """The chain workload (``workloads.chain_build``): ``a`` and ``b`` made once; each pass
    makes ``y`` and runs ``y = relu(y * a + b)`` ``depth`` times."""
    a, b = mt.Value(0.999), mt.Value(0.001)

    def run() -> mt.Value:
        y = mt.Value(0.5)
        for _ in range(depth):
            y = mt.relu(y * a + b)
        return y

    return [a, b], run


def mlp_pass(points: int) -> Pass:
    """The mlp workload (``workloads.mlp_build``): parameters made once, the loss per pass."""
    xs, ys = w.data(points)
    params = w.make_params(random.Random(1), mt.Value)
    flat = [
        p for group in params for row in group for p in (row if isinstance(row, list) else [row])
    ]

    def run() -> mt.Value:
        loss: mt.Value = w.mlp_loss(params, xs, ys, mt.relu, mt.Value)
        return loss

    return flat, run


def _row(row: Any) -> list[Any]:
    """A row of a weight matrix, or one bias as a row of one."""
    return row if isinstance(row, list) else [row]
