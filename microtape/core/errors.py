"""Every error microtape raises, in one tree.

Each error is a :class:`MicrotapeError` and also the built-in exception a Python
programmer would expect, so ``except ValueError`` keeps working::

    Exception
    └── MicrotapeError
        ├── TapeError            (RuntimeError)   a tape used the wrong way
        ├── GraphvizError        (RuntimeError)   the dot program is missing or failed
        ├── ArgumentTypeError    (TypeError)      a value of the wrong type
        ├── GradAttributeError   (AttributeError) x.backward(), x.grad: micrograd's, not ours
        ├── DomainError          (ValueError)     a number outside an op's domain
        ├── UnconnectedGradientError (LookupError) no gradient, with unconnected="raise"
        ├── MissingGradientError (ValueError)     an optimizer was handed a None gradient
        ├── ShapeError           (ValueError)     sizes or nestings that do not match
        ├── OpDefinitionError    (ValueError)     an Op that cannot be built
        ├── OpConflictError      (ValueError)     two ops want one name
        └── UnknownOpError       (LookupError)    no op has that name

    Warning
    └── MicrotapeWarning         (UserWarning)
        ├── PluginWarning                         a plugin could not be loaded
        ├── TracingWarning                        mt.function runs a function in Python
        └── ValueAsNumberWarning                  a Value used as a plain number by mistake
"""

from __future__ import annotations

from .words import wrapped

__all__ = [
    "ArgumentTypeError",
    "DomainError",
    "GradAttributeError",
    "GraphvizError",
    "MicrotapeError",
    "MicrotapeWarning",
    "MissingGradientError",
    "OpConflictError",
    "OpDefinitionError",
    "PluginWarning",
    "ShapeError",
    "TapeError",
    "TracingWarning",
    "UnconnectedGradientError",
    "UnknownOpError",
    "ValueAsNumberWarning",
]


class MicrotapeError(Exception):
    """The root of every error microtape raises.

    Its message reads in lines of at most 100 columns, broken between words, so that a
    terminal or a notebook never breaks it inside one (``core/words.py``).
    """

    def __str__(self) -> str:
        return wrapped(super().__str__(), first=len(type(self).__name__) + 2)


class TapeError(MicrotapeError, RuntimeError):
    """A tape was used in a way its state does not allow.

    For example a second ``gradient()`` on a non-persistent tape, any use after
    ``release()``, or ``gradient()`` on a non-persistent tape inside its own block.
    """


class ArgumentTypeError(MicrotapeError, TypeError):
    """An argument has a type microtape cannot use (a str where a number belongs)."""


class GradAttributeError(MicrotapeError, AttributeError):
    """A Value was asked for ``.backward()``, ``.grad``, ``.zero_grad()`` or
    ``.parameters()``: what micrograd and PyTorch put on their values.

    A microtape Value holds no graph and no gradient (a tape records them, and
    ``tape.gradient`` returns the gradients), so these do not exist; the message shows the
    tape's way to do the same. An AttributeError, so ``hasattr(x, "grad")`` is False.
    """


class DomainError(MicrotapeError, ValueError):
    """A number is outside the domain of an op, such as ``log(-1.0)`` or ``x / 0``."""


class GraphvizError(MicrotapeError, RuntimeError):
    """The ``dot`` program is missing, or failed to render a graph."""


class MissingGradientError(MicrotapeError, ValueError):
    """An optimizer's ``apply_gradients`` got ``None`` as the gradient of a variable.

    A ValueError, as Keras's "No gradients provided" is, so code written for Keras
    that catches it keeps working.
    """


class ShapeError(MicrotapeError, ValueError):
    """Sizes or nestings do not match: a layer's input, predictions against targets, or a
    forward accumulator's tangents against its primals."""


class UnconnectedGradientError(MicrotapeError, LookupError):
    """A source has no gradient and ``unconnected_gradients="raise"`` was asked for.

    The message is the tape's explanation of why (``tape.explain(target, source)``).
    """


class OpDefinitionError(MicrotapeError, ValueError):
    """An :class:`~microtape.Op` definition is invalid (bad name, arity, parts)."""


class OpConflictError(MicrotapeError, ValueError):
    """An op name is already taken, or claimed by two plugins at once."""


class UnknownOpError(MicrotapeError, LookupError):
    """No op is registered under the requested name."""


class MicrotapeWarning(UserWarning):
    """The root of every warning microtape gives; its message is wrapped as an error's."""

    def __str__(self) -> str:
        return wrapped(super().__str__(), first=len(type(self).__name__) + 2)


class PluginWarning(MicrotapeWarning):
    """A plugin's ops could not be loaded; the rest of microtape keeps working."""


class TracingWarning(MicrotapeWarning):
    """``mt.function`` could not use its trace, and runs the function in Python.

    The message says why: the function read the number of a Value it computes
    (``x.data``, ``float(x)``), assigned a Value's ``.data``, kept a tape beyond the call,
    or took more new paths (guards that flipped) than ``max_traces`` allows.
    """


class ValueAsNumberWarning(MicrotapeWarning):
    """A Value was used as a plain number where that silently loses something.

    - ``float(x)``, ``math.sin(x)``, ``numpy.float64(x)`` on a Value while a tape records:
      the result is a plain float, cut out of the graph, so no gradient flows through it.
      Use microtape's ops (``mt.sin(x)``) to stay on the tape; read ``x.data`` (or work
      inside ``tape.stop_recording()``) when a constant is what you mean.
    - ``x == 0`` (or ``!=``) between a Value and a number: Values compare by identity (the
      same node of the graph), never by number, so this is always False. Compare
      ``x.data == 0``.

    Python shows each warning once per line of code (its default filter).
    """
