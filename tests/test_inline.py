"""Inline mode: ``@bot pertanyaan`` in any chat, answered through the Bot API stand-in over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.__main__ import ALLOWED_UPDATES
from bot.context import BotApplication
from index.search.searcher import Searcher
from tests.conftest import MISSION_ANSWER, MISSION_QUESTION, SEED, api_settings, running_bot
from tests.telegram_api import BotApiServer, InlineAnswer

USER = 2001
OTHER = 2002
NOT_FOUND_ID = "Maaf, artikel yang saya punya tidak menjawab pertanyaan itu."
OFF_TOPIC = "siapa juara Liga Champions musim lalu?"


async def inline(api: BotApiServer, query: str, *, user_id: int = USER) -> InlineAnswer:
    """``@bot query`` typed by ``user_id``; the bot's answer to it."""
    return await api.wait_for_inline_answer(api.send_inline_query(user_id, query))


def test_polling_and_webhook_ask_telegram_for_inline_queries() -> None:
    assert "inline_query" in ALLOWED_UPDATES


async def test_an_inline_question_offers_the_quote_and_its_source(
    api: BotApiServer, bot: BotApplication, corpus_root: Path
) -> None:
    api.enable_inline_mode()
    answer = await inline(api, MISSION_QUESTION)
    assert 1 <= len(answer.results) <= 3
    assert answer.cache_time == 60 and answer.is_personal is False
    first, *_ = answer.results
    assert first["type"] == "article"
    assert first["title"] == MISSION_ANSWER
    assert SEED.name in first["description"] and "baris 13" in first["description"]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["message_text"].startswith("<blockquote>")
    lines = answer.message_texts[0].split("\n")
    assert lines[:2] == [MISSION_ANSWER, "baris 13"]
    assert lines[2].startswith("📰 Presiden Rusia Vladimir Putin mengirim ucapan selamat")
    assert lines[3] == f"{SEED.name} · Sumber: Korea JongAng Daily"
    assert len({result["id"] for result in answer.results}) == len(answer.results)
    # The seeds folder is an absolute path here: a result shows only the file under it.
    assert corpus_root.is_absolute()
    for result, text in zip(answer.results, answer.message_texts, strict=True):
        for shown in (result["description"], result["input_message_content"]["message_text"]):
            assert str(corpus_root) not in shown and "seeds/" not in shown
        assert str(corpus_root) not in text
    assert api.sent_messages == []  # an inline answer is no message of the bot's


async def test_an_inline_result_marks_the_number_that_answers_berapa(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.enable_inline_mode()
    answer = await inline(api, MISSION_QUESTION)
    content = answer.results[0]["input_message_content"]
    assert content["message_text"].startswith(
        "<blockquote>Kim Jong-un dituduh menempatkan <b>11.000 tentara</b> Korea Utara"
    )
    assert answer.message_texts[0].split("\n")[0] == MISSION_ANSWER
    assert answer.results[0]["title"] == MISSION_ANSWER  # the list shows plain text


async def test_results_are_in_indonesian_for_every_reader(
    api: BotApiServer, bot: BotApplication
) -> None:
    # Telegram shares the cached results with anyone typing the same query.
    api.enable_inline_mode()
    api.user(USER, language_code="en")
    answer = await inline(api, MISSION_QUESTION)
    assert answer.message_texts[0].split("\n")[:2] == [MISSION_ANSWER, "baris 13"]


async def test_article_html_is_escaped_in_results(api: BotApiServer, bot: BotApplication) -> None:
    api.enable_inline_mode()
    answer = await inline(api, "berapa persen saham Maju & Jaya naik?")
    assert "<Maju & Jaya>" in answer.message_texts[0]
    assert "&lt;Maju &amp; Jaya&gt;" in answer.results[0]["input_message_content"]["message_text"]


async def test_an_off_topic_query_offers_one_not_found_result(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.enable_inline_mode()
    answer = await inline(api, OFF_TOPIC)
    [result] = answer.results
    assert result["title"] == "Tidak ditemukan"
    assert result["description"] == NOT_FOUND_ID
    assert answer.message_texts == [f"{OFF_TOPIC}\n\n{NOT_FOUND_ID}"]
    assert answer.is_personal is False


async def test_an_empty_or_too_short_query_gets_no_results(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.enable_inline_mode()
    for query in ("", "  ", "ab"):
        answer = await inline(api, query)
        assert answer.results == [], query
    assert (await inline(api, MISSION_QUESTION)).results  # the bot is listening


async def test_past_the_rate_limit_an_inline_query_gets_no_results(
    api: BotApiServer, corpus_root: Path, searcher: Searcher
) -> None:
    settings = api_settings(corpus_root, api, user_rate_limit=2, inline_cache_seconds=30)
    api.enable_inline_mode()
    api.private_chat(USER)
    async with running_bot(settings, searcher):
        # Questions in a chat and inline share one limit.
        api.send_text(USER, MISSION_QUESTION)
        [reply] = await api.wait_for_messages(1, chat_id=USER)
        assert MISSION_ANSWER in reply.plain_text
        answered = await inline(api, MISSION_QUESTION)
        assert answered.results and answered.cache_time == 30
        for _ in range(2):  # past the limit: no results, no error, no message
            limited = await inline(api, MISSION_QUESTION)
            assert limited.results == []
            assert limited.cache_time == 0 and limited.is_personal is True
        assert (await inline(api, MISSION_QUESTION, user_id=OTHER)).results  # others may ask
        await asyncio.sleep(0.2)
    assert len(api.sent_messages) == 1


class _BrokenSearcher:
    """A searcher whose every search fails, as a corrupt index would."""

    def answer(self, question: str, **kwargs: object) -> object:
        raise RuntimeError("the index is broken")


async def test_a_failing_search_is_logged_and_the_reader_sees_no_trace(
    api: BotApiServer, bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    api.enable_inline_mode()
    working = bot.bot_data.searcher
    bot.bot_data.index.searcher = _BrokenSearcher()  # type: ignore[assignment]
    try:
        api.send_inline_query(USER, MISSION_QUESTION)
        await _until(lambda: "the index is broken" in caplog.text)
    finally:
        bot.bot_data.index.searcher = working
    assert "error while handling an update" in caplog.text
    assert api.sent_messages == [] and api.inline_answers == []
    assert (await inline(api, MISSION_QUESTION)).results  # and the next query is answered


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
