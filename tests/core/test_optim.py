"""microtape.optim: SGD and Adam follow Keras's update rules; a None gradient is explained."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from messages import flat, loose

import microtape as mt
from microtape import nn, optim
from microtape.optim import MissingGradientError

finite = st.floats(-100, 100, allow_nan=False)
rates = st.floats(1e-4, 1.0)
fractions = st.floats(0.0, 0.99)


# ---- SGD -----------------------------------------------------------------------------------


@given(finite, finite, rates)
def test_sgd_steps_against_the_gradient(w0: float, g: float, lr: float) -> None:
    w = mt.Value(w0)
    optim.SGD(learning_rate=lr).apply_gradients([(mt.Value(g), w)])
    assert w.data == w0 - lr * g


@given(st.lists(finite, min_size=1, max_size=6), rates, fractions)
def test_sgd_with_momentum_follows_the_keras_velocity(
    grads: list[float], lr: float, momentum: float
) -> None:
    w = mt.Value(1.0)
    optimizer = optim.SGD(learning_rate=lr, momentum=momentum)
    expected, velocity = 1.0, 0.0
    for g in grads:
        optimizer.apply_gradients([(g, w)])
        velocity = momentum * velocity - lr * g
        expected += velocity
    assert w.data == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_sgd_defaults_to_keras_learning_rate_and_no_momentum() -> None:
    optimizer = optim.SGD()
    assert (optimizer.learning_rate, optimizer.momentum) == (0.01, 0.0)


# ---- Adam ----------------------------------------------------------------------------------


def _adam_reference(
    grads: list[float], lr: float, b1: float, b2: float, eps: float, w: float
) -> float:
    """Keras's Adam, written out from its documentation, one step per gradient."""
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        w -= alpha * m / (math.sqrt(v) + eps)
    return w


@given(st.lists(finite, min_size=1, max_size=8), rates, fractions, st.floats(0.5, 0.9999))
def test_adam_matches_the_keras_formulation(
    grads: list[float], lr: float, b1: float, b2: float
) -> None:
    w = mt.Value(0.5)
    optimizer = optim.Adam(learning_rate=lr, beta_1=b1, beta_2=b2)
    for g in grads:
        optimizer.apply_gradients([(mt.Value(g), w)])
    expected = _adam_reference(grads, lr, b1, b2, 1e-7, 0.5)
    assert w.data == pytest.approx(expected, rel=1e-9, abs=1e-9)


@given(st.floats(0.1, 1e6))
def test_adams_first_step_is_the_learning_rate_whatever_the_gradient_scale(g: float) -> None:
    w = mt.Value(0.0)
    optim.Adam(learning_rate=0.01).apply_gradients([(g, w)])
    assert w.data == pytest.approx(-0.01, rel=1e-4)


def test_adam_defaults_are_keras_defaults() -> None:
    adam = optim.Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (
        0.001,
        0.9,
        0.999,
        1e-7,
    )


def test_adam_counts_steps_per_variable_for_its_bias_correction() -> None:
    early, late = mt.Value(0.0), mt.Value(0.0)
    optimizer = optim.Adam(learning_rate=0.1)
    optimizer.apply_gradients([(1.0, early)])
    optimizer.apply_gradients([(1.0, early), (1.0, late)])
    assert late.data == pytest.approx(-0.1, rel=1e-5)  # a first step, though the optimizer's second
    assert optimizer.iterations == 2


def test_state_belongs_to_each_variable_even_when_they_hold_the_same_number() -> None:
    a, b = mt.Value(1.0), mt.Value(1.0)
    optimizer = optim.SGD(learning_rate=0.1, momentum=0.9)
    optimizer.apply_gradients([(1.0, a)])
    optimizer.apply_gradients([(1.0, a), (1.0, b)])
    assert b.data == pytest.approx(0.9)  # b's velocity starts at 0, not at a's
    assert a.data == pytest.approx(1.0 - 0.1 - 0.19)


# ---- apply_gradients: the pairs ------------------------------------------------------------


def test_apply_gradients_takes_zip_of_tape_gradients_and_variables() -> None:
    model = nn.Dense(1, 1, seed=2)
    before = [v.data for v in model.trainable_variables]
    with mt.GradientTape() as tape:
        (y,) = model([3.0])
        loss = y * y
    grads = tape.gradient(loss, model.trainable_variables)
    optim.SGD(learning_rate=0.01).apply_gradients(
        zip(grads, model.trainable_variables, strict=True)
    )
    after = [v.data for v in model.trainable_variables]
    assert after == [before[0] - 0.01 * 2 * y.data * 3.0, before[1] - 0.01 * 2 * y.data]


def test_a_none_gradient_raises_naming_the_variable_and_updates_nothing() -> None:
    used, unused = mt.Value(2.0), mt.Value(7.5)
    with mt.GradientTape() as tape:
        loss = used * used
    grads = tape.gradient(loss, [used, unused])
    optimizer = optim.Adam()
    with pytest.raises(MissingGradientError) as info:
        optimizer.apply_gradients(zip(grads, [used, unused], strict=True))
    message = str(info.value)
    assert "variable 1 (Value(7.5)) is None" in message
    assert "nothing was updated" in flat(message)
    assert "unconnected_gradients='raise'" in message and "tape.explain" in message
    assert "outside `with tape:`" in message
    assert used.data == 2.0 and unused.data == 7.5  # all or nothing
    assert optimizer.iterations == 0


def test_missing_gradient_error_is_a_value_error_as_in_keras() -> None:
    assert issubclass(MissingGradientError, ValueError)
    assert issubclass(MissingGradientError, mt.MicrotapeError)


def test_pairs_in_the_wrong_order_are_refused() -> None:
    w = mt.Value(1.0)
    with pytest.raises(
        mt.ArgumentTypeError, match=loose(r"variable 0 must be a Value .*\(gradient, var")
    ):
        optim.SGD().apply_gradients([(w, 0.5)])  # type: ignore[list-item]


def test_gradients_without_their_variables_name_the_missing_zip() -> None:
    model = nn.Dense(1, 1)
    with mt.GradientTape() as tape:
        loss = model([2.0])[0] * 3.0
    grads = tape.gradient(loss, model.trainable_variables)
    before = [v.data for v in model.trainable_variables]
    with pytest.raises(mt.ArgumentTypeError) as info:
        optim.SGD().apply_gradients(grads)  # type: ignore[arg-type]
    message = str(info.value)
    assert "item 0 is Value(6.0), not a (gradient, variable) pair" in message
    assert "apply_gradients(zip(grads, model.trainable_variables))" in message
    assert [v.data for v in model.trainable_variables] == before  # nothing moved


def test_a_single_gradient_is_refused_with_the_pair_to_write() -> None:
    with pytest.raises(
        mt.ArgumentTypeError, match=loose(r"a single gradient.*\[\(gradient, variable\)\]")
    ):
        optim.Adam().apply_gradients(mt.Value(1.0))  # type: ignore[arg-type]


def test_an_item_that_is_not_a_pair_is_refused() -> None:
    w = mt.Value(1.0)
    with pytest.raises(mt.ArgumentTypeError, match=r"item 0 must be a \(gradient, variable\) pair"):
        optim.SGD().apply_gradients(zip([w]))  # type: ignore[arg-type]


def test_a_gradient_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="gradient of variable 0 must be a Value"):
        optim.SGD().apply_gradients([("0.5", mt.Value(1.0))])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: optim.SGD(learning_rate=-0.1), r"learning_rate must be >= 0"),
        (lambda: optim.SGD(learning_rate=math.nan), r"learning_rate must be >= 0"),
        (lambda: optim.SGD(momentum=1.0), r"momentum must be in \[0, 1\)"),
        (lambda: optim.Adam(beta_1=1.5), r"beta_1 must be in \[0, 1\)"),
        (lambda: optim.Adam(beta_2=-0.1), r"beta_2 must be in \[0, 1\)"),
        (lambda: optim.Adam(epsilon=0.0), r"epsilon must be > 0"),
    ],
)
def test_hyperparameters_out_of_range_are_refused(make: object, message: str) -> None:
    assert callable(make)
    with pytest.raises(mt.DomainError, match=message):
        make()


def test_a_hyperparameter_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="learning_rate must be a number"):
        optim.Adam(learning_rate="0.1")  # type: ignore[arg-type]


# ---- they minimise -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "optimizer",
    [optim.SGD(0.1), optim.SGD(0.05, momentum=0.9), optim.Adam(0.1)],
    ids=["sgd", "momentum", "adam"],
)
def test_each_optimizer_finds_the_minimum_of_a_quadratic(optimizer: optim.Optimizer) -> None:
    x, y = mt.Value(3.0), mt.Value(-2.0)
    for _ in range(500):
        with mt.GradientTape() as tape:
            loss = (x - 1.0) * (x - 1.0) + 2.0 * (y + 0.5) * (y + 0.5)
        grads = tape.gradient(loss, [x, y])
        optimizer.apply_gradients(zip(grads, [x, y], strict=True))
    assert x.data == pytest.approx(1.0, abs=1e-3)
    assert y.data == pytest.approx(-0.5, abs=1e-3)
