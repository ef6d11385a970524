"""Building the index: read articles, embed what is new or changed, write a new index version.

A build never changes what a running searcher reads. It embeds first, with no transaction open;
then, in one database transaction, it retires the rows of removed and changed articles (marks
them ``removed_in``; nothing is deleted), inserts the new rows, writes the new version's folder
aside and renames it into place, and commits with ``IndexState.version`` naming that folder.
See ``index/versions.py`` for the layout and the clean-up of old versions.

A build that embeds every article with no version to serve meanwhile (a first build, or one for
a new model) does that in steps of ``TANYA_BUILD_PUBLISH_EVERY`` articles: each step is such a
version, on top of the previous step's, so questions find the first articles within minutes;
the last step's version holds what a build in one step would.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from config.settings import Settings
from index.articles.files import ParsedArticle, ReadReport, SkippedFile, read_file, read_folder
from index.articles.sentences import chunk_spans
from index.encoders.embedder import Embedder
from index.search.shortforms import find_all_definitions
from index.search.tokens import TOKENS_VERSION, tokenize
from index.storage.lexical import BM25Index
from index.storage.store import (
    LIVE,
    article_hashes,
    create_schema,
    index_state,
    lock_index_state,
    make_engine,
    retokenize,
    sentence_texts_with,
    sentence_tokens,
)
from index.storage.tables import Article, Chunk, IndexState, Sentence, utc_now
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
    "update_index",
]

log = logging.getLogger(__name__)

#: Called with (chunks embedded so far, chunks to embed in all).
Progress = Callable[[int, int], None]
#: Called with each index version a build commits, as soon as it serves.
Published = Callable[[int], None]


class ConcurrentBuildError(RuntimeError):
    """The database moved to another version while this build was embedding."""


@dataclass(slots=True)
class BuildReport:
    """What a build did: counts of articles by fate, skipped files, and how long it took."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    version: int = 0  #: the index version serving after the build

    def as_dict(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass(frozen=True, slots=True)
class _PreparedArticle:
    """An article cut into chunks, with its chunk vectors, ready to be stored."""

    article: ParsedArticle
    spans: list[range]
    vectors: np.ndarray


@dataclass(slots=True)
class _Plan:
    """What a build will change, decided before anything is embedded."""

    base_version: int
    base: VectorIndex | None  # None: every article is embedded again
    retire: list[int]  # article ids leaving the index (removed, changed, or all on a rebuild)
    embed: list[ParsedArticle]


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
    progress: Progress | None = None,
    engine: Engine | None = None,
    published: Published | None = None,
) -> BuildReport:
    """Bring the index up to date with the articles; embed only new and changed articles.

    ``full`` (or a missing index, or one built with another model) re-embeds every article.
    When nothing changed, no new version is made. With no version to serve meanwhile, the
    articles are published in steps of ``settings.build_publish_every``: one version each,
    every one on top of the last, the last one the same as a build in one step. ``published``
    hears of every version as it is committed.

    Raises:
        BuildBusyError: If another build of the same index folder is running.
    """
    started = time.perf_counter()
    own_engine = engine is None
    engine = engine or make_engine(settings.sqlalchemy_url)
    try:
        with build_lock(settings.index_dir):
            report = update_index(
                settings,
                engine=engine,
                embedder=embedder,
                full=full,
                progress=progress,
                published=published,
            )
    finally:
        if own_engine:
            engine.dispose()
    report.seconds = time.perf_counter() - started
    log.info(
        "index version %d: +%d new, %d changed, %d removed, %d unchanged, %d skipped, %.1f s",
        report.version,
        report.added,
        report.changed,
        report.removed,
        report.unchanged,
        len(report.skipped),
        report.seconds,
    )
    return report


def update_index(
    settings: Settings,
    *,
    engine: Engine,
    embedder: Embedder,
    full: bool = False,
    progress: Progress | None = None,
    published: Published | None = None,
) -> BuildReport:
    """:func:`build_index` for a caller that already holds ``versions.build_lock``."""
    create_schema(engine)
    with Session(engine) as session:
        state = index_state(session=session)
        known = article_hashes(session=session)
    base_version = state.version if state else 0
    adopt_legacy_layout(settings.index_dir, base_version)
    base = None if full else _base_vectors(settings, base_version, embedder)
    # Updating a version: articles whose content hash is unchanged need no parsing.
    hashes = {key: digest for key, (_, digest) in known.items()} if base is not None else None
    read = read_articles(settings, known=hashes)
    report = BuildReport(skipped=list(read.skipped), warnings=list(read.warnings))
    articles = _unique_by_key(read.articles, report)
    plan = _plan(
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
    steps = _steps(settings, plan, embedder, full=full)
    chunked = [_chunked(article) for article in plan.embed]
    total = sum(len(spans) for _, spans, _ in chunked)
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
        prepared = _embed(
            chunked[step.start : step.stop],
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


def _steps(settings: Settings, plan: _Plan, embedder: Embedder, *, full: bool) -> list[range]:
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
    prepared: Sequence[_PreparedArticle],
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
        seen, retired_chunks = _retire_articles(session, retire, version=version)
        first_seen.update(seen)
        new_chunks, new_vectors, sentences = _insert_articles(
            session, prepared, first_seen=first_seen
        )
        full = vectors is None
        if vectors is None:
            vectors = VectorIndex.empty(dim=embedder.dim, model=embedder.name)
        vectors.remove(retired_chunks)
        vectors.add(new_chunks, new_vectors)
        _record_state(session, state, model=embedder.name, dim=embedder.dim, version=version)
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
            updated = _lexical_from_database(session)
        # The folder first, then the commit that names it: a build that dies in between leaves
        # an unnamed folder, and the database still names the previous version.
        definitions = find_all_definitions(sentence_texts_with("(", "-", session=session))
        write_version(settings.index_dir, version, vectors, updated, definitions)
        session.commit()
    return version, vectors, updated


def _plan(
    *,
    base_version: int,
    base: VectorIndex | None,
    known: Mapping[str, tuple[int, str]],
    articles: dict[str, ParsedArticle],
    unchanged: set[str],
    report: BuildReport,
) -> _Plan:
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
        return _Plan(base_version, None, retire, list(articles.values()))
    stale = [key for key in known if key not in articles and key not in unchanged]
    changed = [k for k, a in articles.items() if k in known and known[k][1] != a.content_hash]
    fresh = [key for key in articles if key not in known]
    report.added, report.changed, report.removed = len(fresh), len(changed), len(stale)
    report.unchanged = len(unchanged) + len(articles) - len(fresh) - len(changed)
    retire = [known[key][0] for key in stale + changed]
    return _Plan(base_version, base, retire, [articles[key] for key in fresh + changed])


def _servable(settings: Settings, version: int, embedder: Embedder) -> bool:
    """Whether ``version`` is on disk, made by the model of ``embedder``."""
    if not version_exists(settings.index_dir, version):
        return False
    try:
        meta = VectorIndex.read_meta(version_folder(settings.index_dir, version))
    except Exception:  # a damaged file of any kind: not a version to serve
        return False
    return meta.model == embedder.name and meta.dim == embedder.dim


def _base_vectors(settings: Settings, version: int, embedder: Embedder) -> VectorIndex | None:
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


def _unique_by_key(
    articles: Sequence[ParsedArticle], report: BuildReport
) -> dict[str, ParsedArticle]:
    unique: dict[str, ParsedArticle] = {}
    for article in articles:
        if article.key in unique:
            report.skipped.append(
                SkippedFile(
                    path=f"{article.path}:{article.line}",
                    reason=(
                        f"duplicate article id {article.key!r}, first seen on line {unique[article.key].line}"
                    ),
                )
            )
            continue
        unique[article.key] = article
    return unique


def chunk_text(sentences: Iterable[str]) -> str:
    """The text embedded for a chunk: its sentences, in order, joined by spaces."""
    return " ".join(sentences)


def chunk_vectors(settings: Settings, *, model: str) -> dict[str, np.ndarray]:
    """Every live chunk's text and vector in the index of ``settings``, built with ``model``.

    For building another index without embedding again what this one holds (``python -m
    index eval --vectors-from``). Empty when there is no index there.

    Raises:
        IndexMismatchError: If that index was built with another model.
    """
    engine = make_engine(settings.sqlalchemy_url)
    try:
        version = current_version(engine)
        if not version_exists(settings.index_dir, version):
            return {}
        vectors = VectorIndex.load(
            version_folder(settings.index_dir, version), model=model, mmap=True
        )
        with Session(engine) as session:
            rows = session.exec(
                select(Chunk.id, Chunk.text)
                .join(Article, col(Chunk.article_id) == col(Article.id))
                .where(LIVE)
            ).all()
    finally:
        engine.dispose()
    ids = [int(chunk_id or 0) for chunk_id, _ in rows]
    return dict(zip((text for _, text in rows), vectors.vectors(ids), strict=True))


def _chunked(article: ParsedArticle) -> tuple[ParsedArticle, list[range], list[str]]:
    """An article, its chunks' sentence spans, and the chunks' texts to embed."""
    spans = chunk_spans([s.text for s in article.sentences])
    return article, spans, [chunk_text(article.sentences[i].text for i in span) for span in spans]


def _embed(
    chunked: Sequence[tuple[ParsedArticle, list[range], list[str]]],
    embedder: Embedder,
    progress: Progress | None,
    batch_size: int,
) -> list[_PreparedArticle]:
    texts = [text for _, _, article_texts in chunked for text in article_texts]
    # Shortest first: each batch holds texts of about one length, so little of it is padding.
    order = sorted(range(len(texts)), key=lambda n: len(texts[n]))
    matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        taken = order[start : start + batch_size]
        matrix[taken] = embedder.embed_passages([texts[n] for n in taken])
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    prepared, offset = [], 0
    for article, article_spans, _ in chunked:
        prepared.append(
            _PreparedArticle(article, article_spans, matrix[offset : offset + len(article_spans)])
        )
        offset += len(article_spans)
    return prepared


def _retire_articles(
    session: Session, article_ids: Sequence[int], *, version: int
) -> tuple[dict[tuple[str, str], dt.datetime], np.ndarray]:
    """Mark articles as removed in ``version``; their rows stay for the previous version.

    Returns:
        When each retired (key, content hash) was first added, and the retired chunk ids.
    """
    first_seen: dict[tuple[str, str], dt.datetime] = {}
    chunk_ids: list[int] = []
    for start in range(0, len(article_ids), 500):
        batch = list(article_ids[start : start + 500])
        for key, digest, added_at in session.exec(
            select(Article.key, Article.content_hash, Article.added_at).where(
                col(Article.id).in_(batch)
            )
        ):
            # SQLite hands the stored UTC time back without its offset.
            first_seen[(key, digest)] = (
                added_at if added_at.tzinfo else added_at.replace(tzinfo=dt.UTC)
            )
        chunk_ids += [
            i
            for i in session.exec(select(Chunk.id).where(col(Chunk.article_id).in_(batch)))
            if i is not None
        ]
        session.exec(
            update(Article).where(col(Article.id).in_(batch)).values(removed_in=version)  # type: ignore[call-overload]
        )
    return first_seen, np.asarray(chunk_ids, dtype=np.int64)


def _insert_articles(
    session: Session,
    prepared: Sequence[_PreparedArticle],
    *,
    first_seen: dict[tuple[str, str], dt.datetime],
) -> tuple[np.ndarray, np.ndarray, list[Sentence]]:
    """Store articles, chunks and sentences.

    Returns the new chunk ids, their vectors, and the new sentences (with their ids).

    An article embedded again with the same content (a full rebuild) keeps when it was added.
    """
    now = utc_now()
    chunk_rows: list[Chunk] = []
    new_sentences: list[Sentence] = []
    vectors: list[np.ndarray] = []
    for item in prepared:
        parsed = item.article
        article = Article(
            key=parsed.key,
            content_hash=parsed.content_hash,
            path=parsed.path,
            line=parsed.line,
            title=parsed.title,
            date=parsed.date,
            source=parsed.source,
            url=parsed.url,
            attribution=parsed.attribution,
            place=parsed.place,
            added_at=first_seen.get((parsed.key, parsed.content_hash), now),
        )
        session.add(article)
        session.flush()
        assert article.id is not None
        chunks = [
            Chunk(
                article_id=article.id,
                position=n,
                text=chunk_text(parsed.sentences[i].text for i in span),
            )
            for n, span in enumerate(item.spans)
        ]
        session.add_all(chunks)
        session.flush()
        for chunk, span in zip(chunks, item.spans, strict=True):
            assert chunk.id is not None
            sentences = [
                Sentence(
                    article_id=article.id,
                    chunk_id=chunk.id,
                    position=i,
                    line=parsed.sentences[i].line,
                    text=parsed.sentences[i].text,
                    tokens=" ".join(tokenize(parsed.sentences[i].text)),
                )
                for i in span
            ]
            session.add_all(sentences)
            new_sentences.extend(sentences)
        chunk_rows.extend(chunks)
        vectors.append(item.vectors)
    session.flush()
    ids = np.asarray([chunk.id for chunk in chunk_rows], dtype=np.int64)
    matrix = np.vstack(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
    return ids, matrix, new_sentences


def _record_state(
    session: Session, state: IndexState | None, *, model: str, dim: int, version: int
) -> None:
    state = state or IndexState(model=model, dim=dim)
    state.model, state.dim, state.version = model, dim, version
    state.built_at = dt.datetime.now(dt.UTC)
    session.add(state)


def _lexical_from_database(session: Session) -> BM25Index:
    ids, chunk_ids, tokens = sentence_tokens(session=session)
    return BM25Index.build(ids, tokens, groups=chunk_ids)
