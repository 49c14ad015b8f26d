"""microtape: scalar reverse-mode automatic differentiation with gradient tapes.

Example:
    >>> import microtape as mt
    >>> x = mt.Value(3.0)
    >>> with mt.GradientTape() as tape:
    ...     y = x * x + mt.sin(x)
    >>> round(tape.gradient(y, x).data, 6)   # 2*3 + cos(3)
    5.010008
"""

from __future__ import annotations

__all__ = [
    "AccumulatorView",
    "ArgumentTypeError",
    "DomainError",
    "DotText",
    "ForwardAccumulator",
    "GradAttributeError",
    "GradientTape",
    "GraphvizError",
    "Interval",
    "MicrotapeError",
    "MicrotapeWarning",
    "MissingGradientError",
    "Op",
    "OpConflictError",
    "OpDefinitionError",
    "PluginOp",
    "PluginWarning",
    "Record",
    "ShapeError",
    "TapeError",
    "TapeState",
    "TapeView",
    "TracingWarning",
    "UnconnectedGradientError",
    "UnconnectedGradients",
    "UnknownOpError",
    "Value",
    "ValueAsNumberWarning",
    "abs",
    "cos",
    "custom_gradient",
    "exp",
    "function",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "log",
    "number",
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
    "stop_gradient",
    "tan",
    "tanh",
    "to_dot",
    "to_sympy",
    "value_and_grad",
    "vjp",
    "where",
]

__version__ = "0.1.0"

import copyreg as _copyreg
from collections.abc import Callable
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING

from .core.errors import (
    ArgumentTypeError,
    DomainError,
    GradAttributeError,
    GraphvizError,
    MicrotapeError,
    MicrotapeWarning,
    MissingGradientError,
    OpConflictError,
    OpDefinitionError,
    PluginWarning,
    ShapeError,
    TapeError,
    TracingWarning,
    UnconnectedGradientError,
    UnknownOpError,
    ValueAsNumberWarning,
)
from .core.tapes.accumulator import AccumulatorView, ForwardAccumulator
from .core.tapes.arguments import UnconnectedGradients
from .core.tapes.describer import describe_with as _describe_with
from .core.tapes.tape import GradientTape
from .core.tapes.view import Record, TapeState, TapeView
from .core.transforms.custom import custom_gradient
from .core.values.builtins import abs_ as abs
from .core.values.builtins import add as _add
from .core.values.builtins import cos, exp, log, relu, sigmoid, sin, sqrt, tan, tanh, where
from .core.values.builtins import pow_ as pow
from .core.values.builtins import strong_mul as _strong_mul
from .core.values.interval import Interval
from .core.values.op import Op
from .core.values.stop import stop_gradient
from .core.values.value import Value, number

if TYPE_CHECKING:
    from . import datasets as datasets
    from . import losses as losses
    from . import nn as nn
    from . import optim as optim
    from . import testing as testing
    from .core.tapes.describer import Describer
    from .functions import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
    from .inspection.dot import DotText, render_dot, to_dot
    from .inspection.to_sympy import to_sympy
    from .registry.plugins import PluginOp
    from .registry.table import op, ops, plugin_ops, register
    from .tracing.function import function

# The registry, inspection and the function transforms are loaded the first time one of
# their names is used, not by `import microtape`: a script that only records and
# differentiates does not pay for them.
_LAZY = {
    "function": "microtape.tracing.function",
    "DotText": "microtape.inspection.dot",
    "grad": "microtape.functions",
    "hessian": "microtape.functions",
    "hvp": "microtape.functions",
    "jacobian": "microtape.functions",
    "jvp": "microtape.functions",
    "value_and_grad": "microtape.functions",
    "vjp": "microtape.functions",
    "to_dot": "microtape.inspection.dot",
    "render_dot": "microtape.inspection.dot",
    "to_sympy": "microtape.inspection.to_sympy",
    "PluginOp": "microtape.registry.plugins",
    "op": "microtape.registry.table",
    "ops": "microtape.registry.table",
    "plugin_ops": "microtape.registry.table",
    "register": "microtape.registry.table",
}

# The teaching layer and the testing helpers, reachable as `mt.nn.Dense(...)` after a plain
# `import microtape`, each loaded when first used: `mt.testing` imports sympy and hypothesis.
_SUBMODULES = {
    "datasets": "microtape.datasets",
    "losses": "microtape.losses",
    "nn": "microtape.nn",
    "optim": "microtape.optim",
    "testing": "microtape.testing",
}


def __getattr__(name: str) -> object:
    import importlib

    submodule = _SUBMODULES.get(name)
    if submodule is not None:
        return importlib.import_module(submodule)  # the import sets it on the package
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'microtape' has no attribute {name!r}")
    found = getattr(importlib.import_module(module), name)
    globals()[name] = found
    return found


def __dir__() -> list[str]:
    """The public names, the lazily loaded submodules, those imported so far, and dunders."""
    own = {name for name in globals() if name.startswith("__")}
    modules = {name for name, v in globals().items() if isinstance(v, _ModuleType)}
    public = (m for m in modules if not m.startswith("_"))
    return sorted({*__all__, *_SUBMODULES, *own, *public})


def _describer() -> Describer:
    from .inspection.installed import DESCRIBER

    return DESCRIBER


# The core's tapes speak through microtape.inspection (print(tape), explain).
_describe_with(_describer)


def _op_named(name: str) -> Op:
    """The registered op called ``name``: what an op is pickled and copied as."""
    from .registry.table import op

    return op(name)


def _sweeps_op(name: str) -> Op:
    """The op the sweeps record for a strong zero's product, which is not registered."""
    return _strong_mul


def _reduce_op(candidate: Op) -> tuple[Callable[[str], Op], tuple[str]]:
    return (_sweeps_op if candidate is _strong_mul else _op_named, (candidate.name,))


# Ops are singletons: pickle and copy give the registered op of the same name.
for _kind in {type(sin), type(_add), Op}:
    _copyreg.pickle(_kind, _reduce_op)
del _kind
