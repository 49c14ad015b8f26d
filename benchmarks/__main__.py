"""``python -m benchmarks``: run the benchmark (``--help`` lists the options)."""

from __future__ import annotations

from .main import main

raise SystemExit(main())
