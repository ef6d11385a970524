"""The daily summary in the JobQueue: a daily job per send time, a catch-up run, the retries.

One ``JobQueue.run_daily`` job per send time in use (the default ``TANYA_SUMMARY_TIME`` and the
hours chats picked), each with a time zone-aware time; a catch-up run at start-up serves the
chats whose time passed while the bot was down. Every run sends what is due
(``DailySummaries.deliver_due``); a failed message is tried again by a one-off job.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram.ext import Job, JobQueue

from bot.daily import Clock, DeliveryReport, RetryData
from bot.daily_summaries import DailySummaries
from bot.subscriptions import SubscriptionStore
from index import Summarizer, create_schema, make_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.context import BotApplication, BotContext

log = logging.getLogger(__name__)

JOB_PREFIX = "daily-summary"


class DailyJobs:
    """The daily summary's jobs in one Application's job queue (``daily_summaries.Jobs``)."""

    def __init__(self, job_queue: JobQueue[Any], *, zone: ZoneInfo) -> None:
        self.job_queue = job_queue
        self.zone = zone

    def schedule(self, daily: DailySummaries) -> None:
        """A daily job for every send time in use, and a catch-up run right away."""
        for send_time in daily.send_times():
            self.ensure_daily_job(send_time)
        self.job_queue.run_once(
            send_due_summaries,
            when=0,
            name=f"{JOB_PREFIX} catch-up",
            job_kwargs={"misfire_grace_time": None},
        )
        sync_seconds = daily.settings.sync_seconds
        if sync_seconds > 0:
            # A chat may pick its hour through another worker: every worker runs that hour too,
            # and the sent log lets only one of them send.
            self.job_queue.run_repeating(
                add_new_send_times,
                interval=sync_seconds,
                first=sync_seconds,
                name=f"{JOB_PREFIX} send times",
            )

    async def add_send_times(self, daily: DailySummaries) -> list[dt.time]:
        """A daily job for every hour chats picked that has none yet; returns the new times."""
        hours = await asyncio.to_thread(daily.store.hours)
        added = []
        for send_time in sorted(dt.time(hour) for hour in hours):
            if not self.job_queue.get_jobs_by_name(f"{JOB_PREFIX} {send_time:%H:%M}"):
                self.ensure_daily_job(send_time)
                added.append(send_time)
        return added

    def ensure_daily_job(self, send_time: dt.time) -> Job[Any]:
        """The daily job at ``send_time`` (local), created if there is none yet."""
        name = f"{JOB_PREFIX} {send_time:%H:%M}"
        existing = self.job_queue.get_jobs_by_name(name)
        if existing:
            return existing[0]
        # PTB treats a naive time as UTC: the zone goes on the time itself.
        return self.job_queue.run_daily(
            send_due_summaries,
            time=send_time.replace(tzinfo=self.zone),
            name=name,
            # A run delayed by a busy event loop still runs; missed ones are caught up at start.
            job_kwargs={"misfire_grace_time": 3600, "coalesce": True},
        )

    def retry_later(self, data: RetryData, *, delay: float) -> None:
        """Try one chat's summary again in ``delay`` seconds."""
        self.job_queue.run_once(
            retry_summary,
            when=delay,
            data=data,
            name=f"{JOB_PREFIX} retry {data.chat_id}",
            job_kwargs={"misfire_grace_time": None},
        )


# --- Job callbacks ---------------------------------------------------------------------------


async def send_due_summaries(context: BotContext) -> None:
    """Job: send today's summary to every chat that is due."""
    report = await context.daily.deliver_due(context.bot)
    _count(context, report)


async def add_new_send_times(context: BotContext) -> None:
    """Job: run the daily summary at the hours chats picked through other workers too."""
    if context.job_queue is not None:
        jobs = DailyJobs(context.job_queue, zone=context.daily.zone)
        for send_time in await jobs.add_send_times(context.daily):
            log.info("daily summary: now also sending at %s", f"{send_time:%H:%M}")


async def retry_summary(context: BotContext) -> None:
    """Job: try one chat's summary again."""
    assert context.job is not None and isinstance(context.job.data, RetryData)
    report = await context.daily.retry(context.bot, context.job.data)
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
    job_queue = application.job_queue
    jobs = DailyJobs(job_queue, zone=settings.zone) if job_queue is not None else None
    daily = DailySummaries(
        settings=settings,
        store=SubscriptionStore(engine),
        # Its own engine on the settings' database: a reload may swap the searcher, not the data.
        summarizer=Summarizer(engine=engine, embedder=searcher.embedder),
        clock=clock,
        jobs=jobs,
    )
    application.bot_data.daily = daily
    if jobs is not None:
        jobs.schedule(daily)
    return daily
