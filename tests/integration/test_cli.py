"""The ``microtape`` command: the dispatcher, ``microtape ops`` and ``microtape check``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hypothesis
import pytest
from test_plugins import CUBE, Dist, install, run_microtape

import microtape as mt
from microtape.cli import COMMANDS, main
from microtape.cli.check import KINKS
from microtape.core.values.builtins import BUILTINS
from microtape.registry.table import all_ops, origin

# ---- the dispatcher ---------------------------------------------------------------------------


def test_no_command_prints_the_commands_to_stderr_and_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: microtape" in err
    for name in ("ops", "check"):
        assert name in err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name, (_, describe) in COMMANDS.items():
        assert name in out and describe in out


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("ops", ["usage: microtape ops", "MICROTAPE_DISABLE_PLUGINS=1", "MICROTAPE_PREFER"]),
        ("check", ["usage: microtape check", "NAME", "--max-examples", "--order"]),
    ],
)
def test_every_command_has_help(
    capsys: pytest.CaptureFixture[str], command: str, expected: list[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for part in expected:
        assert part in out


def test_an_unknown_command_is_an_error_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["opz"])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert "invalid choice: 'opz'" in captured.err and captured.out == ""


@pytest.mark.subprocess
def test_python_dash_m_and_the_console_script_run_the_same_main() -> None:
    script = Path(sys.executable).parent / "microtape"
    assert script.is_file(), "the console script is installed with the package"
    for command in ([sys.executable, "-m", "microtape", "ops"], [str(script), "ops"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0].split() == ["name", "arity", "origin", "domain", "doc"]


# ---- microtape ops ----------------------------------------------------------------------------


def test_ops_prints_one_row_per_op_with_arity_origin_domain_and_doc(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ops"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines[1:] if line.strip()}
    for o in all_ops():
        row = rows[o.name]
        assert f" {o.arity} " in row
        assert origin(o) in row and o.describe_domain() in row and row.endswith(o.doc)
    assert "built-in" in rows["sin"]
    assert "plugin microtape-hyperbolic" in rows["acosh"] and "x >= 1" in rows["acosh"]
    assert "plugin microtape-activations" in rows["hypot"] and "any a, any b" in rows["hypot"]


@pytest.mark.subprocess
def test_ops_lists_plugins_that_did_not_load_with_their_errors(tmp_path: Path) -> None:
    broken = Dist(
        "needs-libfoo",
        "0.9",
        {"broken": "needs_libfoo:broken"},
        {"needs_libfoo": "import libfoo\n"},
    )
    sneaky = Dist(
        "sneaky-ops",
        "0.1",
        {"exp": "sneaky:exp"},
        {"sneaky": "import microtape as mt\nexp = mt.Op('exp', lambda x: x, [lambda x: 1.0])\n"},
    )
    result = run_microtape(install(tmp_path, CUBE, broken, sneaky), "ops")
    assert result.returncode == 0 and result.stderr == ""  # reported in the listing, not warned
    out = result.stdout
    assert "cube" in out and "plugin cube-ops 2.5" in out
    tail = out[out.index("Plugin ops not loaded (2):") :]
    assert "broken  [failed]  distribution needs-libfoo 0.9" in tail
    assert "ModuleNotFoundError: No module named 'libfoo'" in tail
    assert "exp  [shadowed]  distribution sneaky-ops 0.1" in tail
    assert "cannot replace the built-in op 'exp'" in tail


@pytest.mark.subprocess
def test_ops_says_when_plugins_are_turned_off(tmp_path: Path) -> None:
    result = run_microtape(install(tmp_path, CUBE), "ops", env={"MICROTAPE_DISABLE_PLUGINS": "1"})
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()]
    assert "sin" in names and "cube" not in names and "sinh" not in names
    assert "Plugins are turned off (MICROTAPE_DISABLE_PLUGINS is set)" in result.stdout


# ---- microtape check --------------------------------------------------------------------------


def test_check_named_ops_prints_a_line_each_and_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "sin", "acosh", "maximum", "--max-examples", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "checking 3 ops at 10 points each, to order 3:"  # then a line as each ends
    assert out[1].startswith("ok    sin  (built-in, ")
    assert out[2].startswith("ok    acosh  (plugin microtape-hyperbolic ")
    assert out[3].startswith("ok    maximum  (plugin microtape-activations ")
    assert out[-2] == "checked 3 ops: 3 passed, 0 failed"
    assert out[-1].startswith(f"{KINKS}: maximum ")  # ties a == b: maximum's kinks


def test_check_counts_the_points_at_kinks_on_each_line_and_after_the_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "relu", "abs", "sin", "--max-examples", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("ok    relu  (built-in, ")  # hypothesis always draws 0
    assert lines[1].endswith(" s, 1 point at a kink)")
    assert lines[2].endswith(" s, 1 point at a kink)") and lines[2].startswith("ok    abs ")
    assert "kink" not in lines[3] and lines[3].startswith("ok    sin ")
    assert lines[-2:] == ["checked 3 ops: 3 passed, 0 failed", f"{KINKS}: relu 1, abs 1"]


def test_check_leaves_the_callers_hypothesis_settings_as_they_were() -> None:
    before = hypothesis.settings.default
    assert main(["check", "exp", "--max-examples", "3"]) == 0
    after = hypothesis.settings.default
    for name in ("derandomize", "database", "deadline", "max_examples"):
        assert getattr(after, name) == getattr(before, name)


def test_check_of_an_unknown_name_is_a_usage_error_and_checks_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "sin", "sinn"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "microtape check: op: no op is named 'sinn'; did you mean 'sin'" in captured.err


def test_check_rejects_a_bad_number_of_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for bad, says in (("0", "must be at least 1, got 0"), ("many", "expected a whole number")):
        with pytest.raises(SystemExit) as info:
            main(["check", "sin", "--max-examples", bad])
        assert info.value.code == 2 and says in capsys.readouterr().err


WRONG = Dist(
    "wrong-ops",
    "0.3",
    {"wrong": "wrong_ops:wrong"},
    {
        "wrong_ops": """
            import microtape as mt
            wrong = mt.Op("wrong", lambda x: x * x * x, [lambda x: 2.0 * x * x],
                          sympy=lambda x: x**3, doc="x cubed, with a wrong derivative")
        """
    },
)


@pytest.mark.subprocess
def test_check_exits_1_when_an_op_is_wrong_and_says_where(tmp_path: Path) -> None:
    result = run_microtape(
        install(tmp_path, CUBE, WRONG), "check", "cube", "wrong", "--max-examples", "10"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "ok    cube  (plugin cube-ops 2.5" in out
    assert "FAIL  wrong  (plugin wrong-ops 0.3)" in out
    assert "AssertionError: check_op: op 'wrong' (plugin wrong-ops 0.3) is wrong: d" in out
    assert out.splitlines()[-1] == "checked 2 ops: 1 passed, 1 failed"


@pytest.mark.subprocess
def test_check_of_every_op_counts_broken_plugins_as_failures(tmp_path: Path) -> None:
    broken = Dist(
        "needs-libfoo",
        "0.9",
        {"broken": "needs_libfoo:broken"},
        {"needs_libfoo": "import libfoo\n"},
    )
    result = run_microtape(
        install(tmp_path, CUBE, broken), "check", "--order", "0", "--max-examples", "2"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    checked = [line.split()[1] for line in lines if line.startswith(("ok ", "FAIL "))]
    shipped = {o.name for o in BUILTINS} | {p.name for p in mt.plugin_ops()}
    assert set(checked) >= shipped | {"cube", "broken"}
    assert len(checked) == len(set(checked))
    assert lines[-1] == f"checked {len(checked)} ops: {len(checked) - 1} passed, 1 failed"
    assert "FAIL  broken  (plugin needs-libfoo 0.9, failed)" in lines
    assert any(line.startswith("ok    cube  (plugin cube-ops 2.5") for line in lines)
    assert any(line.startswith("ok    sinh  (plugin microtape-hyperbolic") for line in lines)


@pytest.mark.subprocess
def test_check_of_a_plugin_op_that_failed_to_load_reports_the_failure(tmp_path: Path) -> None:
    broken = Dist(
        "needs-libfoo",
        "0.9",
        {"broken": "needs_libfoo:broken"},
        {"needs_libfoo": "import libfoo\n"},
    )
    result = run_microtape(install(tmp_path, broken), "check", "broken")
    assert result.returncode == 1
    assert "FAIL  broken  (plugin needs-libfoo 0.9, failed)" in result.stdout
    assert "ModuleNotFoundError: No module named 'libfoo'" in result.stdout


@pytest.mark.subprocess
def test_check_without_the_testing_extra_says_which_extra(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sympy', 'hypothesis'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from microtape.cli import main\n"
        "sys.exit(main(['check', 'sin']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "microtape check:" in result.stderr
    assert "pip install 'microtape[testing]'" in result.stderr


def test_check_says_on_every_line_and_in_the_summary_when_it_uses_finite_differences(
    capsys: pytest.CaptureFixture[str],
) -> None:
    square = mt.Op("square_without_sympy", lambda x: x * x, [lambda x: 2.0 * x])
    mt.register(square)
    assert main(["check", "square_without_sympy", "sin", "--max-examples", "5"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "checking 2 ops at 5 points each, to order 3:"
    [line] = [ln for ln in lines if ln.startswith("ok    square_without_sympy")]
    assert line.endswith("; checked against finite differences: no sympy form)")
    [sin_line] = [ln for ln in lines if ln.startswith("ok    sin ")]
    assert "finite differences" not in sin_line
    assert lines[-1] == (
        "checked against finite differences: no sympy form: square_without_sympy "
        "(looser tolerances; add sympy=)"
    )


def test_check_goes_to_third_order_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "tanh", "--order", "3", "--max-examples", "5"]) == 0
    assert "to order 3" in capsys.readouterr().out
