"""Every example in examples/ runs, and finds what it says it finds.

Each example's ``main()`` returns its results; the tests check them against
formulas worked out by hand. The examples also run as scripts from a clone
without installing microtape (``python examples/NAME.py``).
"""

from __future__ import annotations

import contextlib
import html
import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import microtape as mt

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
X = [1.0, 2.0, 3.0]
Y = [2.0, 4.0, 6.0]


def _load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"microtape_example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _run(name: str, capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    result = _load(name).main()  # Any: each example returns its own Result dataclass
    return result, capsys.readouterr().out


def _mse_gradients(w: float, b: float) -> list[float]:
    errors = [w * x + b - y for x, y in zip(X, Y, strict=True)]
    n = len(X)
    return [2 / n * sum(e * x for e, x in zip(errors, X, strict=True)), 2 / n * sum(errors)]


def test_every_example_is_tested() -> None:
    tested = {
        "linear_regression",
        "no_tape",
        "persistent_tape",
        "newton",
        "two_moons",
        "custom_op",
        "see_the_tape",
        "hessian_vector",
        "compiled_step",
    }
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_linear_regression_takes_a_step_then_learns_y_equals_2x(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, out = _run("linear_regression", capsys)
    w, b = result.initial_weight, result.initial_bias
    errors = [w * x + b - y for x, y in zip(X, Y, strict=True)]
    assert result.first_loss == pytest.approx(sum(e * e for e in errors) / 3)
    assert result.first_gradients == pytest.approx(_mse_gradients(w, b))
    assert result.weight == pytest.approx(2.0, abs=1e-5)
    assert result.bias == pytest.approx(0.0, abs=1e-5)
    assert result.final_loss < 1e-12 and result.steps < 1000
    assert f"Loss: {result.first_loss:.4f}" in out and "Gradients: [" in out


def test_compiled_step_shows_its_code_and_trains_to_the_recorded_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, out = _run("compiled_step", capsys)
    assert result.same_as_recorded
    assert result.weight == pytest.approx(2.0, abs=1e-5)
    assert result.bias == pytest.approx(0.0, abs=1e-5)
    code = result.code
    assert code in out
    inputs = "# inputs: model_kernel_0_0 = model.kernel[0][0], model_bias_0 = model.bias[0]"
    assert inputs in code  # the code's names for what the function reads
    forward = code.index("loss = v10 / 3.0  # div")
    assert code.index("# the gradient of loss") > forward  # the sweep back below the forward
    assert "g_model_kernel_0_0 = g7 * 3.0  # mul: d v2/d model_kernel_0_0" in code


def test_no_tape_shows_none_then_the_explanations_then_the_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, out = _run("no_tape", capsys)
    assert result.gradients_without_tape == [None, None]
    assert result.explanation.startswith("No gradient: the target loss = ")  # by its variable
    assert "TensorFlow returns a silent None here" in result.explanation
    assert result.raised.split() == result.explanation.split()  # wrapped apart, same words
    assert "the gradient of variable 0 (kernel[0][0] = " in result.optimizer_error
    assert "was not used by any op recorded on this tape" in result.forward_outside_explanation
    assert all(isinstance(g, mt.Value) for g in result.gradients_with_tape)
    assert "never entered" in result.never_entered
    assert "= [None, None]" in out and "MissingGradientError" in out


def test_persistent_tape_answers_twice_then_refuses_after_release(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, out = _run("persistent_tape", capsys)
    w, b = result.weight, result.bias
    errors = [w * x + b - y for x, y in zip(X, Y, strict=True)]
    assert result.loss1 == pytest.approx(sum(e * e for e in errors) / 3)
    assert result.loss2 == pytest.approx(sum(abs(e) for e in errors))
    assert result.gradients1 == pytest.approx(_mse_gradients(w, b))
    signs = [math.copysign(1.0, e) for e in errors]
    assert result.gradients2 == [sum(s * x for s, x in zip(signs, X, strict=True)), sum(signs)]
    assert result.held == "<GradientTape persistent, exited, 23 records>"
    assert result.released == "<GradientTape persistent, released, 0 records>"
    assert "the tape was released" in result.error
    assert "GradientTape(persistent): exited, 23 records" in out  # print(tape)


def test_newton_reaches_ln_2_in_six_steps_with_exact_second_derivatives(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, _ = _run("newton", capsys)
    assert result.x == pytest.approx(math.log(2.0), abs=1e-15)
    assert result.newton_steps == 6
    assert result.descent_steps > 100  # first-order methods creep: the point of the example
    for x, first, second in result.history:
        assert first == pytest.approx(math.exp(x) - 2.0, rel=1e-14, abs=1e-15)
        assert second == pytest.approx(math.exp(x), rel=1e-14)


def test_hessian_vector_newton_cg_converges_fast_on_hvps_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = _load("hessian_vector")
    result, out = module.main(), capsys.readouterr().out
    # At the minimum the gradient vanishes, worked out by hand from the loss's formula:
    # mean of -y x sigma(-y w.x) plus PENALTY w.
    w = result.newton_x
    gradient = [module.PENALTY * wi for wi in w]
    for x, y in zip(module.POINTS, module.LABELS, strict=True):
        margin = y * sum(wi * xi for wi, xi in zip(w, x, strict=True))
        weight = -y / (1.0 + math.exp(margin)) / module.SAMPLES
        gradient = [g + weight * xi for g, xi in zip(gradient, x, strict=True)]
    assert max(map(abs, gradient)) < 1e-9
    assert result.newton_iterations <= 8  # Newton: the digits double near the end
    assert result.hvp_calls <= 4 * module.FEATURES * result.newton_iterations
    assert result.bfgs_iterations > 3 * result.newton_iterations  # the point of the example
    assert result.bfgs_x == pytest.approx(w, abs=1e-6)
    assert result.curvature_gap < 1e-12  # hvp is the Hessian times the vector
    assert all(c > 0 for c in result.curvatures)  # a minimum: positive curvature
    assert f"in {result.newton_iterations} iterations" in out and "BFGS" in out


def test_two_moons_classifier_fits_the_training_points(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, out = _run("two_moons", capsys)
    assert result.accuracy > 0.95
    assert result.losses[-1] < result.losses[0] / 10
    assert result.parameters == (2 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    assert result.seconds < 20
    assert f"training accuracy {result.accuracy:.1%}" in out


def test_custom_op_is_registered_differentiated_twice_and_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = _load("custom_op")
    result = module.main()
    again = module.main()  # a second run finds its own op registered: no conflict
    capsys.readouterr()
    assert mt.op("logcosh") is module.LOGCOSH
    assert result == again
    assert result.value == pytest.approx(math.log(math.cosh(0.5)), rel=1e-15)
    assert result.first == pytest.approx(math.tanh(0.5), rel=1e-15)
    assert result.second == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-14)
    assert result.checked


def test_custom_op_refuses_to_replace_another_op_of_its_name() -> None:
    first = _load("custom_op")
    with contextlib.suppress(mt.OpConflictError):  # registered already by an earlier test
        first.register_once(first.LOGCOSH)
    second = _load("custom_op")  # a fresh module: a new Op object under the same name
    with pytest.raises(mt.OpConflictError, match="already taken"):
        second.register_once(second.LOGCOSH)


def test_see_the_tape_shows_the_graph_of_the_readme_picture(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result, _ = _run("see_the_tape", capsys)
    assert result.gradients == [-27.0, -9.0]  # 2 (w x + b - y) x and 2 (w x + b - y)
    assert result.summary.startswith("GradientTape(persistent): exited, 4 records")
    chain = "w -> v0 (mul) -> prediction (add) -> error (sub) -> loss (mul)"
    assert chain in " ".join(result.connected.split())
    assert "was not used by any op recorded" in result.unconnected
    # docs/graph.svg was rendered from this very graph: every label is in the picture.
    svg = (ROOT / "docs" / "graph.svg").read_text()
    texts = {html.unescape(t) for t in re.findall(r">([^<]*)</text>", svg)}
    labels = re.findall(r'label="([^"]*)"', result.dot)
    fields = [f for label in labels[1:] for f in label.split(" | ")]  # [0]: the title
    assert len(fields) == 6 * 3 + 2 + 5  # six Values of three fields, two constants, five arrows
    assert set(fields) <= texts


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "name",
    ["linear_regression", "no_tape", "persistent_tape", "newton", "see_the_tape", "hessian_vector"],
)
def test_examples_run_as_scripts_from_a_clone_without_installing(name: str) -> None:
    # -S: no site-packages, so the installed microtape is out of reach and the example
    # must find the package beside it, as in a fresh clone.
    done = subprocess.run(
        [sys.executable, "-S", str(EXAMPLES / f"{name}.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout


@pytest.mark.subprocess
def test_custom_op_without_the_testing_extra_skips_only_the_check() -> None:
    done = subprocess.run(
        [sys.executable, "-S", str(EXAMPLES / "custom_op.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "second derivative 0.786448" in done.stdout
    assert "skipping check_op: microtape.testing needs sympy and hypothesis" in done.stdout
