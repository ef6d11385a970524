"""What a build embeds: articles cut into chunks, the chunks' texts, and their vectors.

Also the vectors another index already holds, to build an index without embedding them again
(``python -m index eval --vectors-from``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session

from config.settings import Settings
from index.articles.reports import ParsedArticle
from index.articles.sentences import chunk_spans
from index.encoders.embedder import Embedder
from index.storage.store import live_chunk_texts, make_engine
from index.storage.vectors import VectorIndex
from index.storage.versions import current_version, version_exists, version_folder

__all__ = [
    "Chunked",
    "PreparedArticle",
    "Progress",
    "chunk_text",
    "chunk_vectors",
    "chunked",
    "embed_chunks",
]

#: Called with (chunks embedded so far, chunks to embed in all).
Progress = Callable[[int, int], None]
#: An article, its chunks' sentence spans, and the chunks' texts to embed.
Chunked = tuple[ParsedArticle, list[range], list[str]]


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """An article cut into chunks, with its chunk vectors, ready to be stored."""

    article: ParsedArticle
    spans: list[range]
    vectors: np.ndarray


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
            rows = live_chunk_texts(session=session)
    finally:
        engine.dispose()
    ids = [chunk_id for chunk_id, _ in rows]
    return dict(zip((text for _, text in rows), vectors.vectors(ids), strict=True))


def chunked(article: ParsedArticle) -> Chunked:
    """An article, its chunks' sentence spans, and the chunks' texts to embed."""
    spans = chunk_spans([s.text for s in article.sentences])
    return article, spans, [chunk_text(article.sentences[i].text for i in span) for span in spans]


def embed_chunks(
    articles: Sequence[Chunked],
    embedder: Embedder,
    progress: Progress | None,
    batch_size: int,
) -> list[PreparedArticle]:
    """Embed the chunks of ``articles`` in batches of ``batch_size``, shortest texts first."""
    texts = [text for _, _, article_texts in articles for text in article_texts]
    # Shortest first: each batch holds texts of about one length, so little of it is padding.
    order = sorted(range(len(texts)), key=lambda n: len(texts[n]))
    matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        taken = order[start : start + batch_size]
        matrix[taken] = embedder.embed_passages([texts[n] for n in taken])
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    prepared, offset = [], 0
    for article, article_spans, _ in articles:
        prepared.append(
            PreparedArticle(article, article_spans, matrix[offset : offset + len(article_spans)])
        )
        offset += len(article_spans)
    return prepared
