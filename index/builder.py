"""Building the index: read articles, embed what is new or changed, store, write the indexes."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from config.settings import Settings
from index.articles import ParsedArticle, SkippedFile, read_folder
from index.embedder import Embedder
from index.lexical import BM25Index
from index.models import Article, Chunk, IndexState, Sentence, utc_now
from index.sentences import chunk_spans
from index.store import article_hashes, create_schema, index_state, make_engine, sentence_tokens
from index.tokens import tokenize
from index.vectors import VectorIndex

log = logging.getLogger(__name__)

LEXICAL_DIR = "lexical"

#: Called with (chunks embedded so far, chunks to embed in all).
Progress = Callable[[int, int], None]


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


def index_exists(settings: Settings) -> bool:
    """Whether a build has stored vectors and lexical postings in the data dir."""
    folder = settings.index_dir
    return VectorIndex.exists(folder) and (folder / LEXICAL_DIR / "doc_ids.npy").is_file()


def build_index(
    settings: Settings,
    *,
    embedder: Embedder,
    full: bool = False,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> BuildReport:
    """Bring the index up to date with the articles folder; embed only new and changed articles.

    ``full`` (or a missing index, or one built with another model) re-embeds every article.
    """
    started = time.perf_counter()
    engine = engine or make_engine(settings.sqlalchemy_url)
    create_schema(engine)
    read = read_folder(settings.seeds_dir, max_bytes=settings.max_article_bytes)
    report = BuildReport(skipped=list(read.skipped), warnings=list(read.warnings))
    articles = _unique_by_key(read.articles, report)

    folder = settings.index_dir
    vectors = _vectors_to_update(folder, embedder=embedder, full=full)
    with Session(engine) as session:
        if len(vectors) == 0:
            _delete_all(session)
        known = article_hashes(session=session)
        stale = [key for key, (_, digest) in known.items() if articles.get(key, None) is None]
        changed = [
            key
            for key, article in articles.items()
            if key in known and known[key][1] != article.content_hash
        ]
        fresh = [key for key in articles if key not in known]
        report.added, report.changed, report.removed = len(fresh), len(changed), len(stale)
        report.unchanged = len(articles) - len(fresh) - len(changed)

        prepared = _embed(
            [articles[key] for key in fresh + changed],
            embedder,
            progress,
            report,
            batch_size=settings.embedding_batch_size,
        )
        old_chunks = _delete_articles(session, [known[key][0] for key in stale + changed])
        new_chunks, new_vectors = _insert_articles(session, prepared)
        vectors.remove(old_chunks)
        vectors.add(new_chunks, new_vectors)
        _record_state(session, model=embedder.name, dim=embedder.dim)
        session.flush()
        lexical = _lexical_from_database(session)
        # Files first, then the commit: a failed write leaves the database as it was.
        vectors.save(folder)
        lexical.save(folder / LEXICAL_DIR)
        session.commit()
    report.seconds = time.perf_counter() - started
    log.info(
        "index built: +%d new, %d changed, %d removed, %d unchanged, %d skipped, %.1f s",
        report.added,
        report.changed,
        report.removed,
        report.unchanged,
        len(report.skipped),
        report.seconds,
    )
    return report


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


def _vectors_to_update(folder: Path, *, embedder: Embedder, full: bool) -> VectorIndex:
    """The saved vectors to update in place, or an empty index when everything is re-embedded."""
    if not full and VectorIndex.exists(folder):
        meta = VectorIndex.read_meta(folder)
        if meta.model == embedder.name and meta.dim == embedder.dim:
            return VectorIndex.load(folder, model=embedder.name)
        log.warning(
            "index was built with %s; re-embedding everything with %s", meta.model, embedder.name
        )
    return VectorIndex.empty(dim=embedder.dim, model=embedder.name)


def _embed(
    articles: Sequence[ParsedArticle],
    embedder: Embedder,
    progress: Progress | None,
    report: BuildReport,
    batch_size: int,
) -> list[_PreparedArticle]:
    spans = [chunk_spans([s.text for s in article.sentences]) for article in articles]
    texts = [
        " ".join(article.sentences[i].text for i in span)
        for article, article_spans in zip(articles, spans, strict=True)
        for span in article_spans
    ]
    report.chunks_embedded = len(texts)
    parts = []
    for start in range(0, len(texts), batch_size):
        parts.append(embedder.embed_passages(texts[start : start + batch_size]))
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    matrix = np.vstack(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
    prepared, offset = [], 0
    for article, article_spans in zip(articles, spans, strict=True):
        prepared.append(
            _PreparedArticle(article, article_spans, matrix[offset : offset + len(article_spans)])
        )
        offset += len(article_spans)
    return prepared


def _delete_all(session: Session) -> None:
    for table in (Sentence, Chunk, Article):
        session.exec(delete(table))  # type: ignore[call-overload]


def _delete_articles(session: Session, article_ids: Sequence[int]) -> np.ndarray:
    """Delete articles with their chunks and sentences; return the removed chunk ids."""
    if not article_ids:
        return np.zeros(0, dtype=np.int64)
    chunk_ids = session.exec(select(Chunk.id).where(col(Chunk.article_id).in_(article_ids))).all()
    for table in (Sentence, Chunk):
        session.exec(delete(table).where(col(table.article_id).in_(article_ids)))  # type: ignore[call-overload]
    session.exec(delete(Article).where(col(Article.id).in_(article_ids)))  # type: ignore[call-overload]
    return np.asarray([i for i in chunk_ids if i is not None], dtype=np.int64)


def _insert_articles(
    session: Session, prepared: Sequence[_PreparedArticle]
) -> tuple[np.ndarray, np.ndarray]:
    """Store articles, chunks and sentences; return the new chunk ids and their vectors."""
    added_at = utc_now()
    chunk_rows: list[Chunk] = []
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
            added_at=added_at,
        )
        session.add(article)
        session.flush()
        assert article.id is not None
        chunks = [
            Chunk(
                article_id=article.id,
                position=n,
                text=" ".join(parsed.sentences[i].text for i in span),
            )
            for n, span in enumerate(item.spans)
        ]
        session.add_all(chunks)
        session.flush()
        for chunk, span in zip(chunks, item.spans, strict=True):
            assert chunk.id is not None
            session.add_all(
                Sentence(
                    article_id=article.id,
                    chunk_id=chunk.id,
                    position=i,
                    line=parsed.sentences[i].line,
                    text=parsed.sentences[i].text,
                    tokens=" ".join(tokenize(parsed.sentences[i].text)),
                )
                for i in span
            )
        chunk_rows.extend(chunks)
        vectors.append(item.vectors)
    session.flush()
    ids = np.asarray([chunk.id for chunk in chunk_rows], dtype=np.int64)
    return ids, (np.vstack(vectors) if vectors else np.zeros((0, 1), dtype=np.float32))


def _record_state(session: Session, *, model: str, dim: int) -> None:
    state = index_state(session=session) or IndexState(model=model, dim=dim)
    state.model, state.dim = model, dim
    state.version += 1
    state.built_at = dt.datetime.now(dt.UTC)
    session.add(state)


def _lexical_from_database(session: Session) -> BM25Index:
    ids, chunk_ids, tokens = sentence_tokens(session=session)
    return BM25Index.build(ids, tokens, groups=chunk_ids)
