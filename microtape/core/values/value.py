"""``Value``: one float whose arithmetic is recorded by the tapes that are recording.

A Value knows only its number and its node number. It does not point to the Values
it was computed from (micrograd's ``_prev``) and has no ``grad`` slot: the graph
lives on the tapes, which record node numbers, not Values (see ``recording/record.py``),
and gradients are returned by ``tape.gradient`` without touching shared state. So a
Value is small, holds no graph alive, is held by no graph, and two tapes, threads or
gradient calls never interfere through it.

Python's operators on Values are ops of the built-in table (``builtins.py``): ``+``
records ``add``, ``/`` is ``div``, and so on. The table hands them to this module with
:func:`use_operators` once it has built them (the operators need the ops, and an op
makes Values, so neither module can import the other; JAX wires its tracers' operators
to its primitives the same way). ``+``, ``-``, ``*`` and unary ``-`` are the hot path
and are written out here: each computes its result, numbers it, and only if some tape is
recording (one context-variable read) hands the tapes one row with its local partials
as floats. Those partials come from the table's own rules: the constants of ``add``,
``sub`` and ``neg`` are read from them, and ``mul``'s rules are checked to be the other
argument, when the table is bound.
"""

from __future__ import annotations

import itertools
import operator
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, NoReturn, SupportsFloat, TypeGuard, final

from ..errors import ArgumentTypeError, GradAttributeError, OpDefinitionError, ValueAsNumberWarning
from ..recording.context import RECORDING
from ..recording.observer import OBSERVER
from .changes import note_change
from .names import give, given
from .numbers import checked_float, constant, short_repr

if TYPE_CHECKING:
    from .op import Op

__all__ = [
    "Value",
    "is_value",
    "next_node",
    "node_value",
    "number",
    "observe",
    "read",
    "rebuilt",
    "shown",
    "use_methods",
    "use_operators",
]

_recording = RECORDING.get
_new: Final = object.__new__

next_node: Final = itertools.count().__next__
"""The next node number: one counter for the process, so a number is never reused."""


@final
class Value:
    """A float whose arithmetic is recorded by every tape that is recording.

    Args:
        data: the number; an int, a float, or any object with ``__float__``
            (such as ``numpy.float32``). A bool is its number (``True`` is 1.0), as
            in Python; a str, complex or None is refused.
        name: what ``print(tape)``, ``explain``, ``to_dot`` and the others call it
            (``"w"``). Without one, they use the variable that holds it when a tape's
            block ends, or a number (``v3``). A name changes nothing else.

    Raises:
        ArgumentTypeError: for anything that is not a real number, or a name that is
            not a non-empty str.

    Example:
        >>> import microtape as mt
        >>> x = mt.Value(3.0)
        >>> with mt.GradientTape() as tape:
        ...     y = x * x + 1
        >>> tape.gradient(y, x)
        Value(6.0)
    """

    # `_data` and `_id` are read directly by `op.py`'s call paths, which are as hot as
    # the operators here; only this module makes Values (`node_value`).
    __slots__ = ("__weakref__", "_data", "_id")

    _data: float
    _id: int  # the node number tapes record this Value by

    def __init__(self, data: SupportsFloat, *, name: str | None = None) -> None:
        if type(data) is float:
            self._data = data
            self._id = next_node()
        elif type(data) is Value and _observing:
            self._data = data._data
            self._id = next_node()
            observer = OBSERVER.get()
            if observer is None or not observer.copied(self, data):
                _to_float(data)  # raises, as always for a Value
        else:
            self._data = _to_float(data)
            self._id = next_node()
        if name is not None:
            give(self, name)  # beside the Value, by node number: it has no slot for one

    # ---- the number ---------------------------------------------------------------------

    @property
    def data(self) -> float:
        """The float this Value holds. Assigning it changes the Value in place."""
        if _observing:
            _read(self, ".data")
        return self._data

    @data.setter
    def data(self, new: SupportsFloat) -> None:
        number = _to_float(new)
        note_change(self)
        self._data = number

    @property
    def node(self) -> int:
        """The node number tapes record this Value by (never reused in a process)."""
        return self._id

    @property
    def name(self) -> str | None:
        """The name given with ``Value(x, name=...)``, or the path of an ``mt.nn``
        parameter (``layers[0].kernel[1][0]``); None if it has none. Displays also name
        a Value by the variable that holds it when a tape's block ends."""
        return given(self._id)

    def __float__(self) -> float:
        if _observing and _read(self, "float()"):
            return self._data  # a float argument, seen as a Value while traced: no warning
        sink = _recording()
        if sink is not None and sink.watches(self._id):
            warnings.warn(
                f"float() of {shown(self)} while a tape records (math.sin(x), numpy.float64(x) "
                "and the like call it too) gives a plain float the tape cannot follow: no "
                "gradient flows through it. Use microtape's ops (mt.sin(x)) to stay on the "
                "tape, or read x.data (or work in tape.stop_recording()) if a constant is "
                "what you mean",
                ValueAsNumberWarning,
                stacklevel=2,
            )
        return self._data

    # While a function is traced (`_observing`), the text of a Value shows its number:
    # a number read, which the tracer hears of (a float argument shows as the float).
    def __repr__(self) -> str:
        if _observing and _read(self, "repr()"):
            return repr(self._data)
        return f"Value({self._data!r})"

    def __str__(self) -> str:
        if _observing and _read(self, "str()"):
            return str(self._data)
        return f"Value({self._data!r})"

    def __format__(self, spec: str) -> str:
        if _observing and _read(self, "format()"):
            return format(self._data, spec)
        return format(self._data, spec) if spec else f"Value({self._data!r})"

    def __bool__(self) -> bool:
        if _observing:
            return _compared(self, "!=", 0.0)
        return self._data != 0.0

    # == and hash are by node: two Values are equal when they are the same node of the
    # graph, which for Values a program made means the same object (Value(1.0) is not
    # == Value(1.0)). A tape rebuilds a Value it recorded as the same node
    # (`node_value`), and that one is == to the original. Order compares the numbers.
    def __eq__(self, other: object) -> bool:
        if _observing and _as_float(self, other):
            return _float_compared(self, "==", other)
        if type(other) is Value:
            return self._id == other._id
        if constant(other) is not None:
            _warn_compared(self, "==", other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if _observing and _as_float(self, other):
            return _float_compared(self, "!=", other)
        if type(other) is Value:
            return self._id != other._id
        if constant(other) is not None:
            _warn_compared(self, "!=", other)
        return NotImplemented

    def __hash__(self) -> int:
        if _observing and _stands_for_float(self):
            _read(self, "hash()")
            return hash(self._data)
        return self._id

    # While a function is traced, a float argument is seen as a Value; to isinstance()
    # it is still a float (isinstance falls back on __class__ where type() differs).
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        if _observing and _stands_for_float(self):
            return float
        return Value

    # A copy (copy, deepcopy, pickle) is a new node with the same number, never a second
    # Value of the same node, which the tapes would mistake for the original.
    def __reduce__(self) -> tuple[type[Value], tuple[float]]:
        if _observing:
            _read(self, "a copy")
        return (Value, (self._data,))

    # While a function is traced (`_observing`), an order comparison is a branch of its
    # Python code that the generated code must check: it is reported to the tracer.
    def __lt__(self, other: Value | float) -> bool:
        if _observing:
            return _compared(self, "<", other)
        return self._data < _operand_float(other)

    def __le__(self, other: Value | float) -> bool:
        if _observing:
            return _compared(self, "<=", other)
        return self._data <= _operand_float(other)

    def __gt__(self, other: Value | float) -> bool:
        if _observing:
            return _compared(self, ">", other)
        return self._data > _operand_float(other)

    def __ge__(self, other: Value | float) -> bool:
        if _observing:
            return _compared(self, ">=", other)
        return self._data >= _operand_float(other)

    # ---- recorded arithmetic (the hot path) -------------------------------------------------
    # Shape of every operator: compute, number the new node, then, if a tape records
    # (`sink is not None`), hand the sink one row (see `recording/record.py`): node
    # numbers, numbers and float partials, never the Values. Nothing else happens outside
    # a tape. `_ADD_A` and friends are the partials the table's rules give (`use_operators`).

    def __add__(self, other: Value | float) -> Value:
        a = self._data
        out = _new(Value)
        out._id = n = next_node()
        if type(other) is Value:
            b = other._data
            out._data = y = a + b
            sink = _recording()
            if sink is not None:
                sink.extend((n, y, self._id, a, _ADD_A, other._id, b, _ADD_B, _ADD))
            return out
        c = constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        out._data = y = a + c
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, self._id, a, _ADD_A, None, c, None, _ADD))
        return out

    def __radd__(self, other: float) -> Value:
        c = constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        b = self._data
        out = _new(Value)
        out._id = n = next_node()
        out._data = y = c + b
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, None, c, None, self._id, b, _ADD_B, _ADD))
        return out

    def __sub__(self, other: Value | float) -> Value:
        a = self._data
        out = _new(Value)
        out._id = n = next_node()
        if type(other) is Value:
            b = other._data
            out._data = y = a - b
            sink = _recording()
            if sink is not None:
                sink.extend((n, y, self._id, a, _SUB_A, other._id, b, _SUB_B, _SUB))
            return out
        c = constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        out._data = y = a - c
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, self._id, a, _SUB_A, None, c, None, _SUB))
        return out

    def __rsub__(self, other: float) -> Value:
        c = constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        b = self._data
        out = _new(Value)
        out._id = n = next_node()
        out._data = y = c - b
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, None, c, None, self._id, b, _SUB_B, _SUB))
        return out

    # mul's partials are the other argument: d(a*b)/da = b, d(a*b)/db = a.
    def __mul__(self, other: Value | float) -> Value:
        a = self._data
        out = _new(Value)
        out._id = n = next_node()
        if type(other) is Value:
            b = other._data
            out._data = y = a * b
            sink = _recording()
            if sink is not None:
                sink.extend((n, y, self._id, a, b, other._id, b, a, _MUL))
            return out
        c = constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        out._data = y = a * c
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, self._id, a, c, None, c, None, _MUL))
        return out

    def __rmul__(self, other: float) -> Value:
        c = constant(other) if type(other) is not float else other
        if c is None:
            return NotImplemented
        b = self._data
        out = _new(Value)
        out._id = n = next_node()
        out._data = y = c * b
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, None, c, None, self._id, b, c, _MUL))
        return out

    def __truediv__(self, other: Value | float) -> Value:
        return _DIV(self, other)

    def __rtruediv__(self, other: float) -> Value:
        if constant(other) is None:
            return NotImplemented
        return _DIV(other, self)

    def __pow__(self, other: Value | float) -> Value:
        if type(other) is not Value and constant(other) is None:
            return NotImplemented
        return _POW(self, other)

    def __rpow__(self, other: float) -> Value:
        if constant(other) is None:
            return NotImplemented
        return _POW(other, self)

    def __neg__(self) -> Value:
        a = self._data
        out = _new(Value)
        out._id = n = next_node()
        out._data = y = -a
        sink = _recording()
        if sink is not None:
            sink.extend((n, y, self._id, a, _NEG_X, None, None, None, _NEG))
        return out

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _ABS(self)

    # ---- the built-in ops of one argument as methods, as micrograd writes x.relu() ------------
    # Each is the op itself (x.relu() records what mt.relu(x) records).

    def abs(self) -> Value:
        """``mt.abs(x)``: ``|x|``, derivative 0 at 0."""
        return _ABS(self)

    def neg(self) -> Value:
        """``-x``."""
        return _NEG(self)

    def exp(self) -> Value:
        """``mt.exp(x)``: ``e ** x``."""
        return _EXP(self)

    def log(self) -> Value:
        """``mt.log(x)``: the natural logarithm, x > 0."""
        return _LOG(self)

    def sin(self) -> Value:
        """``mt.sin(x)``."""
        return _SIN(self)

    def cos(self) -> Value:
        """``mt.cos(x)``."""
        return _COS(self)

    def tan(self) -> Value:
        """``mt.tan(x)``."""
        return _TAN(self)

    def tanh(self) -> Value:
        """``mt.tanh(x)``."""
        return _TANH(self)

    def sigmoid(self) -> Value:
        """``mt.sigmoid(x)``: ``1 / (1 + e ** -x)``."""
        return _SIGMOID(self)

    def relu(self) -> Value:
        """``mt.relu(x)``: ``max(x, 0)``, derivative 0 at 0."""
        return _RELU(self)

    def sqrt(self) -> Value:
        """``mt.sqrt(x)``: the square root, x >= 0."""
        return _SQRT(self)

    # ---- what micrograd and PyTorch put on a value, and a tape does here -------------------
    # Plain methods and a property, not __getattr__: a class with __getattr__ loses
    # CPython's fast slot reads (x._data), which the hot path is made of. Hidden from type
    # checkers, which then flag x.backward() as the missing attribute it is.
    if not TYPE_CHECKING:

        def backward(self, *args, **kwargs):
            _no_grad_attribute(
                self, ".backward()", "record the computation with a tape, then ask the tape"
            )

        def zero_grad(self, *args, **kwargs):
            _no_grad_attribute(
                self,
                ".zero_grad()",
                "nothing accumulates on a Value: each tape.gradient call returns fresh gradients",
            )

        def parameters(self, *args, **kwargs):
            _no_grad_attribute(
                self,
                ".parameters()",
                "a Value is one number; a model's are model.trainable_variables (mt.nn), "
                "the sources to ask the tape about",
            )

        @property
        def grad(self):
            _no_grad_attribute(self, ".grad", "a Value holds no gradient: the tape returns them")

        @grad.setter
        def grad(self, value):
            _no_grad_attribute(
                self,
                ".grad to set",
                "a Value holds no gradient, so none is zeroed either: each tape.gradient "
                "call returns fresh ones",
            )


def _no_grad_attribute(value: Value, what: str, why: str) -> NoReturn:
    raise GradAttributeError(
        f"{value!r} has no {what}: {why}:\n"
        "    with mt.GradientTape() as tape:  loss = ...\n"
        "    grads = tape.gradient(loss, [w, b])  # in the structure of [w, b]"
    )


def number(x: Value | SupportsFloat) -> float:
    """The float of ``x``: ``x.data`` for a Value, ``float(x)`` for anything else.

    For code that takes a Value or a plain number, such as a derivative rule that
    branches on its argument's sign: unlike ``float(x)``, it never warns while a tape
    records, because reading the number is what it means to do.

    Example:
        >>> import microtape as mt
        >>> mt.number(mt.Value(2.5)), mt.number(3)
        (2.5, 3.0)
    """
    if type(x) is float:  # the common case in a rule, on the recording hot path
        return x
    if type(x) is Value:
        if _observing:
            _read(x, "mt.number()")
        return x._data
    return _to_float(x)


def read(x: Value | float) -> float:
    """The float of ``x`` (a Value or a float), read by the core itself: never reported
    to a tracer, as ``mt.number`` is."""
    return x if type(x) is float else x._data  # type: ignore[union-attr]


# ---- tracing (mt.function) --------------------------------------------------------------------
# `_observing` is True while some thread or task traces a function; only then do the
# comparisons and number reads above look for the tracer of their own context.

_observing = False
_observers = 0
_observers_lock: Final = threading.Lock()

_ORDER: Final[dict[str, Callable[[float, float], bool]]] = {
    "==": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "!=": operator.ne,
}


def observe(on: bool) -> None:
    """Count a tracer in (``on``) or out: while any is in, reads and comparisons report."""
    global _observing, _observers
    with _observers_lock:
        _observers += 1 if on else -1
        _observing = _observers > 0


def _compared(value: Value, symbol: str, other: Value | float) -> bool:
    result = _ORDER[symbol](value._data, _operand_float(other))
    observer = OBSERVER.get()
    if observer is not None:
        observer.compared(value, symbol, other, result)
    return result


def _read(value: Value, how: str) -> bool:
    observer = OBSERVER.get()
    return observer is not None and observer.read(value, how)


def _stands_for_float(value: Value) -> bool:
    observer = OBSERVER.get()
    return observer is not None and observer.stands_for_float(value)


def _as_float(value: Value, other: object) -> bool:
    """Whether ``value == other`` compares floats: one of them stands for a float argument
    of a traced function, which the function as written sees as a float."""
    return _stands_for_float(value) or (type(other) is Value and _stands_for_float(other))


def _float_compared(value: Value, symbol: str, other: object) -> bool:
    """``value == other`` (or ``!=``) as the function as written compares: numbers where
    both are floats there, identity where one is a Value (a float never equals a Value)."""
    mine = _stands_for_float(value)
    if type(other) is Value:
        if mine and _stands_for_float(other):
            return _compared(value, symbol, other)
        number, real = (value, other) if mine else (other, value)
        _warn_compared(real, symbol, number._data)  # as Value == float warns
        return symbol == "!="
    if constant(other) is None:
        return NotImplemented  # type: ignore[no-any-return]  # a float == "text": Python decides
    return _compared(value, symbol, other)  # type: ignore[arg-type]


def is_value(x: object) -> TypeGuard[Value]:
    """Whether ``x`` is a Value in the function as written: while a function is traced,
    a float argument is seen as a Value, but a tape or accumulator refuses it as the
    float it is (``tape.gradient(loss, lr)`` raises for a float ``lr``)."""
    return type(x) is Value and not (_observing and _stands_for_float(x))


def shown(value: Value) -> str:
    """A Value's text for microtape's own messages: read without telling a tracer."""
    return f"Value({value._data!r})"


def _warn_compared(value: Value, sign: str, number: object) -> None:
    warnings.warn(
        f"{shown(value)} {sign} {number!r} compares a Value with a number: Values compare by "
        f"identity (the same node of the graph), never by number, so this is "
        f"{sign == '!='}. Compare the numbers: x.data {sign} {number!r}",
        ValueAsNumberWarning,
        stacklevel=3,
    )


def node_value(data: float, node: int) -> Value:
    """A Value of node ``node`` holding ``data``: how an op makes its output (with a
    fresh ``next_node()``), and how a tape rebuilds a Value it recorded by number (it is
    ``==`` to every Value of that node)."""
    v = _new(Value)
    v._data = data
    v._id = node
    return v


def rebuilt(nodes: dict[int, Value], number: int, data: float) -> Value:
    """A Value for node ``number`` holding ``data``, made once per node and number.

    ``nodes`` keeps the last one made per node, to give it again while the number is
    the same float (a new one if the Value's ``.data`` was assigned in between).
    """
    v = nodes.get(number)
    if v is None or v._data is not data:
        v = nodes[number] = node_value(data, number)
    return v


# ---- the ops the operators record ------------------------------------------------------------

_ADD: Op
_SUB: Op
_MUL: Op
_DIV: Op
_POW: Op
_NEG: Op
_ABS: Op
_EXP: Op
_LOG: Op
_SIN: Op
_COS: Op
_TAN: Op
_TANH: Op
_SIGMOID: Op
_RELU: Op
_SQRT: Op
_ADD_A: float
_ADD_B: float
_SUB_A: float
_SUB_B: float
_NEG_X: float


def use_operators(*, add: Op, sub: Op, mul: Op, div: Op, pow: Op, neg: Op, abs: Op) -> None:
    """Make Python's operators on Values record these ops (the built-in table calls this).

    The partials that ``+``, ``-`` and unary ``-`` write inline are read from the rules
    of ``add``, ``sub`` and ``neg``, which must be constants; ``mul``'s rules must give
    the other argument, as ``*`` writes them.

    Raises:
        OpDefinitionError: if a rule does not have the shape its operator writes inline.
    """
    global _ADD, _SUB, _MUL, _DIV, _POW, _NEG, _ABS, _ADD_A, _ADD_B, _SUB_A, _SUB_B, _NEG_X
    _ADD_A, _ADD_B = _constant_partials(add)
    _SUB_A, _SUB_B = _constant_partials(sub)
    (_NEG_X,) = _constant_partials(neg)
    for a, b in _PROBES:
        if mul.derivatives[0](a, b) != b or mul.derivatives[1](a, b) != a:
            raise OpDefinitionError(f"{mul.name}: the rules must be (b, a), as `*` writes them")
    _ADD, _SUB, _MUL, _DIV, _POW, _NEG, _ABS = add, sub, mul, div, pow, neg, abs


def use_methods(
    *, exp: Op, log: Op, sin: Op, cos: Op, tan: Op, tanh: Op, sigmoid: Op, relu: Op, sqrt: Op
) -> None:
    """Make ``x.exp()``, ``x.relu()`` and the other methods of one argument these ops
    (the built-in table calls this; ``x.abs()`` and ``x.neg()`` are the operators' ops)."""
    global _EXP, _LOG, _SIN, _COS, _TAN, _TANH, _SIGMOID, _RELU, _SQRT
    _EXP, _LOG, _SIN, _COS, _TAN, _TANH = exp, log, sin, cos, tan, tanh
    _SIGMOID, _RELU, _SQRT = sigmoid, relu, sqrt


_PROBES: Final = ((2.0, 3.0), (-0.5, 7.25), (0.0, -1.0))


def _constant_partials(op: Op) -> tuple[float, ...]:
    """The partials of an op whose rules are constants, read from the rules themselves."""
    found = []
    for i, rule in enumerate(op.derivatives):
        at = {float(rule(*point[: op.arity])) for point in _PROBES}
        if len(at) != 1:
            raise OpDefinitionError(
                f"{op.name}: derivatives[{i}] must be a constant for its operator, "
                f"got {sorted(at)} at different points"
            )
        found.append(at.pop())
    return tuple(found)


def _to_float(data: object) -> float:
    if isinstance(data, Value):
        raise ArgumentTypeError(
            f"Value: data is already a Value ({data!r}); pass data.data to make an "
            "independent copy of its number"
        )
    if isinstance(data, (complex, str, bytes)) or not hasattr(data, "__float__"):
        raise ArgumentTypeError(
            f"Value: data must be a real number (int, float, or an object with __float__), "
            f"got {type(data).__name__} {short_repr(data)}"
        )
    return checked_float(data)


def _operand_float(other: object) -> float:
    if type(other) is Value:
        return other._data
    c = constant(other)
    if c is None:
        raise ArgumentTypeError(
            f"compare: cannot order a Value and a {type(other).__name__} {short_repr(other)}"
        )
    return c
