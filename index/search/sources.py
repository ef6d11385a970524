"""Where quoted sentences come from, as a reader sees it: each article cited once.

A reply may quote several sentences of one article; they stand together under one source (its
title, date, publisher and file) rather than each repeating it. The file is shown relative to
the folder it was read from (the articles folder; ``feeds/...`` for feed items, which live in
the data folder), never with the server's own folders.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from index.search.answers import Answer, Quote
from index.search.searcher import Searcher
from index.storage.store import article_details


@dataclass(frozen=True, slots=True)
class ArticleSource:
    """An article as a reply cites it."""

    title: str
    file: str  #: relative to the folder it was read from, posix
    url: str | None = None
    date: dt.date | None = None
    publisher: str | None = None  #: a ``.jsonl`` record's ``source``, a feed's title
    attribution: str | None = None  #: the article's own "Sumber:" line

    @classmethod
    def of(
        cls, quote: Quote, *, date: dt.date | None = None, publisher: str | None = None
    ) -> ArticleSource:
        """The source of ``quote``'s article; ``date`` and ``publisher`` come from its row."""
        return cls(
            title=quote.title,
            file=shown_file(quote.path, quote.article_key),
            url=quote.url,
            date=date,
            publisher=publisher,
            attribution=quote.attribution,
        )


@dataclass(frozen=True, slots=True)
class ArticleQuotes:
    """The sentences quoted from one article, in the order they were given, and its source."""

    source: ArticleSource
    quotes: tuple[Quote, ...]


@dataclass(frozen=True, slots=True)
class SourcedAnswer:
    """An answer and the source of every article it quotes, by article key."""

    answer: Answer
    sources: Mapping[str, ArticleSource]


def shown_file(path: str, key: str) -> str:
    """The file of an article as readers see it: relative to the folder it was read from.

    ``path`` is the file as the build saw it (``folder/relpath``, the folder possibly absolute);
    ``key`` is ``relpath``, or ``relpath#id`` for a ``.jsonl`` record. A file that was not
    under its folder is shown by its name alone.
    """
    parts = path.split("/")
    for start in range(1, len(parts)):  # the longest tail the key starts with
        relative = "/".join(parts[start:])
        if key == relative or key.startswith(relative + "#"):
            return relative
    return posixpath.basename(path)


def by_article(
    quotes: Sequence[Quote], sources: Mapping[str, ArticleSource] | None = None
) -> tuple[ArticleQuotes, ...]:
    """``quotes`` grouped by article: articles in the order of their first quote.

    An article missing from ``sources`` is cited from what its quotes carry (no date, no
    publisher).
    """
    grouped: dict[str, list[Quote]] = {}
    for quote in quotes:
        grouped.setdefault(quote.article_key, []).append(quote)
    known = sources or {}
    return tuple(
        ArticleQuotes(source=known.get(key) or ArticleSource.of(group[0]), quotes=tuple(group))
        for key, group in grouped.items()
    )


def article_sources(
    quotes: Sequence[Quote], *, session: Session, version: int = 0
) -> dict[str, ArticleSource]:
    """The source of every article ``quotes`` come from, with its date and publisher."""
    details = article_details(
        session=session, keys={quote.article_key for quote in quotes}, version=version
    )
    sources: dict[str, ArticleSource] = {}
    for quote in quotes:
        if quote.article_key not in sources:
            found = details.get(quote.article_key)
            sources[quote.article_key] = ArticleSource.of(
                quote,
                date=found.date if found else None,
                publisher=found.source if found else None,
            )
    return sources


def answer_with_sources(
    searcher: Searcher,
    question: str,
    *,
    limit: int = 3,
    arrived: float | None = None,
    today: dt.date | None = None,
) -> SourcedAnswer:
    """:meth:`Searcher.answer`, with the source of each article it quotes."""
    answer = searcher.answer(question, limit=limit, arrived=arrived, today=today)
    if not answer.quotes:
        return SourcedAnswer(answer=answer, sources={})
    with Session(searcher.engine) as session:
        sources = article_sources(answer.quotes, session=session, version=searcher.version)
    return SourcedAnswer(answer=answer, sources=sources)
