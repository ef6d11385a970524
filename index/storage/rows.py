"""A build's SQL writes: retire articles, insert the new ones with their chunks and sentences.

Nothing is deleted here: a retired article's rows stay for the version before (``removed_in``);
``versions.collect_garbage`` deletes them once no kept version needs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from sqlalchemy import update
from sqlmodel import Session, col, select

from index.search.tokens import tokenize
from index.storage.chunks import PreparedArticle, chunk_text
from index.storage.lexical import BM25Index
from index.storage.store import sentence_tokens
from index.storage.tables import Article, Chunk, IndexState, Sentence, utc_now

__all__ = ["insert_articles", "lexical_from_database", "record_state", "retire_articles"]


def retire_articles(
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


def insert_articles(
    session: Session,
    prepared: Sequence[PreparedArticle],
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


def record_state(
    session: Session, state: IndexState | None, *, model: str, dim: int, version: int
) -> None:
    """Name ``version`` (and the model that made it) as the index state, built now."""
    state = state or IndexState(model=model, dim=dim)
    state.model, state.dim, state.version = model, dim, version
    state.built_at = dt.datetime.now(dt.UTC)
    session.add(state)


def lexical_from_database(session: Session) -> BM25Index:
    """BM25 over every live sentence's stored tokens."""
    ids, chunk_ids, tokens = sentence_tokens(session=session)
    return BM25Index.build(ids, tokens, groups=chunk_ids)
