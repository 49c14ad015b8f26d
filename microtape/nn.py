"""Models built from Values: ``Module``, ``Dense``, ``Sequential`` and ``MLP``.

Everything here uses only what a user can use (``Value``, the ops, looking an op up
by name, the errors, plain Python arithmetic), the way a student would write it: a
layer is a list of weights and a loop of multiply-adds. There is no hidden graph and no ``.grad``
slot. A model's forward pass is recorded like any other arithmetic, and only if it
runs inside ``with tape:``::

    import microtape as mt
    from microtape import nn, optim

    model = nn.MLP(2, [8, 8], 1, seed=0)
    optimizer = optim.Adam(learning_rate=0.05)
    with mt.GradientTape() as tape:
        loss = ...  # computed from model(x) inside the block
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))

Parameters are ordinary Values; an optimizer changes them in place by assigning
``p.data``, so the model keeps the same Value objects for its whole life.

Those public names are imported here from the modules that define them, not from
``microtape`` itself: ``import microtape`` loads this module the first time ``mt.nn``
is used, and a module the package loads must not import the package back
(``tests/core/test_layout.py`` finds import cycles).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from typing import TypeAlias, Union

from .core.errors import ArgumentTypeError, DomainError, ShapeError
from .core.values.builtins import tanh
from .core.values.names import give
from .core.values.value import Value
from .core.words import counted
from .registry.table import op as op_named

__all__ = ["MLP", "Activation", "Dense", "Module", "Sequential", "ShapeError"]

Activation: TypeAlias = Union[Callable[[Value], Value], str, None]
"""What a layer applies to each output: None (identity), a one-argument op such as
``mt.relu``, its registered name (``"relu"``), or any function from Value to Value."""

Layer: TypeAlias = Callable[[Sequence[Union[Value, float]]], list[Value]]
"""Anything a ``Sequential`` can chain: a function from a list of inputs to a list of outputs."""


class Module:
    """The base of every model: finds its parameters and maps inputs to outputs.

    A subclass stores its parameters as attributes: Values, sub-modules, or lists,
    tuples and dicts of them. ``trainable_variables`` collects every Value found that
    way, in the order the attributes were assigned, each Value once. Subclasses
    implement ``__call__``.

    Example:
        >>> import microtape as mt
        >>> from microtape import nn
        >>> class Line(nn.Module):
        ...     def __init__(self) -> None:
        ...         self.slope = mt.Value(2.0)
        ...         self.intercept = mt.Value(1.0)
        ...     def __call__(self, inputs):
        ...         return [self.slope * inputs[0] + self.intercept]
        >>> line = Line()
        >>> line([3.0])
        [Value(7.0)]
        >>> line.trainable_variables
        [Value(2.0), Value(1.0)]
    """

    def __call__(self, inputs: Sequence[Value | float]) -> list[Value]:
        """Compute the outputs from ``inputs``; every model defines this."""
        raise NotImplementedError(f"{type(self).__name__} must define __call__(inputs)")

    def __setattr__(self, name: str, value: object) -> None:
        """Set the attribute, and name each parameter found in it by its path from this
        module (``kernel[1][0]``; ``layers[0].kernel[1][0]`` once a Sequential holds
        the layer), the name ``print(tape)``, ``to_dot`` and the others show. A Value
        given a name of its own (``mt.Value(x, name="w")``) keeps it."""
        super().__setattr__(name, value)
        _name_parameters(name, value)

    @property
    def trainable_variables(self) -> list[Value]:
        """Every parameter Value of this module and its sub-modules, each once, in order."""
        found: dict[Value, None] = {}  # a dict: identity-keyed, ordered, no duplicates
        seen_modules: set[int] = set()
        # An explicit stack, not recursion, and items pushed in reverse so they pop in
        # attribute order: deep or wide models cost a loop, never a RecursionError.
        stack: list[object] = [self]
        while stack:
            item = stack.pop()
            if type(item) is Value:
                found.setdefault(item)
            elif isinstance(item, Module):
                if id(item) in seen_modules:  # the modules are alive: ids cannot be reused
                    continue
                seen_modules.add(id(item))
                stack.extend(reversed(list(vars(item).values())))
            elif isinstance(item, (list, tuple)):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                stack.extend(reversed(list(item.values())))
        return list(found)

    def count_params(self) -> int:
        """How many numbers training adjusts: ``len(self.trainable_variables)``.

        Example:
            >>> from microtape import nn
            >>> nn.Dense(3, 2).count_params()   # 3 * 2 weights + 2 biases
            8
        """
        return len(self.trainable_variables)


def _name_parameters(path: str, item: object) -> None:
    """Give each Value found in ``item`` (through modules, lists, tuples and dicts, as
    ``trainable_variables`` finds them) its path under ``path``, the first path found."""
    named: set[int] = set()  # by node
    seen_modules: set[int] = set()
    stack: list[tuple[str, object]] = [(path, item)]  # no recursion, as trainable_variables
    while stack:
        where, item = stack.pop()
        if type(item) is Value:
            if item.node not in named:
                named.add(item.node)
                give(item, where, by_nn=True)
        elif isinstance(item, Module):
            if id(item) in seen_modules:
                continue
            seen_modules.add(id(item))
            stack.extend(reversed([(f"{where}.{k}", v) for k, v in vars(item).items()]))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed([(f"{where}[{i}]", v) for i, v in enumerate(item)]))
        elif isinstance(item, dict):
            stack.extend(reversed([(f"{where}[{k!r}]", v) for k, v in item.items()]))


def _activation(activation: Activation) -> Callable[[Value], Value] | None:
    """The activation as a function, looking a name up in the op registry."""
    if activation is None:
        return None
    if isinstance(activation, str):
        op = op_named(activation)  # UnknownOpError suggests close names
        if op.arity != 1:
            raise ArgumentTypeError(
                f"Dense: activation {activation!r} takes {op.arity} arguments; an activation "
                "takes one"
            )
        return op
    if not callable(activation):
        raise ArgumentTypeError(
            "Dense: activation must be None, an op such as mt.relu, its name, or a function "
            f"from Value to Value; got {type(activation).__name__} {activation!r}"
        )
    return activation


def _sample(owner: str, inputs: object) -> Sequence[Value | float]:
    """``inputs`` checked to be one sample: a flat list (or tuple) of numbers or Values.

    A model called on a bare number (``model(1.0)``) or on a batch (``model([[1.0, 2.0]])``)
    would otherwise fail deep inside with ``object of type 'float' has no len()``; this
    names the mistake and the fix.
    """
    if type(inputs) is Value or isinstance(inputs, (int, float)):
        what = "a single Value" if type(inputs) is Value else "a single number"
        raise ArgumentTypeError(
            f"{owner}: got {what}, {inputs!r}; a model takes one sample as a list of numbers "
            f"or Values, even when it has one input: write model([{inputs!r}])"
        )
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise ArgumentTypeError(
            f"{owner}: inputs must be one sample, a list of numbers or Values such as "
            f"[0.5, -1.0]; got {type(inputs).__name__} {inputs!r}"
        )
    for i, x in enumerate(inputs):
        if isinstance(x, (list, tuple)):
            raise ArgumentTypeError(
                f"{owner}: input {i} is a {type(x).__name__}; a model takes one sample at a "
                "time, a flat list of numbers or Values. For a batch, call it once per "
                "sample: [model(x) for x in batch]"
            )
    return inputs


def _positive_int(owner: str, name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise ArgumentTypeError(f"{owner}: {name} must be an int, got {type(n).__name__} {n!r}")
    if n < 1:
        raise DomainError(f"{owner}: {name} must be at least 1, got {n}")
    return n


def _rng(owner: str, seed: int | None, rng: random.Random | None) -> random.Random:
    if rng is not None:
        if seed is not None:
            raise ArgumentTypeError(f"{owner}: give seed or rng, not both")
        if not isinstance(rng, random.Random):
            raise ArgumentTypeError(
                f"{owner}: rng must be a random.Random, got {type(rng).__name__}"
            )
        return rng
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ArgumentTypeError(f"{owner}: seed must be an int, got {seed!r}")
    return random.Random(0 if seed is None else seed)


class Dense(Module):
    """A fully connected layer: ``out[j] = activation(bias[j] + sum_i x[i] * kernel[i][j])``.

    The kernel starts Glorot-uniform (uniform in ``±sqrt(6 / (in + out))``, as in
    Keras), the bias at zero. The random numbers come from ``random.Random(seed)``:
    the same seed gives the same layer every run, so examples and tests are
    reproducible. Pass ``rng`` instead to draw several layers from one stream.

    Args:
        in_features: how many inputs each call takes.
        out_features: how many outputs (units) it returns.
        activation: None, a one-argument op (``mt.relu``, ``mt.tanh``), its name,
            or any function from Value to Value.
        seed: seeds the weights; None means 0.
        rng: a ``random.Random`` to draw the weights from, instead of ``seed``.

    Raises:
        ArgumentTypeError: for a size that is not an int, or a bad activation.
        DomainError: for a size below 1.

    Example:
        >>> import microtape as mt
        >>> from microtape import nn
        >>> layer = nn.Dense(2, 1, activation=mt.relu)
        >>> layer.kernel[0][0].data, layer.kernel[1][0].data = 0.5, -1.0
        >>> layer([4.0, 1.0])          # relu(0 + 4 * 0.5 + 1 * -1)
        [Value(1.0)]
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: Activation = None,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.in_features = _positive_int("Dense", "in_features", in_features)
        self.out_features = _positive_int("Dense", "out_features", out_features)
        self.activation = activation
        self._apply = _activation(activation)
        draw = _rng("Dense", seed, rng)
        limit = math.sqrt(6.0 / (in_features + out_features))
        # kernel[i][j] weighs input i in output j: Keras's layout, so the trainable
        # variables come in the order a Keras user expects (kernel, then bias).
        self.kernel: list[list[Value]] = [
            [Value(draw.uniform(-limit, limit)) for _ in range(out_features)]
            for _ in range(in_features)
        ]
        self.bias: list[Value] = [Value(0.0) for _ in range(out_features)]

    def __call__(self, inputs: Sequence[Value | float]) -> list[Value]:
        """The layer's outputs for one sample of ``in_features`` inputs.

        Raises:
            ShapeError: if ``inputs`` has another length.
            ArgumentTypeError: if ``inputs`` is not one sample (a bare number, a batch).
        """
        inputs = _sample("Dense", inputs)
        if len(inputs) != self.in_features:
            raise ShapeError(
                f"Dense: expected {counted(self.in_features, 'input')}, got {len(inputs)}; "
                "a layer takes one sample (a list of numbers or Values) at a time"
            )
        outputs: list[Value] = []
        for j, bias in enumerate(self.bias):
            total = bias
            for x, row in zip(inputs, self.kernel, strict=True):
                total = total + row[j] * x
            outputs.append(total if self._apply is None else self._apply(total))
        return outputs

    def __repr__(self) -> str:
        act = self.activation
        name = getattr(act, "name", None) or getattr(act, "__name__", None) or act
        extra = "" if act is None else f", activation={name}"
        return f"Dense({self.in_features}, {self.out_features}{extra})"


class Sequential(Module):
    """Layers applied one after another: the outputs of each are the inputs of the next.

    Args:
        layers: modules (or any functions from a list of inputs to a list of Values).

    Example:
        >>> import microtape as mt
        >>> from microtape import nn
        >>> model = nn.Sequential([nn.Dense(2, 3, mt.tanh, seed=1), nn.Dense(3, 1, seed=2)])
        >>> len(model([0.5, -0.5]))
        1
        >>> model.count_params()       # (2*3 + 3) + (3*1 + 1)
        13
    """

    def __init__(self, layers: Iterable[Layer]) -> None:
        self.layers: list[Layer] = list(layers)
        if not self.layers:
            raise ShapeError("Sequential: give at least one layer")
        for i, layer in enumerate(self.layers):
            if not callable(layer):
                raise ArgumentTypeError(
                    f"Sequential: layer {i} must be a module or a function, "
                    f"got {type(layer).__name__} {layer!r}"
                )

    def __call__(self, inputs: Sequence[Value | float]) -> list[Value]:
        """Run ``inputs`` through every layer in turn.

        Raises:
            ArgumentTypeError: if ``inputs`` is not one sample (a bare number, a batch).
        """
        outputs = self.layers[0](_sample(type(self).__name__, inputs))
        for layer in self.layers[1:]:
            outputs = layer(outputs)
        return outputs

    def __repr__(self) -> str:
        return f"{type(self).__name__}([{', '.join(map(repr, self.layers))}])"


class MLP(Sequential):
    """A multilayer perceptron: Dense layers with ``activation`` between them.

    Args:
        in_features: inputs per sample.
        hidden: the width of each hidden layer, such as ``[16, 16]``.
        out_features: outputs per sample.
        activation: applied after every hidden layer (default ``mt.tanh``).
        output_activation: applied after the last layer (default None: raw
            outputs, such as the logits a ``from_logits=True`` loss expects).
        seed: seeds all the weights (None means 0); or give ``rng``.
        rng: a ``random.Random`` to draw all the weights from.

    Example:
        >>> from microtape import nn
        >>> model = nn.MLP(2, [4, 4], 1, seed=0)
        >>> model
        MLP([Dense(2, 4, activation=tanh), Dense(4, 4, activation=tanh), Dense(4, 1)])
        >>> model.count_params()       # (2*4 + 4) + (4*4 + 4) + (4*1 + 1)
        37
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: Activation = tanh,
        output_activation: Activation = None,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        given: object = hidden
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            raise ArgumentTypeError(
                f"MLP: hidden must be a list of layer widths such as [16, 16], got {hidden!r}"
            )
        draw = _rng("MLP", seed, rng)  # one stream, so no two layers start alike
        sizes = [in_features, *hidden, out_features]
        activations = [activation] * len(hidden) + [output_activation]
        super().__init__(
            Dense(n_in, n_out, act, rng=draw)
            for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations, strict=True)
        )
