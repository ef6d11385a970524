"""What a build will change, decided before anything is embedded, and what it did.

The articles read are compared with the live rows by key and content hash: new ones are
embedded, changed ones retired and embedded again, removed ones retired; the rest stay. A full
build (or a missing index, or one of another model) embeds all of them, in steps when no
version can serve meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from config.settings import Settings
from index.articles.feeds import FeedResult
from index.articles.reports import ParsedArticle, ReadWarning, SkippedFile, SkipReason
from index.encoders.embedder import Embedder
from index.storage.vectors import VectorIndex
from index.storage.versions import version_exists, version_folder

log = logging.getLogger(__name__)

__all__ = ["BuildReport", "Plan", "base_vectors", "plan", "steps", "unique_by_key"]


@dataclass(slots=True)
class BuildReport:
    """What a build did: counts of articles by fate, skipped files, feeds, how long it took."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[ReadWarning] = field(default_factory=list)
    seconds: float = 0.0  #: the whole build, the feeds' fetching included
    version: int = 0  #: the index version serving after the build
    feeds: list[FeedResult] = field(default_factory=list)  #: each feed fetched first, if any


@dataclass(slots=True)
class Plan:
    """What a build will change, decided before anything is embedded."""

    base_version: int
    base: VectorIndex | None  # None: every article is embedded again
    retire: list[int]  # article ids leaving the index (removed, changed, or all on a rebuild)
    embed: list[ParsedArticle]


def steps(settings: Settings, plan: Plan, embedder: Embedder, *, full: bool) -> list[range]:
    """The slices of ``plan.embed`` published one version each.

    Several only when every article is embedded again and no version of this model could be
    served meanwhile (a first build, or a new model): a ``--full`` rebuild of an index that
    serves publishes once, at the end, so the serving version never shrinks to a first step.
    """
    count, every = len(plan.embed), settings.build_publish_every
    servable = full and _servable(settings, plan.base_version, embedder)
    if plan.base is not None or servable or every <= 0 or count <= every:
        return [range(0, count)]
    return [range(start, min(start + every, count)) for start in range(0, count, every)]


def plan(
    *,
    base_version: int,
    base: VectorIndex | None,
    known: Mapping[str, tuple[int, str]],
    articles: dict[str, ParsedArticle],
    unchanged: set[str],
    report: BuildReport,
) -> Plan:
    """Compare the articles read with the live rows; count them in ``report`` by fate.

    Args:
        base_version: The version being updated.
        base: Its vectors, or None when every article is embedded again.
        known: The live articles: key -> (id, content hash).
        articles: The articles read and parsed, by key.
        unchanged: Keys read but not parsed, their content hash being the known one.
        report: Counts of added, changed, removed and unchanged articles go here.
    """
    if base is None:
        report.added = len(articles)
        report.removed = sum(1 for key in known if key not in articles)
        retire = [article_id for article_id, _ in known.values()]
        return Plan(base_version, None, retire, list(articles.values()))
    stale = [key for key in known if key not in articles and key not in unchanged]
    changed = [k for k, a in articles.items() if k in known and known[k][1] != a.content_hash]
    fresh = [key for key in articles if key not in known]
    report.added, report.changed, report.removed = len(fresh), len(changed), len(stale)
    report.unchanged = len(unchanged) + len(articles) - len(fresh) - len(changed)
    retire = [known[key][0] for key in stale + changed]
    return Plan(base_version, base, retire, [articles[key] for key in fresh + changed])


def _servable(settings: Settings, version: int, embedder: Embedder) -> bool:
    """Whether ``version`` is on disk, made by the model of ``embedder``."""
    if not version_exists(settings.index_dir, version):
        return False
    try:
        meta = VectorIndex.read_meta(version_folder(settings.index_dir, version))
    except Exception:  # a damaged file of any kind: not a version to serve
        return False
    return meta.model == embedder.name and meta.dim == embedder.dim


def base_vectors(settings: Settings, version: int, embedder: Embedder) -> VectorIndex | None:
    """A copy of the serving version's vectors to update, or None when all must be re-embedded."""
    if not version_exists(settings.index_dir, version):
        return None
    folder = version_folder(settings.index_dir, version)
    if _servable(settings, version, embedder):
        return VectorIndex.load(folder, model=embedder.name)
    log.warning(
        "index was built with %s; re-embedding everything with %s",
        VectorIndex.read_meta(folder).model,
        embedder.name,
    )
    return None


def unique_by_key(
    articles: Sequence[ParsedArticle], report: BuildReport
) -> dict[str, ParsedArticle]:
    """The articles by key; a key read again is skipped (``DUPLICATE_ID``) in ``report``."""
    unique: dict[str, ParsedArticle] = {}
    for article in articles:
        if article.key in unique:
            report.skipped.append(
                SkippedFile(
                    f"{article.path}:{article.line}",
                    SkipReason.DUPLICATE_ID,
                    repr(article.key),
                    first_line=unique[article.key].line,
                )
            )
            continue
        unique[article.key] = article
    return unique
