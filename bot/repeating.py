"""Background jobs that repeat, one run at a time.

A run that falls due while another runs is skipped rather than queued: a slow database must
not pile runs up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.context import BotApplication, BotContext


def run_every(
    application: BotApplication,
    job: Callable[[BotContext], Coroutine[Any, Any, None]],
    *,
    interval: dt.timedelta | float,
    first: dt.timedelta | float,
    name: str,
) -> None:
    """Run ``job`` ``first`` after start, then every ``interval`` (no job queue: never)."""
    if application.job_queue is None:
        return
    application.job_queue.run_repeating(
        job,
        interval=interval,
        first=first,
        name=name,
        job_kwargs={"coalesce": True, "max_instances": 1},
    )
