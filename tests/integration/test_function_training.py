"""Training with a compiled step reaches the very parameters of training without one.

The loop of ``examples/two_moons.py`` (an MLP on two moons, binary cross-entropy from
logits, Adam) with its loss-and-gradients step compiled by mt.function: every epoch's
loss and the final parameters are the recorded loop's, bit for bit. The loss branches
on the sign of each logit, so the compiled step is traced again as signs flip, up to
its max_traces, and runs in Python after that (with a TracingWarning): the results are
the same either way, which is the point.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

import microtape as mt

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"microtape_example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_the_two_moons_loop_with_a_compiled_step_reaches_the_same_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    two_moons = _load("two_moons")
    recorded = two_moons.main()
    with warnings.catch_warnings():
        warnings.simplefilter("error", mt.TracingWarning)  # the loss meets no guard
        compiled = two_moons.main(compiled=True)
    capsys.readouterr()
    assert [w.hex() for w in compiled.weights] == [w.hex() for w in recorded.weights]
    assert [x.hex() for x in compiled.losses] == [x.hex() for x in recorded.losses]
    assert compiled.accuracy == recorded.accuracy > 0.95
