# isort: skip_file
"""microtape: scalar reverse-mode automatic differentiation with gradient tapes.

Example:
    >>> import microtape as mt
    >>> x = mt.Value(3.0)
    >>> with mt.GradientTape() as tape:
    ...     y = x * x + mt.sin(x)
    >>> round(tape.gradient(y, x).data, 6)   # 2*3 + cos(3)
    5.010008
"""

__all__ = [
    "ArgumentTypeError",
    "DomainError",
    "GradientTape",
    "GraphvizError",
    "Interval",
    "MicrotapeError",
    "MissingGradientError",
    "Op",
    "OpConflictError",
    "OpDefinitionError",
    "PluginOp",
    "PluginWarning",
    "ShapeError",
    "TapeError",
    "UnconnectedGradientError",
    "UnknownOpError",
    "Value",
    "abs",
    "cos",
    "exp",
    "log",
    "op",
    "ops",
    "plugin_ops",
    "pow",
    "register",
    "relu",
    "render_dot",
    "sigmoid",
    "sin",
    "sqrt",
    "tan",
    "tanh",
    "to_dot",
]

__version__ = "0.1.0"

# Value first: its module finishes by importing the op table its dunders record, and
# that table needs Value to exist. (Hence also no automatic sorting of this file.)
from ._value import Value
from ._builtins import abs_ as abs
from ._builtins import cos
from ._builtins import exp
from ._builtins import log
from ._builtins import pow_ as pow
from ._builtins import relu
from ._builtins import sigmoid
from ._builtins import sin
from ._builtins import sqrt
from ._builtins import tan
from ._builtins import tanh
from ._dot import render_dot
from ._dot import to_dot
from ._errors import ArgumentTypeError
from ._errors import DomainError
from ._errors import GraphvizError
from ._errors import MicrotapeError
from ._errors import MissingGradientError
from ._errors import OpConflictError
from ._errors import OpDefinitionError
from ._errors import PluginWarning
from ._errors import ShapeError
from ._errors import TapeError
from ._errors import UnconnectedGradientError
from ._errors import UnknownOpError
from ._op import Interval
from ._op import Op
from ._plugins import PluginOp
from ._registry import op
from ._registry import ops
from ._registry import plugin_ops
from ._registry import register
from ._tape import GradientTape
