"""Pure functions from answers to what the user reads: Telegram HTML or plain text.

Every article word is escaped; a reply never exceeds Telegram's 4096 characters. In HTML, the
words of a quote that answer the question word (``Quote.mark``) are bold; the quote's text is
the same with or without them. The quotes of one article stand together above its source
(`cited_blocks`, `cited_plain`): the daily summary (``bot.summary_replies``) cites alike.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.texts import TEXTS, Language, day_month_year, text
from index import Answer, ArticleSource, Quote, by_article, shown_file

#: Telegram's limit on a message's text, after entity parsing.
MAX_MESSAGE_CHARS = 4096
#: A single quote longer than this is cut with an ellipsis so that the source still fits.
MAX_QUOTE_CHARS = 1200
#: Other articles named under a quote that several articles share; the rest are counted.
MAX_ALSO_SHOWN = 3
#: ... each by its title and path, cut to this length.
MAX_TITLE_CHARS = 120
#: An article's title above its quotes is cut to this length.
MAX_SOURCE_TITLE_CHARS = 300


def shorten(sentence: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """``sentence``, cut to ``limit`` characters with an ellipsis if longer."""
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _quoted_html(quote: Quote) -> str:
    """The quote's text (cut if too long), escaped, with its marked answer in bold.

    A mark the cut would split or drop is left out: the bold words are always whole.
    """
    shown = shorten(quote.text)
    kept = len(shown) if shown == quote.text else len(shown) - 1  # before the "…"
    if quote.mark is None or not 0 <= quote.mark[0] < quote.mark[1] <= kept:
        return html.escape(shown)
    start, end = quote.mark
    return (
        f"{html.escape(shown[:start])}<b>{html.escape(shown[start:end])}</b>"
        f"{html.escape(shown[end:])}"
    )


def _quote_html(quote: Quote, language: Language) -> str:
    """One quote in a blockquote, the line it stands on under it, and other articles having it."""
    line = f"<i>{TEXTS[language]['line']} {quote.line}</i>"
    block = f"<blockquote>{_quoted_html(quote)}</blockquote>\n{line}"
    if quote.also:
        others = "; ".join(
            f"<b>{html.escape(shorten(other.title, MAX_TITLE_CHARS))}</b> "
            f"(<code>{html.escape(shorten(_file_of(other), MAX_TITLE_CHARS))}</code>, "
            f"{TEXTS[language]['line']} {other.line})"
            for other in quote.also[:MAX_ALSO_SHOWN]
        )
        if len(quote.also) > MAX_ALSO_SHOWN:
            others += f" (+{len(quote.also) - MAX_ALSO_SHOWN})"
        block += f"\n{TEXTS[language]['also_in']}: {others}"
    return block


def _file_of(quote: Quote) -> str:
    return shown_file(quote.path, quote.article_key)


def _source_facts(source: ArticleSource, language: Language) -> list[str]:
    """What is known of an article besides its title, as plain text: file, date, publisher."""
    facts = [source.file]
    if source.date:
        facts.append(day_month_year(source.date, language))
    if source.publisher:
        facts.append(source.publisher)
    if source.attribution and source.attribution != source.publisher:
        facts.append(f"{TEXTS[language]['source']}: {source.attribution}")
    return facts


def _source_html(source: ArticleSource, language: Language) -> str:
    """The article once, under its quotes: the title (a link with a URL), then file, date, publisher."""
    title = html.escape(shorten(source.title, MAX_SOURCE_TITLE_CHARS))
    if source.url:
        title = f'<a href="{html.escape(source.url, quote=True)}">{title}</a>'
    file, *rest = _source_facts(source, language)
    facts = " · ".join([f"<code>{html.escape(file)}</code>", *map(html.escape, rest)])
    return f"📰 <b>{title}</b>\n{facts}"


def visible_length(block: str) -> int:
    """A block's share of Telegram's limit: its text after entity parsing, plus a blank line."""
    return telegram_length(html.unescape(strip_tags(block))) + 2


def _source_of(
    quotes: Sequence[Quote], sources: Mapping[str, ArticleSource] | None
) -> dict[str, ArticleSource]:
    """The source of each quoted article, by article key (:func:`by_article`'s)."""
    return {group.quotes[0].article_key: group.source for group in by_article(quotes, sources)}


def _declined(answer: Answer, language: Language) -> str:
    """The reply to a question no sentence answers, or one with no words to search."""
    return text("not_found" if answer.has_words else "no_words", language)


def cited_blocks(
    quotes: Sequence[Quote],
    sources: Mapping[str, ArticleSource] | None,
    language: Language,
    *,
    used: int,
) -> list[str]:
    """The quotes of each article together above its source, as many as fit beside ``used``.

    Quotes are taken best first; one that would pass Telegram's limit ends the reply.
    """
    source_of = _source_of(quotes, sources)
    kept: list[Quote] = []
    for quote in quotes:
        cost = visible_length(_quote_html(quote, language))
        if not any(other.article_key == quote.article_key for other in kept):
            cost += visible_length(_source_html(source_of[quote.article_key], language))
        if kept and used + cost > MAX_MESSAGE_CHARS:
            break
        kept.append(quote)
        used += cost
    return [
        "\n".join(
            [
                *(_quote_html(quote, language) for quote in group.quotes),
                _source_html(group.source, language),
            ]
        )
        for group in by_article(kept, source_of)
    ]


def answer_html(
    answer: Answer, language: Language = "id", *, sources: Mapping[str, ArticleSource] | None = None
) -> str:
    """The Telegram reply: the quotes of each article, best first, then that article's source.

    ``sources`` (by article key) adds each article's date and publisher.
    """
    if not answer.answered:
        return _declined(answer, language)
    return "\n\n".join(cited_blocks(answer.quotes, sources, language, used=0))


#: Inline mode (``@bot pertanyaan``) offers at most this many results, one quote each.
MAX_INLINE_RESULTS = 3
#: A result's title and description in the list above the keyboard are cut to this length
#: (clients show a line or two of each).
MAX_INLINE_TITLE_CHARS = 200


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One result offered to an inline query: what the list shows, and the message it sends."""

    title: str  #: plain text
    description: str  #: plain text
    message_html: str  #: Telegram HTML, every article word escaped


def inline_results(
    answer: Answer, language: Language = "id", *, sources: Mapping[str, ArticleSource] | None = None
) -> list[InlineResult]:
    """The results of an inline query: one per quote, best first, each with its article's source.

    A result's description names the article's date and publisher, when known, first.

    A declined question gets one result that says so, and sends the question with the answer a
    chat would have got.
    """
    if not answer.answered:
        reply = _declined(answer, language)
        plain = html.unescape(strip_tags(reply))
        question = html.escape(shorten(answer.question, MAX_QUOTE_CHARS))
        return [
            InlineResult(
                title=TEXTS[language]["inline_not_found"],
                description=shorten(plain, MAX_INLINE_TITLE_CHARS),
                message_html=f"<i>{question}</i>\n\n{reply}",
            )
        ]
    source_of = _source_of(answer.quotes, sources)
    results = []
    for quote in answer.quotes[:MAX_INLINE_RESULTS]:
        source = source_of[quote.article_key]
        # The date and publisher first: picking one of several articles, the reader looks
        # for the newest.
        dated = [day_month_year(source.date, language)] if source.date else []
        published = [source.publisher] if source.publisher else []
        facts = [
            *dated,
            *published,
            source.title,
            source.file,
            f"{TEXTS[language]['line']} {quote.line}",
        ]
        results.append(
            InlineResult(
                title=shorten(quote.text, MAX_INLINE_TITLE_CHARS),
                description=shorten(" · ".join(facts), MAX_INLINE_TITLE_CHARS),
                message_html=f"{_quote_html(quote, language)}\n{_source_html(source, language)}",
            )
        )
    return results


def cited_plain(
    quotes: Sequence[Quote], sources: Mapping[str, ArticleSource] | None, language: Language
) -> list[str]:
    """Plain text: numbered quotes, each with its line, and under them their article once."""
    blocks, number = [], 0
    for group in by_article(quotes, sources):
        lines = []
        for quote in group.quotes:
            number += 1
            lines.append(f"{number}. “{quote.text}” ({TEXTS[language]['line']} {quote.line})")
            lines += [
                f"   {TEXTS[language]['also_in']}: {other.title}, {_file_of(other)}, "
                f"{TEXTS[language]['line']} {other.line}"
                for other in quote.also
            ]
        lines.append(f"   {group.source.title}")
        lines.append("   " + " · ".join(_source_facts(group.source, language)))
        blocks.append("\n".join(lines))
    return blocks


def answer_plain(
    answer: Answer, language: Language = "id", *, sources: Mapping[str, ArticleSource] | None = None
) -> str:
    """The same reply as plain text, for the terminal."""
    if not answer.answered:
        return html.unescape(strip_tags(_declined(answer, language)))
    return "\n\n".join(cited_plain(answer.quotes, sources, language))


def telegram_length(plain: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji may count twice)."""
    return len(plain.encode("utf-16-le")) // 2


def strip_tags(markup: str) -> str:
    """Telegram HTML without its tags (entities stay escaped)."""
    out, inside = [], False
    for char in markup:
        if char == "<":
            inside = True
        elif char == ">" and inside:
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out)
