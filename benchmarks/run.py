"""``python benchmarks/run.py``: the benchmark as a script, the same as ``python -m benchmarks``.

Run as a script, Python puts this folder first on ``sys.path``; the benchmark is the
package ``benchmarks``, so that entry is replaced by the clone's root (which holds the
``benchmarks`` folder, and the ``microtape`` package the benchmark then measures).
"""

from __future__ import annotations

import sys
from pathlib import Path


def _main() -> int:
    here = Path(__file__).resolve().parent
    if sys.path and Path(sys.path[0] or ".").resolve() == here:
        sys.path[0] = str(here.parent)
    else:
        sys.path.insert(0, str(here.parent))
    from benchmarks.main import main

    return main()


if __name__ == "__main__":
    raise SystemExit(_main())
