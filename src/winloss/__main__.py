"""``python -m winloss``."""

import sys

from winloss.cli.main import main

sys.exit(main())
