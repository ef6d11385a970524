"""The daily summary end to end: subscribing, 07:00, restarts and Telegram's errors.

The real Application talks to the Bot API stand-in; the job's "now" comes from a clock the test
sets, and "07:00 comes" is the scheduled 07:00 job being run by the test (``Job.run``), so no
test waits for a real morning.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from telegram.error import TimedOut

from bot.context import BotApplication
from bot.daily import may_have_arrived
from bot.daily_summaries import DailySummaries
from config.settings import Settings
from index.search.searcher import Searcher
from tests.conftest import api_settings, ask, copy_database, make_settings, running_bot
from tests.telegram_api import BotApiServer, SentMessage

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = dt.date(2025, 1, 7)
USER, OTHER = 1001, 1002
CREATOR, ADMIN, MEMBER = 7001, 7002, 7003


class Clock:
    """The time the bot takes as now; the test moves it."""

    def __init__(self, hour: int, minute: int = 0, day: dt.date = DAY) -> None:
        self.now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=JAKARTA)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, hour: int, minute: int = 0, day: dt.date = DAY) -> None:
        self.now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=JAKARTA)


@pytest.fixture
def settings(corpus_root: Path, api: BotApiServer, database_url: str) -> Settings:
    """The session's index, with its rows copied into a database of this test's own (SQLite,
    then PostgreSQL) that also holds the subscriptions and the sent log."""
    copy_database(make_settings(corpus_root).sqlalchemy_url, database_url)
    return api_settings(corpus_root, api, database_url=database_url, summary_retry_seconds=0.2)


def daily(application: BotApplication) -> DailySummaries:
    assert application.bot_data.daily is not None
    return application.bot_data.daily


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``condition`` holds (for what the bot does in its own tasks)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)


async def started(application: BotApplication) -> DailySummaries:
    """The Application's daily summary, once the catch-up run at start-up has finished."""
    summaries = daily(application)
    await until(lambda: len(summaries.reports) >= 1)
    return summaries


async def run_job(application: BotApplication, at: str = "07:00") -> None:
    """The scheduled daily job at ``at`` runs now (and this returns when it has finished)."""
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(f"daily-summary {at}")
    await job.run(application)


def summaries_to(api: BotApiServer, chat_id: int) -> list[SentMessage]:
    return [
        m
        for m in api.sent_messages
        if m.chat_id == chat_id and m.plain_text.startswith("🗞 Ringkasan berita")
    ]


def send_statuses(api: BotApiServer, chat_id: int) -> list[int]:
    return [c.status for c in api.calls_to("sendMessage") if c.params.get("chat_id") == chat_id]


async def test_subscriber_gets_the_summary_at_seven_once_and_not_again_after_restart(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    clock = Clock(6, 30)
    async with running_bot(settings, searcher, clock=clock) as application:
        await started(application)
        reply = await ask(api, "/langganan")
        assert reply.plain_text.startswith("Berlangganan ringkasan berita harian")
        assert "07.00 (Asia/Jakarta)" in reply.plain_text
        assert application.job_queue is not None
        [job] = application.job_queue.get_jobs_by_name("daily-summary 07:00")
        # Scheduled at 07:00 Jakarta time, not 07:00 UTC.
        assert job.next_t is not None and job.next_t.utcoffset() is not None
        assert job.next_t.astimezone(JAKARTA).time() == dt.time(7, 0)

        clock.set(7, 0)
        await run_job(application)
        [summary] = summaries_to(api, USER)
        assert summary.parse_mode == "HTML"
        assert summary.text.count("<blockquote>") >= 1
        assert "\nbaris " in summary.plain_text
        assert "\n000_30e2f8887a133a25.txt" in summary.plain_text
        assert summary.plain_text.count("000_30e2f8887a133a25.txt") == 1  # its source once
        assert summary.plain_text.endswith("Berhenti berlangganan: /berhenti")

        await run_job(application)  # the same job again
        clock.set(7, 30)
        await run_job(application)
        assert len(summaries_to(api, USER)) == 1

    clock.set(7, 5)  # restarted at 07:05: the catch-up finds today's message sent
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        assert summaries.reports[0].sent == []
        await run_job(application)
        assert len(summaries_to(api, USER)) == 1
        assert summaries.store.delivery_status(chat_id=USER, day=DAY) == "sent"

        clock.set(7, 0, day=DAY + dt.timedelta(days=1))  # the subscription survived
        await run_job(application)
        assert len(summaries_to(api, USER)) == 2


async def test_down_at_seven_the_restart_catches_up_once(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    api.private_chat(OTHER)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        await started(application)
        await ask(api, "/langganan")
        await ask(api, "/langganan", chat_id=OTHER)
    clock.set(9, 15)  # the bot was down from 06:00 to 09:15
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        assert sorted(summaries.reports[0].sent) == [USER, OTHER]
        await run_job(application)
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        assert summaries.reports[0].sent == []
    assert len(summaries_to(api, USER)) == 1
    assert len(summaries_to(api, OTHER)) == 1


async def test_blocked_chat_is_unsubscribed_and_the_next_chat_still_served(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    api.private_chat(OTHER)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        await ask(api, "/langganan")
        clock.set(6, 1)
        await ask(api, "/langganan", chat_id=OTHER)
        api.block_bot(USER)

        clock.set(7, 0)
        await run_job(application)
        assert send_statuses(api, USER)[-1] == 403  # USER subscribed first: tried first
        assert len(summaries_to(api, OTHER)) == 1
        assert summaries.store.get(chat_id=USER) is None
        assert summaries.store.get(chat_id=OTHER) is not None
        assert summaries.reports[-1].unsubscribed == [USER]

        tries = len(send_statuses(api, USER))
        clock.set(7, 0, day=DAY + dt.timedelta(days=1))
        await run_job(application)
        assert len(send_statuses(api, USER)) == tries  # never tried again
        assert len(summaries_to(api, OTHER)) == 2


async def test_flood_control_answer_is_waited_out(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        await started(application)
        await ask(api, "/langganan")
        clock.set(7, 0)
        api.fail_next("sendMessage", 429, retry_after=1)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await run_job(application)
        assert loop.time() - began >= 1.0
        assert len(summaries_to(api, USER)) == 1
        assert send_statuses(api, USER)[-2:] == [429, 200]


async def test_flood_control_beyond_the_rate_limiter_is_waited_out_too(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        await ask(api, "/langganan")
        clock.set(7, 0)
        # The rate limiter retries three times; the fourth 429 reaches the job, which waits.
        api.fail_next("sendMessage", 429, retry_after=1, count=4)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await run_job(application)
        assert loop.time() - began >= 4.0
        assert summaries.reports[-1].sent == [USER]
        assert len(summaries_to(api, USER)) == 1
        assert send_statuses(api, USER)[-5:] == [429, 429, 429, 429, 200]


async def test_unsubscribed_chat_gets_nothing(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    api.private_chat(OTHER)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        await started(application)
        await ask(api, "/langganan")
        await ask(api, "/subscribe", chat_id=OTHER)
        reply = await ask(api, "/berhenti")
        assert reply.plain_text.startswith("Langganan ringkasan harian dihentikan")
        again = await ask(api, "/berhenti")
        assert again.plain_text.startswith("Obrolan ini tidak berlangganan")
        clock.set(7, 0)
        await run_job(application)
        assert len(summaries_to(api, OTHER)) == 1
        assert summaries_to(api, USER) == []
        assert send_statuses(api, USER) == [200, 200, 200]  # the three replies only


async def test_only_group_admins_manage_the_group_subscription(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    group = -1001234567890
    api.group_chat(group, creator_id=CREATOR, admin_ids=[ADMIN])
    api.user(MEMBER, "Budi")
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        refused = await ask(api, "/langganan", chat_id=group, user_id=MEMBER)
        assert refused.plain_text == (
            "Di grup, hanya admin yang dapat mengatur langganan ringkasan harian."
        )
        assert summaries.store.get(chat_id=group) is None
        assert api.calls_to("getChatMember")[-1].params["user_id"] == MEMBER

        accepted = await ask(api, "/langganan@TanyaBeritaBot", chat_id=group, user_id=ADMIN)
        assert accepted.plain_text.startswith("Berlangganan ringkasan berita harian")
        assert summaries.store.get(chat_id=group) is not None

        refused = await ask(api, "/berhenti", chat_id=group, user_id=MEMBER)
        assert refused.plain_text.startswith("Di grup, hanya admin")
        assert summaries.store.get(chat_id=group) is not None

        clock.set(7, 0)
        await run_job(application)
        assert len(summaries_to(api, group)) == 1

        stopped = await ask(api, "/berhenti", chat_id=group, user_id=CREATOR)
        assert stopped.plain_text.startswith("Langganan ringkasan harian dihentikan")
        assert summaries.store.get(chat_id=group) is None


async def test_group_that_became_a_supergroup_gets_it_at_its_new_id(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    old, new = -4001, -1004001
    api.group_chat(old, supergroup=False, creator_id=CREATOR)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        await ask(api, "/langganan", chat_id=old, user_id=CREATOR)
        api.migrate_to_supergroup(old, new)
        clock.set(7, 0)
        await run_job(application)
        assert send_statuses(api, old)[-1] == 400  # "upgraded to a supergroup chat"
        assert len(summaries_to(api, new)) == 1
        assert summaries.reports[-1].migrated == {old: new}
        assert summaries.store.get(chat_id=old) is None
        assert summaries.store.get(chat_id=new) is not None
        assert summaries.store.delivery_status(chat_id=new, day=DAY) == "sent"
        await run_job(application)
        assert len(summaries_to(api, new)) == 1


async def test_migration_message_moves_the_subscription_before_any_send(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    old, new = -4002, -1004002
    api.group_chat(old, supergroup=False, creator_id=CREATOR)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        await ask(api, "/langganan", chat_id=old, user_id=CREATOR)
        api.migrate_to_supergroup(old, new, notify=True)
        await until(lambda: summaries.store.get(chat_id=new) is not None)
        assert summaries.store.get(chat_id=old) is None
        clock.set(7, 0)
        await run_job(application)
        assert len(summaries_to(api, new)) == 1
        assert 400 not in send_statuses(api, old)


async def test_other_errors_are_retried_later_with_backoff(
    api: BotApiServer, settings: Settings, searcher: Searcher, caplog: pytest.LogCaptureFixture
) -> None:
    api.private_chat(USER)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        await ask(api, "/langganan")
        clock.set(7, 0)
        api.fail_next("sendMessage", 500, count=2)
        with caplog.at_level(logging.WARNING, logger="bot.daily_summaries"):
            await run_job(application)
            assert summaries.reports[-1].retrying == [USER]
            assert summaries_to(api, USER) == []
            loop = asyncio.get_running_loop()
            began = loop.time()
            await until(lambda: len(summaries_to(api, USER)) == 1)
            # Waits of 0.2 s, then 0.4 s (TANYA_SUMMARY_RETRY_SECONDS, doubling).
            assert loop.time() - began >= 0.55
        assert send_statuses(api, USER)[-3:] == [500, 500, 200]
        retries = [r.message for r in caplog.records if "retrying in" in r.getMessage()]
        assert len(retries) == 2
        await run_job(application)
        await asyncio.sleep(0.5)  # a wrongly scheduled extra retry would show up by now
        assert len(summaries_to(api, USER)) == 1


async def test_a_chat_picks_its_own_hour(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        await started(application)
        usage = await ask(api, "/langganan 25")
        assert "<code>/langganan 18</code>" in usage.text
        reply = await ask(api, "/langganan 18")
        assert "18.00 (Asia/Jakarta)" in reply.plain_text
        assert application.job_queue is not None
        [job] = application.job_queue.get_jobs_by_name("daily-summary 18:00")
        assert job.next_t is not None
        assert job.next_t.astimezone(JAKARTA).time() == dt.time(18, 0)
        clock.set(7, 0)
        await run_job(application, "07:00")
        assert summaries_to(api, USER) == []
        clock.set(18, 0)
        await run_job(application, "18:00")
        assert len(summaries_to(api, USER)) == 1
    async with running_bot(settings, searcher, clock=clock) as application:
        assert application.job_queue is not None
        assert application.job_queue.get_jobs_by_name("daily-summary 18:00")  # rescheduled


async def test_an_hour_picked_through_another_worker_gets_its_job_here_too(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    clock = Clock(6, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        summaries = await started(application)
        assert application.job_queue is not None
        assert application.job_queue.get_jobs_by_name("daily-summary 18:00") == ()
        # Another worker on the same database took "/langganan 18" from this chat.
        await asyncio.to_thread(
            summaries.store.subscribe,
            chat_id=USER,
            chat_type="private",
            language="id",
            hour=18,
            user_id=USER,
            now=clock.now,
        )
        [sync] = application.job_queue.get_jobs_by_name("daily-summary send times")
        await sync.run(application)
        [job] = application.job_queue.get_jobs_by_name("daily-summary 18:00")
        assert job.next_t is not None
        assert job.next_t.astimezone(JAKARTA).time() == dt.time(18, 0)
        clock.set(18, 0)
        await run_job(application, "18:00")
        assert len(summaries_to(api, USER)) == 1


async def test_subscribing_after_seven_starts_tomorrow(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    clock = Clock(8, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        await started(application)
        await ask(api, "/langganan")
        await run_job(application)
        assert summaries_to(api, USER) == []
        clock.set(7, 0, day=DAY + dt.timedelta(days=1))
        await run_job(application)
        assert len(summaries_to(api, USER)) == 1


async def test_ringkasan_sends_the_summary_now(
    api: BotApiServer, settings: Settings, searcher: Searcher
) -> None:
    api.private_chat(USER)
    api.private_chat(OTHER, language_code="en")
    clock = Clock(10, 0)
    async with running_bot(settings, searcher, clock=clock) as application:
        await started(application)
        reply = await ask(api, "/ringkasan")
        assert reply.plain_text.startswith(
            "🗞 Ringkasan berita 24 jam terakhir · Selasa, 7 Januari 2025"
        )
        # The test articles were added today, not on 7 January 2025: the reply says so.
        assert "Tidak ada berita baru dalam 24 jam terakhir" in reply.plain_text
        assert reply.text.count("<blockquote>") >= 2
        assert "/berhenti" not in reply.plain_text
        english = await ask(api, "/summary", chat_id=OTHER)
        assert english.plain_text.startswith("🗞 News summary of the last 24 hours")


def test_a_timeout_is_resent_only_when_the_request_never_left() -> None:
    read, connect, pool = TimedOut(), TimedOut(), TimedOut()
    read.__cause__ = httpx.ReadTimeout("no answer")
    connect.__cause__ = httpx.ConnectTimeout("no connection")
    pool.__cause__ = httpx.PoolTimeout("pool full")
    assert may_have_arrived(read)  # Telegram may have sent it: never twice
    assert not may_have_arrived(connect)
    assert not may_have_arrived(pool)
