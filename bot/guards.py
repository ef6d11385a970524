"""Guards in front of the handlers: duplicate updates and the per-user question rate limit.

Telegram may deliver an update twice (a lost confirmation of ``getUpdates``, a webhook answer
that did not arrive), and with several webhook workers the copy may reach another worker.
`SeenUpdates` remembers this worker's last update ids, so a repeat costs no database call; the
update claims in the shared database (`index.update_claims`) catch a copy any worker got, and
`schedule_claim_pruning` forgets old claims. `QuestionRateLimit` is a sliding window per user
id, in memory: past the limit a user gets one polite message per window, then silence until
the window lets them ask again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from bot.repeating import run_every
from index.update_claims import KEEP

if TYPE_CHECKING:
    from bot.app import BotApplication, BotContext

log = logging.getLogger(__name__)

#: How often old update claims are deleted.
PRUNE_EVERY = dt.timedelta(hours=1)


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


async def prune_update_claims(context: BotContext) -> None:
    """Job: forget the update claims older than Telegram would deliver an update again."""
    claims = context.bot_data.update_claims
    if claims is None:
        return
    pruned = await asyncio.to_thread(claims.prune, now=dt.datetime.now(dt.UTC))
    if pruned:
        log.info("forgot %d update claims older than %s", pruned, KEEP)


def schedule_claim_pruning(application: BotApplication) -> None:
    """Prune old update claims a minute after start, then every :data:`PRUNE_EVERY`."""
    run_every(
        application, prune_update_claims, interval=PRUNE_EVERY, first=60, name="prune update claims"
    )
