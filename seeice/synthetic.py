"""Command-line entry of the synthetic scene generator: ``python -m seeice.synthetic``.

The generator itself is :mod:`seeice.datasets.synthetic`; this module keeps the documented
command working.
"""

import sys

from seeice.datasets.synthetic import main

if __name__ == "__main__":
    sys.exit(main())
