"""One reply per message across workers: update claims in the shared database.

The claims are tested on SQLite and PostgreSQL (``database_url``); then two real Applications
in webhook mode, behind one load balancer and sharing one database, get the same message
again (the same update, the same message under a new update id, both at once) and answer it
once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import build_application
from bot.context import BotApplication
from bot.tables import UpdateClaim
from bot.update_claims import KEEP, UpdateClaims
from config.settings import Settings
from index.search.searcher import Searcher
from tests.conftest import MISSION_ANSWER, MISSION_QUESTION, USER, api_settings
from tests.http_server import free_port
from tests.telegram_api import BotApiServer, Json
from tests.webhook_balancer import LoadBalancer

NOW = dt.datetime(2025, 3, 10, 7, 0, tzinfo=dt.UTC)
SECRET = "rahasia_Tanya-Berita_42"


@pytest.fixture
def claims(database_engine: Engine) -> UpdateClaims:
    return UpdateClaims(database_engine)


def test_an_update_is_claimed_once_by_its_id_and_by_its_message(claims: UpdateClaims) -> None:
    assert claims.claim(update_id=1, chat_id=USER, message_id=10, now=NOW)
    assert not claims.claim(update_id=1, chat_id=USER, message_id=10, now=NOW)
    # The same message under a new update id, and another message under a claimed update id.
    assert not claims.claim(update_id=2, chat_id=USER, message_id=10, now=NOW)
    assert not claims.claim(update_id=1, chat_id=USER, message_id=11, now=NOW)
    # Message ids count per chat: another chat's message 10 is another message.
    assert claims.claim(update_id=3, chat_id=-1001234567890, message_id=10, now=NOW)
    # Updates that carry no new message are known by their update id alone.
    assert claims.claim(update_id=4, now=NOW)
    assert claims.claim(update_id=5, now=NOW)
    assert not claims.claim(update_id=5, now=NOW)
    with Session(claims.engine) as session:
        rows = session.exec(select(UpdateClaim).order_by(UpdateClaim.update_id)).all()
    assert [(r.update_id, r.chat_id, r.message_id) for r in rows] == [
        (1, USER, 10),
        (3, -1001234567890, 10),
        (4, None, None),
        (5, None, None),
    ]
    assert all(r.claimed_at == NOW for r in rows)


def test_racing_claims_of_one_update_let_exactly_one_through(claims: UpdateClaims) -> None:
    for update_id in range(100, 110):  # ten races of eight threads each
        start = threading.Barrier(8)
        won: list[bool] = []

        def take(
            update_id: int = update_id, start: threading.Barrier = start, won: list[bool] = won
        ) -> None:
            start.wait()
            won.append(
                claims.claim(update_id=update_id, chat_id=USER, message_id=update_id, now=NOW)
            )

        threads = [threading.Thread(target=take) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(won) == [False] * 7 + [True], update_id


def test_old_claims_are_pruned_and_recent_ones_kept(claims: UpdateClaims) -> None:
    claims.claim(update_id=1, chat_id=USER, message_id=1, now=NOW - KEEP - dt.timedelta(minutes=1))
    claims.claim(update_id=2, chat_id=USER, message_id=2, now=NOW - KEEP + dt.timedelta(minutes=1))
    claims.claim(update_id=3, chat_id=USER, message_id=3, now=NOW)
    assert claims.prune(now=NOW) == 1
    assert claims.prune(now=NOW) == 0
    with Session(claims.engine) as session:
        assert sorted(r.update_id for r in session.exec(select(UpdateClaim))) == [2, 3]
    assert not claims.claim(update_id=2, chat_id=USER, message_id=2, now=NOW)  # still known


@asynccontextmanager
async def webhook_worker(
    settings: Settings, searcher: Searcher, *, port: int, url: str
) -> AsyncIterator[BotApplication]:
    """A real Application in webhook mode on ``port``, its webhook set to ``url``."""
    application = build_application(settings, searcher=searcher)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        webhook_url=url,
        secret_token=SECRET,
        allowed_updates=["message"],
    )
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def settled(balancer: LoadBalancer, count: int) -> None:
    """Until ``count`` webhook requests were answered, and a moment for any reply to go out."""
    for _ in range(300):
        if len(balancer.forwarded) >= count:
            break
        await asyncio.sleep(0.05)
    assert len(balancer.forwarded) >= count, balancer.forwarded
    await asyncio.sleep(0.5)


async def test_a_message_delivered_again_to_either_worker_is_answered_once(
    api: BotApiServer,
    searcher: Searcher,
    corpus_root: Path,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = api_settings(corpus_root, api, database_url=database_url)
    caplog.set_level(logging.WARNING, logger="bot.duplicates")
    ports = [free_port(), free_port()]
    api.private_chat(USER)
    async with LoadBalancer([f"http://127.0.0.1:{p}" for p in ports]) as balancer:
        hook = balancer.url("/telegram")
        async with (
            webhook_worker(settings, searcher, port=ports[0], url=hook) as first,
            webhook_worker(settings, searcher, port=ports[1], url=hook) as second,
        ):
            assert first.bot_data.update_claims is not None
            assert second.bot_data.update_claims is not None
            message = api.send_text(USER, MISSION_QUESTION)
            [reply] = await api.wait_for_messages(1, chat_id=USER, timeout=30)
            assert reply.plain_text.split("\n")[0] == MISSION_ANSWER
            await settled(balancer, 1)
            update_id = balancer.forwarded[0].update_id
            assert update_id is not None

            # Telegram delivers it again (its confirmation was lost): round robin, so to the
            # other worker; then the same message under a new update id; then the same update
            # to the first worker once more.
            api.deliver_again(update_id)
            api.enqueue_update({"message": message})
            await settled(balancer, 3)
            balancer.pin(0)
            api.deliver_again(update_id)
            await settled(balancer, 4)
            assert [f.backend for f in balancer.forwarded] == [0, 1, 0, 0]
            assert {f.status for f in balancer.forwarded} == {200}
            assert len(api.sent_messages) == 1

            # A new message reaches both workers at the same moment under one update id, and
            # the stand-in delivers it as well, under its own.
            again = api.send_text(USER, "berapa persen saham Maju & Jaya naik?")
            async with httpx.AsyncClient(timeout=10) as client:
                body: Json = {"update_id": 10_000, "message": again}
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                answers = await asyncio.gather(
                    *(
                        client.post(f"http://127.0.0.1:{port}/telegram", json=body, headers=headers)
                        for port in ports
                    )
                )
            assert [answer.status_code for answer in answers] == [200, 200]
            await settled(balancer, 5)
            await api.wait_for_messages(2, chat_id=USER, timeout=30)
            await asyncio.sleep(1)
    replies = [m.plain_text for m in api.sent_messages]
    assert len(replies) == 2, replies
    assert "naik 7,5 persen" in replies[1].split("\n")[0]
    logged = [r.getMessage() for r in caplog.records]
    taken = [line for line in logged if "taken on already" in line]

    def about(sent: Json) -> list[str]:
        return [line for line in taken if f"(chat {USER}, message {sent['message_id']})" in line]

    # The first message's copies to the other worker and under a new update id; two of the
    # three deliveries of the last one.
    assert (len(taken), len(about(message)), len(about(again))) == (4, 2, 2), logged
    assert sum(line.startswith(f"update {update_id} (") for line in about(message)) == 1
    # The same update to the same worker again never reaches the database.
    assert [line for line in logged if "arrived a second time" in line] == [
        f"update {update_id} arrived a second time: ignored"
    ]


async def test_old_claims_are_pruned_by_a_job(
    api: BotApiServer, searcher: Searcher, corpus_root: Path, database_url: str
) -> None:
    settings = api_settings(corpus_root, api, database_url=database_url)
    application = build_application(settings, searcher=searcher)
    await application.initialize()
    try:
        assert application.post_init is not None
        await application.post_init(application)
        claims = application.bot_data.update_claims
        assert claims is not None and application.job_queue is not None
        [job] = application.job_queue.get_jobs_by_name("prune update claims")
        assert job.job.trigger.interval == dt.timedelta(hours=1)  # type: ignore[attr-defined]
        now = dt.datetime.now(dt.UTC)
        claims.claim(
            update_id=1, chat_id=USER, message_id=1, now=now - KEEP - dt.timedelta(hours=1)
        )
        claims.claim(update_id=2, chat_id=USER, message_id=2, now=now)
        await job.run(application)
        with Session(claims.engine) as session:
            assert [r.update_id for r in session.exec(select(UpdateClaim))] == [2]
    finally:
        await application.shutdown()
