"""Each update answered once, by one worker: the first handler, and pruning old claims.

Telegram may deliver an update twice (a lost confirmation of ``getUpdates``, a webhook answer
that did not arrive), and with several webhook workers the copy may reach another worker.
`SeenUpdates` (``bot.guards``) remembers this worker's last update ids, so a repeat costs no
database call; the update claims in the shared database (``bot.update_claims``) catch a copy any
worker got, and `schedule_claim_pruning` forgets old claims.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.repeating import run_every
from bot.update_claims import KEEP
from index import DatabaseUnavailableError

if TYPE_CHECKING:
    from bot.context import BotApplication, BotContext

log = logging.getLogger(__name__)

#: How often old update claims are deleted.
PRUNE_EVERY = dt.timedelta(hours=1)


async def drop_repeated_update(update: Update, context: BotContext) -> None:
    """Group -1: an update delivered again, to this worker or another, goes no further.

    The update is claimed in the shared database before anything answers it; a database that
    cannot take the claim does not keep the question from being answered.
    """
    if not context.bot_data.seen_updates.first_time(update.update_id):
        log.warning("update %s arrived a second time: ignored", update.update_id)
        raise ApplicationHandlerStop
    claims = context.bot_data.update_claims
    if claims is None:
        return
    message = update.message  # a new message; edits and others are known by update id alone
    try:
        first = await asyncio.to_thread(
            claims.claim,
            update_id=update.update_id,
            chat_id=message.chat.id if message else None,
            message_id=message.message_id if message else None,
            now=dt.datetime.now(dt.UTC),
        )
    except DatabaseUnavailableError as error:
        log.warning("could not claim update %s (%s): answering it anyway", update.update_id, error)
        return
    if not first:
        log.warning(
            "update %s (chat %s, message %s) was taken on already, by this or another worker: "
            "ignored",
            update.update_id,
            message.chat.id if message else None,
            message.message_id if message else None,
        )
        raise ApplicationHandlerStop


async def prune_update_claims(context: BotContext) -> None:
    """Job: forget the update claims older than Telegram would deliver an update again."""
    claims = context.bot_data.update_claims
    if claims is None:
        return
    pruned = await asyncio.to_thread(claims.prune, now=dt.datetime.now(dt.UTC))
    if pruned:
        log.info("forgot %d update claims older than %s", pruned, KEEP)


def schedule_claim_pruning(application: BotApplication) -> None:
    """Prune old update claims a minute after start, then every :data:`PRUNE_EVERY`."""
    run_every(
        application, prune_update_claims, interval=PRUNE_EVERY, first=60, name="prune update claims"
    )
