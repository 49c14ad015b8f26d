"""microtape-hyperbolic: every op proved against sympy, found through its entry points,
and right at its domain edges and far out where the float range ends."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import pytest
from microtape_hyperbolic import ALL, acosh, asinh, atanh, cosh, erf, sinh

import microtape as mt
from microtape.testing import check_op, check_op_at, check_plugin

EXAMPLES = 60


@pytest.mark.parametrize("op", ALL, ids=lambda o: o.name)
def test_op_agrees_with_sympy_to_third_order(op: mt.Op) -> None:
    check_op(op, max_examples=EXAMPLES)


def test_every_op_is_found_through_the_installed_entry_points() -> None:
    check_plugin("microtape-hyperbolic", ALL)  # mt.op, mt.ops, mt.plugin_ops() and a doc, for each


def test_there_are_six_ops_each_with_a_sympy_form() -> None:
    assert len({o.name for o in ALL}) == len(ALL) == 6
    assert all(op.sympy is not None for op in ALL)


# ---- domain edges --------------------------------------------------------------------------


def test_acosh_is_defined_at_one_but_a_tape_refuses_to_record_it() -> None:
    assert acosh(1.0) == 0.0
    with mt.GradientTape():
        with pytest.raises(mt.DomainError, match=r"acosh: the derivative .* does not exist"):
            acosh(mt.Value(1.0))
    check_op_at(acosh, 1.0)  # sympy agrees: the derivative at 1 is not a finite number


def test_acosh_just_above_one_has_a_large_finite_derivative() -> None:
    x = mt.Value(math.nextafter(1.0, 2.0))
    with mt.GradientTape() as tape:
        y = acosh(x)
    g = tape.gradient(y, x)
    assert g is not None and math.isclose(g.data, 1.0 / math.sqrt(2.0 * 2.0**-52), rel_tol=1e-12)


@pytest.mark.parametrize(("op", "x"), [(acosh, 0.999), (acosh, -1.0), (atanh, 1.0), (atanh, -1.0)])
def test_points_outside_the_domain_raise_naming_the_op_and_domain(op: mt.Op, x: float) -> None:
    with pytest.raises(mt.DomainError, match=rf"{op.name}: x={x!r} is outside the domain"):
        op(x)


# ---- far out ------------------------------------------------------------------------------


def test_sinh_and_cosh_give_inf_past_the_float_range_instead_of_raising() -> None:
    assert sinh(1000.0) == math.inf and sinh(-1000.0) == -math.inf
    assert cosh(1000.0) == math.inf and cosh(-1000.0) == math.inf


@pytest.mark.parametrize("op", [asinh, acosh], ids=lambda o: o.name)
def test_inverse_derivatives_do_not_overflow_for_huge_x(op: mt.Op) -> None:
    x = mt.Value(1e200)  # x**2 would overflow; the derivative is about 1/x
    with mt.GradientTape() as tape:
        y = op(x)
    g = tape.gradient(y, x)
    assert g is not None and math.isclose(g.data, 1e-200, rel_tol=1e-12)


def test_erf_derivative_keeps_its_relative_precision_in_the_tail() -> None:
    x = mt.Value(-6.0)
    with mt.GradientTape() as tape:
        y = erf(x)
    g = tape.gradient(y, x)
    assert math.isclose(y.data, math.erf(-6.0), rel_tol=1e-15)
    assert g is not None
    assert math.isclose(g.data, 2.0 / math.sqrt(math.pi) * math.exp(-36.0), rel_tol=1e-14)


# ---- higher order -------------------------------------------------------------------------


def test_third_derivative_of_sinh_through_three_tapes_is_cosh() -> None:
    x = mt.Value(0.7)
    with mt.GradientTape() as t3:
        with mt.GradientTape() as t2:
            with mt.GradientTape() as t1:
                y = sinh(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert d3 is not None and math.isclose(d3.data, math.cosh(0.7), rel_tol=1e-14)


def test_second_derivative_of_atanh_matches_the_closed_form() -> None:
    x = mt.Value(0.5)
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            y = atanh(x)
        dy = inner.gradient(y, x)
    d2 = outer.gradient(dy, x)
    assert dy is not None and math.isclose(dy.data, 4.0 / 3.0, rel_tol=1e-15)
    assert d2 is not None and math.isclose(d2.data, 16.0 / 9.0, rel_tol=1e-14)


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
