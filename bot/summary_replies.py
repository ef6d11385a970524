"""The daily summary as the user reads it: Telegram HTML, plain text, an inline result.

Its quotes are cited as an answer's are (``bot.replies``), under a dated title.
"""

from __future__ import annotations

import html

from bot.replies import (
    MAX_INLINE_TITLE_CHARS,
    InlineResult,
    cited_blocks,
    cited_plain,
    shorten,
    strip_tags,
    visible_length,
)
from bot.texts import Language, long_date, text
from index import Summary


def summary_inline_result(summary: Summary, language: Language = "id") -> InlineResult:
    """The one result offered to an inline query asking for today's news: the summary."""
    message = summary_html(summary, language)
    title, _, rest = html.unescape(strip_tags(message)).partition("\n\n")
    return InlineResult(
        title=shorten(title, MAX_INLINE_TITLE_CHARS),
        description=shorten(" ".join(rest.split()), MAX_INLINE_TITLE_CHARS),
        message_html=message,
    )


def summary_html(summary: Summary, language: Language = "id", *, footer: bool = False) -> str:
    """The summary message: a dated title, a note when it falls back, each quote with its source.

    ``footer`` adds how to unsubscribe (for the daily message). Quotes that would take the
    message past Telegram's limit are left out.
    """
    period = "day" if summary.window.is_whole_day else "24h"
    head = [text(f"summary_title_{period}", language, date=long_date(summary.day, language))]
    if not summary.quotes:
        return "\n\n".join([*head, text("summary_empty", language)])
    if summary.recent_fallback:
        head.append(text(f"summary_fallback_{period}", language))
    tail = [text("summary_footer", language)] if footer else []
    used = sum(visible_length(part) for part in head + tail)
    quotes = cited_blocks(summary.quotes, summary.sources, language, used=used)
    return "\n\n".join([*head, *quotes, *tail])


def summary_plain(summary: Summary, language: Language = "id") -> str:
    """The same summary as plain text, for the terminal."""
    period = "day" if summary.window.is_whole_day else "24h"
    date = long_date(summary.day, language)
    lines = [html.unescape(strip_tags(text(f"summary_title_{period}", language, date=date)))]
    if not summary.quotes:
        return "\n\n".join([*lines, text("summary_empty", language)])
    if summary.recent_fallback:
        lines.append(html.unescape(strip_tags(text(f"summary_fallback_{period}", language))))
    return "\n\n".join([*lines, *cited_plain(summary.quotes, summary.sources, language)])
