"""What every handler and job shares: ``BotData``, the typed ``BotContext``, ``BotApplication``.

Handlers and jobs import their context type from here, and ``bot.app`` builds the Application
with them; nothing here imports a handler, a job or ``bot.app``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.activity import Activity
from bot.daily_summaries import DailySummaries
from bot.guards import QuestionRateLimit, SeenUpdates
from bot.metrics import BotMetrics, MetricsServer
from bot.update_claims import UpdateClaims
from config.settings import Settings
from index import FeedbackStore, Searcher, ServingIndex


class BotData:
    """What every handler shares: the settings and the searcher (loaded in ``post_init``)."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        # The searcher, its reloads and swaps (set in ``build_application``, opened in post_init).
        self.index: ServingIndex | None = None
        self.daily: DailySummaries | None = None  # subscriptions and the daily summary job
        self.activity = Activity(zone=dt.UTC)  # uptime, questions today (for /status)
        self.seen_updates = SeenUpdates()  # Telegram may deliver an update twice
        # ... and to another worker: claims in the shared database (set up in ``post_init``).
        self.update_claims: UpdateClaims | None = None
        self.feedback: FeedbackStore | None = None  # answers kept for 👍 / 👎, and the votes
        self.rate_limit = QuestionRateLimit(0)  # questions per user per minute
        self.metrics = BotMetrics()  # for Prometheus; served with TANYA_METRICS_PORT
        self.metrics_server: MetricsServer | None = None

    @property
    def searcher(self) -> Searcher | None:
        """The searcher answering questions now (``index.searcher``; None until loaded)."""
        return self.index.searcher if self.index is not None else None


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context, with typed access to the shared state."""

    @property
    def searcher(self) -> Searcher:
        """The searcher that answers questions."""
        if self.bot_data.searcher is None:
            raise RuntimeError("the index is not loaded yet")
        return self.bot_data.searcher

    @property
    def settings(self) -> Settings:
        """The settings the bot was started with."""
        if self.bot_data.settings is None:
            raise RuntimeError("settings are missing from bot_data")
        return self.bot_data.settings

    @property
    def daily(self) -> DailySummaries:
        """Subscriptions and the daily summary (set up in ``post_init``)."""
        if self.bot_data.daily is None:
            raise RuntimeError("the daily summary is not set up yet")
        return self.bot_data.daily

    def today(self) -> dt.date:
        """Today in ``TANYA_TIMEZONE``, by the bot's clock (the one the daily summary keeps)."""
        return self.daily.now().date()


BotApplication = Application[ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
