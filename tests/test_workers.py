"""More than one machine: webhook mode, and several workers on one PostgreSQL database.

Every worker here is a real ``python -m bot --webhook`` process. The Bot API stand-in posts
updates to the webhook URL the workers set, as Telegram does; with two workers that URL is a
load balancer (`tests.webhook_balancer`) in front of both, as a platform's router or a proxy
would be. Two workers never poll: Telegram lets only one ``getUpdates`` per token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from bot.subscriptions import SubscriptionStore
from bot.tables import SummaryDelivery
from index.encoders.embedder import Embedder
from index.storage.builder import build_index
from index.storage.store import create_schema, make_engine
from index.storage.vectors import INDEX_FILE
from index.storage.versions import version_folder
from tests.conftest import (
    ADMIN,
    MISSION_ANSWER,
    MISSION_QUESTION,
    REPO,
    USER,
    BotProcess,
    api_settings,
    bot_env,
    environ_without_tanya,
    make_settings,
    new_postgres_database,
    running_bot,
    say,
    with_seed,
)
from tests.http_server import free_port
from tests.telegram_api import BotApiServer
from tests.test_admin_e2e import NEW_ARTICLE, NEW_QUESTION
from tests.webhook_balancer import LoadBalancer

SECRET = "rahasia_Tanya-Berita_42"
SUMMARY_HEAD = "🗞 Ringkasan berita"


def worker_env(api: BotApiServer, root: Path, **settings: str) -> dict[str, str]:
    """The environment of a worker on ``root``'s seeds and data, talking to the stand-in."""
    return bot_env(
        api,
        seeds=root / "seeds",
        data=root / "data",
        **{"webhook_listen": "127.0.0.1", "webhook_secret": SECRET, **settings},
    )


async def wait_for_webhooks(api: BotApiServer, count: int, workers: list[BotProcess]) -> None:
    """Until ``count`` setWebhook calls came in: the workers are serving."""
    deadline = time.monotonic() + 180
    while len(api.calls_to("setWebhook")) < count:
        for worker in workers:
            assert worker.process.poll() is None, f"{worker.name} exited:\n{worker.log()}"
        assert time.monotonic() < deadline, "\n".join(w.log() for w in workers)
        await asyncio.sleep(0.1)


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A root with a seeds folder holding the seed article, and no data yet."""
    return with_seed(tmp_path)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with new_postgres_database() as url:
        yield url


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        ({"TANYA_WEBHOOK_URL": "https://bot.contoh.id/telegram"}, "TANYA_WEBHOOK_SECRET"),
        ({"TANYA_WEBHOOK_SECRET": SECRET}, "TANYA_WEBHOOK_URL"),
        (
            {"TANYA_WEBHOOK_URL": "https://b.id/t", "TANYA_WEBHOOK_SECRET": "ada spasi"},
            "TANYA_WEBHOOK_SECRET",
        ),
    ],
)
def test_webhook_mode_refuses_to_start_without_its_settings(
    tmp_path: Path, settings: dict[str, str], missing: str
) -> None:
    env = environ_without_tanya()
    env.update(TANYA_TELEGRAM_TOKEN="123456:TEST-TOKEN", TANYA_DATA_DIR=str(tmp_path), **settings)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--webhook"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("error: ") and missing in line
    assert not (tmp_path / "index").exists()  # refused before building or loading anything


async def test_webhook_refuses_requests_without_the_secret_and_answers_telegrams(
    api: BotApiServer, seeded: Path
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    env = worker_env(api, seeded, webhook_url=hook, webhook_port=str(port), log_level="DEBUG")
    api.private_chat(USER)
    worker = BotProcess("webhook", env, seeded, "--webhook")
    try:
        await wait_for_webhooks(api, 1, [worker])
        [set_webhook] = api.calls_to("setWebhook")
        assert set_webhook.params["url"] == hook
        assert set_webhook.params["secret_token"] == SECRET
        assert set_webhook.params["allowed_updates"] == [
            "message",
            "inline_query",
            "callback_query",
        ]

        # Someone who found the URL posts an update of their own: refused, never answered.
        sender = {"id": USER, "is_bot": False, "first_name": "Ani"}
        forged = {
            "update_id": 999,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": USER, "type": "private", "first_name": "Ani"},
                "from": sender,
                "text": MISSION_QUESTION,
            },
        }
        async with httpx.AsyncClient(timeout=10) as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "tebakan"}):
                response = await client.post(hook, json=forged, headers=headers)
                assert response.status_code == 403
            wrong_path = await client.post(
                f"http://127.0.0.1:{port}/lain",
                json=forged,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            assert wrong_path.status_code == 404

        [answer] = await say(api, USER, MISSION_QUESTION)
        assert answer.plain_text.split("\n")[0] == MISSION_ANSWER
        # The question came by the webhook, not by getUpdates; the forged one got no reply.
        assert [d.status for d in api.webhook_deliveries][-1] == 200
        assert api.calls_to("getUpdates") == []
        assert len(api.sent_messages) == 1
    finally:
        code = await worker.stop()
    assert code == 0, worker.log()
    # A stopping worker leaves the webhook set: the other workers behind the URL go on.
    assert api.calls_to("deleteWebhook") == [] and api.webhook_url == hook
    # (At DEBUG, PTB logs the refused requests with the traceback of its 403: nothing worse.)
    assert " ERROR " not in worker.log() and " CRITICAL " not in worker.log()
    # PTB logs every call's parameters at DEBUG, setWebhook's secret_token among them.
    assert "setWebhook" in worker.log() and "<token>" in worker.log()
    assert SECRET not in worker.log() and api.token not in worker.log()


async def test_a_reload_through_one_worker_is_served_by_the_other(
    api: BotApiServer, seeded: Path, postgres_url: str
) -> None:
    ports = [free_port(), free_port()]
    async with LoadBalancer([f"http://127.0.0.1:{p}" for p in ports]) as balancer:
        workers = [
            BotProcess(
                f"worker-{n}",
                worker_env(
                    api,
                    seeded,
                    webhook_url=balancer.url("/telegram"),
                    webhook_port=str(port),
                    database_url=postgres_url,
                    admin_ids=str(ADMIN),
                    sync_seconds="1",
                ),
                seeded,
                "--webhook",
            )
            for n, port in enumerate(ports)
        ]
        try:
            # Both started at once on an empty data dir and database: one builds, one waits.
            await wait_for_webhooks(api, 2, workers)
            api.private_chat(USER)
            api.private_chat(ADMIN)
            balancer.pin(1)
            [before] = await say(api, USER, NEW_QUESTION)
            assert "15.700" not in before.plain_text

            (seeded / "seeds" / "minyak.txt").write_text(NEW_ARTICLE)
            balancer.pin(0)
            [started, report] = await say(api, ADMIN, "/reload", replies=2)
            assert started.plain_text.startswith("⏳")
            assert report.plain_text.startswith("✅ Dimuat ulang (versi indeks 2)\n+1 baru"), report
            await workers[1].wait_for_log("now serving index version 2 (was 1)", timeout=30)

            balancer.pin(1)
            [after] = await say(api, USER, NEW_QUESTION)
            assert after.plain_text.startswith(
                "Pemerintah menetapkan harga eceran tertinggi minyak goreng curah sebesar Rp 15.700"
            ), after
            backends = {f.update_id: f.backend for f in balancer.forwarded if f.status == 200}
            last_question = max(backends)
            assert backends[last_question] == 1  # the worker that did not reload answered it

            # Telegram delivers that question again, to the other worker: answered once.
            answered = len(api.sent_messages)
            balancer.pin(0)
            api.deliver_again(last_question)
            await workers[0].wait_for_log(f"update {last_question} (chat {USER}", timeout=30)
            [next_answer] = await say(api, USER, NEW_QUESTION)
            assert "Rp 15.700" in next_answer.plain_text.split("\n")[0]
            assert len(api.sent_messages) == answered + 1
            assert [f.backend for f in balancer.forwarded if f.update_id == last_question] == [1, 0]
        finally:
            codes = [await worker.stop() for worker in workers]
    logs = {worker.name: worker.log() for worker in workers}
    assert codes == [0, 0], logs
    assert all("Traceback" not in log for log in logs.values()), logs
    built = [name for name, log in logs.items() if "no index in" in log]
    assert len(built) >= 1, logs
    assert sum("reload to index version 2" in log for log in logs.values()) == 1


async def test_two_workers_send_the_daily_summary_once_per_chat(
    api: BotApiServer, seeded: Path, postgres_url: str, embedder: Embedder
) -> None:
    settings = make_settings(seeded, database_url=postgres_url)
    build_index(settings, embedder=embedder)
    engine = make_engine(postgres_url)
    create_schema(engine)
    store = SubscriptionStore(engine)
    chats = [2000 + n for n in range(12)] + [-1001234567890 - n for n in range(8)]
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    for chat_id in chats:
        if chat_id > 0:
            api.private_chat(chat_id)
        else:
            api.group_chat(chat_id, f"Grup {chat_id}", creator_id=ADMIN)
        store.subscribe(
            chat_id=chat_id,
            chat_type="private" if chat_id > 0 else "supergroup",
            language="id",
            hour=None,
            user_id=ADMIN,
            now=yesterday,
        )
    # Telegram is slow today: the two workers' runs overlap.
    api.delay_next("sendMessage", 0.4, count=len(chats))
    ports = [free_port(), free_port()]
    async with LoadBalancer([f"http://127.0.0.1:{p}" for p in ports]) as balancer:
        workers = [
            BotProcess(
                f"worker-{n}",
                worker_env(
                    api,
                    seeded,
                    webhook_url=balancer.url("/telegram"),
                    webhook_port=str(port),
                    database_url=postgres_url,
                    summary_time="00:00",  # due since midnight: both catch up at start
                ),
                seeded,
                "--webhook",
            )
            for n, port in enumerate(ports)
        ]
        try:
            await wait_for_webhooks(api, 2, workers)
            await api.wait_for_messages(len(chats), timeout=120)
            await asyncio.sleep(3)  # time for a second copy, if any worker were to send one
        finally:
            codes = [await worker.stop() for worker in workers]
    logs = {worker.name: worker.log() for worker in workers}
    assert codes == [0, 0], logs
    summaries = [m.chat_id for m in api.sent_messages if m.plain_text.startswith(SUMMARY_HEAD)]
    assert sorted(summaries) == sorted(chats), logs
    # Both runs overlapped: each worker sent some summaries and skipped the other's claims.
    sent = [
        sum(int(n) for n in re.findall(r"daily summary: (\d+) sent", log)) for log in logs.values()
    ]
    assert sum(sent) == len(chats) and min(sent) > 0, logs
    with Session(engine) as session:
        deliveries = session.exec(select(SummaryDelivery)).all()
    assert sorted(d.chat_id for d in deliveries) == sorted(chats)
    assert {d.status for d in deliveries} == {"sent"}
    engine.dispose()


async def test_a_worker_follows_new_versions_and_keeps_serving_one_that_fails_to_open(
    api: BotApiServer,
    seeded: Path,
    database_url: str,
    embedder: Embedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = api_settings(seeded, api, database_url=database_url)
    build_index(settings, embedder=embedder)
    api.private_chat(USER)
    caplog.set_level(logging.INFO, logger="index.serving")
    async with running_bot(settings, None) as application:
        assert application.job_queue is not None
        [follow] = application.job_queue.get_jobs_by_name("follow index")
        assert follow.job.trigger.interval.total_seconds() == 30  # type: ignore[attr-defined]
        await follow.run(application)  # nothing new: the same searcher goes on
        first = application.bot_data.searcher
        assert first is not None and first.version == 1

        # Another worker (or `python -m index build`) makes version 2 on the shared database.
        (settings.seeds_dir / "minyak.txt").write_text(NEW_ARTICLE)
        build_index(settings, embedder=embedder)
        [before] = await say(api, USER, NEW_QUESTION)
        assert "15.700" not in before.plain_text  # until the job runs, version 1 serves
        await follow.run(application)
        assert application.bot_data.searcher is not None
        assert application.bot_data.searcher.version == 2
        [after] = await say(api, USER, NEW_QUESTION)
        assert "Rp 15.700" in after.plain_text.split("\n")[0]

        # Version 3 is damaged on disk: it is not served, and the error is logged once.
        (settings.seeds_dir / "cabai.txt").write_text(
            "Harga cabai rawit di Pasar Senen naik menjadi Rp 80.000 per kilogram.\n"
        )
        build_index(settings, embedder=embedder)
        (version_folder(settings.index_dir, 3) / INDEX_FILE).write_bytes(b"\x00rusak" * 50)
        await follow.run(application)
        await follow.run(application)
        assert application.bot_data.searcher.version == 2
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1, errors
        assert errors[0].startswith("cannot open index version 3 (")
        assert errors[0].endswith("); version 2 keeps serving")
        [still] = await say(api, USER, NEW_QUESTION)
        assert "Rp 15.700" in still.plain_text.split("\n")[0]
