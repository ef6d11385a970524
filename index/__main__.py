"""``python -m index build | stats | eval | tune | feedback``: see :mod:`index.cli`."""

from __future__ import annotations

import sys

from index.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
