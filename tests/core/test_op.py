"""Op: building one, validating its definition, calling it, and the registry."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest
from messages import loose

import microtape as mt
from microtape import Interval, Op


def _cube() -> Op:
    return Op(
        "cube", lambda x: x * x * x, [lambda x: 3.0 * x * x], sympy=lambda x: x**3, doc="x cubed"
    )


def test_calling_an_op_on_floats_gives_a_float() -> None:
    assert _cube()(2.0) == 8.0


def test_calling_an_op_on_a_value_records_it_for_first_and_second_order() -> None:
    cube = _cube()
    x = mt.Value(2.0)
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            y = cube(x)
        g = inner.gradient(y, x)
    h = outer.gradient(g, x)
    assert isinstance(y, mt.Value) and y.data == 8.0
    assert g is not None and g.data == 12.0
    assert h is not None and h.data == 12.0


def test_op_metadata() -> None:
    hyp = Op("hyp", math.hypot, [lambda a, b: a / hyp(a, b), lambda a, b: b / hyp(a, b)])
    assert hyp.arity == 2
    assert hyp.arg_names == ("a", "b")  # math.hypot has no signature: the default names
    assert repr(_cube()) == "<Op cube(x)>"


def test_op_is_frozen() -> None:
    cube = _cube()
    with pytest.raises(AttributeError, match="frozen"):
        cube.name = "other"


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"name": "not an identifier"}, "identifier"),
        ({"name": "class"}, "identifier"),
        ({"forward": 3}, "forward must be callable"),
        (
            {"derivatives": [lambda x: 1.0, lambda x: 2.0]},
            r"forward takes 1 argument.*2 derivative",
        ),
        ({"derivatives": []}, "at least one rule"),
        ({"derivatives": [1.0]}, r"derivatives\[0\] must be callable"),
        ({"derivatives": lambda x: 1.0}, "must be a list"),
        ({"sympy": "x**2"}, "sympy must be callable"),
        ({"domain": [Interval(0.0), Interval(0.0)]}, "one entry per argument"),
        ({"domain": ["positive"]}, r"domain\[0\] must be an Interval"),
    ],
)
def test_invalid_definitions_are_rejected_with_a_clear_message(
    kwargs: dict[str, Any], pattern: str
) -> None:
    spec: dict[str, Any] = {  # Any: each case breaks one part on purpose
        "name": "square",
        "forward": lambda x: x * x,
        "derivatives": [lambda x: 2.0 * x],
    }
    spec.update(kwargs)
    with pytest.raises(mt.OpDefinitionError, match=loose(pattern)):
        Op(
            spec["name"],
            spec["forward"],
            spec["derivatives"],
            sympy=spec.get("sympy"),
            domain=spec.get("domain"),
        )


def test_domain_is_checked_before_forward_runs() -> None:
    calls: list[float] = []

    def forward(x: float) -> float:
        calls.append(x)
        return math.log(x)

    mylog = Op("mylog", forward, [lambda x: 1.0 / x], domain=[Interval(0.0)])
    with pytest.raises(mt.DomainError, match=r"mylog: x=-2\.0 is outside the domain x > 0"):
        mylog(-2.0)
    assert calls == []
    assert mylog.describe_domain() == "x > 0"


def test_interval_descriptions_and_membership() -> None:
    assert Interval(-1.0, 1.0, include_high=True).describe("x") == "-1 < x <= 1"
    assert Interval().describe("t") == "any t"
    assert Interval(high=0.0).describe("b") == "b < 0"
    assert Interval(0.0).excludes(0.0) and not Interval(0.0, include_low=True).excludes(0.0)
    assert not Interval(0.0).excludes(math.nan)  # NaN propagates; it is never "outside"
    with pytest.raises(mt.OpDefinitionError):
        Interval(1.0, 0.0)


def test_a_forward_returning_a_complex_number_raises_domain_error() -> None:
    root = Op("root", lambda x: x**0.5, [lambda x: 0.5 / root(x)])
    with pytest.raises(mt.DomainError, match=r"root: the value at x=-4\.0 is not real"):
        root(-4.0)


def test_a_forward_that_overflows_raises_domain_error_naming_the_op() -> None:
    big = Op("big", lambda x: math.exp(x), [lambda x: big(x)])
    with pytest.raises(mt.DomainError, match=r"big: the value overflows a float at x=1000\.0"):
        big(1000.0)


def test_a_rule_returning_nan_at_a_finite_point_raises_on_record() -> None:
    bad = Op("bad", lambda x: x, [lambda x: math.nan])
    assert bad(1.0) == 1.0
    with mt.GradientTape():
        with pytest.raises(mt.DomainError, match="derivative with respect to x is NaN"):
            bad(mt.Value(1.0))


def test_a_rule_returning_a_non_number_raises_op_definition_error() -> None:
    bad = Op("bad", lambda x: x, [lambda x: "one"])  # type: ignore[list-item, return-value]
    with mt.GradientTape():
        with pytest.raises(mt.OpDefinitionError, match=r"derivatives\[0\] returned str"):
            bad(mt.Value(1.0))


# ---- the registry ------------------------------------------------------------------------------


def test_register_then_look_up_by_name_and_attribute() -> None:
    op = Op("registry_example_square", lambda x: x * x, [lambda x: 2.0 * x])
    assert mt.register(op) is op
    assert mt.op("registry_example_square") is op
    assert mt.ops.registry_example_square is op


def test_registering_a_taken_name_raises_conflict() -> None:
    with pytest.raises(mt.OpConflictError, match="'sin' is already taken by a built-in op"):
        mt.register(Op("sin", math.sin, [lambda x: mt.cos(x)]))
    assert mt.op("sin") is mt.sin


def test_register_rejects_non_ops() -> None:
    with pytest.raises(TypeError, match="expected an Op"):
        mt.register(math.sin)  # type: ignore[arg-type]


def test_unknown_op_is_a_lookup_error_suggesting_close_names() -> None:
    with pytest.raises(mt.UnknownOpError, match="did you mean 'sigmoid'") as info:
        mt.op("sigmod")
    assert isinstance(info.value, LookupError)
    with pytest.raises(AttributeError, match="sigmod"):
        mt.ops.sigmod  # noqa: B018


def test_ops_namespace_lists_ops() -> None:
    assert "relu" in dir(mt.ops)
    assert mt.ops.relu is mt.relu


def test_builtin_ops_pickle_by_name() -> None:
    assert pickle.loads(pickle.dumps(mt.sin)) is mt.sin
