"""SQLModel tables: articles, their chunks (what is embedded) and sentences (what is quoted).

A chunk's id is its FAISS id; a sentence's id is its row in the lexical index.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


def utc_now() -> dt.datetime:
    """The current time, time zone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


class Article(SQLModel, table=True):
    """One article, known by ``key`` (its file, and its id inside a .jsonl file)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True)
    content_hash: str
    path: str
    line: int
    title: str
    date: dt.date | None = None
    source: str | None = None
    url: str | None = None
    attribution: str | None = None
    place: str | None = None
    added_at: dt.datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Chunk(SQLModel, table=True):
    """Neighbouring sentences of one article, embedded together; ``id`` is the FAISS id."""

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    position: int
    text: str


class Sentence(SQLModel, table=True):
    """One quotable sentence with the line it stands on."""

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    chunk_id: int = Field(foreign_key="chunk.id", index=True)
    position: int
    line: int
    text: str
    tokens: str  # lexical tokens, space-separated: the lexical index is rebuilt from these


class IndexState(SQLModel, table=True):
    """What the stored vectors were built with, and when (one row)."""

    id: int | None = Field(default=None, primary_key=True)
    model: str
    dim: int
    version: int = 0
    built_at: dt.datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
