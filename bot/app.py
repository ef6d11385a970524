"""Building the python-telegram-bot Application: its handlers, in order, and its start-up.

The state handlers and jobs share (``BotData``, ``BotContext``) is ``bot.context``'s.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import admin, duplicates, feedback, handlers, summary_commands
from bot.activity import Activity
from bot.context import BotApplication, BotContext, BotData
from bot.daily import Clock
from bot.guards import QuestionRateLimit
from bot.jobs import start_daily_summaries
from bot.metrics import MetricsServer
from bot.redact import redact_secrets
from bot.update_claims import UpdateClaims
from config.settings import Settings
from index import FeedbackStore, Searcher, ServingIndex, create_schema, make_engine

log = logging.getLogger(__name__)


COMMANDS = {
    "id": [
        BotCommand("tanya", "Ajukan pertanyaan tentang berita"),
        BotCommand("ringkasan", "Ringkasan berita hari ini"),
        BotCommand("langganan", "Ringkasan berita setiap pagi (/langganan 18: pukul 18.00)"),
        BotCommand("berhenti", "Berhenti berlangganan ringkasan"),
        BotCommand("help", "Bantuan"),
    ],
    "en": [
        BotCommand("tanya", "Ask a question about the news"),
        BotCommand("summary", "Today's news summary"),
        BotCommand("subscribe", "The news summary every morning (/subscribe 18: at 18:00)"),
        BotCommand("unsubscribe", "Stop the daily summary"),
        BotCommand("help", "Help"),
    ],
}


def file_url(api_url: str) -> str:
    """The file download base that goes with a Bot API base URL (``.../bot`` -> ``.../file/bot``)."""
    return (
        api_url[: -len("/bot")] + "/file/bot" if api_url.endswith("/bot") else api_url + "/file/bot"
    )


def build_application(
    settings: Settings, *, searcher: Searcher | None = None, clock: Clock | None = None
) -> BotApplication:
    """The bot, ready for ``run_polling`` (or ``initialize``/``start`` in tests).

    Without a ``searcher`` the index is loaded (and built on first start) in ``post_init``.
    ``clock`` (aware datetimes) is what the daily summary and questions naming a time
    ("kemarin", "hari ini") take as now; default the real time.
    """
    if settings.telegram_token is None:
        raise ValueError("TANYA_TELEGRAM_TOKEN is not set")
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    redact_secrets(settings.telegram_token.get_secret_value(), webhook_secret)

    async def post_init(application: BotApplication) -> None:
        if settings.metrics_port is not None:  # first: a port in use stops the start at once
            application.bot_data.metrics_server = MetricsServer.start(
                application.bot_data.metrics,
                port=settings.metrics_port,
                address=settings.metrics_listen,
            )
            log.info(
                "metrics at http://%s:%d/metrics", settings.metrics_listen, settings.metrics_port
            )
        serving = application.bot_data.index
        if serving is not None and serving.searcher is None:
            # A first build serves its first published version; the index swaps in the later
            # ones as the rest of the build goes on in a thread.
            await asyncio.to_thread(serving.open, background=True)
        engine = make_engine(settings.sqlalchemy_url)
        await asyncio.to_thread(create_schema, engine)
        application.bot_data.update_claims = UpdateClaims(engine)
        application.bot_data.feedback = FeedbackStore(engine)
        await start_daily_summaries(application, clock=clock, engine=engine)
        for language, commands in COMMANDS.items():
            await application.bot.set_my_commands(
                commands, language_code=None if language == "id" else language
            )
        await admin.show_admin_commands(application, COMMANDS)
        admin.schedule_reloads(application)
        admin.schedule_index_checks(application)
        duplicates.schedule_claim_pruning(application)
        feedback.schedule_answer_pruning(application)

    async def post_shutdown(application: BotApplication) -> None:
        if application.bot_data.metrics_server is not None:
            application.bot_data.metrics_server.stop()
            application.bot_data.metrics_server = None

    application: BotApplication = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings.telegram_api_url))
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(True)
        .connect_timeout(settings.telegram_timeout_seconds)
        .read_timeout(settings.telegram_timeout_seconds)
        .write_timeout(settings.telegram_timeout_seconds)
        .get_updates_connect_timeout(settings.telegram_timeout_seconds)
        .get_updates_read_timeout(settings.telegram_timeout_seconds)
        .get_updates_write_timeout(settings.telegram_timeout_seconds)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.settings = settings
    application.bot_data.index = ServingIndex(settings, searcher=searcher)
    application.bot_data.activity = Activity(zone=settings.zone)
    application.bot_data.rate_limit = QuestionRateLimit(settings.user_rate_limit)
    add_handlers(application)
    return application


def add_handlers(application: BotApplication) -> None:
    """Register every handler, in the order they are tried."""
    fresh = filters.UpdateType.MESSAGE  # edits and channel posts are left alone on purpose
    application.add_handler(TypeHandler(Update, duplicates.drop_repeated_update), group=-1)
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", handlers.start, filters=fresh))
    application.add_handler(CommandHandler(["help", "bantuan"], handlers.show_help, filters=fresh))
    application.add_handler(CommandHandler(["tanya", "ask"], handlers.ask_command, filters=fresh))
    application.add_handler(
        CommandHandler(["langganan", "subscribe"], summary_commands.subscribe, filters=fresh)
    )
    application.add_handler(
        CommandHandler(["berhenti", "unsubscribe"], summary_commands.unsubscribe, filters=fresh)
    )
    application.add_handler(
        CommandHandler(["ringkasan", "summary"], summary_commands.send_summary, filters=fresh)
    )
    application.add_handler(
        MessageHandler(fresh & filters.StatusUpdate.MIGRATE, summary_commands.chat_migrated)
    )
    application.add_handler(CommandHandler("reload", admin.reload_command, filters=fresh))
    application.add_handler(CommandHandler("status", admin.status_command, filters=fresh))
    application.add_handler(
        MessageHandler(fresh & private & filters.COMMAND, handlers.unknown_command)
    )
    application.add_handler(MessageHandler(fresh & private & filters.TEXT, handlers.ask_private))
    application.add_handler(MessageHandler(fresh & private & filters.CAPTION, handlers.ask_caption))
    application.add_handler(MessageHandler(fresh & private, handlers.not_text))
    application.add_handler(
        MessageHandler(fresh & filters.ChatType.GROUPS & filters.TEXT, handlers.ask_group)
    )
    application.add_handler(InlineQueryHandler(handlers.answer_inline))
    application.add_handler(CallbackQueryHandler(feedback.record_vote))  # every press answered
    application.add_error_handler(handlers.on_error)
