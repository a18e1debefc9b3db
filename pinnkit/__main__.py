"""`python -m pinnkit ...`: the command line (also what `torchrun ... -m pinnkit fit` runs)."""

import sys

from pinnkit.cli import main

sys.exit(main())
