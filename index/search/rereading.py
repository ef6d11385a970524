"""Who the cross-encoder reads for: one question at a time, and none that waited too long.

A question that has already waited longer than ``TANYA_CROSS_ENCODER_MAX_WAIT_MS`` since it
arrived, or finds the cross-encoder reading another question, skips that step and is answered
by the ranking alone: under load replies stay quick, never queued.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

#: Default of ``TANYA_CROSS_ENCODER_MAX_WAIT_MS``, in seconds.
MAX_WAIT = 0.25
#: Questions that skip the cross-encoder are logged at most once in this many seconds.
SKIP_LOG_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RereadCounts:
    """Questions the cross-encoder read again, and those that waited too long and skipped it."""

    read: int = 0
    skipped: int = 0


_turns: weakref.WeakKeyDictionary[object, threading.Lock] = weakref.WeakKeyDictionary()
_turns_lock = threading.Lock()


def _turn_lock(reader: object) -> threading.Lock:
    """The lock of ``reader``'s turns, whichever searcher uses it.

    An old and a new index version's searchers share the shipped cross-encoder while a reload
    swaps them.
    """
    with _turns_lock:
        lock = _turns.get(reader)
        if lock is None:
            lock = _turns[reader] = threading.Lock()
        return lock


class Rereading:
    """Who the cross-encoder reads for: one question at a time, and none that waited too long.

    torch already spreads one reading over the cores, so questions take turns rather than share
    them and all finish late. A question whose wait since it arrived is past ``max_wait``
    seconds, or that finds the cross-encoder reading another question, skips it (the caller
    keeps the ranking's order): no question waits for another's reading, so none holds a worker
    thread while it waits. Thread-safe; counts both kinds, and logs skips at most once a minute.
    """

    def __init__(self, max_wait: float = MAX_WAIT) -> None:
        self.max_wait = max_wait
        self._counting = threading.Lock()
        self._read = 0
        self._skipped = 0
        self._unlogged = 0  # skipped since the last log line
        self._logged_at: float | None = None

    def counts(self) -> RereadCounts:
        """How many questions were read again and how many skipped, since this was made."""
        with self._counting:
            return RereadCounts(read=self._read, skipped=self._skipped)

    def read(
        self, reader: object, arrived: float | None, scores: Callable[[], np.ndarray]
    ) -> np.ndarray | None:
        """``scores()`` in ``reader``'s turn, or None when the question must not wait for it.

        ``arrived`` is the ``time.monotonic()`` at which the question arrived; None: no limit
        (evaluation and the shell wait for their turn, however long). A question with a time
        never waits for its turn: it is read now or not at all.
        """
        turn = _turn_lock(reader)
        if arrived is None:
            turn.acquire()
        else:
            waited = time.monotonic() - arrived
            if waited > self.max_wait or not turn.acquire(blocking=False):
                self._count(read=False, waited=waited)
                return None
        try:
            result = scores()
        finally:
            turn.release()
        self._count(read=True)
        return result

    def _count(self, *, read: bool, waited: float = 0.0) -> None:
        with self._counting:
            if read:
                self._read += 1
                return
            self._skipped += 1
            self._unlogged += 1
            now = time.monotonic()
            if self._logged_at is not None and now - self._logged_at < SKIP_LOG_SECONDS:
                return
            unlogged, self._unlogged, self._logged_at = self._unlogged, 0, now
            read_count, skipped = self._read, self._skipped
        log.info(
            "%d question(s) waited over %d ms (the last %d ms) and were answered without the "
            "cross-encoder, by the ranking alone; %d skipped, %d read again in all",
            unlogged,
            round(self.max_wait * 1000),
            round(waited * 1000),
            skipped,
            read_count,
        )
