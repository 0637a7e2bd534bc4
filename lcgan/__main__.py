"""``python -m lcgan``: the same as the ``lcgan`` command."""

from lcgan.cli import main

raise SystemExit(main())
