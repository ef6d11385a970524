"""Guards in front of the handlers: duplicate updates and the per-user question rate limit.

`SeenUpdates` remembers this worker's last update ids, so an update Telegram delivers again
costs no database call (``bot.duplicates`` claims the rest across workers). `QuestionRateLimit`
is a sliding window per user id, in memory: past the limit a user gets one polite message per
window, then silence until the window lets them ask again.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from enum import Enum


class SeenUpdates:
    """The last ``size`` update ids, to drop an update Telegram delivers again."""

    def __init__(self, size: int = 1000) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def first_time(self, update_id: int) -> bool:
        """True the first time an update id is seen; False for a repeat."""
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


class Verdict(Enum):
    """What to do with one question under the rate limit."""

    ANSWER = "answer"
    WARN = "warn"  # over the limit: say so once
    IGNORE = "ignore"  # over the limit and already told


class QuestionRateLimit:
    """At most ``limit`` questions per user in any ``window`` seconds (0 = no limit)."""

    def __init__(
        self,
        limit: int,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_users = max_users
        self._asked: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        """Count one question of ``user_id`` if it may be answered, and say what to do."""
        if self.limit <= 0:
            return Verdict.ANSWER
        now = self._clock()
        asked = self._asked.pop(user_id, None) or deque()
        self._asked[user_id] = asked  # most recently active last
        while asked and asked[0] <= now - self.window:
            asked.popleft()
        if len(self._asked) > self._max_users:  # forget the longest-idle user
            forgotten, _ = self._asked.popitem(last=False)
            self._warned.discard(forgotten)
        if len(asked) < self.limit:
            asked.append(now)
            self._warned.discard(user_id)
            return Verdict.ANSWER
        if user_id in self._warned:
            return Verdict.IGNORE
        self._warned.add(user_id)
        return Verdict.WARN
