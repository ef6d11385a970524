"""The daily summary for one Application: subscriptions, the summaries, and the sending.

Every run sends to the chats that are due (``bot.daily``) and have no delivery in the sent log
for today, so runs may overlap in time and never send twice. Each message is claimed in the
sent log before it goes out and confirmed after; what Telegram answers decides whether the claim
is released and the chat tried again (``bot.daily.reaction``). The jobs that run all this, and
the retries, are the JobQueue's (``bot.jobs``): this module reaches them through `Jobs`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from typing import Protocol

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, RetryAfter, TelegramError

from bot.daily import (
    Clock,
    DeliveryReport,
    DueDelivery,
    Reaction,
    RetryData,
    due_deliveries,
    flood_wait_seconds,
    reaction,
    retry_delay,
)
from bot.subscriptions import SubscriptionStore
from bot.summary_replies import summary_html
from bot.texts import language_for
from config.settings import Settings
from index import Summarizer, Summary, last_24_hours

log = logging.getLogger(__name__)

#: Summaries kept, by the time they were due (one per send time and day).
SUMMARY_CACHE_SIZE = 8


class Jobs(Protocol):
    """The jobs sending needs: a daily one per send time, and one-off retries (``bot.jobs``)."""

    def ensure_daily_job(self, send_time: dt.time) -> object:
        """The daily job at ``send_time`` (local), created if there is none yet."""
        ...

    def retry_later(self, data: RetryData, *, delay: float) -> None:
        """Try ``data``'s chat again in ``delay`` seconds."""
        ...


class DailySummaries:
    """Subscriptions, the summaries and the sending, for one Application.

    ``jobs``: the Application's job queue (None without one: no daily job, no retry).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        store: SubscriptionStore,
        summarizer: Summarizer,
        clock: Clock | None = None,
        jobs: Jobs | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.summarizer = summarizer
        self.zone = settings.zone
        self.clock: Clock = clock or (lambda: dt.datetime.now(self.zone))
        self.jobs = jobs
        self.reports: list[DeliveryReport] = []
        self._lock = asyncio.Lock()
        self._summaries: OrderedDict[dt.datetime, Summary] = OrderedDict()

    def now(self) -> dt.datetime:
        """The clock's time, in the summary time zone."""
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return time zone-aware datetimes")
        return value.astimezone(self.zone)

    def send_time(self, hour: int | None) -> dt.time:
        """The local send time for a chat's own hour (None: the default)."""
        return dt.time(hour) if hour is not None else self.settings.summary_time

    def send_times(self) -> set[dt.time]:
        """Every send time in use: the default and the hours chats picked."""
        return {self.settings.summary_time, *(dt.time(hour) for hour in self.store.hours())}

    # --- Subscribing ----------------------------------------------------------------------

    async def subscribe(
        self,
        *,
        chat_id: int,
        chat_type: str,
        language: str,
        hour: int | None,
        user_id: int | None,
    ) -> tuple[bool, dt.time]:
        """Subscribe a chat (or change its hour); True if it is new, and its send time."""
        created = await asyncio.to_thread(
            self.store.subscribe,
            chat_id=chat_id,
            chat_type=chat_type,
            language=language,
            hour=hour,
            user_id=user_id,
            now=self.now(),
        )
        send_time = self.send_time(hour)
        if self.jobs is not None:
            self.jobs.ensure_daily_job(send_time)
        return created, send_time

    async def unsubscribe(self, *, chat_id: int) -> bool:
        """Unsubscribe a chat; True if it was subscribed."""
        return await asyncio.to_thread(self.store.unsubscribe, chat_id=chat_id)

    async def migrate(self, *, old_chat_id: int, new_chat_id: int) -> bool:
        """Move a group's subscription to its supergroup id; True if it was subscribed."""
        moved = await asyncio.to_thread(
            self.store.migrate, old_chat_id=old_chat_id, new_chat_id=new_chat_id
        )
        if moved:
            log.info("chat %s became %s: subscription moved", old_chat_id, new_chat_id)
        return moved

    # --- Summaries ------------------------------------------------------------------------

    async def summary(self, as_of: dt.datetime) -> Summary:
        """The summary of the 24 hours before ``as_of``; the same time gives the same summary."""
        key = as_of.replace(second=0, microsecond=0)
        cached = self._summaries.get(key)
        if cached is None:
            cached = await asyncio.to_thread(
                self.summarizer.summarize, last_24_hours(key), zone=self.zone
            )
            self._summaries[key] = cached
            while len(self._summaries) > SUMMARY_CACHE_SIZE:
                self._summaries.popitem(last=False)
        return cached

    async def summary_now(self) -> Summary:
        """Today's summary as of now (``/ringkasan``)."""
        return await self.summary(self.now())

    # --- Sending --------------------------------------------------------------------------

    async def deliver_due(self, bot: Bot) -> DeliveryReport:
        """Send today's summary to every chat that is due and has not had it."""
        async with self._lock:
            now = self.now()
            report = DeliveryReport(started=now)
            subscribers = await asyncio.to_thread(self.store.subscribers)
            delivered = await asyncio.to_thread(self.store.delivered_chats, day=now.date())
            due = due_deliveries(
                subscribers,
                now=now,
                default=self.settings.summary_time,
                zone=self.zone,
                delivered=delivered,
            )
            for item in due:
                try:
                    await self._deliver(bot, item, attempt=1, report=report)
                except Exception:  # one chat's bug must not cost the other chats their summary
                    log.exception("daily summary to chat %s failed", item.subscriber.chat_id)
                    report.given_up.append(item.subscriber.chat_id)
            self.reports.append(report)
        if due:
            log.info(
                "daily summary: %d sent, %d unsubscribed, %d to retry, %d skipped",
                len(report.sent),
                len(report.unsubscribed),
                len(report.retrying),
                len(report.skipped),
            )
        return report

    async def retry(self, bot: Bot, data: RetryData) -> DeliveryReport:
        """Try one chat's summary again, unless it has gone out or the chat left meanwhile."""
        async with self._lock:
            report = DeliveryReport(started=self.now())
            subscriber = await asyncio.to_thread(self.store.get, chat_id=data.chat_id)
            status = await asyncio.to_thread(
                self.store.delivery_status, chat_id=data.chat_id, day=data.day
            )
            if self.now().date() != data.day:
                log.error(
                    "daily summary to chat %s for %s: the day is over", data.chat_id, data.day
                )
                report.given_up.append(data.chat_id)
            elif subscriber is not None and status is None:
                slot = subscriber.slot(data.day, default=self.settings.summary_time, zone=self.zone)
                item = DueDelivery(subscriber=subscriber, day=data.day, slot=slot)
                await self._deliver(bot, item, attempt=data.attempt, report=report)
            self.reports.append(report)
        return report

    async def _deliver(
        self, bot: Bot, item: DueDelivery, *, attempt: int, report: DeliveryReport
    ) -> None:
        """Claim, send, confirm; on failure release the claim and react to what Telegram said."""
        chat_id, day = item.subscriber.chat_id, item.day
        if not await asyncio.to_thread(self.store.claim, chat_id=chat_id, day=day, now=self.now()):
            report.skipped.append(chat_id)
            return
        keep_claim = False  # once sent (or perhaps sent), the claim stays: never twice
        try:
            summary = await self.summary(item.slot)
            language = language_for(item.subscriber.language)
            message_text = summary_html(summary, language, footer=True)
            flood_waits = 0
            while True:
                try:
                    message = await bot.send_message(
                        chat_id, message_text, parse_mode=ParseMode.HTML
                    )
                except TelegramError as error:
                    what = reaction(
                        error, flood_waits=flood_waits, migrated_to=report.migrated.values()
                    )
                    if what is Reaction.WAIT:
                        assert isinstance(error, RetryAfter)
                        flood_waits += 1
                        seconds = flood_wait_seconds(error)
                        log.warning(
                            "flood control: waiting %.1f s before chat %s", seconds, chat_id
                        )
                        await asyncio.sleep(seconds)
                    elif what is Reaction.MIGRATE:
                        assert isinstance(error, ChatMigrated)
                        new_id = error.new_chat_id
                        already = await asyncio.to_thread(
                            self.store.delivery_status, chat_id=new_id, day=day
                        )
                        await self.migrate(old_chat_id=chat_id, new_chat_id=new_id)
                        report.migrated[chat_id] = new_id
                        chat_id = new_id
                        if already is not None:
                            report.skipped.append(chat_id)
                            keep_claim = True  # the supergroup has its own delivery for today
                            return
                    else:
                        keep_claim = await self._failed(what, error, chat_id, day, attempt, report)
                        return
                else:
                    await asyncio.to_thread(
                        self.store.confirm,
                        chat_id=chat_id,
                        day=day,
                        message_id=message.message_id,
                        now=self.now(),
                    )
                    keep_claim = True
                    report.sent.append(chat_id)
                    return
        finally:
            if not keep_claim:
                await asyncio.to_thread(self.store.release, chat_id=chat_id, day=day)

    async def _failed(
        self,
        what: Reaction,
        error: TelegramError,
        chat_id: int,
        day: dt.date,
        attempt: int,
        report: DeliveryReport,
    ) -> bool:
        """Act on a message Telegram did not take; True if its claim stays (it may have arrived)."""
        if what is Reaction.UNSUBSCRIBE:
            log.info("chat %s does not accept messages (%s): unsubscribed", chat_id, error.message)
            await self.unsubscribe(chat_id=chat_id)
            report.unsubscribed.append(chat_id)
            return False
        if what is Reaction.KEEP_AS_SENT:
            log.warning(
                "daily summary to chat %s timed out after it was sent: not sending it again",
                chat_id,
            )
            report.given_up.append(chat_id)
            return True
        self._retry_later(chat_id, day, attempt, error, report)
        return False

    def _retry_later(
        self, chat_id: int, day: dt.date, attempt: int, error: TelegramError, report: DeliveryReport
    ) -> None:
        delay = retry_delay(attempt, first_seconds=self.settings.summary_retry_seconds)
        if delay is None or self.jobs is None:
            log.error(
                "daily summary to chat %s failed %d times (%s): giving up for %s",
                chat_id,
                attempt,
                error,
                day,
            )
            report.given_up.append(chat_id)
            return
        log.warning(
            "daily summary to chat %s failed (%s): retrying in %.1f s", chat_id, error, delay
        )
        self.jobs.retry_later(RetryData(chat_id=chat_id, day=day, attempt=attempt + 1), delay=delay)
        report.retrying.append(chat_id)
