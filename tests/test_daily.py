"""The daily summary's policy on its own: who is due when, and what each failure leads to.

No Application, no database: ``bot.daily`` takes the time and Telegram's errors as arguments.
The same rules end to end, on a test clock and the Bot API stand-in: ``test_daily_summary.py``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.daily import (
    MAX_ATTEMPTS,
    MAX_FLOOD_WAITS,
    Reaction,
    due_deliveries,
    flood_wait_seconds,
    reaction,
    retry_delay,
)
from bot.subscriptions import Subscriber

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = dt.date(2025, 1, 7)
SEVEN = dt.time(7, 0)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=JAKARTA)


def subscriber(chat_id: int, *, hour: int | None = None, since: dt.datetime) -> Subscriber:
    return Subscriber(
        chat_id=chat_id, chat_type="private", language="id", hour=hour, subscribed_at=since
    )


def due_at(
    now: dt.datetime, *subscribers: Subscriber, delivered: set[int] | None = None
) -> list[tuple[int, dt.date, dt.datetime]]:
    due = due_deliveries(
        subscribers, now=now, default=SEVEN, zone=JAKARTA, delivered=delivered or set()
    )
    return [(item.subscriber.chat_id, item.day, item.slot) for item in due]


def test_a_chat_is_due_once_its_time_has_passed_today() -> None:
    yesterday = at(12, day=DAY - dt.timedelta(days=1))
    chat = subscriber(1, since=yesterday)
    assert due_at(at(6, 59), chat) == []
    assert due_at(at(7, 0), chat) == [(1, DAY, at(7, 0))]
    assert due_at(at(23, 59), chat) == [(1, DAY, at(7, 0))]  # a late run still sends today's


def test_a_chat_with_todays_delivery_is_not_due_again() -> None:
    chat = subscriber(1, since=at(6, day=DAY - dt.timedelta(days=1)))
    assert due_at(at(8), chat, delivered={1}) == []


def test_a_chat_that_subscribed_after_its_time_waits_for_tomorrow() -> None:
    chat = subscriber(1, since=at(8))
    assert due_at(at(9), chat) == []
    tomorrow = DAY + dt.timedelta(days=1)
    assert due_at(at(7, day=tomorrow), chat) == [(1, tomorrow, at(7, day=tomorrow))]


def test_a_chat_is_due_at_its_own_hour_in_the_summary_time_zone() -> None:
    early, late = subscriber(1, since=at(1)), subscriber(2, hour=18, since=at(1))
    # 11:00 UTC is 18:00 in Jakarta.
    now = dt.datetime.combine(DAY, dt.time(11, 0), tzinfo=dt.UTC)
    assert due_at(now, early, late) == [(1, DAY, at(7)), (2, DAY, at(18))]
    assert due_at(at(17, 59), early, late) == [(1, DAY, at(7))]


def test_due_deliveries_refuse_a_naive_now() -> None:
    with pytest.raises(ValueError, match="time zone-aware"):
        due_deliveries(
            [], now=dt.datetime(2025, 1, 7, 7), default=SEVEN, zone=JAKARTA, delivered=set()
        )


def test_what_each_answer_of_telegram_leads_to() -> None:
    flood = RetryAfter(dt.timedelta(seconds=2))
    assert reaction(flood, flood_waits=0, migrated_to=()) is Reaction.WAIT
    assert reaction(flood, flood_waits=MAX_FLOOD_WAITS, migrated_to=()) is Reaction.RETRY_LATER
    assert flood_wait_seconds(flood) == 2.0
    moved = ChatMigrated(-100123)
    assert reaction(moved, flood_waits=0, migrated_to=()) is Reaction.MIGRATE
    # Sent back to a chat this run moved another to: a circle, not followed again.
    assert reaction(moved, flood_waits=0, migrated_to={-100123}) is Reaction.RETRY_LATER
    blocked = Forbidden("Forbidden: bot was blocked by the user")
    assert reaction(blocked, flood_waits=0, migrated_to=()) is Reaction.UNSUBSCRIBE
    read, connect = TimedOut(), TimedOut()
    read.__cause__ = httpx.ReadTimeout("no answer")
    connect.__cause__ = httpx.ConnectTimeout("no connection")
    assert reaction(read, flood_waits=0, migrated_to=()) is Reaction.KEEP_AS_SENT
    assert reaction(connect, flood_waits=0, migrated_to=()) is Reaction.RETRY_LATER
    for other in (NetworkError("Bad Gateway"), BadRequest("message is too long")):
        assert reaction(other, flood_waits=0, migrated_to=()) is Reaction.RETRY_LATER


def test_retries_wait_twice_as_long_each_time_then_give_up() -> None:
    waits = [retry_delay(attempt, first_seconds=30) for attempt in range(1, MAX_ATTEMPTS + 1)]
    assert waits == [30, 60, 120, 240, 480, None]
