"""The daily summary's policy: who is due when, once a chat a day, and what to do when it fails.

Pure: the time comes in as arguments, nothing here calls Telegram or the database. Sending
(``bot.daily_summaries``) asks this module; the JobQueue wiring (``bot.jobs``) runs it.

A chat is due once its send time has passed today, if it subscribed before that time and has
no delivery for today in the sent log. What Telegram answers decides the rest (`reaction`):
``RetryAfter`` is waited out, a few times; ``ChatMigrated`` moves the chat to its supergroup;
``Forbidden`` unsubscribes it; a timeout after the request went out keeps the delivery as sent
(a missed morning rather than a second message); anything else is tried again later, the wait
doubling each time (`retry_delay`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from enum import Enum
from zoneinfo import ZoneInfo

import httpx
from telegram.error import ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.subscriptions import Subscriber

#: Returns the current time, time zone-aware. Tests pass one they control.
Clock = Callable[[], dt.datetime]

#: Tries for one chat's message (the first and the retries after other errors).
MAX_ATTEMPTS = 6
#: ``RetryAfter`` answers waited out for one message before it counts as a failed attempt.
MAX_FLOOD_WAITS = 3


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A chat whose summary is due: the local day it is for and the time it was due."""

    subscriber: Subscriber
    day: dt.date
    slot: dt.datetime


def due_deliveries(
    subscribers: Iterable[Subscriber],
    *,
    now: dt.datetime,
    default: dt.time,
    zone: ZoneInfo,
    delivered: set[int],
) -> list[DueDelivery]:
    """The chats whose send time has passed today and that have no delivery for today yet.

    A chat that subscribed after today's send time waits for tomorrow.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time zone-aware")
    day = now.astimezone(zone).date()
    due = []
    for subscriber in subscribers:
        slot = subscriber.slot(day, default=default, zone=zone)
        if slot <= now and subscriber.subscribed_at < slot and subscriber.chat_id not in delivered:
            due.append(DueDelivery(subscriber=subscriber, day=day, slot=slot))
    return due


@dataclass(slots=True)
class DeliveryReport:
    """What one run did, by chat id (kept for logs and tests)."""

    started: dt.datetime
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  #: already delivered (or being delivered)
    unsubscribed: list[int] = field(default_factory=list)
    migrated: dict[int, int] = field(default_factory=dict)
    retrying: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RetryData:
    """What a retry job needs: the chat, the day its summary is for, the attempt it makes."""

    chat_id: int
    day: dt.date
    attempt: int


class Reaction(Enum):
    """What to do about an error Telegram answered a summary message with."""

    WAIT = "wait"  #: flood control: wait as long as Telegram asks, then send again
    MIGRATE = "migrate"  #: the group became a supergroup: move the chat, send there
    UNSUBSCRIBE = "unsubscribe"  #: blocked, or removed from the group
    KEEP_AS_SENT = "keep as sent"  #: it may have arrived: never send it twice
    RETRY_LATER = "retry later"  #: anything else: release the claim, try again later


def reaction(error: TelegramError, *, flood_waits: int, migrated_to: Collection[int]) -> Reaction:
    """What to do about ``error``, after ``flood_waits`` waits for this message.

    ``migrated_to``: the chat ids this run moved chats to already; a migration to one of them
    again means Telegram sent us in a circle, and is treated as any other error.
    """
    if isinstance(error, RetryAfter) and flood_waits < MAX_FLOOD_WAITS:
        return Reaction.WAIT
    if isinstance(error, ChatMigrated) and error.new_chat_id not in migrated_to:
        return Reaction.MIGRATE
    if isinstance(error, Forbidden):
        return Reaction.UNSUBSCRIBE
    if isinstance(error, TimedOut) and may_have_arrived(error):
        return Reaction.KEEP_AS_SENT
    return Reaction.RETRY_LATER


def may_have_arrived(error: TimedOut) -> bool:
    """Whether Telegram may have got the message: a timeout after the request went out."""
    return not isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


def flood_wait_seconds(error: RetryAfter) -> float:
    """How long Telegram asks to wait."""
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)


def retry_delay(attempt: int, *, first_seconds: float) -> float | None:
    """Seconds before trying again after failed attempt ``attempt`` (1: the first); None: give up.

    ``first_seconds`` (``TANYA_SUMMARY_RETRY_SECONDS``) doubles with each attempt.
    """
    if attempt >= MAX_ATTEMPTS:
        return None
    return first_seconds * 2 ** (attempt - 1)
