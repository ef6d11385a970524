"""Abuse and security: the per-user rate limit, cut questions, the token kept out of logs,
admins checked on every call, user text never reaching a path or SQL, owner-only files."""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.guards import QuestionRateLimit, SeenUpdates, Verdict
from bot.redact import redact_secrets
from index.encoders.embedder import Embedder
from index.search.searcher import Searcher
from index.storage.builder import build_index
from index.storage.tables import Article, Sentence
from tests.conftest import (
    ADMIN,
    MISSION_ANSWER,
    MISSION_QUESTION,
    SEED,
    USER,
    api_settings,
    ask,
    broken_searcher,
    make_settings,
    running_bot,
)
from tests.telegram_api import BotApiServer
from tests.test_bot_e2e import NO_WORDS_ID, NOT_FOUND_ID

RATE_LIMITED_ID = "Pelan-pelan ya"


class FakeClock:
    """Seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_is_a_sliding_window_with_one_warning() -> None:
    clock = FakeClock()
    limit = QuestionRateLimit(3, window=60, clock=clock)
    verdicts = []
    for _ in range(5):
        verdicts.append(limit.check(USER))
        clock.now += 1
    assert verdicts == [Verdict.ANSWER] * 3 + [Verdict.WARN, Verdict.IGNORE]
    assert limit.check(USER + 1) is Verdict.ANSWER  # another user has a limit of their own
    clock.now = 1000.0 + 60.5  # the first question left the window: one more may be asked
    assert limit.check(USER) is Verdict.ANSWER
    assert limit.check(USER) is Verdict.WARN  # over again, in a new window: told again
    assert QuestionRateLimit(0, clock=clock).check(USER) is Verdict.ANSWER  # 0 = off


def test_seen_updates_forget_the_oldest() -> None:
    seen = SeenUpdates(size=2)
    assert [seen.first_time(i) for i in (1, 2, 1, 3, 1)] == [True, True, False, True, True]


async def test_rate_limit_warns_once_then_stays_silent_and_spares_admins(
    api: BotApiServer, corpus_root: Path, searcher: Searcher
) -> None:
    settings = api_settings(corpus_root, api, user_rate_limit=3, admin_ids=[ADMIN])
    api.private_chat(USER)
    api.private_chat(ADMIN)
    async with running_bot(settings, searcher):
        for _ in range(3):
            assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text
        warning = await ask(api, MISSION_QUESTION)
        assert warning.plain_text.startswith(RATE_LIMITED_ID)
        assert "3 pertanyaan" in warning.plain_text
        api.send_text(USER, MISSION_QUESTION)
        api.send_text(USER, "/start")  # not a question: still answered
        await api.wait_for_messages(5, chat_id=USER)
        await asyncio.sleep(0.3)
        sent = [m.plain_text for m in api.sent_messages if m.chat_id == USER]
        assert len(sent) == 5 and sent[-1].startswith("Halo!")  # the 5th question: silence
        for _ in range(5):
            assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION, chat_id=ADMIN)).plain_text


def test_question_is_cut_before_embedding(searcher: Searcher) -> None:
    seen: list[str] = []

    class Recording:
        name, dim = searcher.embedder.name, searcher.embedder.dim

        def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
            seen.extend(texts)
            return searcher.embedder.embed_queries(texts)

        def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
            return searcher.embedder.embed_passages(texts)

    cut = Searcher(
        embedder=Recording(),
        vectors=searcher.vectors,
        lexical=searcher.lexical,
        engine=searcher.engine,
        max_question_chars=60,
    )
    answer = cut.answer(MISSION_QUESTION + " lalu" * 2000)
    assert [len(text) for text in seen] == [60]
    assert seen[0].startswith(MISSION_QUESTION)
    assert MISSION_ANSWER in [quote.text for quote in answer.quotes]


async def test_the_token_never_reaches_the_logs(
    api: BotApiServer,
    searcher: Searcher,
    corpus_root: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Every question fails inside the index: an exception in a handler.
    broken = broken_searcher(searcher, tmp_path)
    settings = api_settings(corpus_root, api)
    api.private_chat(USER)
    async with running_bot(settings, broken) as application:
        assert (await ask(api, MISSION_QUESTION)).plain_text.startswith("Maaf, terjadi kesalahan")
        application.bot_data.index.searcher = searcher
        api.drop_next("sendMessage")  # a network error on the way out
        api.drop_next("getUpdates")  # and one while polling
        assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text
        logging.getLogger("test").error("a message quoting %s", f"{api.base_url}{api.token}/x")
    secret = api.token.split(":", 1)[1]
    requests = [r for r in caplog.records if r.name == "httpx"]
    assert len(requests) > 5 and all("<token>" in r.getMessage() for r in requests)
    assert any("error while handling an update" in r.message for r in caplog.records)
    assert any("polling Telegram failed" in r.message for r in caplog.records)
    assert secret not in caplog.text


def test_redaction_covers_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    redact_secrets("654321:SECRET-IN-TRACEBACK")
    try:
        raise RuntimeError("bad URL http://x/bot654321:SECRET-IN-TRACEBACK/getMe")
    except RuntimeError:
        logging.getLogger("test").exception("failed")
    assert "SECRET-IN-TRACEBACK" not in caplog.text
    assert "bad URL http://x/bot<token>/getMe" in caplog.text


async def test_admin_removed_at_runtime_is_refused(
    api: BotApiServer, corpus_root: Path, searcher: Searcher
) -> None:
    settings = api_settings(corpus_root, api, admin_ids=[ADMIN])
    api.private_chat(ADMIN)
    async with running_bot(settings, searcher) as application:
        status = await ask(api, "/status", chat_id=ADMIN)
        assert status.plain_text.startswith("📊")
        application.bot_data.settings = settings.model_copy(update={"admin_ids": []})
        refused = await ask(api, "/status", chat_id=ADMIN)
        assert not refused.plain_text.startswith("📊")
        assert "/status" in refused.plain_text
        reload_refused = await ask(api, "/reload", chat_id=ADMIN)
        assert "/reload" in reload_refused.plain_text and "⏳" not in reload_refused.plain_text


async def test_path_and_sql_looking_questions_are_only_words(
    api: BotApiServer, bot: object, searcher: Searcher
) -> None:
    def counts() -> tuple[int, int]:
        with Session(searcher.engine) as session:
            articles = session.exec(select(func.count()).select_from(Article)).one()
            sentences = session.exec(select(func.count()).select_from(Sentence)).one()
        return articles, sentences

    before = counts()
    api.private_chat(USER)
    for question in (
        "../../etc/passwd",
        "/etc/passwd",
        "..\\..\\windows\\win.ini",
        "'; DROP TABLE article; --",
        "\" OR 1=1; DELETE FROM sentence WHERE ''='",
        "%s %(x)s {0} ${HOME} $(id)",
    ):
        reply = (await ask(api, question)).plain_text
        assert reply in (NOT_FOUND_ID,) or reply.startswith(NO_WORDS_ID), (question, reply)
        assert "root:" not in reply
    assert counts() == before
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


def test_database_and_index_are_owner_only(tmp_path: Path, embedder: Embedder) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / SEED.name).write_bytes(SEED.read_bytes())
    settings = make_settings(tmp_path)
    build_index(settings, embedder=embedder)
    data = settings.data_dir
    paths = [data, *data.rglob("*")]
    assert (data / "tanya.db").is_file() and settings.index_dir.is_dir()
    assert len([p for p in paths if p.is_file() and "v0000" in str(p)]) >= 3
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in paths}
    expected = {p.relative_to(tmp_path).as_posix(): 0o700 if p.is_dir() else 0o600 for p in paths}
    assert modes == expected
