"""Pure functions from answers to what the user reads: Telegram HTML or plain text.

Every article word is escaped; a reply never exceeds Telegram's 4096 characters. In HTML, the
words of a quote that answer the question word (``Quote.mark``) are bold; the quote's text is
the same with or without them.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from index.search.answers import Answer, Quote
from index.search.sources import ArticleSource, by_article, shown_file
from index.summary import Summary

Language = Literal["id", "en"]

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

TEXTS: dict[Language, dict[str, str]] = {
    "id": {
        "start": (
            "Halo! Saya <b>Tanya Berita</b>. Tanyakan apa saja tentang berita yang saya simpan, "
            "dan saya jawab dengan mengutip kalimat dari artikelnya, lengkap dengan sumbernya.\n\n"
            "Contoh: <i>berapa tentara Korea Utara dikirim?</i>\n\n/help untuk bantuan."
        ),
        "help": (
            "<b>Cara bertanya</b>\n"
            "• Di obrolan pribadi: kirim pertanyaan Anda.\n"
            "• Di grup: sebut saya (@{username}), balas pesan saya, atau pakai "
            "<code>/tanya pertanyaan</code>.\n"
            "{inline}"
            "• <i>ada berita apa hari ini?</i> — ringkasan berita hari ini.\n\n"
            "Tekan 👍 atau 👎 di bawah jawaban untuk memberi tahu apakah kutipannya tepat.\n\n"
            "Saya hanya mengutip kalimat dari artikel; saya tidak mengarang jawaban. "
            "Jika artikel tidak menjawab, saya akan bilang.\n\n"
            "<b>Perintah</b>\n/tanya &lt;pertanyaan&gt; — bertanya\n"
            "/ringkasan — ringkasan berita hari ini\n"
            "/langganan [jam] — ringkasan setiap pagi, atau pada jam pilihan Anda\n"
            "/berhenti — berhenti berlangganan\n/help — bantuan ini"
        ),
        "help_inline": (
            "• Di obrolan mana pun: ketik <code>@{username} pertanyaan</code> dan pilih kutipannya.\n"
        ),
        "not_found": "Maaf, artikel yang saya punya tidak menjawab pertanyaan itu.",
        "no_words": "Tulis pertanyaan Anda dengan kata-kata, misalnya: <i>siapa presiden Rusia?</i>",
        "ask_usage": "Tulis pertanyaannya setelah perintah, misalnya: <code>/tanya siapa presiden Rusia?</code>",
        "text_only": "Saya hanya bisa membaca pertanyaan berupa teks. Silakan ketik pertanyaan Anda.",
        "unknown_command": "Perintah itu tidak saya kenal. Lihat /help.",
        "error": "Maaf, terjadi kesalahan saat menjawab. Silakan coba lagi sebentar lagi.",
        "rate_limited": (
            "Pelan-pelan ya 🙂 Anda sudah mengirim {limit} pertanyaan dalam satu menit. "
            "Silakan tanya lagi sebentar lagi."
        ),
        "inline_not_found": "Tidak ditemukan",
        "line": "baris",
        "source": "Sumber",
        "also_in": "Kalimat yang sama juga di",
        "subscribed": (
            "Berlangganan ringkasan berita harian: setiap hari pukul {time} ({zone}). "
            "Berhenti dengan /berhenti."
        ),
        "subscription_changed": "Ringkasan berita harian kini dikirim pukul {time} ({zone}).",
        "unsubscribed": "Langganan ringkasan harian dihentikan. Berlangganan lagi dengan /langganan.",
        "not_subscribed": "Obrolan ini tidak berlangganan ringkasan harian. Berlangganan dengan /langganan.",
        "admins_only": "Di grup, hanya admin yang dapat mengatur langganan ringkasan harian.",
        "subscribe_usage": (
            "Tulis jamnya (0–23) setelah perintah, misalnya <code>/langganan 18</code> "
            "untuk pukul 18.00."
        ),
        "summary_title_24h": "🗞 <b>Ringkasan berita 24 jam terakhir</b> · {date}",
        "summary_title_day": "🗞 <b>Ringkasan berita</b> · {date}",
        "summary_fallback_24h": (
            "<i>Tidak ada berita baru dalam 24 jam terakhir; ringkasan ini dari berita terbaru "
            "yang saya punya.</i>"
        ),
        "summary_fallback_day": (
            "<i>Tidak ada berita pada hari itu; ringkasan ini dari berita terbaru yang saya punya.</i>"
        ),
        "summary_empty": "Belum ada artikel untuk diringkas.",
        "summary_footer": "Berhenti berlangganan: /berhenti",
        "vote_recorded": "Terima kasih, suara Anda tercatat.",
        "vote_changed": "Terima kasih, suara Anda diubah menjadi {vote}.",
        "vote_unchanged": "Suara Anda ({vote}) sudah tercatat.",
        "vote_unknown": "Jawaban ini sudah tidak tersimpan; suara tidak dapat dicatat.",
        "vote_failed": "Maaf, suara Anda belum dapat dicatat. Silakan coba lagi sebentar lagi.",
    },
    "en": {
        "start": (
            "Hello! I am <b>Tanya Berita</b>. Ask me anything about the news articles I hold, "
            "and I answer by quoting sentences from them, with their source.\n\n"
            "Example: <i>berapa tentara Korea Utara dikirim?</i>\n\n/help for help."
        ),
        "help": (
            "<b>How to ask</b>\n"
            "• In a private chat: send your question.\n"
            "• In a group: mention me (@{username}), reply to my message, or use "
            "<code>/tanya question</code>.\n"
            "{inline}"
            "• <i>ada berita apa hari ini?</i> — today's news summary.\n\n"
            "Press 👍 or 👎 under an answer to tell whether the quote was right.\n\n"
            "I only quote sentences from the articles; I never make up an answer. "
            "When the articles do not answer, I say so.\n\n"
            "<b>Commands</b>\n/tanya &lt;question&gt; — ask\n"
            "/summary — today's news summary\n"
            "/subscribe [hour] — the summary every morning, or at the hour you pick\n"
            "/unsubscribe — stop it\n/help — this help"
        ),
        "help_inline": (
            "• In any chat: type <code>@{username} question</code> and pick a quote.\n"
        ),
        "not_found": "Sorry, none of my articles answers that question.",
        "no_words": "Please write your question in words, for example: <i>siapa presiden Rusia?</i>",
        "ask_usage": "Write the question after the command, e.g. <code>/tanya siapa presiden Rusia?</code>",
        "text_only": "I can only read questions sent as text. Please type your question.",
        "unknown_command": "I don't know that command. See /help.",
        "error": "Sorry, something went wrong while answering. Please try again in a moment.",
        "rate_limited": (
            "Easy there 🙂 You have sent {limit} questions within a minute. "
            "Please ask again in a moment."
        ),
        "inline_not_found": "Not found",
        "line": "line",
        "source": "Source",
        "also_in": "The same sentence is also in",
        "subscribed": (
            "Subscribed to the daily news summary: every day at {time} ({zone}). "
            "Stop with /unsubscribe."
        ),
        "subscription_changed": "The daily news summary now comes at {time} ({zone}).",
        "unsubscribed": "The daily summary is stopped. Subscribe again with /subscribe.",
        "not_subscribed": "This chat is not subscribed to the daily summary. Subscribe with /subscribe.",
        "admins_only": "In a group, only admins can change the daily summary subscription.",
        "subscribe_usage": (
            "Write the hour (0–23) after the command, e.g. <code>/subscribe 18</code> for 18:00."
        ),
        "summary_title_24h": "🗞 <b>News summary of the last 24 hours</b> · {date}",
        "summary_title_day": "🗞 <b>News summary</b> · {date}",
        "summary_fallback_24h": (
            "<i>No news in the last 24 hours; this summary is from the most recent articles I "
            "have.</i>"
        ),
        "summary_fallback_day": (
            "<i>No news on that day; this summary is from the most recent articles I have.</i>"
        ),
        "summary_empty": "There are no articles to summarise yet.",
        "summary_footer": "Unsubscribe: /unsubscribe",
        "vote_recorded": "Thank you, your vote is recorded.",
        "vote_changed": "Thank you, your vote is now {vote}.",
        "vote_unchanged": "Your vote ({vote}) is already recorded.",
        "vote_unknown": "This answer is no longer kept; the vote cannot be recorded.",
        "vote_failed": "Sorry, your vote could not be recorded. Please try again in a moment.",
    },
}


def language_for(language_code: str | None) -> Language:
    """English for users whose Telegram language is English, Indonesian for everyone else."""
    return "en" if (language_code or "").lower().startswith("en") else "id"


def text(key: str, language: Language, **values: str) -> str:
    """A fixed message (Telegram HTML), with ``values`` escaped into it."""
    escaped = {name: html.escape(value) for name, value in values.items()}
    return TEXTS[language][key].format(**escaped) if escaped else TEXTS[language][key]


def help_text(language: Language, *, username: str, inline: bool) -> str:
    """``/help``, with the line on inline mode when the bot has it on (BotFather's /setinline)."""
    line = text("help_inline", language, username=username) if inline else ""
    return TEXTS[language]["help"].format(username=html.escape(username), inline=line)


def _shorten(sentence: str, limit: int = MAX_QUOTE_CHARS) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _quoted_html(quote: Quote) -> str:
    """The quote's text (cut if too long), escaped, with its marked answer in bold.

    A mark the cut would split or drop is left out: the bold words are always whole.
    """
    shown = _shorten(quote.text)
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
            f"<b>{html.escape(_shorten(other.title, MAX_TITLE_CHARS))}</b> "
            f"(<code>{html.escape(_shorten(_file_of(other), MAX_TITLE_CHARS))}</code>, "
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
    title = html.escape(_shorten(source.title, MAX_SOURCE_TITLE_CHARS))
    if source.url:
        title = f'<a href="{html.escape(source.url, quote=True)}">{title}</a>'
    file, *rest = _source_facts(source, language)
    facts = " · ".join([f"<code>{html.escape(file)}</code>", *map(html.escape, rest)])
    return f"📰 <b>{title}</b>\n{facts}"


def _visible_length(block: str) -> int:
    """A block's share of Telegram's limit: its text after entity parsing, plus a blank line."""
    return telegram_length(html.unescape(_strip_tags(block))) + 2


def _source_of(
    quotes: Sequence[Quote], sources: Mapping[str, ArticleSource] | None
) -> dict[str, ArticleSource]:
    """The source of each quoted article, by article key (:func:`by_article`'s)."""
    return {group.quotes[0].article_key: group.source for group in by_article(quotes, sources)}


def _declined(answer: Answer, language: Language) -> str:
    """The reply to a question no sentence answers, or one with no words to search."""
    return text("not_found" if answer.has_words else "no_words", language)


def _cited_blocks(
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
        cost = _visible_length(_quote_html(quote, language))
        if not any(other.article_key == quote.article_key for other in kept):
            cost += _visible_length(_source_html(source_of[quote.article_key], language))
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
    return "\n\n".join(_cited_blocks(answer.quotes, sources, language, used=0))


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
        plain = html.unescape(_strip_tags(reply))
        question = html.escape(_shorten(answer.question, MAX_QUOTE_CHARS))
        return [
            InlineResult(
                title=TEXTS[language]["inline_not_found"],
                description=_shorten(plain, MAX_INLINE_TITLE_CHARS),
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
                title=_shorten(quote.text, MAX_INLINE_TITLE_CHARS),
                description=_shorten(" · ".join(facts), MAX_INLINE_TITLE_CHARS),
                message_html=f"{_quote_html(quote, language)}\n{_source_html(source, language)}",
            )
        )
    return results


def summary_inline_result(summary: Summary, language: Language = "id") -> InlineResult:
    """The one result offered to an inline query asking for today's news: the summary."""
    message = summary_html(summary, language)
    title, _, rest = html.unescape(_strip_tags(message)).partition("\n\n")
    return InlineResult(
        title=_shorten(title, MAX_INLINE_TITLE_CHARS),
        description=_shorten(" ".join(rest.split()), MAX_INLINE_TITLE_CHARS),
        message_html=message,
    )


def _cited_plain(
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
        return html.unescape(_strip_tags(_declined(answer, language)))
    return "\n\n".join(_cited_plain(answer.quotes, sources, language))


def telegram_length(plain: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji may count twice)."""
    return len(plain.encode("utf-16-le")) // 2


def _strip_tags(markup: str) -> str:
    out, inside = [], False
    for char in markup:
        if char == "<":
            inside = True
        elif char == ">" and inside:
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out)


_WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS: dict[Language, tuple[str, ...]] = {
    "id": (
        *("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli"),
        *("Agustus", "September", "Oktober", "November", "Desember"),
    ),
    "en": (
        *("January", "February", "March", "April", "May", "June", "July"),
        *("August", "September", "October", "November", "December"),
    ),
}


def long_date(day: dt.date, language: Language = "id") -> str:
    """``Rabu, 5 April 2017`` / ``Wednesday, 5 April 2017``."""
    return f"{_WEEKDAYS[language][day.weekday()]}, {day_month_year(day, language)}"


def day_month_year(day: dt.date, language: Language = "id") -> str:
    """``5 April 2017``: an article's date."""
    return f"{day.day} {_MONTHS[language][day.month - 1]} {day.year}"


def clock_time(time: dt.time, language: Language = "id") -> str:
    """A time of day as each language writes it: ``07.00`` / ``07:00``."""
    return time.strftime("%H.%M" if language == "id" else "%H:%M")


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
    used = sum(_visible_length(part) for part in head + tail)
    quotes = _cited_blocks(summary.quotes, summary.sources, language, used=used)
    return "\n\n".join([*head, *quotes, *tail])


def summary_plain(summary: Summary, language: Language = "id") -> str:
    """The same summary as plain text, for the terminal."""
    period = "day" if summary.window.is_whole_day else "24h"
    date = long_date(summary.day, language)
    lines = [html.unescape(_strip_tags(text(f"summary_title_{period}", language, date=date)))]
    if not summary.quotes:
        return "\n\n".join([*lines, text("summary_empty", language)])
    if summary.recent_fallback:
        lines.append(html.unescape(_strip_tags(text(f"summary_fallback_{period}", language))))
    return "\n\n".join([*lines, *_cited_plain(summary.quotes, summary.sources, language)])
