"""Handlers for questions: parse the update, make one call into ``index``, format, reply.

A question comes as a private message, a caption, ``/tanya``, a mention or reply in a group,
or an inline query (``@bot pertanyaan``); "ada berita apa hari ini?" gets the day's summary.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from telegram import (
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import Conflict, NetworkError, TimedOut

from bot import delivery, feedback
from bot.admin import is_admin
from bot.admin_replies import admin_text
from bot.guards import Verdict
from bot.replies import MAX_INLINE_RESULTS, answer_html, inline_results
from bot.summary_replies import summary_html, summary_inline_result
from bot.texts import help_text, language_of, text
from index import answer_with_sources, asks_for_todays_news

if TYPE_CHECKING:
    from bot.context import BotContext

log = logging.getLogger(__name__)


async def start(update: Update, context: BotContext) -> None:
    """Greet the user and show an example question."""
    if update.effective_message:
        await update.effective_message.reply_html(text("start", language_of(update)))


async def show_help(update: Update, context: BotContext) -> None:
    """How to ask, in private chats and in groups; admins also see the admin commands."""
    if update.effective_message:
        shown = help_text(
            language_of(update),
            username=context.bot.username,
            inline=bool(context.bot.supports_inline_queries),
        )
        if is_admin(update, context.settings):
            shown += admin_text("help", language_of(update))
        await update.effective_message.reply_html(shown)


async def ask_command(update: Update, context: BotContext) -> None:
    """``/tanya <pertanyaan>``: the question is everything after the command."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    if not question.strip():
        await message.reply_html(text("ask_usage", language_of(update)))
        return
    await _answer(update, context, question)


async def ask_private(update: Update, context: BotContext) -> None:
    """In a private chat, any text is a question."""
    if update.effective_message and update.effective_message.text is not None:
        await _answer(update, context, update.effective_message.text)


async def ask_caption(update: Update, context: BotContext) -> None:
    """A photo or file with a caption: the caption is the question."""
    if update.effective_message and update.effective_message.caption:
        await _answer(update, context, update.effective_message.caption)


async def ask_group(update: Update, context: BotContext) -> None:
    """In a group, answer only when mentioned or replied to; the mention is not part of the question."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = _question_addressed_to_bot(message, context.bot.username, context.bot.id)
    if question is not None:
        await _answer(update, context, question)


async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, voice, photos without caption in a private chat: ask for text instead."""
    if update.effective_message:
        await update.effective_message.reply_html(text("text_only", language_of(update)))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have, in a private chat."""
    if update.effective_message:
        await update.effective_message.reply_html(text("unknown_command", language_of(update)))


async def on_error(update: object, context: BotContext) -> None:
    """Log the error with its traceback; tell the user something went wrong, never the details."""
    polling = update is None and context.job is None  # run_polling hands its errors here
    if polling and isinstance(context.error, Conflict):
        log.error(
            "another bot instance is polling with this token (Telegram: %s); "
            "stop it or run only one. Retrying.",
            context.error.message,
        )
        return
    if polling and isinstance(context.error, NetworkError):
        log.warning("polling Telegram failed (%s); retrying", context.error.message)
        return
    if isinstance(context.error, TimedOut):
        # The reply may have arrived; an error message on top of it would only confuse.
        log.warning("Telegram timed out while handling an update: %s", context.error.message)
        return
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await context.bot.send_message(
                update.effective_chat.id, text("error", language_of(update))
            )
        except (
            Exception
        ):  # the chat may be gone or Telegram down: the log line above is what matters
            log.warning("could not tell chat %s about the error", update.effective_chat.id)


async def _answer(update: Update, context: BotContext, question: str) -> None:
    # Taken before any queueing: a question that waits too long skips the cross-encoder.
    arrived = time.monotonic()
    message = update.effective_message
    assert message is not None
    language = language_of(update)
    if not await _within_rate_limit(update, context):
        return
    in_group = message.chat.type != ChatType.PRIVATE
    if asks_for_todays_news(question):  # "ada berita apa hari ini?": the day's summary
        summary = await context.daily.summary_now()
        await delivery.reply_html(message, summary_html(summary, language), do_quote=in_group)
        _count_question(context, answered=bool(summary.quotes), arrived=arrived)
        return
    limit = context.settings.max_answer_sentences
    searcher = context.searcher  # one version for the answer and its record, even mid-swap
    # Embedding and search block for tens of milliseconds: keep them off the event loop.
    cited = await asyncio.to_thread(
        answer_with_sources,
        searcher,
        question,
        limit=limit,
        arrived=arrived,
        today=context.today(),
    )
    answer = cited.answer
    reply = answer_html(answer, language, sources=cited.sources)
    buttons = await feedback.vote_buttons(
        context,
        answer,
        index_version=searcher.version,
        chat_id=message.chat.id,
        asked_by=update.effective_user.id if update.effective_user else None,
    )
    await delivery.reply_html(message, reply, do_quote=in_group, reply_markup=buttons)
    _count_question(context, answered=answer.answered, reread=answer.reread, arrived=arrived)


def _count_question(
    context: BotContext, *, answered: bool, arrived: float, reread: bool | None = None
) -> None:
    """A question replied to, in /status and in the metrics."""
    context.bot_data.activity.count_question(answered=answered, reread=reread)
    context.bot_data.metrics.count_question(answered=answered, seconds=time.monotonic() - arrived)


async def _within_rate_limit(update: Update, context: BotContext) -> bool:
    """Count the question against its asker's limit; past it, say so once, then stay silent."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or is_admin(update, context.settings):
        return True
    rate_limit = context.bot_data.rate_limit
    verdict = rate_limit.check(user.id)
    if verdict is Verdict.WARN:
        log.info("user %s is over %d questions a minute", user.id, rate_limit.limit)
        reply = text("rate_limited", language_of(update), limit=str(rate_limit.limit))
        await message.reply_html(reply, do_quote=message.chat.type != ChatType.PRIVATE)
    return verdict is Verdict.ANSWER


#: An inline query shorter than this (after trimming) is not searched: Telegram sends one
#: as the reader types, and two letters ask nothing yet.
MIN_INLINE_QUERY_CHARS = 3


async def answer_inline(update: Update, context: BotContext) -> None:
    """``@bot pertanyaan`` in any chat: up to three quotes to pick from, each with its source.

    A query for today's news ("berita hari ini") offers one result instead: the day's summary.

    Results are in Indonesian whatever the reader's language: Telegram may show them to anyone
    typing the same query (``is_personal`` false), and the message goes to a chat of others.
    Too short a query gets no results; past the rate limit, none either, and that empty answer
    is neither cached nor shared.
    """
    arrived = time.monotonic()
    query = update.inline_query
    if query is None:
        return
    question = query.query.strip()
    if len(question) < MIN_INLINE_QUERY_CHARS:
        await query.answer([], cache_time=context.settings.inline_cache_seconds, is_personal=False)
        return
    if not is_admin(update, context.settings):
        rate_limit = context.bot_data.rate_limit
        verdict = rate_limit.check(query.from_user.id)
        if verdict is Verdict.WARN:  # logged once, as for questions in a chat
            log.info(
                "user %s is over %d questions a minute (inline)",
                query.from_user.id,
                rate_limit.limit,
            )
        if verdict is not Verdict.ANSWER:
            await query.answer([], cache_time=0, is_personal=True)
            return
    if asks_for_todays_news(question):  # one result: the day's summary
        summary = await context.daily.summary_now()
        offered = [summary_inline_result(summary, "id")]
        answered, reread = bool(summary.quotes), None
    else:
        cited = await asyncio.to_thread(
            answer_with_sources,
            context.searcher,
            question,
            limit=MAX_INLINE_RESULTS,
            arrived=arrived,
            today=context.today(),
        )
        offered = inline_results(cited.answer, "id", sources=cited.sources)
        answered, reread = cited.answer.answered, cited.answer.reread
    results = [
        InlineQueryResultArticle(
            id=str(number),
            title=result.title,
            description=result.description,
            input_message_content=InputTextMessageContent(
                result.message_html, parse_mode=ParseMode.HTML
            ),
        )
        for number, result in enumerate(offered)
    ]
    await query.answer(results, cache_time=context.settings.inline_cache_seconds, is_personal=False)
    _count_question(context, answered=answered, reread=reread, arrived=arrived)


def _question_addressed_to_bot(message: Message, username: str, bot_id: int) -> str | None:
    """The question if the message mentions or replies to the bot, else None."""
    text_ = message.text or ""
    mention = f"@{username}".lower()
    mentions = [
        entity
        for entity in message.entities
        if entity.type == MessageEntity.MENTION and message.parse_entity(entity).lower() == mention
    ]
    replied = message.reply_to_message
    if not mentions and not (replied and replied.from_user and replied.from_user.id == bot_id):
        return None
    parsed = message.parse_entities([MessageEntity.MENTION])
    for entity in mentions:
        text_ = text_.replace(parsed[entity], " ")
    return text_.strip()
