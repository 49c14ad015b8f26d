"""microtape-activations: every op proved against sympy, found through its entry points,
with the documented choices at kinks and the far-out behaviour pinned down."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import pytest
from microtape_activations import ALL, gelu, hypot, logaddexp, maximum, normal_cdf, softplus

import microtape as mt
from microtape.testing import check_op, check_op_at, check_plugin

EXAMPLES = 60


@pytest.mark.parametrize("op", [o for o in ALL if o is not gelu], ids=lambda o: o.name)
def test_op_agrees_with_sympy_to_third_order(op: mt.Op) -> None:
    check_op(op, max_examples=EXAMPLES)


def test_gelu_agrees_with_sympy_to_third_order() -> None:
    # Below x = -38.5, Phi(x) underflows to 0 and sympy needs thousands of digits to
    # say so, seconds per point; the far tail is pinned by test_gelu_far_left below.
    check_op(gelu, max_examples=EXAMPLES, bound=38.0)


def test_every_op_is_found_through_the_installed_entry_points() -> None:
    check_plugin("microtape-activations", ALL)  # mt.op, mt.ops, mt.plugin_ops() and a doc, for each


def test_there_are_six_ops_each_with_a_sympy_form() -> None:
    assert len({o.name for o in ALL}) == len(ALL) == 6
    assert all(op.sympy is not None for op in ALL)


def _partials(op: mt.Op, *point: float) -> list[float]:
    values = [mt.Value(p) for p in point]
    with mt.GradientTape() as tape:
        out = op(*values)
    grads = tape.gradient(out, values, unconnected_gradients="zero")
    return [float(g) for g in grads if g is not None]


def _hessian(op: mt.Op, a: float, b: float) -> list[list[float]]:
    values = [mt.Value(a), mt.Value(b)]
    with mt.GradientTape(persistent=True) as outer:
        with mt.GradientTape() as inner:
            out = op(*values)
        firsts = inner.gradient(out, values)
    rows = [outer.gradient(g, values, unconnected_gradients="zero") for g in firsts]
    return [[h.data for h in row if h is not None] for row in rows]


# ---- maximum: the subgradient at a tie ----------------------------------------------------------


def test_maximum_gives_the_whole_gradient_to_the_larger_argument() -> None:
    assert _partials(maximum, 3.0, 1.0) == [1.0, 0.0]
    assert _partials(maximum, -1.0, 2.0) == [0.0, 1.0]


def test_maximum_shares_the_gradient_equally_at_a_tie() -> None:
    assert _partials(maximum, 2.0, 2.0) == [0.5, 0.5]
    check_op_at(maximum, 2.0, 2.0)  # and so does its sympy form, through its tie branch


def test_maximum_of_a_value_with_itself_has_derivative_one() -> None:
    x = mt.Value(1.5)
    with mt.GradientTape() as tape:
        y = maximum(x, x)
    g = tape.gradient(y, x)
    assert g is not None and g.data == 1.0


def test_maximum_propagates_nan_from_either_side() -> None:
    assert math.isnan(maximum(math.nan, 1.0)) and math.isnan(maximum(1.0, math.nan))


# ---- hypot: the cone at the origin, precision elsewhere -----------------------------------------


def test_hypot_is_zero_at_the_origin_but_a_tape_refuses_to_record_it() -> None:
    assert hypot(0.0, 0.0) == 0.0
    with mt.GradientTape():
        with pytest.raises(mt.DomainError, match=r"hypot: the derivative .* does not exist"):
            hypot(mt.Value(0.0), mt.Value(0.0))
        with pytest.raises(mt.DomainError, match=r"hypot: the derivative with respect to a"):
            hypot(mt.Value(0.0), 0.0)


def test_hypot_on_an_axis_has_the_derivative_of_abs() -> None:
    assert _partials(hypot, 0.0, -3.0) == [0.0, -1.0]


def test_hypot_second_derivatives_keep_their_precision_far_from_the_diagonal() -> None:
    # d2/da2 = b**2 / h**3, here about 1e-24: the plain rule a / hypot(a, b) gives noise.
    a, b = 1e8, 1.0
    h = math.hypot(a, b)
    hessian = _hessian(hypot, a, b)
    assert math.isclose(hessian[0][0], b * b / h**3, rel_tol=1e-12)
    assert math.isclose(hessian[0][1], -a * b / h**3, rel_tol=1e-12)
    assert math.isclose(hessian[1][1], a * a / h**3, rel_tol=1e-12)


def test_hypot_does_not_overflow() -> None:
    assert hypot(1e200, 1e200) == pytest.approx(math.sqrt(2.0) * 1e200)
    assert _partials(hypot, 3e200, 4e200) == pytest.approx([0.6, 0.8])


# ---- far out: no overflow, no NaN ---------------------------------------------------------------


def test_logaddexp_of_huge_equal_arguments_does_not_overflow() -> None:
    assert logaddexp(1000.0, 1000.0) == 1000.0 + math.log(2.0)
    assert _partials(logaddexp, 1000.0, 1000.0) == [0.5, 0.5]
    assert logaddexp(-math.inf, -math.inf) == -math.inf
    assert logaddexp(math.inf, 3.0) == math.inf


def test_softplus_is_exact_in_both_tails() -> None:
    assert softplus(1000.0) == 1000.0
    assert softplus(-800.0) == 0.0
    assert math.isclose(softplus(-30.0), math.exp(-30.0), rel_tol=1e-12)
    assert _partials(softplus, 1000.0) == [1.0]


def test_normal_cdf_keeps_its_relative_precision_in_the_left_tail() -> None:
    # Phi(-30), from the asymptotic series phi(x)/|x| * (1 - 1/x**2 + 3/x**4 - ...)
    x = -30.0
    phi = math.exp(-x * x / 2.0) / math.sqrt(2.0 * math.pi)
    series = phi / -x * (1.0 - 1.0 / x**2 + 3.0 / x**4 - 15.0 / x**6 + 105.0 / x**8)
    assert math.isclose(normal_cdf(x), series, rel_tol=1e-10)


def test_gelu_far_left() -> None:
    assert gelu(-1000.0) == 0.0 and gelu(-math.inf) == 0.0
    assert gelu(math.inf) == math.inf
    assert _partials(gelu, -1000.0) == [0.0]
    assert _partials(gelu, math.inf) == [1.0]


def test_gelu_derivative_crosses_zero_where_phi_plus_x_phi_does() -> None:
    # gelu has its minimum near x = -0.7518: the derivative changes sign there.
    below, above = _partials(gelu, -0.76)[0], _partials(gelu, -0.74)[0]
    assert below < 0.0 < above


# ---- the README -----------------------------------------------------------------------------


def test_the_readme_example_prints_what_its_comments_say() -> None:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(readme), "exec"), {"__name__": "readme"})
        promised = [
            line.split("# ", 1)[1].strip()
            for line in block.splitlines()
            if line.startswith("print(") and "# Value(" in line
        ]
        assert promised and out.getvalue().splitlines() == promised
