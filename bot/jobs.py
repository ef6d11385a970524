"""The daily summary: every subscribed chat gets the day's summary once, at its hour.

One ``JobQueue.run_daily`` job per send time in use (the default ``TANYA_SUMMARY_TIME`` and the
hours chats picked), each with a time zone-aware time; a catch-up run at start-up serves the
chats whose time passed while the bot was down. Every run sends to the chats that are due and
have no delivery in the sent log for today, so runs may overlap in time and never send twice.

Telegram's answers: ``Forbidden`` (blocked, removed from the group) unsubscribes the chat;
``RetryAfter`` waits as long as Telegram asks (the Application's rate limiter does so first);
``ChatMigrated`` moves the subscription to the supergroup's id and sends there; any other error
is logged and the chat retried later, the wait doubling each time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import Job, JobQueue

from bot.summary_replies import summary_html
from bot.texts import language_for
from config.settings import Settings
from index.storage.store import create_schema, make_engine
from index.subscriptions import DueDelivery, SubscriptionStore, due_deliveries
from index.summary import Summarizer, Summary, last_24_hours

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.app import BotApplication, BotContext

log = logging.getLogger(__name__)

#: Returns the current time, time zone-aware. Tests pass one they control.
Clock = Callable[[], dt.datetime]

JOB_PREFIX = "daily-summary"
#: Tries for one chat's message (the first and the retries after other errors).
MAX_ATTEMPTS = 6
#: ``RetryAfter`` answers waited out for one message before it counts as a failed attempt.
MAX_FLOOD_WAITS = 3
#: Summaries kept, by the time they were due (one per send time and day).
SUMMARY_CACHE_SIZE = 8


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


class DailySummaries:
    """Subscriptions, the daily jobs and the sending, for one Application."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: SubscriptionStore,
        summarizer: Summarizer,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.summarizer = summarizer
        self.zone = settings.zone
        self.clock: Clock = clock or (lambda: dt.datetime.now(self.zone))
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

    # --- Scheduling -----------------------------------------------------------------------

    def schedule(self, job_queue: JobQueue[Any]) -> None:
        """A daily job for every send time in use, and a catch-up run right away."""
        for send_time in {self.settings.summary_time, *(dt.time(h) for h in self.store.hours())}:
            self.ensure_daily_job(job_queue, send_time)
        job_queue.run_once(
            send_due_summaries,
            when=0,
            name=f"{JOB_PREFIX} catch-up",
            job_kwargs={"misfire_grace_time": None},
        )
        if self.settings.sync_seconds > 0:
            # A chat may pick its hour through another worker: every worker runs that hour too,
            # and the sent log lets only one of them send.
            job_queue.run_repeating(
                add_new_send_times,
                interval=self.settings.sync_seconds,
                first=self.settings.sync_seconds,
                name=f"{JOB_PREFIX} send times",
            )

    async def add_send_times(self, job_queue: JobQueue[Any]) -> list[dt.time]:
        """A daily job for every hour chats picked that has none yet; returns the new times."""
        hours = await asyncio.to_thread(self.store.hours)
        added = []
        for send_time in sorted(dt.time(hour) for hour in hours):
            if not job_queue.get_jobs_by_name(f"{JOB_PREFIX} {send_time:%H:%M}"):
                self.ensure_daily_job(job_queue, send_time)
                added.append(send_time)
        return added

    def ensure_daily_job(self, job_queue: JobQueue[Any], send_time: dt.time) -> Job[Any]:
        """The daily job at ``send_time`` (local), created if there is none yet."""
        name = f"{JOB_PREFIX} {send_time:%H:%M}"
        existing = job_queue.get_jobs_by_name(name)
        if existing:
            return existing[0]
        # PTB treats a naive time as UTC: the zone goes on the time itself.
        return job_queue.run_daily(
            send_due_summaries,
            time=send_time.replace(tzinfo=self.zone),
            name=name,
            # A run delayed by a busy event loop still runs; missed ones are caught up at start.
            job_kwargs={"misfire_grace_time": 3600, "coalesce": True},
        )

    # --- Subscribing ----------------------------------------------------------------------

    async def subscribe(
        self,
        *,
        chat_id: int,
        chat_type: str,
        language: str,
        hour: int | None,
        user_id: int | None,
        job_queue: JobQueue[Any] | None,
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
        if job_queue is not None:
            self.ensure_daily_job(job_queue, send_time)
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

    async def deliver_due(self, bot: Bot, job_queue: JobQueue[Any] | None) -> DeliveryReport:
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
                    await self._deliver(bot, job_queue, item, attempt=1, report=report)
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

    async def retry(
        self, bot: Bot, job_queue: JobQueue[Any] | None, data: RetryData
    ) -> DeliveryReport:
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
                await self._deliver(bot, job_queue, item, attempt=data.attempt, report=report)
            self.reports.append(report)
        return report

    async def _deliver(
        self,
        bot: Bot,
        job_queue: JobQueue[Any] | None,
        item: DueDelivery,
        *,
        attempt: int,
        report: DeliveryReport,
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
                except RetryAfter as error:
                    if flood_waits >= MAX_FLOOD_WAITS:
                        raise
                    flood_waits += 1
                    seconds = _seconds(error)
                    log.warning("flood control: waiting %.1f s before chat %s", seconds, chat_id)
                    await asyncio.sleep(seconds)
                except ChatMigrated as error:
                    new_id = error.new_chat_id
                    if new_id in report.migrated.values():
                        raise  # Telegram sent us in a circle: treat it as any other error
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
        except Forbidden as error:
            log.info("chat %s does not accept messages (%s): unsubscribed", chat_id, error.message)
            await self.unsubscribe(chat_id=chat_id)
            report.unsubscribed.append(chat_id)
        except TimedOut as error:
            if _may_have_arrived(error):
                log.warning(
                    "daily summary to chat %s timed out after it was sent: not sending it again",
                    chat_id,
                )
                keep_claim = True
                report.given_up.append(chat_id)
            else:
                self._retry_later(job_queue, chat_id, day, attempt, error, report)
        except TelegramError as error:
            self._retry_later(job_queue, chat_id, day, attempt, error, report)
        finally:
            if not keep_claim:
                await asyncio.to_thread(self.store.release, chat_id=chat_id, day=day)

    def _retry_later(
        self,
        job_queue: JobQueue[Any] | None,
        chat_id: int,
        day: dt.date,
        attempt: int,
        error: TelegramError,
        report: DeliveryReport,
    ) -> None:
        if attempt >= MAX_ATTEMPTS or job_queue is None:
            log.error(
                "daily summary to chat %s failed %d times (%s): giving up for %s",
                chat_id,
                attempt,
                error,
                day,
            )
            report.given_up.append(chat_id)
            return
        delay = self.settings.summary_retry_seconds * 2 ** (attempt - 1)
        log.warning(
            "daily summary to chat %s failed (%s): retrying in %.1f s", chat_id, error, delay
        )
        job_queue.run_once(
            retry_summary,
            when=delay,
            data=RetryData(chat_id=chat_id, day=day, attempt=attempt + 1),
            name=f"{JOB_PREFIX} retry {chat_id}",
            job_kwargs={"misfire_grace_time": None},
        )
        report.retrying.append(chat_id)


def _may_have_arrived(error: TimedOut) -> bool:
    """Whether Telegram may have got the message: a timeout after the request went out."""
    return not isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


def _seconds(error: RetryAfter) -> float:
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)


# --- Job callbacks ---------------------------------------------------------------------------


async def send_due_summaries(context: BotContext) -> None:
    """Job: send today's summary to every chat that is due."""
    report = await context.daily.deliver_due(context.bot, context.job_queue)
    _count(context, report)


async def add_new_send_times(context: BotContext) -> None:
    """Job: run the daily summary at the hours chats picked through other workers too."""
    if context.job_queue is not None:
        for send_time in await context.daily.add_send_times(context.job_queue):
            log.info("daily summary: now also sending at %s", f"{send_time:%H:%M}")


async def retry_summary(context: BotContext) -> None:
    """Job: try one chat's summary again."""
    assert context.job is not None and isinstance(context.job.data, RetryData)
    report = await context.daily.retry(context.bot, context.job_queue, context.job.data)
    _count(context, report)


def _count(context: BotContext, report: DeliveryReport) -> None:
    """Summaries sent, and attempts that failed (to be retried, given up, or refused)."""
    failed = len(report.retrying) + len(report.given_up) + len(report.unsubscribed)
    context.bot_data.metrics.count_summaries(sent=len(report.sent), failed=failed)


async def start_daily_summaries(
    application: BotApplication, *, clock: Clock | None = None, engine: Engine | None = None
) -> DailySummaries:
    """Open the subscriptions, schedule the daily jobs and a catch-up run (in ``post_init``).

    ``engine``: the settings' database with its tables created (default: opened here).
    """
    settings, searcher = application.bot_data.settings, application.bot_data.searcher
    if settings is None or searcher is None:
        raise RuntimeError("the daily summary needs the settings and the loaded index")
    if engine is None:
        engine = make_engine(settings.sqlalchemy_url)
        await asyncio.to_thread(create_schema, engine)
    daily = DailySummaries(
        settings=settings,
        store=SubscriptionStore(engine),
        # Its own engine on the settings' database: a reload may swap the searcher, not the data.
        summarizer=Summarizer(engine=engine, embedder=searcher.embedder),
        clock=clock,
    )
    application.bot_data.daily = daily
    if application.job_queue is not None:
        daily.schedule(application.job_queue)
    return daily
