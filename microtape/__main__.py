"""``python -m microtape``: the command line (see ``microtape/cli/__init__.py``)."""

import sys

from microtape.cli import main

if __name__ == "__main__":
    sys.exit(main())
