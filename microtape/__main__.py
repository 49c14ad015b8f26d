"""``python -m microtape``: the command line (see ``microtape/_cli.py``)."""

import sys

from microtape._cli import main

if __name__ == "__main__":
    sys.exit(main())
