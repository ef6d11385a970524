"""Process faults: SIGTERM while replies are in flight, a missing or damaged index at start,
and a database that cannot be written."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from config.settings import Settings
from index.encoders.embedder import Embedder
from index.serving import ServingIndex
from index.storage.store import (
    DatabaseUnavailableError,
    create_schema,
    database_unavailable,
    make_engine,
)
from index.storage.vectors import INDEX_FILE
from index.storage.versions import current_version, version_folder
from tests.conftest import (
    ADMIN,
    DATABASES,
    MISSION_ANSWER,
    MISSION_QUESTION,
    USER,
    BotProcess,
    api_settings,
    bot_env,
    copy_database,
    make_settings,
    new_postgres_database,
    running_bot,
    say,
)
from tests.telegram_api import BotApiServer
from tests.test_admin_e2e import NEW_ARTICLE, NEW_QUESTION


async def test_sigterm_lets_replies_in_flight_finish_then_exits(
    api: BotApiServer, seed_corpus: Path
) -> None:
    settings = make_settings(seed_corpus)
    env = bot_env(api, seeds=settings.seeds_dir, data=settings.data_dir)
    users = list(range(5001, 5006))
    for user in users:
        api.private_chat(user)
    bot = BotProcess("bot", env, seed_corpus)
    try:
        await api.wait_for_calls("getUpdates", 1, timeout=120)
        api.delay_next("sendMessage", 3.0, count=len(users))  # replies take a while
        for user in users:
            api.send_text(user, MISSION_QUESTION)
        deadline = time.monotonic() + 60
        # Every reply is on its way (Telegram answers each only after 3 s): SIGTERM now.
        while api.received.count("sendMessage") < len(users):
            assert time.monotonic() < deadline, bot.log()
            await asyncio.sleep(0.01)
        bot.terminate()
        assert api.sent_messages == []
    finally:
        code = await bot.stop()
    log = bot.log()
    assert code == 0, log
    assert sorted(m.chat_id for m in api.sent_messages) == users, log
    assert all(MISSION_ANSWER in m.plain_text for m in api.sent_messages)
    assert api.pending_updates == []  # confirmed: a restart would not answer them again
    assert "Traceback" not in log


def _current_folder(settings: Settings) -> Path:
    return version_folder(settings.index_dir, current_version(make_engine(settings.sqlalchemy_url)))


@pytest.mark.parametrize("damage", ["missing", "corrupt-vectors", "corrupt-lexical"])
def test_damaged_index_at_start_is_logged_and_rebuilt(
    seed_corpus: Path, embedder: Embedder, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(seed_corpus)
    folder = _current_folder(settings)
    if damage == "missing":
        (folder / INDEX_FILE).unlink()
    elif damage == "corrupt-vectors":
        (folder / INDEX_FILE).write_bytes(b"\x00garbage" * 100)
    else:
        for array in (folder / "lexical").iterdir():
            array.write_bytes(b"not an array")
    caplog.set_level(logging.INFO, logger="index")
    searcher = ServingIndex(settings, embedder=embedder).open()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    expected = "is missing files" if damage == "missing" else "cannot be read"
    assert expected in errors[0] and str(settings.index_dir) in errors[0]
    assert "rebuilding it from" in errors[0]
    assert searcher.version == 2
    assert MISSION_ANSWER in [q.text for q in searcher.answer(MISSION_QUESTION).quotes]
    assert ServingIndex(settings, embedder=embedder).open().version == 2  # and it stays mended


def test_database_errors_say_what_to_do() -> None:
    locked = database_unavailable(
        OperationalError("INSERT ...", {}, Exception("database is locked"))
    )
    assert isinstance(locked, DatabaseUnavailableError)
    assert str(locked).startswith("the database is locked by another process")
    read_only = database_unavailable(
        OperationalError("INSERT ...", {}, Exception("attempt to write a readonly database"))
    )
    assert str(read_only).startswith("the database is read-only")
    assert "INSERT" not in str(read_only)


def test_a_read_only_database_missing_the_chats_tables_says_so_at_start(seed_corpus: Path) -> None:
    """A database only ``python -m index build`` wrote lacks the bot's tables; read-only, the
    bot cannot create them, and says so in words rather than with SQLite's error."""
    database = make_settings(seed_corpus).data_dir / "tanya.db"
    with sqlite3.connect(database) as connection:
        for table in ("subscription", "summarydelivery", "updateclaim"):
            connection.execute(f"DROP TABLE IF EXISTS {table}")
    engine = make_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    try:
        with pytest.raises(DatabaseUnavailableError) as raised:
            create_schema(engine)
    finally:
        engine.dispose()
    assert str(raised.value).startswith("the database is read-only")
    assert str(raised.value).endswith("its tables cannot be created")


@pytest.fixture(params=DATABASES)
def read_only_database(request: pytest.FixtureRequest, seed_corpus: Path) -> Iterator[str]:
    """The corpus's database opened read-only: SQLite's ``mode=ro``, or a PostgreSQL database
    whose transactions are all read-only."""
    database = make_settings(seed_corpus).data_dir / "tanya.db"
    if request.param == "sqlite":
        yield f"sqlite:///file:{database}?mode=ro&uri=true"
        return
    with new_postgres_database() as url:
        copy_database(f"sqlite:///{database}", url)
        engine = make_engine(url)
        with engine.connect() as connection:
            name = connection.execute(sql("SELECT current_database()")).scalar_one()
            connection.execute(
                sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
            connection.commit()
        engine.dispose()
        yield url


async def test_read_only_database_reload_tells_the_admin_and_questions_go_on(
    api: BotApiServer, seed_corpus: Path, read_only_database: str
) -> None:
    settings = api_settings(seed_corpus, api, admin_ids=[ADMIN], database_url=read_only_database)
    (settings.seeds_dir / "minyak.txt").write_text(NEW_ARTICLE)
    api.private_chat(USER)
    api.private_chat(ADMIN)
    async with running_bot(settings, None) as application:
        [started, failed] = await say(api, ADMIN, "/reload", replies=2)
        assert started.plain_text.startswith("⏳")
        assert failed.plain_text.startswith("❌")
        assert "the database is read-only" in failed.plain_text
        assert "still answered from the current index" in failed.plain_text
        [answer] = await say(api, USER, MISSION_QUESTION)
        assert answer.plain_text.split("\n")[0] == MISSION_ANSWER
        assert answer.reply_markup is None  # the answer could not be kept for votes: no buttons
        [new] = await say(api, USER, NEW_QUESTION)
        assert "15.700" not in new.plain_text
        assert application.bot_data.searcher is not None
        assert application.bot_data.searcher.version == 1
