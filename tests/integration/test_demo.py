"""``python -m microtape demo``: trains the classifier, shows progress, plots the boundary."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from microtape.cli import demo as _demo
from microtape.cli import main
from microtape.datasets import Moons, make_moons

ROOT = Path(__file__).resolve().parent.parent.parent
SMALL = ["--epochs", "4", "--samples", "40", "--hidden", "4"]
"""A demo small enough to run in a fraction of a second."""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _frame(out: str) -> list[str]:
    """The plot's rows, borders included."""
    lines = out.splitlines()
    top = lines.index("+" + "-" * _demo.WIDTH + "+")
    return lines[top : top + _demo.HEIGHT + 2]


def test_the_default_demo_fits_the_two_moons(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"training accuracy (\d+\.\d)% \(100 epochs, 200 points\)", out)
    assert found is not None and float(found.group(1)) > 95.0
    assert "MLP 2 -> 8 -> 8 -> 1 (tanh): 105 parameters" in out
    rows = _frame(out)
    assert rows[-1] == rows[0] and all(len(row) == _demo.WIDTH + 2 for row in rows)
    inside = "".join(row[1:-1] for row in rows[1:-1])
    assert set(inside) <= {*_demo.REGION, *_demo.POINT, *(p.upper() for p in _demo.POINT)}
    assert all(ch in inside for ch in (*_demo.REGION, *_demo.POINT))  # both regions, classes


def test_without_a_terminal_progress_is_plain_periodic_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--epochs", "20", "--samples", "40", "--hidden", "4"]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out
    epochs = re.findall(
        r"^epoch +(\d+)/20  loss \d\.\d{4}  accuracy +\d+\.\d%  \([\d,]+ ops", out, re.M
    )
    assert epochs == [str(n) for n in range(2, 21, 2)]  # every tenth of the run


def test_in_a_terminal_progress_is_one_line_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["demo", *SMALL]) == 0
    out = terminal.getvalue()
    updates = re.findall(r"\repoch (\d)/4  loss ", out)
    assert updates == ["1", "2", "3", "4"]
    assert "\nepoch" not in out  # no line of its own: each update overwrites the last


def test_the_dot_option_writes_how_one_points_loss_depends_on_one_weight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sample.dot"
    assert main(["demo", *SMALL, "--dot", str(path)]) == 0
    dot = path.read_text()
    nodes = re.findall(r'^  (\w+) \[label="', dot, re.M)
    assert dot.startswith("digraph microtape {")
    assert re.search(r"how loss depends on layers\[1\]\.kernel\[\d+\]\[0\]", dot)
    # The weight (the one leaf, bold), its product with the last hidden unit, the logit,
    # the loss ops: a path, not the point's whole graph (over 100 nodes for this model).
    assert dot.count("(leaf)") == 1 and dot.count('style="filled,bold"') == 2  # and the loss
    assert "grey: read on the way, not computed from layers[1]" in dot  # the hidden unit...
    assert re.search(r'label="hidden\[0\]\[\d+\] = tanh \|', dot)  # its layer and index
    assert 'label="logit = add |' in dot and 'label="loss = div |' in dot
    assert 8 <= len(nodes) <= 20 and 'grad -"' not in dot  # every node has a gradient
    assert not re.search(r"[ ×]-0(?![.\d])|-0\.0\b", dot)  # no minus sign on a zero
    out = capsys.readouterr().out
    assert f"({len(nodes)} nodes)" in out and "depends on layers[1].kernel[" in out


def _svg_size(svg: str) -> tuple[float, float]:
    found = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert found is not None
    return float(found.group(1)), float(found.group(2))


@pytest.mark.graphviz
def test_the_dot_option_renders_a_picture_small_enough_to_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("dot") is None and os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz); CI runs this")
    path = tmp_path / "sample.svg"
    # The demo's own model (2 -> 8 -> 8 -> 1): one point's whole graph drew 322 nodes on
    # 5,300 x 2,800 pt. One weight's path is one strip of 18 boxes (the loss is written
    # with ops, relu and where, not a branch), about 1,850 pt wide (the labels' digits
    # vary) and 362 pt high, legible at 100 % on a wide screen without zooming.
    assert main(["demo", "--epochs", "2", "--samples", "20", "--dot", str(path)]) == 0
    svg = path.read_text()
    assert svg.startswith("<?xml")
    width, height = _svg_size(svg)
    assert width <= 2000 and height <= 400, (width, height)


def test_without_graphviz_a_picture_becomes_dot_text_and_says_so_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder without dot
    assert main(["demo", *SMALL, "--dot", str(tmp_path / "graph.svg")]) == 0
    out = capsys.readouterr().out
    assert not (tmp_path / "graph.svg").exists()
    assert (tmp_path / "graph.dot").read_text().startswith("digraph microtape {")
    note = out.index(f"the graph will be written as DOT text to {tmp_path / 'graph.dot'}")
    assert note < out.index("epoch ")  # told before the training, not after
    assert f"dot -Tsvg {tmp_path / 'graph.dot'} -o {tmp_path / 'graph.svg'}" in out
    assert "apt-get install graphviz" in out


def test_the_dot_option_reports_a_file_it_cannot_write_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", *SMALL, "--dot", str(tmp_path / "missing" / "g.dot")]) == 1
    captured = capsys.readouterr()
    assert "microtape demo: --dot" in captured.err and "no folder" in captured.err
    assert "epoch" not in captured.out  # no training was wasted


@pytest.mark.parametrize("bad", [["--epochs", "0"], ["--hidden", "8,x"], ["--hidden", "0"]])
def test_bad_options_are_refused(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", *bad])
    assert info.value.code == 2
    assert "microtape demo: error" in capsys.readouterr().err


@pytest.mark.subprocess
def test_the_demo_runs_from_a_clone_with_the_standard_library_only() -> None:
    # -S: no site-packages at all, so neither an installed microtape nor sympy or
    # hypothesis can be imported: the demo must run on the package beside it alone.
    done = subprocess.run(
        [sys.executable, "-S", "-m", "microtape", "demo", *SMALL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "training accuracy" in done.stdout


# ---- the pieces ------------------------------------------------------------------------------


def test_make_moons_is_reproducible_and_alternates_the_classes() -> None:
    moons = make_moons(10, noise=0.0, seed=3)
    assert moons == make_moons(10, noise=0.0, seed=3)
    assert moons != make_moons(10, noise=0.0, seed=4)
    assert moons.labels == [0.0, 1.0] * 5
    for (x, y), label in zip(moons.points, moons.labels, strict=True):
        # Without noise each point lies on its unit half-circle (centres shifted by -0.5, -0.25).
        cx, cy = (-0.5, -0.25) if label == 0.0 else (0.5, 0.25)
        assert (x - cx) ** 2 + (y - cy) ** 2 == pytest.approx(1.0)
        assert (y >= cy) if label == 0.0 else (y <= cy)


def test_plot_draws_regions_points_and_mistakes() -> None:
    moons = Moons([(-1.0, 0.0), (1.0, 0.0), (1.0, 1.0)], [0.0, 1.0, 0.0])
    text = _demo.plot(moons, lambda x, y: x > 0.0, logits=[-1.0, 1.0, 1.0])
    rows = text.splitlines()[1 : _demo.HEIGHT + 1]
    left = "".join(row[1 : _demo.WIDTH // 2] for row in rows)
    right = "".join(row[_demo.WIDTH // 2 + 2 : -1] for row in rows)
    assert set(left) <= {" ", "o"} and set(right) <= {".", "x", "O"}
    assert "".join(rows).count("o") == 1  # right: logit < 0 for class 0
    assert "".join(rows).count("x") == 1
    assert "".join(rows).count("O") == 1  # wrong: logit > 0 for class 0
    assert "misclassified" in text.splitlines()[-1]
