"""microtape.losses: values and gradients agree with sympy (or, at kinks, hand-derived rules).

The smooth losses are compared with sympy's symbolic derivatives evaluated at 40
digits at hypothesis-drawn points; hinge and mean absolute error, which have kinks,
with their derivatives written out by hand away from the kinks, and with the
documented convention (0) at them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest
import sympy
from hypothesis import assume, given
from hypothesis import strategies as st
from messages import loose

import microtape as mt
from microtape import losses
from microtape.nn import ShapeError

Loss = Callable[[Sequence[mt.Value | float], Sequence[mt.Value | float]], mt.Value]

reals = st.floats(-20, 20, allow_nan=False)
logits = st.floats(-50, 50, allow_nan=False)
labels = st.sampled_from([0.0, 1.0])
probabilities = st.floats(1e-6, 1 - 1e-6)


def _at(expr: sympy.Expr, subs: dict[sympy.Symbol, float]) -> float:
    exact = {s: sympy.Rational(v) for s, v in subs.items()}
    return float(expr.evalf(40, subs=exact))


def _gradients(
    loss: Loss, y_true: Sequence[float], y_pred: Sequence[float]
) -> tuple[float, list[float]]:
    preds = [mt.Value(p) for p in y_pred]
    with mt.GradientTape() as tape:
        value = loss(y_true, preds)
    grads = tape.gradient(value, preds, unconnected_gradients="zero")
    return value.data, [g.data for g in grads]


def _check_against_sympy(
    loss: Loss,
    per_sample: Callable[[float, sympy.Symbol], sympy.Expr],
    y_true: Sequence[float],
    y_pred: Sequence[float],
    rel: float = 1e-9,
) -> None:
    symbols = [sympy.Symbol(f"p{i}", real=True) for i in range(len(y_pred))]
    total = per_sample(y_true[0], symbols[0])
    for t, s in zip(y_true[1:], symbols[1:], strict=True):
        total = total + per_sample(t, s)
    expr = total / len(symbols)
    subs = dict(zip(symbols, y_pred, strict=True))
    value, grads = _gradients(loss, y_true, y_pred)
    assert value == pytest.approx(_at(expr, subs), rel=rel, abs=1e-12)
    for s, g in zip(symbols, grads, strict=True):
        assert g == pytest.approx(_at(sympy.diff(expr, s), subs), rel=rel, abs=1e-12)


Sample = tuple[list[float], list[float]]
"""Targets and predictions of 1 to 4 samples."""


def _pairs(
    values: st.SearchStrategy[float], targets: st.SearchStrategy[float]
) -> st.SearchStrategy[Sample]:
    return st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            st.lists(targets, min_size=n, max_size=n), st.lists(values, min_size=n, max_size=n)
        )
    )


def data_pairs(data: Sample) -> list[tuple[float, float]]:
    return list(zip(*data, strict=True))


# ---- mean squared error ----------------------------------------------------------------------


@given(_pairs(reals, reals))
def test_mean_squared_error_and_its_gradient_agree_with_sympy(
    data: Sample,
) -> None:
    y_true, y_pred = data
    _check_against_sympy(
        losses.mean_squared_error, lambda t, p: (sympy.Rational(t) - p) ** 2, y_true, y_pred
    )


def test_mean_squared_error_of_the_article() -> None:
    assert losses.mean_squared_error([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]).data == 14 / 3


# ---- mean absolute error -------------------------------------------------------------------


@given(_pairs(reals, reals))
def test_mean_absolute_error_gradient_is_the_sign_over_n(
    data: Sample,
) -> None:
    y_true, y_pred = data
    value, grads = _gradients(losses.mean_absolute_error, y_true, y_pred)
    n = len(y_true)
    assert value == pytest.approx(sum(abs(t - p) for t, p in data_pairs(data)) / n)
    for t, p, g in zip(y_true, y_pred, grads, strict=True):
        d = p - t
        assert g == (0.0 if d == 0 else math.copysign(1.0, d) / n)


def test_mean_absolute_error_has_derivative_zero_where_prediction_equals_target() -> None:
    assert _gradients(losses.mean_absolute_error, [2.0, 1.0], [2.0, 3.0])[1] == [0.0, 0.5]


# ---- hinge -----------------------------------------------------------------------------------


@given(_pairs(reals, st.sampled_from([-1.0, 1.0])))
def test_hinge_value_and_gradient_match_the_margin_rule(
    data: Sample,
) -> None:
    y_true, y_pred = data
    assume(all(abs(1 - t * p) > 1e-9 for t, p in data_pairs(data)))
    value, grads = _gradients(losses.hinge, y_true, y_pred)
    n = len(y_true)
    assert value == pytest.approx(sum(max(1 - t * p, 0.0) for t, p in data_pairs(data)) / n)
    for t, p, g in zip(y_true, y_pred, grads, strict=True):
        assert g == (-t / n if t * p < 1 else 0.0)


def test_hinge_reads_zero_labels_as_minus_one_and_refuses_others() -> None:
    assert losses.hinge([0.0, 1.0], [0.5, 0.5]).data == losses.hinge([-1.0, 1.0], [0.5, 0.5]).data
    with pytest.raises(mt.DomainError, match="targets must be -1 or 1"):
        losses.hinge([2.0], [0.5])


def test_hinge_at_the_margin_has_derivative_zero() -> None:
    assert _gradients(losses.hinge, [1.0], [1.0]) == (0.0, [0.0])


# ---- binary cross-entropy from logits ------------------------------------------------------


def _bce_logit(t: float, z: sympy.Symbol) -> sympy.Expr:
    q = 1 / (1 + sympy.exp(-z))
    return -(sympy.Rational(t) * sympy.log(q) + (1 - sympy.Rational(t)) * sympy.log(1 - q))


def _bce_from_logits(
    y_true: Sequence[mt.Value | float], y_pred: Sequence[mt.Value | float]
) -> mt.Value:
    return losses.binary_crossentropy(y_true, y_pred, from_logits=True)


@given(_pairs(logits, st.one_of(labels, st.floats(0, 1))))
def test_binary_crossentropy_from_logits_agrees_with_sympy(
    data: Sample,
) -> None:
    y_true, y_pred = data
    _check_against_sympy(_bce_from_logits, _bce_logit, y_true, y_pred, rel=1e-8)


@given(logits, labels)
def test_binary_crossentropy_from_logits_second_derivative_agrees_with_sympy(
    z0: float, t: float
) -> None:
    z = mt.Value(z0)
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            loss = losses.binary_crossentropy([t], [z], from_logits=True)
        first = inner.gradient(loss, z)
    assert first is not None
    second = outer.gradient(first, z)
    assert second is not None
    symbol = sympy.Symbol("z", real=True)
    expected = _at(sympy.diff(_bce_logit(t, symbol), symbol, 2), {symbol: z0})
    assert second.data == pytest.approx(expected, rel=1e-8, abs=1e-300)


def test_binary_crossentropy_from_logits_is_exact_at_zero_despite_the_branch() -> None:
    assert _gradients(_bce_from_logits, [1.0, 0.0], [0.0, 0.0])[1] == [-0.25, 0.25]


@pytest.mark.parametrize("z", [-1000.0, -40.0, 40.0, 1000.0])
def test_binary_crossentropy_from_huge_logits_stays_finite_and_exact(z: float) -> None:
    for t in (0.0, 1.0):
        value, (grad,) = _gradients(_bce_from_logits, [t], [z])
        wrong = (t == 1.0) == (z < 0)  # the loss of a confident mistake is about |z|
        assert value == pytest.approx(abs(z) if wrong else 0.0, abs=1e-15)
        sigmoid = 1 / (1 + math.exp(-z)) if z > -700 else 0.0
        assert grad == pytest.approx(sigmoid - t, abs=1e-15)


# ---- binary cross-entropy from probabilities -----------------------------------------------


def _bce_probability(t: float, q: sympy.Symbol) -> sympy.Expr:
    return -(sympy.Rational(t) * sympy.log(q) + (1 - sympy.Rational(t)) * sympy.log(1 - q))


@given(_pairs(probabilities, st.one_of(labels, st.floats(0, 1))))
def test_binary_crossentropy_from_probabilities_agrees_with_sympy(
    data: Sample,
) -> None:
    y_true, y_pred = data
    _check_against_sympy(losses.binary_crossentropy, _bce_probability, y_true, y_pred, rel=1e-7)


@pytest.mark.parametrize(("t", "q"), [(1.0, 0.0), (0.0, 1.0), (1.0, 1e-12)])
def test_probabilities_at_zero_and_one_are_clipped_not_logged(t: float, q: float) -> None:
    value, (grad,) = _gradients(losses.binary_crossentropy, [t], [q])
    assert value == pytest.approx(-math.log(losses.EPSILON))
    assert grad == 0.0  # clipped: connected to the loss, but flat, as in TensorFlow


def test_a_probability_outside_zero_one_suggests_from_logits() -> None:
    with pytest.raises(mt.DomainError, match=loose("pass from_logits=True")):
        losses.binary_crossentropy([1.0], [2.5])


def test_a_target_outside_zero_one_is_refused() -> None:
    with pytest.raises(mt.DomainError, match=r"targets are probabilities of class 1, in \[0, 1\]"):
        losses.binary_crossentropy([2.0], [0.5])


def test_from_logits_must_be_a_bool() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="from_logits must be a bool"):
        losses.binary_crossentropy([1.0], [0.5], from_logits="yes")  # type: ignore[arg-type]


# ---- what every loss shares ------------------------------------------------------------------

ALL: list[Loss] = [
    losses.mean_squared_error,
    losses.mean_absolute_error,
    losses.hinge,
    losses.binary_crossentropy,
]


@pytest.mark.parametrize("loss", ALL)
def test_every_loss_returns_a_value_even_for_plain_numbers(loss: Loss) -> None:
    assert type(loss([1.0, 0.0], [0.25, 0.75])) is mt.Value


@pytest.mark.parametrize("loss", ALL)
def test_every_loss_refuses_lists_of_different_lengths_or_none(loss: Loss) -> None:
    with pytest.raises(ShapeError, match=r"y_true has 2 targets but y_pred has 1 prediction;"):
        loss([1.0, 0.0], [0.5])
    with pytest.raises(ShapeError, match="no samples"):
        loss([], [])


@pytest.mark.parametrize("loss", ALL)
def test_every_loss_refuses_a_single_value_instead_of_a_list(loss: Loss) -> None:
    with pytest.raises(mt.ArgumentTypeError, match="y_pred must be a list"):
        loss([1.0], mt.Value(0.5))  # type: ignore[arg-type]
    with pytest.raises(mt.ArgumentTypeError, match="each target must be a number"):
        loss(["1"], [0.5])  # type: ignore[list-item]


def test_targets_given_as_values_are_constants() -> None:
    t, p = mt.Value(2.0), mt.Value(1.0)
    with mt.GradientTape() as tape:
        loss = losses.mean_squared_error([t], [p])
    grads = tape.gradient(loss, [t, p])
    assert grads[0] is None and grads[1] is not None and grads[1].data == -2.0
