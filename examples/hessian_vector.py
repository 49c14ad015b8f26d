"""Newton-CG with Hessian-vector products, and a hand-written optimizer fed by value_and_grad.

Newton's method needs the Hessian ``H`` only to solve ``H p = -g`` for the step ``p``.
Conjugate gradients solve that system asking only for products ``H v``, and
``mt.hvp(f, x, v)`` computes one without ever forming ``H``: a forward accumulator
along ``v`` around a gradient tape (forward over reverse), a few gradients' cost
whatever the number of variables. That is Newton-CG (truncated Newton).

The second half is the shape scientific Python expects: ``mt.value_and_grad(f)`` is a
function from a list of floats to ``(value, gradient)``, exactly what
``scipy.optimize.minimize(fun, x0, jac=True)`` calls. scipy is not needed here: a
BFGS written out below uses the same calling convention.

The function is the loss of a logistic regression with ten weights on sixty generated
points, with a small L2 penalty: smooth and convex, the case where Newton's steps
double the correct digits each time once they are close, where BFGS creeps.

Run it:  python examples/hessian_vector.py
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    import microtape as mt
except ModuleNotFoundError:  # run from a clone without installing: use the package beside us
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import microtape as mt

FEATURES = 10
SAMPLES = 60
PENALTY = 0.01
START = [0.0] * FEATURES
TOLERANCE = 1e-10
"""Newton-CG stops when the gradient's length falls below this."""

Vector = list[float]
Objective = Callable[[Sequence[float]], tuple[float, Vector]]
"""scipy's ``fun`` with ``jac=True``: a point in, ``(value, gradient)`` out."""


def dot(u: Sequence[float], v: Sequence[float]) -> float:
    return math.fsum(a * b for a, b in zip(u, v, strict=True))


def axpy(alpha: float, u: Sequence[float], v: Sequence[float]) -> Vector:
    """``alpha * u + v``."""
    return [alpha * a + b for a, b in zip(u, v, strict=True)]


def data() -> tuple[list[list[float]], list[float]]:
    """Points in [-1, 1]^10, labelled +-1 by a hidden linear rule with 10% of labels flipped."""
    rng = random.Random(0)
    truth = [rng.uniform(-2, 2) for _ in range(FEATURES)]
    xs = [[rng.uniform(-1, 1) for _ in range(FEATURES)] for _ in range(SAMPLES)]
    ys = [1.0 if dot(truth, x) > 0 else -1.0 for x in xs]
    return xs, [-y if rng.random() < 0.1 else y for y in ys]


POINTS, LABELS = data()


@dataclass(frozen=True)
class Result:
    """What the run found, for the tests."""

    newton_x: Vector
    newton_iterations: int
    hvp_calls: int  # Hessian-vector products Newton-CG asked for, in all
    curvature_gap: float  # largest |hvp(f, x, v) - H v| over the checked directions
    curvatures: list[float]  # v'Hv at the minimum along random directions
    bfgs_x: Vector
    bfgs_iterations: int
    loss: float  # at the minimum Newton-CG found


def loss(w: Sequence[mt.Value]) -> mt.Value:
    """Mean logistic loss ``log(1 + e^(-y w.x))`` over the points, plus ``PENALTY |w|^2 / 2``."""
    total = mt.Value(0.0)
    for x, y in zip(POINTS, LABELS, strict=True):
        margin = y * sum((wi * xi for wi, xi in zip(w, x, strict=True)), mt.Value(0.0))
        total = total + mt.log(1.0 + mt.exp(-margin))
    penalty = sum((wi * wi for wi in w), mt.Value(0.0))
    return total * (1.0 / len(POINTS)) + 0.5 * PENALTY * penalty


# ---- Newton-CG: Hessian-vector products only ------------------------------------------------


def conjugate_gradient(
    product: Callable[[Vector], Vector], g: Vector, tolerance: float
) -> tuple[Vector, int]:
    """Solve ``H p = -g`` approximately, asking only for products ``H d``.

    Stops at the tolerance, or at a direction of negative curvature (then the steps
    so far, or steepest descent if there are none). Returns ``p`` and the number of
    products used.
    """
    p = [0.0] * len(g)
    r = [-gi for gi in g]  # the residual -g - H p
    d = list(r)
    rr = dot(r, r)
    for k in range(2 * len(g)):
        hd = product(d)
        curvature = dot(d, hd)
        if curvature <= 0.0:
            return (p if k else r), k + 1
        alpha = rr / curvature
        p = axpy(alpha, d, p)
        r = axpy(-alpha, hd, r)
        rr_next = dot(r, r)
        if math.sqrt(rr_next) < tolerance:
            return p, k + 1
        d = axpy(rr_next / rr, d, r)
        rr = rr_next
    return p, 2 * len(g)


def backtrack(fun: Objective, x: Vector, value: float, g: Vector, p: Vector) -> float:
    """A step length along ``p`` that lowers ``f`` enough (Armijo's rule)."""
    slope = dot(g, p)
    t = 1.0
    while fun(axpy(t, p, x))[0] > value + 1e-4 * t * slope and t > 1e-12:
        t *= 0.5
    return t


def newton_cg(f: Callable[[list[mt.Value]], mt.Value], x0: Vector) -> tuple[Vector, int, int]:
    """Minimise ``f`` by Newton-CG; returns the point, the iterations and the HVPs."""
    fun = mt.value_and_grad(f)
    x = list(x0)
    products = 0
    print(" iter  loss                 |gradient|   Hessian-vector products")
    for iteration in range(1, 200):
        value, g = fun(x)
        size = math.sqrt(dot(g, g))
        if size < TOLERANCE:
            break

        def product(v: Vector, x: Vector = x) -> Vector:
            return mt.hvp(f, x, v)

        p, used = conjugate_gradient(product, g, min(0.5, math.sqrt(size)) * size)
        products += used
        print(f" {iteration:4}  {value:.12e}   {size:.3e}    {used}")
        x = axpy(backtrack(fun, x, value, g, p), p, x)
    return x, iteration - 1, products


# ---- a hand-written optimizer with scipy's calling convention ------------------------------


@dataclass(frozen=True)
class Minimum:
    """The fields of scipy's OptimizeResult this example uses."""

    x: Vector
    fun: float
    nit: int


def minimize(fun: Objective, x0: Sequence[float], jac: bool = True, gtol: float = 1e-8) -> Minimum:
    """BFGS, called as ``scipy.optimize.minimize(fun, x0, jac=True)`` is: ``fun(x)``
    returns ``(value, gradient)``. It keeps an estimate of the inverse Hessian, updated
    from how the gradient changes between steps, and stops when the gradient's length
    is below ``gtol``."""
    assert jac, "fun returns the gradient too, as mt.value_and_grad gives it"
    n = len(x0)
    x = list(x0)
    value, g = fun(x)
    inverse = [[float(i == j) for j in range(n)] for i in range(n)]
    for iteration in range(1, 1000):
        if math.sqrt(dot(g, g)) < gtol:
            return Minimum(x, value, iteration - 1)
        p = [-dot(row, g) for row in inverse]
        s = [backtrack(fun, x, value, g, p) * pi for pi in p]
        x = [xi + si for xi, si in zip(x, s, strict=True)]
        value, g_next = fun(x)
        y = [b - a for a, b in zip(g, g_next, strict=True)]
        g = g_next
        sy = dot(s, y)
        if sy > 1e-300:  # the BFGS update of the inverse Hessian estimate
            hy = [dot(row, y) for row in inverse]
            yhy = dot(y, hy)
            inverse = [
                [
                    inverse[i][j]
                    + ((sy + yhy) * s[i] * s[j]) / (sy * sy)
                    - (hy[i] * s[j] + s[i] * hy[j]) / sy
                    for j in range(n)
                ]
                for i in range(n)
            ]
    return Minimum(x, value, 999)


def main() -> Result:
    """Newton-CG, a curvature check at its minimum, and BFGS fed by value_and_grad."""
    print(f"Newton-CG on a logistic regression: {FEATURES} weights, {SAMPLES} points")
    x, iterations, products = newton_cg(loss, START)
    value = mt.value_and_grad(loss)(x)[0]
    print(
        f"Newton-CG: loss {value:.12f} in {iterations} iterations, {products} Hessian-vector "
        f"products (the {FEATURES} x {FEATURES} Hessian never formed)"
    )

    # Check the curvature at the minimum: hvp against the full Hessian, and v'Hv > 0.
    hessian = mt.hessian(loss)(x)
    rng = random.Random(0)
    gap = 0.0
    curvatures = []
    for _ in range(5):
        v = [rng.uniform(-1, 1) for _ in x]
        hv = mt.hvp(loss, x, v)
        gap = max(gap, *(abs(a - dot(row, v)) for a, row in zip(hv, hessian, strict=True)))
        curvatures.append(dot(v, hv))
    print(
        f"curvature at the minimum: hvp agrees with the full Hessian to {gap:.1e}; "
        f"v'Hv along 5 random directions: {', '.join(f'{c:.3f}' for c in curvatures)} "
        "(all > 0: a minimum)"
    )

    # scipy.optimize.minimize(mt.value_and_grad(loss), START, jac=True) works the same
    # way; the hand-written BFGS is called exactly so.
    found = minimize(mt.value_and_grad(loss), START, jac=True, gtol=1e-8)
    apart = max(abs(a - b) for a, b in zip(found.x, x, strict=True))
    print(
        f"BFGS fed by value_and_grad: loss {found.fun:.12f} in {found.nit} iterations "
        f"(weights within {apart:.0e} of Newton-CG's)"
    )
    return Result(x, iterations, products, gap, curvatures, found.x, found.nit, value)


if __name__ == "__main__":
    main()
