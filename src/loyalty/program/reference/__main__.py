"""``python -m loyalty.program.reference EXAMPLES_DIR OUTPUT``: write the page."""

from loyalty.program.reference import main

raise SystemExit(main())
