"""``microtape demo``: a small neural network learns two moons, in the terminal.

It needs nothing but the standard library, so it runs from a fresh clone. The
data are generated (two interleaving half-moons), a multilayer perceptron is
trained with Adam on binary cross-entropy, one gradient tape per epoch, with a live
progress line; then the decision boundary is drawn in text over the data.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TextIO

import microtape as mt
from microtape import losses, nn, optim
from microtape.core.words import counted
from microtape.datasets import Moons, make_moons

__all__ = ["add_arguments", "plot", "run"]

WIDTH: Final = 64
"""Columns of the text plot."""
HEIGHT: Final = 20
"""Rows of the text plot: a character is about twice as tall as it is wide."""
REGION: Final = (" ", ".")
"""Background of the plot where the model predicts class 0, class 1."""
POINT: Final = ("o", "x")
"""A point of class 0, class 1, predicted right; upper case where predicted wrong."""
PICTURES: Final = (".svg", ".png", ".pdf")
"""What ``--dot`` renders with Graphviz; any other file gets the DOT text."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options: data, model, training, and the graph file."""
    parser.add_argument("--epochs", type=_positive, default=100, help="training epochs (100)")
    parser.add_argument("--samples", type=_positive, default=200, help="data points (200)")
    parser.add_argument("--noise", type=float, default=0.15, help="noise of the moons (0.15)")
    parser.add_argument("--hidden", type=_widths, default=[8, 8], help="hidden widths (8,8)")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="Adam's step (0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the data and weights (0)")
    parser.add_argument(
        "--dot",
        metavar="FILE",
        type=Path,
        help="write the graph of how one point's loss depends on one weight: DOT text, or a "
        "picture if FILE ends in .svg, .png or .pdf (needs Graphviz's dot; without it the "
        "DOT text is written beside, as FILE.dot)",
    )


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths such as 8,8; got {text!r}") from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"widths must be at least 1, got {text!r}")
    return widths


def run(args: argparse.Namespace) -> int:
    """Train the classifier, drawing progress and then the decision boundary."""
    out = sys.stdout
    graph: Path | None = None
    if args.dot is not None:  # before training: a mistake here should not cost the run
        try:
            graph = _graph_file(args.dot, out)
        except OSError as exc:
            print(f"microtape demo: --dot {args.dot}: {exc}", file=sys.stderr)
            return 1
    data = make_moons(args.samples, args.noise, args.seed)
    model = nn.MLP(2, args.hidden, 1, seed=args.seed)
    optimizer = optim.Adam(learning_rate=args.learning_rate)
    sizes = " -> ".join(str(n) for n in [2, *args.hidden, 1])
    print("microtape demo: a neural network learns to tell two moons apart.\n", file=out)
    print(f"  data       {counted(args.samples, 'point')}, two interleaving half-moons", file=out)
    print(f"  model      MLP {sizes} (tanh): {model.count_params()} parameters", file=out)
    print("  loss       binary cross-entropy from logits", file=out)
    print(f"  optimizer  Adam(learning_rate={args.learning_rate:g})\n", file=out)
    print(
        "Each epoch runs the model on every point inside one GradientTape, which records\n"
        "each multiply, add and tanh; tape.gradient then walks that record backwards once\n"
        "to get all the parameters' gradients, and Adam moves the parameters.\n",
        file=out,
    )
    start = time.perf_counter()
    live = out.isatty()
    every = max(1, args.epochs // 10)  # piped output (CI logs): ten lines, not a hundred
    for epoch in range(1, args.epochs + 1):
        with mt.GradientTape() as tape:
            logits = [model(p)[0] for p in data.points]
            loss = losses.binary_crossentropy(data.labels, logits, from_logits=True)
        recorded = tape.view().count  # read before gradient() frees them
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        accuracy = _accuracy([z.data for z in logits], data.labels)
        line = (
            f"epoch {epoch:>{len(str(args.epochs))}}/{args.epochs}  loss {loss.data:.4f}  "
            f"accuracy {accuracy:6.1%}  ({recorded:,} ops on the tape)"
        )
        if live:
            out.write("\r" + line)
            out.flush()
        elif epoch % every == 0 or epoch == args.epochs:
            print(line, file=out)
    if live:
        out.write("\n")
    seconds = time.perf_counter() - start
    predicted = [_logit(model, p) for p in data.points]
    print(file=out)
    print(plot(data, lambda x, y: _logit(model, (x, y)) > 0.0, predicted), file=out)
    accuracy = _accuracy(predicted, data.labels)
    print(
        f"\ntrained in {seconds:.1f} s: training accuracy {accuracy:.1%} "
        f"({counted(args.epochs, 'epoch')}, {counted(args.samples, 'point')})",
        file=out,
    )
    if graph is not None:
        try:
            _write_graph(graph, model, data, out)
        except (mt.GraphvizError, OSError) as exc:
            print(f"microtape demo: --dot {graph}: {exc}", file=sys.stderr)
            return 1
        if graph != args.dot:
            fmt = args.dot.suffix.lstrip(".").lower()
            print(
                f"Graphviz's dot is not installed, so that is the DOT text, not the picture.\n"
                "To draw it, install Graphviz (Debian/Ubuntu: apt-get install graphviz;\n"
                f"macOS: brew install graphviz) and run:\n  dot -T{fmt} {graph} -o {args.dot}",
                file=out,
            )
    return 0


def _logit(model: nn.Module, point: Sequence[float]) -> float:
    return model(point)[0].data  # outside any tape: nothing is recorded


def _accuracy(logits: Sequence[float], labels: Sequence[float]) -> float:
    right = sum((z > 0.0) == (label == 1.0) for z, label in zip(logits, labels, strict=True))
    return right / len(labels)


def plot(data: Moons, predict: Callable[[float, float], bool], logits: Sequence[float]) -> str:
    """The plane as text: each cell shows the predicted class, each point its true class.

    Args:
        data: the points and their classes.
        predict: a function ``(x, y) -> bool``: True where the model says class 1.
        logits: the model's logit for each point, to mark the misclassified ones.
    """
    xs = [p[0] for p in data.points]
    ys = [p[1] for p in data.points]
    x0, x1 = min(xs) - 0.1, max(xs) + 0.1
    y0, y1 = min(ys) - 0.1, max(ys) + 0.1
    cells = [
        [
            REGION[
                bool(
                    predict(x0 + (c + 0.5) * (x1 - x0) / WIDTH, y1 - (r + 0.5) * (y1 - y0) / HEIGHT)
                )
            ]
            for c in range(WIDTH)
        ]
        for r in range(HEIGHT)
    ]
    for (x, y), label, z in zip(data.points, data.labels, logits, strict=True):
        c = min(WIDTH - 1, int((x - x0) / (x1 - x0) * WIDTH))
        r = min(HEIGHT - 1, int((y1 - y) / (y1 - y0) * HEIGHT))
        mark = POINT[int(label)]
        cells[r][c] = mark if (z > 0.0) == (label == 1.0) else mark.upper()
    border = "+" + "-" * WIDTH + "+"
    rows = [border, *("|" + "".join(row) + "|" for row in cells), border]
    rows.append(
        f" {POINT[0]} class 0   {POINT[1]} class 1   {POINT[0].upper()} {POINT[1].upper()} "
        f"misclassified   '{REGION[1]}' where the model says class 1"
    )
    return "\n".join(rows)


def _graph_file(path: Path, out: TextIO) -> Path:
    """The file ``--dot`` will write: ``path``, or ``path`` with ``.dot`` for a picture
    when Graphviz's ``dot`` is missing.

    Raises:
        OSError: if the folder to write in does not exist.
    """
    import shutil

    if not path.parent.is_dir():
        raise FileNotFoundError(f"no folder {str(path.parent)!r} to write the graph in")
    if path.suffix.lower() in PICTURES and shutil.which("dot") is None:
        text = path.with_suffix(".dot")
        print(
            f"note: --dot {path}: Graphviz's dot is not installed; the graph will be written "
            f"as DOT text to {text}\n",
            file=out,
        )
        return text
    return path


def _write_graph(path: Path, model: nn.MLP, data: Moons, out: TextIO) -> None:
    """Draw how point 0's loss depends on one weight: the last layer's weight of the last
    hidden unit, whose path to the loss is short enough to read (the whole graph of one
    point has over 300 nodes; any earlier weight's path runs through a whole layer).

    Each box says what it is: the weight by its place in the model
    (``layers[2].kernel[7][0]``, as ``mt.nn`` names it), each hidden unit by its layer and
    index (``hidden[1][7]``: the variable ``hidden`` holds them when the tape's block ends),
    then ``logit`` and ``loss``."""
    last = model.layers[-1]
    assert isinstance(last, nn.Dense)
    with mt.GradientTape(persistent=True) as tape:
        hidden = _hidden(model, data.points[0])
        logit = last(hidden[-1])[0]
        loss = losses.binary_crossentropy(data.labels[:1], [logit], from_logits=True)
    tape.gradient(loss, model.trainable_variables)
    weight = last.kernel[-1][0]  # after the block: named by its place in the model
    dot = mt.to_dot(loss, tape, source=weight)
    tape.release()
    if path.suffix.lower() in PICTURES:
        mt.render_dot(dot, path)
    else:
        path.write_text(dot)
    nodes = sum(1 for line in dot.splitlines() if "[label=" in line and "->" not in line)
    print(
        f"\nwrote {path} ({nodes} nodes): how point 0's loss depends on {weight.name},\n"
        "a weight of the last layer: the path along which its gradient flows back",
        file=out,
    )


def _hidden(model: nn.MLP, point: Sequence[float]) -> list[list[mt.Value]]:
    """The outputs of each hidden layer of ``model`` for one point."""
    hidden: list[list[mt.Value]] = []
    inputs: Sequence[mt.Value | float] = point
    for layer in model.layers[:-1]:
        inputs = layer(inputs)
        hidden.append(inputs)
    return hidden
