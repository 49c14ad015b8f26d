"""examples/tour.ipynb runs in a real Jupyter kernel and shows what it says it shows.

The notebook is executed with nbclient in an IPython kernel (both in the ``test`` extra)
started with this interpreter, through a kernel spec written to a temporary folder: no
kernel has to be installed on the machine, and nothing is written to the user's Jupyter
or IPython folders. Each checked cell carries a tag naming it.

The graph cell must show an SVG picture where Graphviz's ``dot`` is installed (always
under CI, whose script installs it), and DOT text as Markdown where it is not.
matplotlib is not installed by the test extra: the loss is plotted in characters then.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import microtape as mt

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOK = ROOT / "examples" / "tour.ipynb"
X = [1.0, 2.0, 3.0]
Y = [2.0, 4.0, 6.0]

Cell = dict[str, Any]
"""A notebook cell as nbformat reads it (a JSON object)."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Cell]:
    """The notebook after running every cell, its tagged cells by tag."""
    nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")
    nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
    pytest.importorskip("ipykernel", reason="the test extra installs ipykernel")
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / "microtape-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "microtape tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    patch = pytest.MonkeyPatch()
    patch.setenv("JUPYTER_PATH", str(home))  # where the kernel spec above is found
    patch.setenv("JUPYTER_RUNTIME_DIR", str(home / "runtime"))  # connection files
    patch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # the current folders, and no warning
    patch.setenv("IPYTHONDIR", str(home / "ipython"))  # the kernel's history database
    try:
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(
            notebook,
            kernel_name="microtape-test",
            timeout=120,
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # run where it lives
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        patch.undo()
    assert seconds < 60, f"the notebook took {seconds:.1f} s"
    cells: dict[str, Cell] = {"": {"cells": notebook.cells}}
    for cell in notebook.cells:
        for tag in cell.get("metadata", {}).get("tags", []):
            cells[tag] = cell
    return cells


def _text(cell: Cell) -> str:
    """Everything a cell printed, and the plain text of what it displayed."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def _data(cell: Cell, kind: str) -> list[str]:
    """The displayed data of one MIME type, in the order the cell displayed it."""
    return [o["data"][kind] for o in cell.get("outputs", []) if kind in o.get("data", {})]


def _mse_gradients(w: float, b: float) -> list[float]:
    errors = [w * x + b - y for x, y in zip(X, Y, strict=True)]
    n = len(X)
    return [2 / n * sum(e * x for e, x in zip(errors, X, strict=True)), 2 / n * sum(errors)]


# ---- the notebook as stored ---------------------------------------------------------------------


def test_the_notebook_is_stored_without_outputs() -> None:
    """Outputs come from running it; stored ones would go stale and bloat every diff."""
    notebook = json.loads(NOTEBOOK.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(not cell["outputs"] and cell["execution_count"] is None for cell in code)


# ---- running it ---------------------------------------------------------------------------------


@pytest.mark.subprocess
def test_no_cell_fails_or_writes_to_stderr(executed: dict[str, Cell]) -> None:
    for cell in executed[""]["cells"]:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", output.get("evalue")
            assert output.get("name") != "stderr", output["text"]


@pytest.mark.subprocess
def test_case_1_shows_the_tape_as_a_table_then_the_gradients(executed: dict[str, Cell]) -> None:
    [table] = _data(executed["case-1-record"], "text/html")
    assert "<table>" in table and "GradientTape(non-persistent): exited, " in table
    weight, bias = mt.nn.Dense(1, 1).trainable_variables  # the notebook's starting point
    expected = [round(g, 4) for g in _mse_gradients(weight.data, bias.data)]
    out = _text(executed["case-1"])
    assert f"Gradients: {expected}" in out


@pytest.mark.subprocess
def test_case_2_explains_the_none_and_the_optimizer_refuses_it(
    executed: dict[str, Cell],
) -> None:
    assert "was not computed while this tape was recording" in _text(executed["case-2-explain"])
    out = _text(executed["case-2"])
    assert "Gradients: [None, None]" in out
    assert "MissingGradientError: apply_gradients: the gradient of variable 0" in out


@pytest.mark.subprocess
def test_case_3_answers_twice_then_is_released(executed: dict[str, Cell]) -> None:
    out = _text(executed["case-3"])
    found = re.findall(r"Gradients (\d): \[([-\d.]+), ([-\d.]+)\]", out)
    assert [number for number, _, _ in found] == ["1", "2"]
    assert "GradientTape(persistent): released" in out


@pytest.mark.subprocess
def test_explain_shows_the_gradients_the_chain_and_the_reason_for_none(
    executed: dict[str, Cell],
) -> None:
    record = executed["explain-record"]
    assert "[Value(-27.0), Value(-9.0)]" in _text(record)
    [table] = _data(record, "text/html")
    assert "<td" in table and "-27" in table  # each node's gradient, in the table
    out = " ".join(_text(executed["explain"]).split())  # explanations are wrapped
    assert "b -> prediction (add) -> error (sub) -> loss (mul)" in out  # the notebook's names
    assert "was not used by any op recorded" in out


@pytest.mark.subprocess
def test_the_graph_cell_shows_a_picture_where_graphviz_is_installed(
    executed: dict[str, Cell],
) -> None:
    graph = executed["graph"]
    if shutil.which("dot") is None:
        if _in_ci():
            pytest.fail("Graphviz's dot is not installed, but CI must render: install graphviz")
        [markdown] = _data(graph, "text/markdown")
        assert "```dot\ndigraph microtape {" in markdown
        return
    [svg] = _data(graph, "image/svg+xml")
    assert svg.startswith("<svg") and "w (leaf)" in svg and "×3.0" in svg
    assert "×&#45;9.0 (&#45;4.5 + &#45;4.5)" in svg  # error * error: one arrow, the sum
    assert not _data(graph, "text/markdown")
    [path] = _data(executed["graph-path"], "image/svg+xml")
    assert "how loss depends on b" in path


def test_an_accumulator_and_compiled_code_show_as_tables_and_code(
    executed: dict[str, Cell],
) -> None:
    [table] = _data(executed["forward"], "text/html")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
    assert cells[:3] == ["w", "0.5", "1.0"]  # the primal by its name, its value and tangent
    assert "loss" in cells and "prediction" in cells
    [code] = _data(executed["code"], "text/html")
    assert code.startswith("<pre") and "<span" in code  # highlighted
    plain = _text(executed["code"])
    assert "loss = error * error  # mul" in plain and "\\n" not in plain  # lines, not a repr


@pytest.mark.subprocess
def test_newton_reaches_ln_2(executed: dict[str, Cell]) -> None:
    out = _text(executed["newton"])
    assert f"x = {math.log(2.0)!r}; ln 2" in out
    assert len(re.findall(r"^step \d:", out, re.M)) == 6


@pytest.mark.subprocess
def test_the_training_run_learns_and_the_loss_is_plotted_in_text_without_matplotlib(
    executed: dict[str, Cell],
) -> None:
    found = re.search(
        r"loss (\d\.\d+) -> (\d\.\d+); training accuracy (\d+)%", _text(executed["training"])
    )
    assert found is not None
    first, last, accuracy = float(found.group(1)), float(found.group(2)), int(found.group(3))
    assert last < first / 3 and accuracy >= 90
    plot = executed["plot"]
    if importlib.util.find_spec("matplotlib") is None:
        out = _text(plot)
        assert "a text plot" in out and out.count("*") == 60
        assert f"{first:8.4f} |*" in out  # the first epoch at the top left
    else:
        assert _data(plot, "image/png")
