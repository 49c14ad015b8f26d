"""A structure that contains itself (a list holding itself) is refused with an error, not
followed forever, and the tape still works afterwards.

Each case runs in a child process under a time limit and a memory limit, so that the
failure this guards against, a hang or a runaway recursion, fails the test instead of
stopping the suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.subprocess  # each case runs in a child with a memory limit

_SELF_NESTING = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
import microtape as mt
x = mt.Value(2.0)
with mt.GradientTape() as tape:
    y = x * x
loop = [x]
loop.append(loop)
try:
    {call}
except (TypeError, ValueError) as exc:
    print("refused:", type(exc).__name__, exc)
    g = tape.gradient(y, x)
    print("then:", g)
"""


@pytest.mark.parametrize(
    "call",
    [
        "tape.gradient(y, loop)",
        "tape.gradient(y, x, output_gradients=[1.0, loop])",
        "tape.gradient([y, loop], x)",
    ],
    ids=["sources", "output-gradients", "target"],
)
def test_a_structure_that_contains_itself_is_refused_not_followed_forever(call: str) -> None:
    script = textwrap.dedent(_SELF_NESTING).format(call=call)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=10
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{call} did not return within 10 s: a self-containing list loops forever")
    assert "refused:" in done.stdout, done.stderr[-2000:]
    assert "then: Value(4.0)" in done.stdout
