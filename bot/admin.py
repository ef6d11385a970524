"""Admin commands: ``/reload`` and ``/status``, for the user ids in ``TANYA_ADMIN_IDS`` only.

A reload runs in a worker thread (``index.reload.reload_index``) while the current searcher
keeps answering; the new searcher is swapped into ``bot_data.searcher`` in one assignment, and
old index versions are cleaned up after the swap. One reload at a time: an asyncio lock here,
and the index folder's build lock against ``python -m index build`` in another process.

Other workers on the same database pick a reload up on their own: every ``TANYA_SYNC_SECONDS``
each one compares the version the database names with the one it serves, and opens the new one
(``follow_index``); a version that fails to open leaves the old one serving. A first build at
start publishes in steps: the bot serves the first, and ``serve_newer`` swaps in each later one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError

from bot.admin_replies import (
    StatusFigures,
    admin_text,
    reload_failed_html,
    reload_html,
    status_html,
)
from bot.repeating import run_every
from bot.texts import language_for
from config.settings import Settings
from index.encoders.embedder import Embedder
from index.reload import (
    ReloadResult,
    collect_garbage,
    embedder_for_builds,
    follow_index_version,
    reload_index,
    report_lines,
)
from index.search.searcher import Searcher
from index.storage.stats import index_stats
from index.storage.versions import BuildBusyError, current_version

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


@dataclass(slots=True)
class Activity:
    """Since when the bot runs, and the questions it answered today (local day).

    With the cross-encoder, also how many of them it read again, and how many waited too long
    and were answered by the ranking alone (``Answer.reread``).
    """

    zone: dt.tzinfo
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    day: dt.date | None = None
    questions: int = 0
    answered: int = 0
    reread: int = 0
    skipped_reading: int = 0

    def count_question(
        self, *, answered: bool, reread: bool | None = None, now: dt.datetime | None = None
    ) -> None:
        """Count one question the bot replied to; the count starts again each local day."""
        self._roll(now)
        self.questions += 1
        self.answered += answered
        if reread is not None:
            self.reread += reread
            self.skipped_reading += not reread

    def today(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """(questions, answered) today."""
        self._roll(now)
        return self.questions, self.answered

    def rereading_today(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """(read again by the cross-encoder, skipped it because they waited too long) today."""
        self._roll(now)
        return self.reread, self.skipped_reading

    def _roll(self, now: dt.datetime | None) -> None:
        day = (now or dt.datetime.now(dt.UTC)).astimezone(self.zone).date()
        if day != self.day:
            self.day, self.questions, self.answered = day, 0, 0
            self.reread = self.skipped_reading = 0


@dataclass(slots=True)
class Reloads:
    """One reload at a time, the embedder reloads use, and the last outcome."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    embedder: Embedder | None = None
    last: ReloadResult | None = None
    failed_version: int | None = None  # a version another worker made that would not open


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """A finished reload, or why it did not run or failed."""

    result: ReloadResult | None = None
    busy_elsewhere: str | None = None  # another process holds the build lock
    error: str | None = None


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
    reloads = context.bot_data.reloads
    if reloads.lock.locked():
        await message.reply_html(admin_text("reload_busy", language))
        return
    async with reloads.lock:
        await message.reply_html(admin_text("reload_started", language))
        outcome = await _reload(context.bot_data)
    if outcome.result is not None:
        await message.reply_html(reload_html(outcome.result, language))
    elif outcome.busy_elsewhere is not None:
        detail = outcome.busy_elsewhere
        await message.reply_html(admin_text("reload_busy_elsewhere", language, detail=detail))
    else:
        await message.reply_html(reload_failed_html(outcome.error or "?", language))


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
        reload_running=context.bot_data.reloads.lock.locked(),
        zone=settings.zone,
        rereading_today=(reread, skipped) if searcher.reads_again else None,
        votes=votes,
    )
    await message.reply_html(status_html(figures))


async def scheduled_reload(context: BotContext) -> None:
    """The ``TANYA_RELOAD_MINUTES`` job: the same reload, skipped while one is running."""
    reloads = context.bot_data.reloads
    if reloads.lock.locked():
        log.info("scheduled reload skipped: a reload is running")
        return
    async with reloads.lock:
        outcome = await _reload(context.bot_data)
    if outcome.error:
        log.error("scheduled reload failed: %s", outcome.error)


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
    data = context.bot_data
    settings, serving, reloads = data.settings, data.searcher, data.reloads
    if settings is None or serving is None or reloads.lock.locked():
        return  # not loaded yet, or this worker's own reload will swap
    try:
        searcher = await asyncio.to_thread(follow_index_version, settings, serving=serving)
    except Exception as error:  # the old version keeps serving; try again on the next run
        version = await asyncio.to_thread(current_version, serving.engine)
        if reloads.failed_version != version:
            log.error(
                "cannot open index version %d (%s: %s); version %d keeps serving",
                version,
                type(error).__name__,
                error,
                serving.version,
            )
        reloads.failed_version = version
        return
    if searcher is not None and data.searcher is serving:
        data.searcher = searcher
        reloads.failed_version = None
        log.info(
            "now serving index version %d (was %d), built by another process",
            searcher.version,
            serving.version,
        )


def serve_newer(data: BotData, searcher: Searcher) -> None:
    """Serve ``searcher`` unless a version as new already serves (a build at start, in steps)."""
    serving = data.searcher
    if serving is not None and serving.version >= searcher.version:
        return
    data.searcher = searcher
    if serving is not None:
        log.info("now serving index version %d (was %d)", searcher.version, serving.version)


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


async def _reload(data: BotData) -> ReloadOutcome:
    """Run one reload (the caller holds the lock), swap the searcher, clean up old versions."""
    settings, serving, reloads = data.settings, data.searcher, data.reloads
    if settings is None or serving is None:
        return ReloadOutcome(error="the bot has not loaded its index yet")
    if reloads.embedder is None:
        reloads.embedder = embedder_for_builds(serving.embedder)
    started = time.monotonic()
    try:
        result = await asyncio.to_thread(
            reload_index, settings, embedder=reloads.embedder, serving=serving
        )
    except BuildBusyError as error:
        log.warning("reload not started: %s", error)
        return ReloadOutcome(busy_elsewhere=str(error).rsplit("(", 1)[-1].rstrip(")"))
    except Exception as error:  # any failure leaves the serving searcher as it was
        log.exception("reload failed; the previous index keeps serving")
        data.metrics.count_reload(ok=False, seconds=time.monotonic() - started)
        return ReloadOutcome(error=f"{type(error).__name__}: {error}")
    data.metrics.count_reload(ok=True, seconds=time.monotonic() - started)
    if result.searcher is not None:
        data.searcher = result.searcher  # the swap: questions from now on use the new version
    reloads.last = result
    for line in report_lines(result):
        log.info("reload: %s", line)
    await asyncio.to_thread(collect_garbage, settings.index_dir, serving.engine)
    return ReloadOutcome(result=result)
