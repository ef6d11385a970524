"""👍 / 👎 under each answer: the buttons, what they carry, and a reader's press recorded.

Telegram lets a button carry at most 64 bytes, so the answer is kept in the database before it
is sent (``index.storage.votes.FeedbackStore``) and its buttons carry only its id and the vote:
``v:<answer id>:up`` or ``v:<answer id>:down``. Every press is answered (Telegram's client
waits for it), with a short note the reader sees above the chat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.repeating import run_every
from bot.texts import language_for, text
from index import DatabaseUnavailableError, Vote, VoteOutcome

if TYPE_CHECKING:
    from bot.context import BotApplication, BotContext
    from index import Answer

log = logging.getLogger(__name__)

_VOTE_DATA = re.compile(r"v:(\d{1,18}):(up|down)")
#: How often answers nobody voted on are looked for and forgotten.
PRUNE_EVERY = dt.timedelta(hours=6)

_NOTES = {
    VoteOutcome.RECORDED: "vote_recorded",
    VoteOutcome.CHANGED: "vote_changed",
    VoteOutcome.UNCHANGED: "vote_unchanged",
    VoteOutcome.UNKNOWN_ANSWER: "vote_unknown",
}
_SYMBOLS = {Vote.UP: "👍", Vote.DOWN: "👎"}


def vote_data(answer_id: int, vote: Vote) -> str:
    """A button's callback data: ``v:<answer id>:<vote>`` (well under Telegram's 64 bytes)."""
    return f"v:{answer_id}:{vote.value}"


def parse_vote(data: str | None) -> tuple[int, Vote] | None:
    """The answer id and vote a button carries; None for data that is not a vote."""
    match = _VOTE_DATA.fullmatch(data or "")
    return (int(match.group(1)), Vote(match.group(2))) if match else None


def vote_keyboard(answer_id: int) -> InlineKeyboardMarkup:
    """The two buttons under an answer."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_SYMBOLS[vote], callback_data=vote_data(answer_id, vote))
                for vote in (Vote.UP, Vote.DOWN)
            ]
        ]
    )


async def vote_buttons(
    context: BotContext,
    answer: Answer,
    *,
    index_version: int,
    chat_id: int,
    asked_by: int | None,
) -> InlineKeyboardMarkup | None:
    """Keep an answer about to be sent and return its buttons; None for a declined answer.

    A database that cannot keep it costs the buttons, never the answer.
    """
    store = context.bot_data.feedback
    if store is None or not answer.answered:
        return None
    try:
        answer_id = await asyncio.to_thread(
            store.keep_answer,
            question=answer.question,
            quotes=answer.quotes,
            index_version=index_version,
            chat_id=chat_id,
            asked_by=asked_by,
            now=dt.datetime.now(dt.UTC),
        )
    except DatabaseUnavailableError as error:
        log.warning(
            "could not keep the answer in chat %s for votes (%s): no buttons", chat_id, error
        )
        return None
    return vote_keyboard(answer_id)


async def record_vote(update: Update, context: BotContext) -> None:
    """A press of 👍 or 👎: the vote recorded (or changed), and the press answered."""
    query = update.callback_query
    if query is None:
        return
    language = language_for(query.from_user.language_code)
    parsed, store = parse_vote(query.data), context.bot_data.feedback
    if parsed is None or store is None:
        await query.answer(text("vote_unknown", language))
        return
    answer_id, vote = parsed
    message = query.message  # None for a message sent through inline mode
    try:
        outcome = await asyncio.to_thread(
            store.vote,
            answer_id=answer_id,
            vote=vote,
            user_id=query.from_user.id,
            chat_id=message.chat.id if message else None,
            message_id=message.message_id if message else None,
            now=dt.datetime.now(dt.UTC),
        )
    except DatabaseUnavailableError as error:
        log.warning("could not record a vote on answer %s (%s)", answer_id, error)
        await query.answer(text("vote_failed", language))
        return
    if outcome is VoteOutcome.UNKNOWN_ANSWER:
        log.info("vote on answer %s refused: not kept, or not of this chat", answer_id)
    await query.answer(text(_NOTES[outcome], language, vote=_SYMBOLS[vote]))


async def prune_answers(context: BotContext) -> None:
    """Job: forget the answers nobody voted on once their buttons have expired."""
    store = context.bot_data.feedback
    if store is None:
        return
    pruned = await asyncio.to_thread(store.prune, now=dt.datetime.now(dt.UTC))
    if pruned:
        log.info("forgot %d answers nobody voted on", pruned)


def schedule_answer_pruning(application: BotApplication) -> None:
    """Prune answers nobody voted on a minute after start, then every :data:`PRUNE_EVERY`."""
    run_every(application, prune_answers, interval=PRUNE_EVERY, first=60, name="prune answers")
