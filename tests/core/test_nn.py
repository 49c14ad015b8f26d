"""microtape.nn: modules find their parameters; Dense, Sequential and MLP compute what they say."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st
from messages import loose

import microtape as mt
from microtape import nn
from microtape.nn import ShapeError

finite = st.floats(-10, 10, allow_nan=False)


def _data(values: Sequence[mt.Value]) -> list[float]:
    return [v.data for v in values]


# ---- Module: trainable_variables ------------------------------------------------------------


class _Pair(nn.Module):
    def __init__(self) -> None:
        self.first = mt.Value(1.0)
        self.inner = nn.Dense(1, 1, seed=3)
        self.listed = [mt.Value(2.0), (mt.Value(3.0),)]
        self.named = {"z": mt.Value(4.0)}
        self.not_a_parameter = 5.0

    def __call__(self, inputs: Sequence[mt.Value | float]) -> list[mt.Value]:
        return [self.first * inputs[0]]


def test_trainable_variables_are_found_through_attributes_submodules_and_containers() -> None:
    module = _Pair()
    found = module.trainable_variables
    dense = module.inner
    expected = [module.first, dense.kernel[0][0], dense.bias[0], *_flat(module)]
    assert len(found) == 6
    assert all(a is b for a, b in zip(found, expected, strict=True))


def _flat(module: _Pair) -> list[mt.Value]:
    listed = module.listed
    first, nested = listed
    assert isinstance(first, mt.Value) and isinstance(nested, tuple)
    return [first, nested[0], module.named["z"]]


def test_a_shared_value_or_layer_is_listed_once() -> None:
    shared = nn.Dense(2, 2, seed=1)
    model = nn.Sequential([shared, shared])
    assert model.count_params() == 6
    assert len({id(v) for v in model.trainable_variables}) == 6


def test_a_deep_chain_of_modules_needs_no_recursion() -> None:
    model: nn.Module = nn.Dense(1, 1)
    for _ in range(5000):
        wrapper = nn.Sequential([model])
        model = wrapper
    assert model.count_params() == 2


def test_module_without_call_says_so() -> None:
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define __call__"):
        Empty()([1.0])


# ---- Dense ---------------------------------------------------------------------------------


@given(
    st.lists(finite, min_size=3, max_size=3),
    st.lists(finite, min_size=6, max_size=6),
    st.lists(finite, min_size=2, max_size=2),
)
def test_dense_computes_bias_plus_inputs_times_kernel(
    x: list[float], kernel: list[float], bias: list[float]
) -> None:
    layer = nn.Dense(3, 2)
    for i in range(3):
        for j in range(2):
            layer.kernel[i][j].data = kernel[2 * i + j]
    for j in range(2):
        layer.bias[j].data = bias[j]
    out = layer(x)
    for j in range(2):
        expected = bias[j] + sum(x[i] * kernel[2 * i + j] for i in range(3))
        assert out[j].data == pytest.approx(expected, abs=1e-9)


@given(st.lists(finite, min_size=2, max_size=2))
def test_dense_gradients_are_the_inputs_and_one(x: list[float]) -> None:
    layer = nn.Dense(2, 1, seed=7)
    with mt.GradientTape() as tape:
        (y,) = layer(x)
    grads = tape.gradient(y, layer.trainable_variables, unconnected_gradients="zero")
    assert _data(grads) == [x[0], x[1], 1.0]  # kernel[0][0], kernel[1][0], bias[0]


def test_dense_trainable_variables_are_kernel_row_by_row_then_bias() -> None:
    layer = nn.Dense(2, 3)
    expected = [*layer.kernel[0], *layer.kernel[1], *layer.bias]
    assert all(a is b for a, b in zip(layer.trainable_variables, expected, strict=True))
    assert layer.count_params() == 9


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        (None, -1.0),
        (mt.relu, 0.0),
        (mt.tanh, math.tanh(-1.0)),
        ("sigmoid", 1.0 / (1.0 + math.e)),
        (lambda v: v * v, 1.0),
    ],
)
def test_dense_applies_its_activation(activation: nn.Activation, expected: float) -> None:
    layer = nn.Dense(1, 1, activation)
    layer.kernel[0][0].data = -1.0
    assert layer([1.0])[0].data == pytest.approx(expected)


def test_dense_rejects_an_activation_that_is_not_a_function_of_one_value() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="takes 2 arguments"):
        nn.Dense(1, 1, "add")
    with pytest.raises(mt.UnknownOpError, match="did you mean 'relu'"):
        nn.Dense(1, 1, "rleu")
    with pytest.raises(mt.ArgumentTypeError, match="activation must be None"):
        nn.Dense(1, 1, 3)  # type: ignore[arg-type]


def test_dense_starts_glorot_uniform_with_zero_bias() -> None:
    layer = nn.Dense(10, 5, seed=11)
    limit = math.sqrt(6.0 / 15)
    weights = [w.data for row in layer.kernel for w in row]
    assert all(-limit <= w <= limit for w in weights)
    assert len(set(weights)) == 50  # no two alike: symmetry is broken
    assert _data(layer.bias) == [0.0] * 5


def test_the_same_seed_gives_the_same_layer_and_another_seed_another() -> None:
    def weights(layer: nn.Dense) -> list[float]:
        return _data(layer.trainable_variables)

    assert weights(nn.Dense(3, 2)) == weights(nn.Dense(3, 2)) == weights(nn.Dense(3, 2, seed=0))
    assert weights(nn.Dense(3, 2, seed=1)) != weights(nn.Dense(3, 2, seed=0))
    assert weights(nn.Dense(3, 2, rng=random.Random(5))) == weights(nn.Dense(3, 2, seed=5))


def test_dense_rejects_seed_and_rng_together_and_bad_sizes() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="seed or rng, not both"):
        nn.Dense(1, 1, seed=1, rng=random.Random(1))
    with pytest.raises(mt.DomainError, match="in_features must be at least 1, got 0"):
        nn.Dense(0, 1)
    with pytest.raises(mt.ArgumentTypeError, match="out_features must be an int"):
        nn.Dense(1, 2.0)  # type: ignore[arg-type]


def test_dense_refuses_an_input_of_the_wrong_length() -> None:
    with pytest.raises(ShapeError, match="expected 2 input"):
        nn.Dense(2, 1)([1.0, 2.0, 3.0])
    assert issubclass(ShapeError, mt.MicrotapeError) and issubclass(ShapeError, ValueError)


@pytest.mark.parametrize("model", [nn.Dense(1, 1), nn.MLP(1, [2], 1)], ids=["Dense", "MLP"])
def test_a_model_called_on_a_bare_number_names_the_mistake_and_the_fix(
    model: nn.Module,
) -> None:
    name = type(model).__name__
    with pytest.raises(mt.ArgumentTypeError, match=rf"^{name}: got a single number, 1\.0;.*"):
        model(1.0)  # type: ignore[arg-type]
    with pytest.raises(mt.ArgumentTypeError, match=r"write model\(\[1\.0\]\)"):
        model(1.0)  # type: ignore[arg-type]
    with pytest.raises(mt.ArgumentTypeError, match=r"a single Value, Value\(2\.0\)"):
        model(mt.Value(2.0))  # type: ignore[arg-type]
    assert len(model([1.0])) == 1  # the fix works


def test_a_model_called_on_a_batch_says_to_call_it_per_sample() -> None:
    with pytest.raises(
        mt.ArgumentTypeError, match=loose(r"input 0 is a list.*\[model\(x\) for x in batch\]")
    ):
        nn.Dense(2, 1)([[1.0, 2.0]])  # type: ignore[list-item]


def test_a_model_called_on_text_or_a_set_is_refused_as_not_a_sample() -> None:
    for bad in ("12", {1.0}):
        with pytest.raises(mt.ArgumentTypeError, match="inputs must be one sample"):
            nn.Dense(2, 1)(bad)  # type: ignore[arg-type]


def test_dense_repr_names_its_activation() -> None:
    assert repr(nn.Dense(2, 3)) == "Dense(2, 3)"
    assert repr(nn.Dense(2, 3, mt.relu)) == "Dense(2, 3, activation=relu)"
    assert repr(nn.Dense(2, 3, "tanh")) == "Dense(2, 3, activation=tanh)"


# ---- Sequential and MLP --------------------------------------------------------------------


def test_sequential_feeds_each_layer_the_outputs_of_the_last() -> None:
    first, second = nn.Dense(2, 3, mt.tanh, seed=1), nn.Dense(3, 1, seed=2)
    model = nn.Sequential([first, second])
    x = [0.3, -0.7]
    assert _data(model(x)) == _data(second(first(x)))
    assert model.count_params() == first.count_params() + second.count_params()


def test_sequential_takes_plain_functions_and_needs_a_layer() -> None:
    double = nn.Sequential([lambda xs: [mt.Value(2.0) * x for x in xs]])
    assert _data(double([1.0, 2.5])) == [2.0, 5.0]
    with pytest.raises(ShapeError, match="at least one layer"):
        nn.Sequential([])
    with pytest.raises(mt.ArgumentTypeError, match="layer 1 must be a module"):
        nn.Sequential([nn.Dense(1, 1), 3])  # type: ignore[list-item]


def test_mlp_builds_dense_layers_with_hidden_and_output_activations() -> None:
    model = nn.MLP(3, [4, 5], 2, activation=mt.relu, output_activation=mt.sigmoid)
    layers = model.layers
    assert [repr(layer) for layer in layers] == [
        "Dense(3, 4, activation=relu)",
        "Dense(4, 5, activation=relu)",
        "Dense(5, 2, activation=sigmoid)",
    ]
    assert model.count_params() == (3 * 4 + 4) + (4 * 5 + 5) + (5 * 2 + 2)
    assert all(0.0 < y.data < 1.0 for y in model([1.0, -2.0, 0.5]))


def test_mlp_layers_draw_different_weights_but_the_same_seed_repeats() -> None:
    model = nn.MLP(2, [2], 2, seed=4)
    first, second = model.layers
    assert isinstance(first, nn.Dense) and isinstance(second, nn.Dense)
    assert _data(first.kernel[0]) != _data(second.kernel[0])
    again = nn.MLP(2, [2], 2, seed=4)
    assert _data(again.trainable_variables) == _data(model.trainable_variables)


def test_mlp_rejects_hidden_that_is_not_a_list() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="hidden must be a list"):
        nn.MLP(2, 8, 1)  # type: ignore[arg-type]


def test_every_mlp_parameter_gets_a_gradient() -> None:
    model = nn.MLP(2, [3, 3], 1, seed=9)
    with mt.GradientTape() as tape:
        (y,) = model([0.4, -0.1])
    grads = tape.gradient(y, model.trainable_variables)
    assert all(g is not None for g in grads)


def test_a_forward_pass_outside_the_tape_leaves_the_parameters_without_gradients() -> None:
    model = nn.MLP(2, [3], 1)
    (y,) = model([1.0, 2.0])  # no tape is recording: just numbers
    with mt.GradientTape() as tape:
        loss = y * y
    assert tape.gradient(loss, model.trainable_variables) == [None] * model.count_params()
