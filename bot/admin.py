"""Admin commands: ``/reload`` and ``/status``, for the user ids in ``TANYA_ADMIN_IDS`` only.

The Telegram side only: each command checks the sender, makes one call into the serving index
(``index.serving.ServingIndex``, ``bot_data.index``), and replies with what
``bot.admin_replies`` makes of the outcome. A reload runs in a worker thread while the current
searcher keeps answering; one at a time (the index's reload turn, and the index folder's build
lock against ``python -m index build`` in another process).

The jobs: a reload every ``TANYA_RELOAD_MINUTES``, and every ``TANYA_SYNC_SECONDS`` a look for
the version another worker made (``ServingIndex.follow``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError

from bot.admin_replies import (
    StatusFigures,
    admin_text,
    busy_elsewhere_html,
    reload_failed_html,
    reload_html,
    status_html,
)
from bot.repeating import run_every
from bot.texts import language_for
from config.settings import Settings
from index import BuildBusyError, ReloadResult, ReloadTurn, ServingIndex, index_stats

if TYPE_CHECKING:
    from bot.context import BotApplication, BotContext, BotData

log = logging.getLogger(__name__)

ADMIN_COMMANDS = {
    "id": [
        BotCommand("reload", "Muat ulang artikel dan feed (admin)"),
        BotCommand("status", "Keadaan indeks dan bot (admin)"),
    ],
    "en": [
        BotCommand("reload", "Reload articles and feeds (admin)"),
        BotCommand("status", "The index and the bot (admin)"),
    ],
}


def is_admin(update: Update, settings: Settings) -> bool:
    """Whether the sender's Telegram user id is one of the configured admin ids."""
    user = update.effective_user
    return user is not None and user.id in settings.admin_ids


async def reload_command(update: Update, context: BotContext) -> None:
    """``/reload``: fetch feeds, index what changed, swap the new index in, report."""
    message = update.effective_message
    if message is None or not await _admin_only(update, context, "reload"):
        return
    language = language_for(update.effective_user.language_code if update.effective_user else None)
    data = context.bot_data
    with _serving(data).reload_turn() as turn:
        if turn is None:
            await message.reply_html(admin_text("reload_busy", language))
            return
        await message.reply_html(admin_text("reload_started", language))
        try:
            result = await _counted_reload(data, turn)
        except BuildBusyError as error:
            log.warning("reload not started: %s", error)
            reply = busy_elsewhere_html(error.holder, context.settings.zone, language)
        except Exception as error:  # any failure leaves the serving searcher as it was
            log.exception("reload failed; the previous index keeps serving")
            reply = reload_failed_html(f"{type(error).__name__}: {error}", language)
        else:
            reply = reload_html(result, language)
    await message.reply_html(reply)


async def status_command(update: Update, context: BotContext) -> None:
    """``/status``: the index's figures, uptime, questions today, readers' votes."""
    message = update.effective_message
    if message is None or not await _admin_only(update, context, "status"):
        return
    searcher, settings = context.searcher, context.settings
    stats = await asyncio.to_thread(index_stats, settings, engine=searcher.engine)
    activity = context.bot_data.activity
    questions, answered = activity.today()
    reread, skipped = activity.rereading_today()
    store = context.bot_data.feedback
    votes = await asyncio.to_thread(store.figures) if store is not None else None
    figures = StatusFigures(
        stats=stats,
        serving_version=searcher.version,
        started_at=activity.started_at,
        now=dt.datetime.now(dt.UTC),
        questions_today=questions,
        answered_today=answered,
        reload_running=_serving(context.bot_data).reloading,
        zone=settings.zone,
        rereading_today=(reread, skipped) if searcher.reads_again else None,
        votes=votes,
    )
    await message.reply_html(status_html(figures))


async def scheduled_reload(context: BotContext) -> None:
    """The ``TANYA_RELOAD_MINUTES`` job: the same reload, skipped while one is running."""
    data = context.bot_data
    with _serving(data).reload_turn() as turn:
        if turn is None:
            log.info("scheduled reload skipped: a reload is running")
            return
        try:
            await _counted_reload(data, turn)
        except BuildBusyError as error:
            log.warning("scheduled reload not started: %s", error)
        except Exception:  # the serving searcher stays; the next run tries again
            log.exception("scheduled reload failed; the previous index keeps serving")


def schedule_reloads(application: BotApplication) -> None:
    """Reload every ``TANYA_RELOAD_MINUTES`` minutes, if set (off by default)."""
    settings = application.bot_data.settings
    if settings is None or settings.reload_minutes <= 0 or application.job_queue is None:
        return
    interval = dt.timedelta(minutes=settings.reload_minutes)
    application.job_queue.run_repeating(
        scheduled_reload, interval=interval, first=interval, name="reload"
    )


async def follow_index(context: BotContext) -> None:
    """The ``TANYA_SYNC_SECONDS`` job: serve the index version another worker made, if any."""
    serving = context.bot_data.index
    if serving is not None and serving.searcher is not None:  # else not loaded yet
        await asyncio.to_thread(serving.follow)


def schedule_index_checks(application: BotApplication) -> None:
    """Check for another worker's new index version every ``TANYA_SYNC_SECONDS`` (0: never)."""
    settings = application.bot_data.settings
    if settings is None or settings.sync_seconds <= 0:
        return
    seconds = settings.sync_seconds
    run_every(application, follow_index, interval=seconds, first=seconds, name="follow index")


async def show_admin_commands(
    application: BotApplication, commands: Mapping[str, Sequence[BotCommand]]
) -> None:
    """Give each admin's private chat a command menu with the admin commands added.

    Everyone else keeps the default menu (``commands``), which has no admin command.
    """
    settings = application.bot_data.settings
    for admin_id in settings.admin_ids if settings else []:
        for language, base in commands.items():
            try:
                await application.bot.set_my_commands(
                    [*base, *ADMIN_COMMANDS.get(language, ADMIN_COMMANDS["id"])],
                    scope=BotCommandScopeChat(admin_id),
                    language_code=None if language == "id" else language,
                )
            except TelegramError as error:  # e.g. the admin never started the bot
                log.warning("cannot show the admin commands to user %s: %s", admin_id, error)


async def _admin_only(update: Update, context: BotContext, command: str) -> bool:
    """True for an admin; anyone else gets a polite refusal, and the attempt is logged."""
    if is_admin(update, context.settings):
        return True
    user, chat = update.effective_user, update.effective_chat
    log.warning(
        "refused /%s to user %s (@%s) in chat %s: not in TANYA_ADMIN_IDS",
        command,
        user.id if user else None,
        user.username if user else None,
        chat.id if chat else None,
    )
    if update.effective_message:
        language = language_for(user.language_code if user else None)
        await update.effective_message.reply_html(admin_text("refused", language, command=command))
    return False


async def _counted_reload(data: BotData, turn: ReloadTurn) -> ReloadResult:
    """``turn.reload`` in a worker thread, counted in the metrics.

    Not counted when another process was building (``BuildBusyError``): no reload ran.
    """
    started = time.monotonic()
    try:
        result = await asyncio.to_thread(turn.reload)
    except BuildBusyError:
        raise
    except Exception:
        data.metrics.count_reload(ok=False, seconds=time.monotonic() - started)
        raise
    data.metrics.count_reload(ok=True, seconds=time.monotonic() - started)
    return result


def _serving(data: BotData) -> ServingIndex:
    if data.index is None:
        raise RuntimeError("the index is not set up yet")
    return data.index
