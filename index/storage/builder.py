"""Building the index: read articles, embed what is new or changed, write a new index version.

A build never changes what a running searcher reads. It embeds first, with no transaction open;
then, in one database transaction, it retires the rows of removed and changed articles (marks
them ``removed_in``; nothing is deleted), inserts the new rows, writes the new version's folder
aside and renames it into place, and commits with ``IndexState.version`` naming that folder.
See ``index/storage/versions.py`` for the layout and the clean-up of old versions; the SQL
writes are in ``rows.py``, cutting and embedding chunks in ``chunks.py``.

A build that embeds every article with no version to serve meanwhile (a first build, or one for
a new model) does that in steps of ``TANYA_BUILD_PUBLISH_EVERY`` articles: each step is such a
version, on top of the previous step's, so questions find the first articles within minutes;
the last step's version holds what a build in one step would.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import Settings
from index.articles.feeds import fetch_feeds
from index.articles.files import read_file, read_folder
from index.articles.reports import ReadReport
from index.encoders.embedder import Embedder
from index.search.shortforms import find_all_definitions
from index.search.tokens import TOKENS_VERSION, tokenize
from index.storage import planning
from index.storage.chunks import (
    PreparedArticle,
    Progress,
    chunk_text,
    chunk_vectors,
    chunked,
    embed_chunks,
)
from index.storage.lexical import BM25Index
from index.storage.planning import BuildReport
from index.storage.rows import insert_articles, lexical_from_database, record_state, retire_articles
from index.storage.store import (
    UNWRITABLE,
    article_hashes,
    create_schema,
    database_unavailable,
    index_state,
    lock_index_state,
    make_engine,
    retokenize,
    sentence_texts_with,
)
from index.storage.vectors import VectorIndex
from index.storage.versions import (
    LEXICAL_DIR,
    adopt_legacy_layout,
    build_lock,
    current_version,
    drop_versions,
    tokens_version,
    version_exists,
    version_folder,
    write_version,
)

__all__ = [
    "LEXICAL_DIR",
    "BuildReport",
    "Progress",
    "Published",
    "build_index",
    "chunk_text",
    "chunk_vectors",
    "index_exists",
    "read_articles",
]

log = logging.getLogger(__name__)

#: Called with each index version a build commits, as soon as it serves.
Published = Callable[[int], None]


class ConcurrentBuildError(RuntimeError):
    """The database moved to another version while this build was embedding."""


def index_exists(settings: Settings, *, engine: Engine | None = None) -> bool:
    """Whether the database names an index version whose folder is complete."""
    if engine is not None:
        return version_exists(settings.index_dir, current_version(engine))
    own_engine = make_engine(settings.sqlalchemy_url)
    try:
        return version_exists(settings.index_dir, current_version(own_engine))
    finally:
        own_engine.dispose()


def read_articles(settings: Settings, *, known: Mapping[str, str] | None = None) -> ReadReport:
    """The articles of the seeds folder and the items kept from feeds (``data/feeds/*.jsonl``).

    ``known`` (content hash by key) lists the articles whose content did not change as
    ``unchanged`` instead of parsing them again (see :func:`index.articles.files.read_file`).
    """
    limit = settings.max_article_bytes
    read = read_folder(settings.seeds_dir, max_bytes=limit, known=known)
    if settings.feeds_dir.is_dir():
        for path in sorted(settings.feeds_dir.glob("*.jsonl")):
            read.extend(read_file(path, folder=settings.data_dir, max_bytes=limit, known=known))
    return read


def build_index(
    settings: Settings,
    *,
    embedder: Embedder,
    full: bool = False,
    feeds: bool = False,
    progress: Progress | None = None,
    engine: Engine | None = None,
    published: Published | None = None,
) -> BuildReport:
    """Bring the index up to date with the articles; embed only new and changed articles.

    The one way to build: it holds the index folder's build lock throughout, and
    ``report.seconds`` times all of it. ``feeds`` first fetches ``settings.feeds`` into
    ``settings.feeds_dir`` (a reload). ``full`` (or a missing index, or one built with another
    model) re-embeds every article. When nothing changed, no new version is made. With no
    version to serve meanwhile, the articles are published in steps of
    ``settings.build_publish_every``: one version each, every one on top of the last, the last
    one the same as a build in one step. ``published`` hears of every version as it is
    committed.

    Raises:
        BuildBusyError: If another build of the same index folder is running.
        DatabaseUnavailableError: If the database cannot be written (read-only, locked).
    """
    started = time.perf_counter()
    own_engine = engine is None
    engine = engine or make_engine(settings.sqlalchemy_url)
    try:
        with build_lock(settings.index_dir):
            fetched = (
                fetch_feeds(
                    settings.feeds, folder=settings.feeds_dir, timeout=settings.feed_timeout_seconds
                )
                if feeds
                else []
            )
            try:
                report = _update(
                    settings,
                    engine=engine,
                    embedder=embedder,
                    full=full,
                    progress=progress,
                    published=published,
                )
            except UNWRITABLE as error:
                raise database_unavailable(error) from error
    finally:
        if own_engine:
            engine.dispose()
    report.feeds = fetched
    report.seconds = time.perf_counter() - started
    log.info(
        "index version %d: +%d new, %d changed, %d removed, %d unchanged, %d skipped, "
        "%d of %d feeds down, %.1f s",
        report.version,
        report.added,
        report.changed,
        report.removed,
        report.unchanged,
        len(report.skipped),
        sum(1 for feed in fetched if feed.failure),
        len(fetched),
        report.seconds,
    )
    return report


def _update(
    settings: Settings,
    *,
    engine: Engine,
    embedder: Embedder,
    full: bool = False,
    progress: Progress | None = None,
    published: Published | None = None,
) -> BuildReport:
    """:func:`build_index`'s work, under its lock: plan, embed, publish."""
    create_schema(engine)
    with Session(engine) as session:
        state = index_state(session=session)
        known = article_hashes(session=session)
    base_version = state.version if state else 0
    adopt_legacy_layout(settings.index_dir, base_version)
    base = None if full else planning.base_vectors(settings, base_version, embedder)
    # Updating a version: articles whose content hash is unchanged need no parsing.
    hashes = {key: digest for key, (_, digest) in known.items()} if base is not None else None
    read = read_articles(settings, known=hashes)
    report = BuildReport(skipped=list(read.skipped), warnings=list(read.warnings))
    articles = planning.unique_by_key(read.articles, report)
    plan = planning.plan(
        base_version=base_version,
        base=base,
        known=known,
        articles=articles,
        unchanged=set(read.unchanged),
        report=report,
    )
    report.version = plan.base_version
    # Vectors to keep, but tokens an older tokenizer made: tokenise the stored sentences again.
    stale_tokens = plan.base is not None and (
        tokens_version(version_folder(settings.index_dir, plan.base_version)) != TOKENS_VERSION
    )
    if plan.base is not None and not plan.retire and not plan.embed and not stale_tokens:
        return report  # nothing to do: the serving version stays
    steps = planning.steps(settings, plan, embedder, full=full)
    cut = [chunked(article) for article in plan.embed]
    total = sum(len(spans) for _, spans, _ in cut)
    report.chunks_embedded = total
    if len(steps) > 1:
        log.info(
            "no index version to serve: publishing one every %d of %d articles",
            settings.build_publish_every,
            len(plan.embed),
        )
    vectors, lexical = plan.base, None
    first_seen: dict[tuple[str, str], dt.datetime] = {}
    done, version = 0, plan.base_version
    for number, step in enumerate(steps):
        prepared = embed_chunks(
            cut[step.start : step.stop],
            embedder,
            _shifted(progress, done, total),
            settings.embedding_batch_size,
        )
        done += sum(len(item.spans) for item in prepared)
        # Only now a write transaction: embedding may take minutes and must not hold the database.
        version, vectors, lexical = _publish(
            settings,
            engine,
            embedder,
            base_version=version,
            vectors=vectors,
            lexical=lexical,
            retire=plan.retire if number == 0 else [],
            prepared=prepared,
            first_seen=first_seen,
            stale_tokens=stale_tokens and number == 0,
        )
        report.version = version
        if number >= 2:  # this build's own older steps: nothing serves them for long
            drop_versions(settings.index_dir, [version - 2])
        if published is not None:
            published(version)
    return report


def _shifted(progress: Progress | None, done: int, total: int) -> Progress | None:
    """``progress`` counting a step's chunks after the ``done`` of earlier steps, of ``total``."""
    if progress is None:
        return None
    return lambda embedded, _: progress(done + embedded, total)


def _publish(
    settings: Settings,
    engine: Engine,
    embedder: Embedder,
    *,
    base_version: int,
    vectors: VectorIndex | None,
    lexical: BM25Index | None,
    retire: Sequence[int],
    prepared: Sequence[PreparedArticle],
    first_seen: dict[tuple[str, str], dt.datetime],
    stale_tokens: bool,
) -> tuple[int, VectorIndex, BM25Index]:
    """Make the version after ``base_version``: retire, insert, write its folder, commit.

    ``vectors`` (updated in place) and ``lexical`` are the base version's, or None: a first
    step of a full build, or (``lexical`` only) read from the base version's folder.
    ``first_seen`` gains the retired articles' first dates, for this and the later steps.

    Returns:
        The new version, its vectors and its lexical index (the base of a next step).
    """
    with Session(engine) as session:
        state = lock_index_state(session=session)
        if (state.version if state else 0) != base_version:
            raise ConcurrentBuildError(
                f"the index moved from version {base_version} to "
                f"{state.version if state else 0} during this build: run it again"
            )
        version = base_version + 1
        seen, retired_chunks = retire_articles(session, retire, version=version)
        first_seen.update(seen)
        new_chunks, new_vectors, sentences = insert_articles(
            session, prepared, first_seen=first_seen
        )
        full = vectors is None
        if vectors is None:
            vectors = VectorIndex.empty(dim=embedder.dim, model=embedder.name)
        vectors.remove(retired_chunks)
        vectors.add(new_chunks, new_vectors)
        record_state(session, state, model=embedder.name, dim=embedder.dim, version=version)
        session.flush()
        updated = None
        if stale_tokens:
            log.info(
                "index version %d holds tokens of an older tokenizer: %d stored sentences "
                "tokenised differently now",
                base_version,
                retokenize(session=session, tokenize=tokenize),
            )
        elif not full:  # update the base version's postings: tokenise only the new
            if lexical is None:
                lexical = BM25Index.load(
                    version_folder(settings.index_dir, base_version) / LEXICAL_DIR
                )
            updated = lexical.updated(
                remove_groups=retired_chunks,
                doc_ids=[sentence.id or 0 for sentence in sentences],
                documents=[sentence.tokens.split() for sentence in sentences],
                groups=[sentence.chunk_id for sentence in sentences],
            )
        if updated is None:  # a full build, or a version saved without term counts
            updated = lexical_from_database(session)
        # The folder first, then the commit that names it: a build that dies in between leaves
        # an unnamed folder, and the database still names the previous version.
        definitions = find_all_definitions(sentence_texts_with("(", "-", session=session))
        write_version(settings.index_dir, version, vectors, updated, definitions)
        session.commit()
    return version, vectors, updated
