"""Pure functions for what admins read: the reload report, the status, the admin help.

The reload report itself is Indonesian (``index.reload.report_lines``), as editors read it in
the shell; the fixed messages around it follow the user's language.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.replies import MAX_MESSAGE_CHARS, telegram_length
from bot.texts import Language
from index.feedback import FeedbackFigures
from index.reload import ReloadResult, format_number, report_lines

#: In ``/status``, a 👎 question and its first quote are cut to these lengths.
MAX_STATUS_QUESTION_CHARS = 80
MAX_STATUS_QUOTE_CHARS = 100

ADMIN_TEXTS: dict[Language, dict[str, str]] = {
    "id": {
        "refused": "Maaf, perintah /{command} hanya untuk admin bot.",
        "reload_started": "⏳ Memuat ulang artikel… pertanyaan tetap dijawab dari indeks lama.",
        "reload_busy": "Pemuatan ulang sedang berjalan; tunggu laporannya.",
        "reload_busy_elsewhere": "Pemuatan ulang lain sedang berjalan ({detail}); coba lagi nanti.",
        "reload_done": "✅ <b>Dimuat ulang</b> (versi indeks {version})",
        "reload_unchanged": "✅ <b>Tidak ada perubahan</b> (versi indeks {version} tetap dipakai)",
        "reload_failed": "❌ <b>Pemuatan ulang gagal</b>; indeks lama tetap dipakai.\n{error}",
        "more_lines": "… dan {count} baris lagi (lihat log bot)",
        "help": (
            "\n\n<b>Perintah admin</b>\n/reload — muat ulang artikel dan feed\n"
            "/status — keadaan indeks dan bot"
        ),
    },
    "en": {
        "refused": "Sorry, /{command} is for the bot's admins only.",
        "reload_started": "⏳ Reloading articles… questions are still answered from the old index.",
        "reload_busy": "A reload is already running; wait for its report.",
        "reload_busy_elsewhere": "Another reload is running ({detail}); try again later.",
        "reload_done": "✅ <b>Reloaded</b> (index version {version})",
        "reload_unchanged": "✅ <b>Nothing changed</b> (index version {version} stays)",
        "reload_failed": "❌ <b>Reload failed</b>; the old index keeps serving.\n{error}",
        "more_lines": "… and {count} more lines (see the bot's log)",
        "help": (
            "\n\n<b>Admin commands</b>\n/reload — reload articles and feeds\n"
            "/status — the index and the bot"
        ),
    },
}


@dataclass(frozen=True, slots=True)
class StatusFigures:
    """What ``/status`` shows, gathered by the handler."""

    stats: Mapping[str, object]  #: ``index.storage.stats.index_stats``
    serving_version: int
    started_at: dt.datetime
    now: dt.datetime
    questions_today: int
    answered_today: int
    reload_running: bool
    zone: ZoneInfo
    # With the cross-encoder: (questions it read again, questions that skipped it) today.
    rereading_today: tuple[int, int] | None = None
    votes: FeedbackFigures | None = None  #: readers' 👍 / 👎, all of them


def admin_text(key: str, language: Language, **values: str) -> str:
    """A fixed admin message (Telegram HTML), with ``values`` escaped into it."""
    escaped = {name: html.escape(value) for name, value in values.items()}
    return ADMIN_TEXTS[language][key].format(**escaped)


def reload_html(result: ReloadResult, language: Language = "id") -> str:
    """The reload report: a headline, the counts, then every feed, skipped file and warning."""
    report = result.report
    changed = result.searcher is not None
    headline = admin_text(
        "reload_done" if changed else "reload_unchanged", language, version=str(report.version)
    )
    return _fit(headline, report_lines(result), language)


def reload_failed_html(error: str, language: Language = "id") -> str:
    """A reload that raised: the old index is still serving."""
    return admin_text("reload_failed", language, error=error)


def status_html(figures: StatusFigures) -> str:
    """``/status`` (in Indonesian, as the reload report): index, uptime, questions, votes."""
    stats = figures.stats
    version = int(str(stats.get("version") or 0))
    lines = [
        "📊 <b>Status Tanya Berita</b>",
        f"Artikel: {_count(stats, 'articles')} · kalimat: {_count(stats, 'sentences')} · "
        f"potongan: {_count(stats, 'chunks')}",
        f"Model: <code>{html.escape(str(stats.get('model') or '-'))}</code>",
        f"Indeks: versi {figures.serving_version}, {_bytes(stats.get('index_bytes'))} di disk "
        f"(dengan versi sebelumnya dan basis data: {_bytes(stats.get('disk_bytes'))})",
        f"Pembangunan terakhir: {_when(stats.get('last_build'), figures.zone)}",
        f"Aktif selama: {_duration(figures.now - figures.started_at)}",
        f"Pertanyaan hari ini: {format_number(figures.questions_today)} "
        f"({format_number(figures.answered_today)} terjawab)",
    ]
    if figures.rereading_today is not None:
        reread, skipped = figures.rereading_today
        lines.append(
            f"Cross-encoder hari ini: {format_number(reread)} dibaca ulang · "
            f"{format_number(skipped)} dilewati karena antre"
        )
    if figures.votes is not None:
        lines += _votes_lines(figures.votes)
    if version != figures.serving_version:
        lines.append(f"Versi {version} sudah dibangun tetapi belum dipakai: kirim /reload.")
    if figures.reload_running:
        lines.append("⏳ Pemuatan ulang sedang berjalan.")
    return "\n".join(lines)


def _votes_lines(votes: FeedbackFigures) -> list[str]:
    """The share of 👍 among readers' votes, then the latest 👎: question and first quote."""
    if votes.up_share is None:
        return ["Suara pembaca: belum ada"]
    lines = [
        f"Suara pembaca: {format_number(100 * votes.up_share, 0)}% 👍 "
        f"({format_number(votes.up)} dari {format_number(votes.votes)} suara; "
        f"{format_number(votes.down)} 👎)"
    ]
    if votes.latest_down:
        lines.append("👎 terbaru:")
    for down in votes.latest_down:
        question = html.escape(_cut(down.question, MAX_STATUS_QUESTION_CHARS))
        quote = html.escape(_cut(down.first_quote, MAX_STATUS_QUOTE_CHARS))
        lines.append(f"• <i>{question}</i> → “{quote}”")
    return lines


def _cut(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _fit(headline: str, lines: Sequence[str], language: Language) -> str:
    """The headline and as many report lines as fit in one Telegram message."""
    budget = MAX_MESSAGE_CHARS - 100  # room for the "and N more lines" note
    parts, used = [headline], telegram_length(headline)
    for number, line in enumerate(lines):
        escaped = html.escape(line)
        if used + telegram_length(line) + 1 > budget:
            parts.append(admin_text("more_lines", language, count=str(len(lines) - number)))
            break
        parts.append(escaped)
        used += telegram_length(line) + 1
    return "\n".join(parts)


def _count(stats: Mapping[str, object], name: str) -> str:
    value = stats.get(name)
    return format_number(value) if isinstance(value, int) else "-"


def _bytes(value: object) -> str:
    if not isinstance(value, int):
        return "-"
    if value >= 1_000_000:
        return f"{format_number(value / 1_000_000, 1)} MB"
    return f"{format_number(value / 1_000, 1)} KB"


def _when(value: object, zone: ZoneInfo) -> str:
    if not isinstance(value, str):
        return "belum pernah"
    local = dt.datetime.fromisoformat(value).astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} ({zone.key})"


def _duration(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} hari"] if days else []
    if days or hours:
        parts.append(f"{hours} jam")
    parts.append(f"{minutes} menit")
    return " ".join(parts)
