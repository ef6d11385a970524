"""Staying up through Telegram's faults: every test ends with the next question answered and
no question that arrived left unanswered (nor answered twice)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.context import BotApplication
from config.settings import Settings
from index.search.searcher import Searcher
from tests.conftest import MISSION_ANSWER, MISSION_QUESTION, USER, api_settings, ask, running_bot
from tests.telegram_api import BotApiServer

SECOND_QUESTION = "siapa presiden Rusia?"


async def answered_once_each(api: BotApiServer, questions: list[str]) -> None:
    """Every question got exactly one reply, and the bot still answers the next one."""
    replies = await api.wait_for_messages(len(questions), chat_id=USER, timeout=15)
    await asyncio.sleep(0.3)  # a repeated reply would show up by now
    assert len([m for m in api.sent_messages if m.chat_id == USER]) == len(questions)
    assert MISSION_ANSWER in replies[0].plain_text
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


@pytest.mark.parametrize("status", [500, 502])
async def test_server_error_on_send_is_sent_again(
    api: BotApiServer, bot: BotApplication, status: int
) -> None:
    api.private_chat(USER)
    api.fail_next("sendMessage", status, count=2)
    api.send_text(USER, MISSION_QUESTION)
    await answered_once_each(api, [MISSION_QUESTION])
    assert [c.status for c in api.calls_to("sendMessage")][:3] == [status, status, 200]


async def test_dropped_connection_on_send_is_sent_again(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    api.drop_next("sendMessage")
    api.send_text(USER, MISSION_QUESTION)
    await answered_once_each(api, [MISSION_QUESTION])
    assert [c.status for c in api.calls_to("sendMessage")][:2] == [0, 200]


async def test_too_many_requests_on_send_waits_and_sends_once(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    api.fail_next("sendMessage", 429, retry_after=1)
    api.send_text(USER, MISSION_QUESTION)
    await answered_once_each(api, [MISSION_QUESTION])
    statuses = [c.status for c in api.calls_to("sendMessage")]
    assert statuses[:2] == [429, 200]


async def test_too_many_requests_on_get_updates_loses_no_question(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    await api.wait_for_calls("getUpdates", 1)
    api.fail_next("getUpdates", 429, retry_after=1)
    # The poll running now ends with the question; the next one meets the 429.
    api.send_text(USER, MISSION_QUESTION)
    await api.wait_for_messages(1, chat_id=USER)
    api.send_text(USER, SECOND_QUESTION)
    await answered_once_each(api, [MISSION_QUESTION, SECOND_QUESTION])
    assert any(c.status == 429 for c in api.calls_to("getUpdates"))


@pytest.mark.parametrize("fault", ["500", "502", "drop"])
async def test_polling_fault_loses_no_question(
    api: BotApiServer, bot: BotApplication, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    api.private_chat(USER)
    await api.wait_for_calls("getUpdates", 1)
    if fault == "drop":
        api.drop_next("getUpdates")
    else:
        api.fail_next("getUpdates", int(fault))
    api.send_text(USER, MISSION_QUESTION)  # arrives while (or right after) polling fails
    await answered_once_each(api, [MISSION_QUESTION])
    failed = [c for c in api.calls_to("getUpdates") if c.injected]
    assert len(failed) == 1
    assert "polling Telegram failed" in caplog.text


async def test_reply_slower_than_the_timeout_is_not_repeated(
    api: BotApiServer, corpus_root: Path, searcher: Searcher
) -> None:
    settings: Settings = api_settings(corpus_root, api, telegram_timeout_seconds=0.5)
    api.private_chat(USER)
    async with running_bot(settings, searcher):
        api.delay_next("sendMessage", 1.0)
        api.send_text(USER, MISSION_QUESTION)
        # Telegram took the message although the bot stopped waiting: one reply, no error text.
        await answered_once_each(api, [MISSION_QUESTION])
        assert len(api.calls_to("sendMessage")) == 2  # the slow one and the next question's


async def test_update_delivered_twice_gets_one_reply(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    api.send_text(USER, MISSION_QUESTION)
    api.repeat_update()
    assert [u["update_id"] for u in api.pending_updates][-2:] == [
        api.pending_updates[-1]["update_id"]
    ] * 2
    await answered_once_each(api, [MISSION_QUESTION])


async def test_conflict_is_logged_clearly_and_polling_goes_on(
    api: BotApiServer, bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    api.private_chat(USER)
    await api.wait_for_calls("getUpdates", 1)
    api.fail_next(
        "getUpdates",
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )
    api.send_text(USER, MISSION_QUESTION)
    await answered_once_each(api, [MISSION_QUESTION])
    conflicts = [r for r in caplog.records if "another bot instance is polling" in r.message]
    assert len(conflicts) == 1
    assert conflicts[0].levelno == logging.ERROR
    assert conflicts[0].exc_info is None  # one clear line, no traceback
