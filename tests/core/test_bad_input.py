"""Bad input: a clear error saying what was expected, and a tape that still works afterwards.

Complements test_value.py and test_tape.py (which check the basic refusals): here every
refusal is followed by a correct call on the same tape, persistent or not, and domain
errors are provoked in the middle of larger recordings, with Values and plain numbers on
either side, to show that nothing is recorded half-way. That a structure containing itself
is refused rather than followed forever is checked in a child process, which a hang cannot
stop, in ``tests/integration/test_self_containing_input.py``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from messages import loose

import microtape as mt
from microtape import GradientTape, Value

# ---- objects a user might pass -----------------------------------------------------------------


class ArrayWithoutFloat:
    """A numpy-like scalar that cannot be converted to float."""

    def __init__(self, x: float) -> None:
        self.x = x

    def __repr__(self) -> str:
        return f"ArrayWithoutFloat({self.x})"

    def __array__(self) -> list[float]:
        return [self.x]


class ArrayWithFloat:
    """A numpy-like scalar (as numpy.float32) that converts to float."""

    def __init__(self, x: float) -> None:
        self.x = x

    def __float__(self) -> float:
        return self.x


class OnlyIndex:
    """An integer-like object with __index__ but no __float__."""

    def __index__(self) -> int:
        return 3


class Colour(enum.IntEnum):
    RED = 2


# ---- Value(...) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [ArrayWithoutFloat(1.0), OnlyIndex(), bytearray(b"1"), (1.0,), {1.0}, {"x": 1.0}, 2 + 0j],
    ids=["array-without-float", "index-only", "bytearray", "tuple", "set", "dict", "complex"],
)
def test_value_from_a_non_number_names_its_type_and_what_is_expected(bad: object) -> None:
    with pytest.raises(mt.ArgumentTypeError) as info:
        Value(bad)  # type: ignore[arg-type]
    message = str(info.value)
    assert type(bad).__name__ in message
    assert "real number" in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (Decimal("2.5"), 2.5),
        (Fraction(3, 8), 0.375),
        (ArrayWithFloat(1.25), 1.25),
        (Colour.RED, 2.0),
        (Decimal("-Infinity"), -math.inf),
    ],
    ids=["decimal", "fraction", "array-with-float", "int-enum", "decimal-inf"],
)
def test_value_from_a_real_number_type_holds_its_float(given: Any, expected: float) -> None:
    x = Value(given)
    assert type(x.data) is float
    assert x.data == expected


def test_value_from_a_numpy_like_scalar_differentiates_like_a_float() -> None:
    x = Value(ArrayWithFloat(3.0))
    with GradientTape() as tape:
        y = x * x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 6.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: Value(10**400),
        lambda: Value(Fraction(10**400, 3)),
        lambda: mt.exp(10**400),
        lambda: Value(1.0) * 10**400,
    ],
    ids=["Value(int)", "Value(Fraction)", "exp(int)", "Value*int"],
)
def test_an_integer_too_large_for_a_float_raises_an_error_of_the_tree(
    call: Callable[[], object],
) -> None:
    # Python's own float(10**400) raises OverflowError, which is outside microtape's
    # documented error tree; the number is real, so it is a domain problem, not a type one.
    with pytest.raises(mt.MicrotapeError):
        call()


@pytest.mark.parametrize("bad", ["2.0", None, 1j, ArrayWithoutFloat(2.0)])
def test_a_refused_data_assignment_keeps_the_number_and_is_no_change(bad: object) -> None:
    x = Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = x * x
    with pytest.raises(TypeError):
        x.data = bad  # type: ignore[assignment]
    assert x.data == 3.0
    g = tape.gradient(y, x)  # a refused assignment changed nothing: no in-place error
    assert g is not None and g.data == 6.0


@pytest.mark.parametrize("flag", ["persistent", "watch_accessed_variables"])
@pytest.mark.parametrize("bad", [1, "yes", None])
def test_tape_flags_must_be_bools(flag: str, bad: object) -> None:
    with pytest.raises(mt.ArgumentTypeError, match=rf"{flag} must be a bool"):
        GradientTape(**{flag: bad})  # type: ignore[arg-type]


# ---- gradient() with bad arguments, then a correct call on the same tape -----------------------

# Each entry: (id, the bad call given (tape, y, x), the error type, a pattern of the message).
# y = x * x * 3 recorded with x = 2, so the correct gradient is 12.
BadCall = Callable[[GradientTape, Value, Value], object]
BAD_GRADIENT_CALLS: list[tuple[str, BadCall, type[Exception], str]] = [
    ("target-float", lambda t, y, x: t.gradient(1.0, x), TypeError, r"target.*Value"),  # type: ignore[call-overload]
    ("target-str", lambda t, y, x: t.gradient("y", x), TypeError, r"target.*str"),  # type: ignore[arg-type]
    ("target-set", lambda t, y, x: t.gradient({y}, x), TypeError, r"target.*set"),  # type: ignore[call-overload]
    (
        "target-list-with-float",
        lambda t, y, x: t.gradient([y, 2.0], x),  # type: ignore[list-item]
        TypeError,
        r"target\[1\]",
    ),
    (
        "target-generator",
        lambda t, y, x: t.gradient((v for v in [y]), x),  # type: ignore[call-overload]
        TypeError,
        r"target.*generator",
    ),
    ("sources-float", lambda t, y, x: t.gradient(y, 2.0), TypeError, r"sources.*float"),
    ("sources-none", lambda t, y, x: t.gradient(y, None), TypeError, r"sources.*NoneType"),
    ("sources-str", lambda t, y, x: t.gradient(y, "x"), TypeError, r"sources.*str"),
    ("sources-set", lambda t, y, x: t.gradient(y, {x}), TypeError, r"sources.*set"),
    (
        "sources-numpy-like",
        lambda t, y, x: t.gradient(y, [x, ArrayWithFloat(1.0)]),
        TypeError,
        r"sources\[1\].*ArrayWithFloat",
    ),
    (
        "sources-nested-none",
        lambda t, y, x: t.gradient(y, {"a": [x, None]}),
        TypeError,
        r"sources\['a'\]\[1\]",
    ),
    (
        "output-gradients-too-many",
        lambda t, y, x: t.gradient(y, x, output_gradients=[1.0, 1.0]),
        ValueError,
        r"output_gradients has 2 entries but target has 1",
    ),
    (
        "output-gradients-too-few",
        lambda t, y, x: t.gradient([y, y], x, output_gradients=[1.0]),
        ValueError,
        r"one upstream gradient per target",
    ),
    (
        "output-gradients-empty",
        lambda t, y, x: t.gradient(y, x, output_gradients=[]),
        ValueError,
        r"output_gradients has 0 entries",
    ),
    (
        "output-gradients-str",
        lambda t, y, x: t.gradient(y, x, output_gradients="1"),
        TypeError,
        r"output_gradients.*str",
    ),
    (
        "output-gradients-complex",
        lambda t, y, x: t.gradient(y, x, output_gradients=1j),
        TypeError,
        r"output_gradients.*complex",
    ),
    (
        "output-gradients-none-inside",
        lambda t, y, x: t.gradient([y, y], x, output_gradients=[1.0, None]),
        TypeError,
        r"output_gradients.*NoneType",
    ),
    (
        "mode-upper-case",
        lambda t, y, x: t.gradient(y, x, unconnected_gradients="ZERO"),  # type: ignore[call-overload]
        ValueError,
        r"unconnected_gradients must be one of 'none', 'zero'.*got 'ZERO'",
    ),
    (
        "mode-none",
        lambda t, y, x: t.gradient(y, x, unconnected_gradients=None),  # type: ignore[call-overload]
        ValueError,
        r"unconnected_gradients must be one of.*got None",
    ),
    (
        "mode-list",
        lambda t, y, x: t.gradient(y, x, unconnected_gradients=["zero"]),  # type: ignore[call-overload]
        ValueError,
        r"unconnected_gradients must be one of.*got \['zero'\]",
    ),
    (
        "jacobian-targets-str",
        lambda t, y, x: t.jacobian("y", x),
        TypeError,
        r"jacobian: targets: expected a Value or None.*targets is str 'y'",
    ),
    (
        "jacobian-target-float",
        lambda t, y, x: t.jacobian([y, 1.0], x),
        TypeError,
        r"target.*float",
    ),
    (
        "jacobian-sources-str",
        lambda t, y, x: t.jacobian([y], "x"),
        TypeError,
        r"sources.*str",
    ),
    (
        "jacobian-mode",
        lambda t, y, x: t.jacobian([y], x, unconnected_gradients="zeros"),  # type: ignore[call-overload]
        ValueError,
        r"unconnected_gradients must be one of",
    ),
    ("watch-float", lambda t, y, x: t.watch(x, 1.0), TypeError, r"watch: argument 1"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("persistent", [False, True], ids=["non-persistent", "persistent"])
@pytest.mark.parametrize(
    ("bad_call", "error", "pattern"),
    [
        pytest.param(call, error, pattern, id=name)
        for name, call, error, pattern in BAD_GRADIENT_CALLS
    ],
)
def test_a_refused_gradient_call_says_what_was_expected_and_leaves_the_tape_working(
    persistent: bool, bad_call: BadCall, error: type[Exception], pattern: str
) -> None:
    x = Value(2.0)
    with GradientTape(persistent=persistent) as tape:
        y = x * x * 3.0
    with pytest.raises(error, match=loose(pattern)):
        bad_call(tape, y, x)
    assert "2 records" in repr(tape)
    g = tape.gradient(y, x)
    assert g is not None and g.data == 12.0


@pytest.mark.parametrize(
    ("bad_call", "error", "pattern"),
    [
        pytest.param(call, error, pattern, id=name)
        for name, call, error, pattern in BAD_GRADIENT_CALLS
    ],
)
def test_a_refused_gradient_call_inside_a_persistent_block_records_nothing(
    bad_call: BadCall, error: type[Exception], pattern: str
) -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = x * x * 3.0
        with pytest.raises(error, match=loose(pattern)):
            bad_call(tape, y, x)
        assert "2 records" in repr(tape)
        g = tape.gradient(y, x)  # recorded on the tape itself: a second derivative follows
    assert g is not None and g.data == 12.0
    h = tape.gradient(g, x)
    assert h is not None and h.data == 6.0


def test_a_refused_call_on_an_outer_tape_leaves_both_tapes_working() -> None:
    x = Value(2.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x * x * x
        with pytest.raises(TypeError):
            inner.gradient(y, "x")
        with pytest.raises(ValueError):
            inner.gradient(y, x, unconnected_gradients="all")  # type: ignore[call-overload]
        g = inner.gradient(y, x)
    h = outer.gradient(g, x)
    assert g is not None and h is not None and (g.data, h.data) == (12.0, 12.0)


def test_output_gradients_match_a_target_that_holds_none() -> None:
    # gradient() documents None in the target (an unconnected gradient differentiated again);
    # an output_gradients of the same structure must be accepted, its None slot ignored.
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
    g = tape.gradient([y, None], x, output_gradients=[3.0, 5.0])
    assert g is not None and g.data == 12.0


def test_a_value_as_output_gradient_on_the_first_order_path_is_used_as_a_number() -> None:
    x, upstream = Value(2.0), Value(0.5)
    with GradientTape() as tape:
        y = x * x
    g = tape.gradient(y, x, output_gradients=upstream)
    assert g is not None and g.data == 2.0 and g is not upstream


# ---- domain errors: in the call, with nothing recorded half-way --------------------------------

# Each: (id, the call, the op it names, the number it names). Values and plain numbers on
# either side; every one is outside the domain on its own.
DOMAIN_CALLS: list[tuple[str, Callable[[], object], str, str]] = [
    ("log(0)", lambda: mt.log(0.0), "log", "x=0.0"),
    ("log(V0)", lambda: mt.log(Value(0.0)), "log", "x=0.0"),
    ("log(-1)", lambda: mt.log(-1), "log", "x=-1.0"),
    ("log(V-1)", lambda: mt.log(Value(-1.0)), "log", "x=-1.0"),
    ("sqrt(-1)", lambda: mt.sqrt(-1.0), "sqrt", "x=-1.0"),
    ("sqrt(V-1)", lambda: mt.sqrt(Value(-1.0)), "sqrt", "x=-1.0"),
    ("V/0", lambda: Value(1.0) / 0, "div", "b=0.0"),
    ("1/V0", lambda: 1.0 / Value(0.0), "div", "b=0.0"),
    ("V/V0", lambda: Value(1.0) / Value(0.0), "div", "b=0.0"),
    ("V/-0.0", lambda: Value(1.0) / -0.0, "div", "b=-0.0"),
    ("div(1,0)", lambda: mt.op("div")(1.0, 0.0), "div", "b=0.0"),
    ("V0**-1", lambda: Value(0.0) ** -1, "pow", "x=0.0, y=-1.0"),
    ("0**V-1", lambda: 0.0 ** Value(-1.0), "pow", "x=0.0, y=-1.0"),
    ("V0**V-1", lambda: Value(0.0) ** Value(-1.0), "pow", "x=0.0, y=-1.0"),
    ("pow(0,-1)", lambda: mt.pow(0.0, -1.0), "pow", "x=0.0, y=-1.0"),
    ("V-8**(1/3)", lambda: Value(-8.0) ** (1 / 3), "pow", "x=-8.0"),
    ("-8**V(1/3)", lambda: (-8.0) ** Value(1 / 3), "pow", "x=-8.0"),
    ("V-8**V(1/3)", lambda: Value(-8.0) ** Value(1 / 3), "pow", "x=-8.0"),
    ("pow(-8,1/3)", lambda: mt.pow(-8.0, 1 / 3), "pow", "x=-8.0"),
]
DOMAIN_PARAMS = [pytest.param(call, op, number, id=name) for name, call, op, number in DOMAIN_CALLS]


@pytest.mark.parametrize(("call", "op", "number"), DOMAIN_PARAMS)
def test_outside_any_tape_a_domain_error_names_op_and_number_and_is_a_value_error(
    call: Callable[[], object], op: str, number: str
) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert isinstance(info.value, mt.DomainError)
    message = str(info.value)
    assert message.startswith(f"{op}:")
    assert number in message


@pytest.mark.parametrize("persistent", [False, True], ids=["non-persistent", "persistent"])
@pytest.mark.parametrize(("call", "op", "number"), DOMAIN_PARAMS)
def test_a_domain_error_mid_recording_records_nothing_and_the_tape_goes_on(
    persistent: bool, call: Callable[[], object], op: str, number: str
) -> None:
    x = Value(3.0)
    with GradientTape(persistent=persistent) as tape:
        y = x * x
        with pytest.raises(mt.DomainError, match=rf"^{op}:"):
            call()
        assert "1 record>" in repr(tape)
        z = y * x  # recording goes on after the error
    assert "2 records" in repr(tape)
    g = tape.gradient(z, x)
    assert g is not None and g.data == 27.0


@pytest.mark.parametrize(("call", "op", "number"), DOMAIN_PARAMS)
def test_a_domain_error_that_leaves_the_block_leaves_the_recording_usable(
    call: Callable[[], object], op: str, number: str
) -> None:
    x = Value(3.0)
    tape = GradientTape()
    with pytest.raises(mt.DomainError):
        with tape:
            y = x * x
            call()
    w = x * x  # after the block: recorded nowhere
    g = tape.gradient([y, w], x)
    assert g is not None and g.data == 6.0


@pytest.mark.parametrize(("call", "op", "number"), DOMAIN_PARAMS)
def test_a_domain_error_under_nested_tapes_records_nothing_on_any(
    call: Callable[[], object], op: str, number: str
) -> None:
    x = Value(3.0)
    with GradientTape() as outer:
        with GradientTape(watch_accessed_variables=False) as inner:
            inner.watch(x)
            y = x * x * x
            with pytest.raises(mt.DomainError):
                call()
        assert "2 records" in repr(outer)
        assert "2 records" in repr(inner)
        g = inner.gradient(y, x)
    h = outer.gradient(g, x)
    assert g is not None and h is not None and (g.data, h.data) == (27.0, 18.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: mt.sqrt(x - 3.0),  # sqrt at 0: infinite slope
        lambda x: (x - 3.0) ** 0.5,  # the same through pow
        lambda x: (x - 5.0) ** x,  # d/dy of a negative base
    ],
    ids=["sqrt(0)", "0**0.5", "(-2)**x"],
)
def test_a_refused_derivative_at_record_time_records_nothing_and_the_tape_goes_on(
    call: Callable[[Value], Value],
) -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        y = x * x
        with pytest.raises(mt.DomainError, match="derivative"):
            call(x)  # its subtraction is recorded; the refused op is not
        assert "2 records" in repr(tape)
        z = y * x
    assert "3 records" in repr(tape)
    g = tape.gradient(z, x)
    assert g is not None and g.data == 27.0


def test_the_same_refused_points_are_fine_outside_any_tape() -> None:
    x = Value(3.0)
    assert mt.sqrt(x - 3.0).data == 0.0
    assert ((x - 3.0) ** 0.5).data == 0.0
    assert ((x - 5.0) ** Value(2.0)).data == 4.0
