"""micrograd's idioms on a Value: the unary ops as methods (``x.relu()``), and the
attributes a tape replaces (``.backward()``, ``.grad``, ``.zero_grad()``,
``.parameters()``), which raise an error showing the tape's way."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import pytest

import microtape as mt
from microtape.core.values.builtins import BUILTINS

UNARY = [op for op in BUILTINS if op.arity == 1]


def test_every_builtin_op_of_one_argument_is_a_method() -> None:
    assert {op.name for op in UNARY} == {
        "abs", "neg", "exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sqrt",
    }  # fmt: skip
    for op in UNARY:
        assert callable(getattr(mt.Value(1.0), op.name)), op.name


@pytest.mark.parametrize("op", UNARY, ids=lambda o: o.name)
def test_a_method_records_what_the_op_records(op: mt.Op) -> None:
    rows = []
    for apply in (lambda v: getattr(v, op.name)(), lambda v: op(v)):
        x = mt.Value(0.75)
        with mt.GradientTape(persistent=True) as tape:
            y = apply(x)
        assert isinstance(y, mt.Value)
        (record,) = tape.view().records
        g = tape.gradient(y, x)
        assert g is not None
        rows.append((record.op, y.data, record.partials, g.data))
    assert rows[0] == rows[1]
    assert rows[0][0] is op


def test_methods_chain_and_differentiate_to_second_order() -> None:
    x = mt.Value(0.5)
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            y = (x * 3.0).tanh().exp()
        dy = inner.gradient(y, x)
    assert dy is not None
    d2 = outer.gradient(dy, x)
    check = mt.hessian(lambda v: mt.exp(mt.tanh(v * 3.0)))(0.5)
    assert d2 is not None and d2.data == pytest.approx(check, rel=1e-12)


def test_methods_compile_with_mt_function() -> None:
    @mt.function
    def step(x: mt.Value) -> tuple[mt.Value, mt.Value | None]:
        with mt.GradientTape() as tape:
            y = x.sigmoid().log() + x.relu()
        return y, tape.gradient(y, x)

    for point in (0.3, 1.7, 2.5):
        y, g = step(mt.Value(point))
        y0, g0 = step.python_function(mt.Value(point))
        assert (y.data, g and g.data) == (y0.data, g0 and g0.data)
    assert "sigmoid" in step.code(mt.Value(1.0))


MISSING: list[tuple[str, Callable[[mt.Value], object]]] = [
    (".backward()", lambda x: x.backward()),  # type: ignore[attr-defined]
    (".grad", lambda x: x.grad),  # type: ignore[attr-defined]
    (".zero_grad()", lambda x: x.zero_grad()),  # type: ignore[attr-defined]
    (".parameters()", lambda x: x.parameters()),  # type: ignore[attr-defined]
]


@pytest.mark.parametrize(("what", "use"), MISSING, ids=[m[0] for m in MISSING])
def test_micrograd_attributes_raise_showing_the_tape_way(
    what: str, use: Callable[[mt.Value], object]
) -> None:
    x = mt.Value(2.0)
    with pytest.raises(mt.GradAttributeError) as raised:
        use(x)
    assert isinstance(raised.value, AttributeError)
    assert isinstance(raised.value, mt.MicrotapeError)
    message = str(raised.value)
    prose = [line for line in message.splitlines() if not line.startswith(" ")]
    code = [line for line in message.splitlines() if line.startswith(" ")]
    assert prose[0].startswith(f"Value(2.0) has no {what}: ")
    assert all(len(line) <= 100 for line in prose)  # wrapped, the code kept as it is
    assert code == [
        "    with mt.GradientTape() as tape:  loss = ...",
        "    grads = tape.gradient(loss, [w, b])  # in the structure of [w, b]",
    ]


def test_setting_grad_raises_too_and_changes_nothing() -> None:
    x = mt.Value(2.0)
    with pytest.raises(mt.GradAttributeError, match=r"no \.grad to set"):
        x.grad = 0.0  # type: ignore[attr-defined]
    assert x.data == 2.0


def test_the_missing_attributes_look_missing_to_python() -> None:
    x = mt.Value(2.0)
    assert not hasattr(x, "grad")
    assert getattr(x, "grad", None) is None
    assert pickle.loads(pickle.dumps(x)).data == 2.0  # no probing of these names breaks


def test_an_error_inside_a_tape_leaves_it_usable() -> None:
    x = mt.Value(3.0)
    with mt.GradientTape() as tape:
        y = x * x
        with pytest.raises(AttributeError):
            y.backward()  # type: ignore[attr-defined]
    g = tape.gradient(y, x)
    assert g is not None and g.data == 6.0
