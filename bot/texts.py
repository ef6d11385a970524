"""What the bot says in each language: the fixed messages, dates and times of day.

Indonesian (``id``) for everyone, English (``en``) for users whose Telegram language is English.
Values put into a message are escaped; the messages themselves are Telegram HTML.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from telegram import Update

Language = Literal["id", "en"]

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


def language_of(update: Update) -> Language:
    """The language to answer the sender of ``update`` in."""
    user = update.effective_user
    return language_for(user.language_code if user else None)


def text(key: str, language: Language, **values: str) -> str:
    """A fixed message (Telegram HTML), with ``values`` escaped into it."""
    escaped = {name: html.escape(value) for name, value in values.items()}
    return TEXTS[language][key].format(**escaped) if escaped else TEXTS[language][key]


def help_text(language: Language, *, username: str, inline: bool) -> str:
    """``/help``, with the line on inline mode when the bot has it on (BotFather's /setinline)."""
    line = text("help_inline", language, username=username) if inline else ""
    return TEXTS[language]["help"].format(username=html.escape(username), inline=line)


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
