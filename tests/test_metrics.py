"""Prometheus metrics: a real Application counts what it does, and /metrics is scraped over HTTP."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.context import BotApplication
from index.encoders.embedder import Embedder
from index.search.searcher import Searcher
from index.storage.builder import build_index
from tests.conftest import (
    ADMIN,
    MISSION_ANSWER,
    MISSION_QUESTION,
    REPO,
    USER,
    api_settings,
    ask,
    bot_env,
    running_bot,
    with_seed,
)
from tests.http_server import free_port
from tests.telegram_api import BotApiServer
from tests.test_bot_e2e import NOT_FOUND_ID
from tests.test_daily_summary import Clock, run_job, started, summaries_to, until

Samples = dict[tuple[str, str], float]


async def scrape(url: str) -> Samples:
    """Every sample of ``url`` in Prometheus' text format, by name and ``outcome`` label."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, sample.labels.get("outcome", "")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_metrics_count_questions_reloads_and_summaries(
    api: BotApiServer, embedder: Embedder, tmp_path: Path
) -> None:
    with_seed(tmp_path)
    port = free_port()
    settings = api_settings(
        tmp_path,
        api,
        admin_ids=[ADMIN],
        metrics_port=port,
        metrics_listen="127.0.0.1",
        summary_retry_seconds=0.2,
    )
    build_index(settings, embedder=embedder)
    api.private_chat(USER)
    api.private_chat(ADMIN)
    url = f"http://127.0.0.1:{port}/metrics"
    clock = Clock(6, 0)
    async with running_bot(
        settings, Searcher.open(settings, embedder=embedder), clock=clock
    ) as app:
        await started(app)
        before = await scrape(url)
        for name in ("tanya_questions_total", "tanya_reloads_total", "tanya_summaries_total"):
            outcomes = {outcome for (sample, outcome) in before if sample == name}
            assert len(outcomes) == 2 and all(before[(name, o)] == 0 for o in outcomes), before
        assert before[("tanya_answer_seconds_count", "")] == 0

        assert (await ask(api, MISSION_QUESTION)).plain_text.split("\n")[0] == MISSION_ANSWER
        assert (await ask(api, "siapa juara Liga Champions musim lalu?")).plain_text == NOT_FOUND_ID

        await ask(api, "/reload", chat_id=ADMIN)  # nothing changed: a reload that works
        await api.wait_for_messages(2, chat_id=ADMIN, timeout=120)
        settings.seeds_dir.rename(tmp_path / "seeds-moved")  # the next reload fails
        await ask(api, "/reload", chat_id=ADMIN)
        [failed] = (await api.wait_for_messages(4, chat_id=ADMIN, timeout=120))[-1:]
        assert failed.plain_text.startswith("❌")
        (tmp_path / "seeds-moved").rename(settings.seeds_dir)

        await ask(api, "/langganan")
        clock.set(7, 0)
        api.fail_next("sendMessage", 500)  # the first try fails, the retry goes out
        await run_job(app)
        await until(lambda: len(summaries_to(api, USER)) == 1)
        await until(lambda: _summaries_counted(app) == 2)
        after = await scrape(url)
    assert after[("tanya_questions_total", "answered")] == 1
    assert after[("tanya_questions_total", "declined")] == 1
    assert after[("tanya_answer_seconds_count", "")] == 2
    assert 0 < after[("tanya_answer_seconds_sum", "")] < 60
    assert after[("tanya_reloads_total", "ok")] == 1
    assert after[("tanya_reloads_total", "failed")] == 1
    assert after[("tanya_reload_seconds_count", "")] == 2
    assert after[("tanya_reload_seconds_sum", "")] > 0
    assert after[("tanya_summaries_total", "sent")] == 1
    assert after[("tanya_summaries_total", "failed")] == 1
    # Stopped with the bot: the port is closed again.
    with pytest.raises(httpx.ConnectError):
        await scrape(url)


def _summaries_counted(application: BotApplication) -> float:
    registry = application.bot_data.metrics.registry
    return sum(
        registry.get_sample_value("tanya_summaries_total", {"outcome": outcome}) or 0.0
        for outcome in ("sent", "failed")
    )


async def test_no_metrics_endpoint_without_a_port(api: BotApiServer, bot: BotApplication) -> None:
    assert bot.bot_data.settings is not None and bot.bot_data.settings.metrics_port is None
    assert bot.bot_data.metrics_server is None


async def test_a_metrics_port_in_use_stops_the_start_with_one_line(
    api: BotApiServer, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_env(
            api,
            seeds=tmp_path / "seeds",  # none: nothing would be built before the port is tried
            data=tmp_path / "data",
            metrics_port=str(port),
            metrics_listen="127.0.0.1",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=300)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 1, lines
    assert lines[-1].startswith(f"error: cannot serve metrics on 127.0.0.1:{port} (")
    assert "TANYA_METRICS_PORT" in lines[-1]
    assert not any(line.startswith("Traceback") for line in lines), lines
    assert not (tmp_path / "data" / "index").exists()  # stopped before loading anything
