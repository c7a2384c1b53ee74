"""``python -m loyalty``: the ``loyalty`` command."""

import sys

from loyalty.cli import main

sys.exit(main())
