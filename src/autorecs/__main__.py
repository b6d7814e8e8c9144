"""``python -m autorecs``: the command-line interface, as the ``autorecs`` script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
