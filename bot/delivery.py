"""Sending an answer through Telegram's own faults.

``429 Too Many Requests`` is waited out by the Application's ``AIORateLimiter``. A ``500``,
``502`` or a dropped connection means Telegram did not take the message: it is sent again,
a few times, with a short pause. A timeout is different: Telegram may well have delivered the
message, so it is not sent again (a repeated answer is worse than a late one) and the user is
not told about an error either.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, NetworkError, TimedOut

log = logging.getLogger(__name__)

#: Tries for one reply, and the pause before the second (doubled before each further one).
REPLY_ATTEMPTS = 4
FIRST_PAUSE_SECONDS = 0.5


async def reply_html(
    message: Message,
    html: str,
    *,
    do_quote: bool,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Reply to ``message`` (with ``reply_markup``'s buttons); None when the reply timed out.

    Raises:
        NetworkError: Telegram failed ``REPLY_ATTEMPTS`` times in a row.
        TelegramError: Any other refusal (blocked bot, bad request): not worth repeating.
    """
    pause = FIRST_PAUSE_SECONDS
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        try:
            return await message.reply_html(html, do_quote=do_quote, reply_markup=reply_markup)
        except TimedOut:
            log.warning(
                "reply to chat %s timed out; not sent again (Telegram may have delivered it)",
                message.chat_id,
            )
            return None
        except BadRequest:
            raise  # PTB counts it as a NetworkError, but sending it again changes nothing
        except NetworkError as error:
            if attempt == REPLY_ATTEMPTS:
                raise
            log.warning(
                "reply to chat %s failed (%s); try %d of %d in %.1fs",
                message.chat_id,
                error,
                attempt + 1,
                REPLY_ATTEMPTS,
                pause,
            )
            await asyncio.sleep(pause)
            pause *= 2
    return None  # pragma: no cover - the loop returns or raises
