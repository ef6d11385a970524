"""Pure functions for what admins read: the reload report, the status, the admin help.

The reload report and the status are Indonesian, as editors read them, worded here from the
index's typed reports (a skipped file's ``SkipReason``, a ``ReadWarning``, ``IndexStats``); the
fixed messages around them follow the user's language. The shell words the same report in
English (``index/cli.py``).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.replies import MAX_MESSAGE_CHARS, telegram_length
from bot.texts import Language
from index import (
    BuildReport,
    FeedbackFigures,
    FeedFailure,
    FeedResult,
    IndexStats,
    LockHolder,
    ReadWarning,
    ReloadResult,
    SkippedFile,
    SkipReason,
    WarningKind,
)

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


#: Who holds the build lock, in parts: each only when its lock file says (older ones: pid only).
HOLDER_WORDS: dict[Language, dict[str, str]] = {
    "id": {
        "pid": "pid {pid}",
        "host": " di {host}",
        "since": ", sejak {since}",
        "?": "proses tak dikenal",
    },
    "en": {
        "pid": "pid {pid}",
        "host": " on {host}",
        "since": ", since {since}",
        "?": "an unknown process",
    },
}
#: A skipped file's reason, in Indonesian; ``{detail}``, ``{limit}``, ``{first_line}`` are its.
SKIP_REASONS: dict[SkipReason, str] = {
    SkipReason.NOT_ARTICLE_FILE: "bukan berkas artikel ({detail})",
    SkipReason.CANNOT_READ: "tidak bisa dibaca: {detail}",
    SkipReason.TOO_LARGE: "lebih besar dari {limit} ({detail})",
    SkipReason.BINARY: "berkas biner",
    SkipReason.EMPTY: "berkas kosong",
    SkipReason.NOT_DECODABLE: "bukan UTF-8 dan bukan cp1252",
    SkipReason.NOT_JSON: "bukan JSON yang sah",
    SkipReason.NOT_JSON_OBJECT: "bukan objek JSON",
    SkipReason.NO_TEXT: "tidak ada 'text'",
    SkipReason.NO_SENTENCES: "tidak ada kalimat tersisa setelah dibersihkan",
    SkipReason.DUPLICATE_ID: "id artikel {detail} ganda, pertama di baris {first_line}",
}
#: A warning in Indonesian, after its file's path; ``{detail}`` is the warning's.
WARNINGS: dict[WarningKind, str] = {
    WarningKind.READ_AS_CP1252: "bukan UTF-8, dibaca sebagai cp1252",
    WarningKind.DUPLICATE_ID: "id {detail} ganda, dikenali dari barisnya",
    WarningKind.BAD_DATE: "tanggal {detail} tidak sah, diabaikan",
    WarningKind.CANNOT_LIST_FOLDER: "folder tidak bisa dibuka: {detail}",
}
#: The start of a feed's error (``index.articles.feeds``), in Indonesian; other errors
#: ("HTTP 404 Not Found") read the same in both.
FEED_FAILURES = {
    FeedFailure.UNREACHABLE: "tidak bisa diambil: {}",
    FeedFailure.TIMEOUT: "tidak menjawab dalam {} s",
    FeedFailure.HTTP_STATUS: "HTTP {}",
    FeedFailure.NOT_A_FEED: "bukan feed RSS atau Atom: {}",
}


@dataclass(frozen=True, slots=True)
class StatusFigures:
    """What ``/status`` shows, gathered by the handler."""

    stats: IndexStats
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
    return _fit(headline, report_lines(report), language)


def busy_elsewhere_html(holder: LockHolder, zone: ZoneInfo, language: Language = "id") -> str:
    """Another process builds the index: who, where, since when (as far as its lock says)."""
    words = HOLDER_WORDS[language]
    detail = words["pid"].format(pid=holder.pid) if holder.pid is not None else words["?"]
    if holder.host:
        detail += words["host"].format(host=holder.host)
    if holder.since is not None:
        detail += words["since"].format(since=f"{holder.since.astimezone(zone):%Y-%m-%d %H:%M}")
    return admin_text("reload_busy_elsewhere", language, detail=detail)


def format_number(value: float, decimals: int = 0) -> str:
    """A number the Indonesian way: 1.234 and 1,8."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def report_lines(report: BuildReport) -> list[str]:
    """The report in Indonesian, as the editor reads it: the counts, then one line per problem."""
    lines = [
        f"+{format_number(report.added)} baru, {format_number(report.changed)} berubah, "
        f"{format_number(report.removed)} dihapus, {format_number(report.unchanged)} tetap, "
        f"{format_number(report.seconds, 1)} s"
    ]
    lines += [feed_line(feed) for feed in report.feeds]
    lines += [f"dilewati: {item.path}: {skip_reason(item)}" for item in report.skipped]
    lines += [f"peringatan: {warning_text(warning)}" for warning in report.warnings]
    return lines


def feed_line(feed: FeedResult) -> str:
    """One feed fetched in a reload, or why it could not be."""
    if feed.failure:
        return f"feed gagal: {feed.url}: {FEED_FAILURES[feed.failure].format(feed.detail)}"
    return (
        f"feed: {feed.url}: {format_number(feed.added)} item baru, "
        f"{format_number(feed.updated)} diperbarui, {format_number(feed.items)} di feed"
    )


def skip_reason(skipped: SkippedFile) -> str:
    """Why a file was skipped, e.g. "baris 2: bukan JSON yang sah"."""
    detail = skipped.detail
    if skipped.reason is SkipReason.NOT_ARTICLE_FILE:
        detail = detail or "tanpa akhiran"
    text = SKIP_REASONS[skipped.reason].format(
        detail=detail, limit=skipped.limit, first_line=skipped.first_line
    )
    return f"baris {skipped.line}: {text}" if skipped.line is not None else text


def warning_text(warning: ReadWarning) -> str:
    """A warning with its file, e.g. "seeds/lama.txt: bukan UTF-8, dibaca sebagai cp1252"."""
    text = f"{warning.path}: {WARNINGS[warning.kind].format(detail=warning.detail)}"
    if warning.lines:
        shown = ", ".join(map(str, warning.lines)) + (", …" if warning.more else "")
        text += f" (baris {shown})"
    return text


def reload_failed_html(error: str, language: Language = "id") -> str:
    """A reload that raised: the old index is still serving."""
    return admin_text("reload_failed", language, error=error)


def status_html(figures: StatusFigures) -> str:
    """``/status`` (in Indonesian, as the reload report): index, uptime, questions, votes."""
    stats = figures.stats
    version = stats.version
    lines = [
        "📊 <b>Status Tanya Berita</b>",
        f"Artikel: {format_number(stats.articles)} · kalimat: {format_number(stats.sentences)} · "
        f"potongan: {format_number(stats.chunks)}",
        f"Model: <code>{html.escape(stats.model or '-')}</code>",
        f"Indeks: versi {figures.serving_version}, {_bytes(stats.index_bytes)} di disk "
        f"(dengan versi sebelumnya dan basis data: {_bytes(stats.disk_bytes)})",
        f"Pembangunan terakhir: {_when(stats.last_build, figures.zone)}",
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


def _bytes(value: int) -> str:
    if value >= 1_000_000:
        return f"{format_number(value / 1_000_000, 1)} MB"
    return f"{format_number(value / 1_000, 1)} KB"


def _when(value: dt.datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return "belum pernah"
    local = value.replace(microsecond=0).astimezone(zone)
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
