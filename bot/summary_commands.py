"""The daily summary's commands: ``/langganan [jam]``, ``/berhenti``, ``/ringkasan``.

In a group only its creator and administrators (or an anonymous administrator, writing as the
group) may subscribe or unsubscribe it; a group that becomes a supergroup keeps its
subscription under the new chat id.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.summary_replies import summary_html
from bot.texts import clock_time, language_of, text

if TYPE_CHECKING:
    from bot.context import BotContext

_HOUR = re.compile(r"(\d{1,2})(?:[:.]00)?")


def parse_hour(args: list[str]) -> int | None:
    """``/langganan [jam]``: the hour (0-23, ``18``, ``18:00`` or ``18.00``), None without one.

    Raises:
        ValueError: The argument is not an hour.
    """
    if not args:
        return None
    match = _HOUR.fullmatch(args[0]) if len(args) == 1 else None
    if match is None or int(match.group(1)) > 23:
        raise ValueError(f"not an hour: {' '.join(args)!r}")
    return int(match.group(1))


async def subscribe(update: Update, context: BotContext) -> None:
    """``/langganan [jam]``: the daily summary for this chat, at the default time or that hour."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    language = language_of(update)
    try:
        hour = parse_hour(context.args or [])
    except ValueError:
        await message.reply_html(text("subscribe_usage", language))
        return
    if not await _may_manage_subscription(update, context):
        await message.reply_html(text("admins_only", language), do_quote=True)
        return
    user = update.effective_user
    created, send_time = await context.daily.subscribe(
        chat_id=chat.id,
        chat_type=chat.type,
        language=language,
        hour=hour,
        user_id=user.id if user else None,
    )
    reply = text(
        "subscribed" if created else "subscription_changed",
        language,
        time=clock_time(send_time, language),
        zone=context.settings.timezone,
    )
    await message.reply_html(reply)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """``/berhenti``: no more daily summary for this chat."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    language = language_of(update)
    if not await _may_manage_subscription(update, context):
        await message.reply_html(text("admins_only", language), do_quote=True)
        return
    stopped = await context.daily.unsubscribe(chat_id=chat.id)
    await message.reply_html(text("unsubscribed" if stopped else "not_subscribed", language))


async def send_summary(update: Update, context: BotContext) -> None:
    """``/ringkasan``: today's summary, now."""
    message = update.effective_message
    if message is None:
        return
    summary = await context.daily.summary_now()
    in_group = message.chat.type != ChatType.PRIVATE
    await message.reply_html(summary_html(summary, language_of(update)), do_quote=in_group)


async def chat_migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its subscription follows it to the new chat id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        await context.daily.migrate(
            old_chat_id=message.chat.id, new_chat_id=message.migrate_to_chat_id
        )
    elif message.migrate_from_chat_id:
        await context.daily.migrate(
            old_chat_id=message.migrate_from_chat_id, new_chat_id=message.chat.id
        )


async def _may_manage_subscription(update: Update, context: BotContext) -> bool:
    """Anyone in a private chat; in a group, its creator and administrators only."""
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if message is not None and message.sender_chat is not None:
        # An anonymous administrator writes as the group itself.
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
