"""A progress bar for the shell commands (``python -m index``), on stderr."""

from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """A one-line progress bar on stderr (a line per 10% when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        if total <= 0:
            return
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"{self.label}: {done}/{total} ({100 * done / total:.0f}%, {rate:.0f}/s)"
        if sys.stderr.isatty():
            sys.stderr.write("\r" + line + ("\n" if done >= total else ""))
        elif (tenth := 10 * done // total) != self._last_tenth:
            self._last_tenth = tenth
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
