"""SQLModel tables: articles, their chunks (what is embedded) and sentences (what is quoted).

A chunk's id is its FAISS id; a sentence's id is its row in the lexical index.

Index versions: a reload never deletes or rewrites these rows in place. An article that is
removed or changed gets ``removed_in`` = the version it left the index in (a changed article
comes back as a new row), so a searcher still serving the previous version keeps finding every
row its vectors point to; rows are deleted only once no kept version needs them. Ids are never
reused (SQLite AUTOINCREMENT). **The live articles are those with ``removed_in IS NULL``**:
queries for the current articles must filter on it (``store.LIVE``).

The chats' tables (subscriptions, the summary's sent log, claimed updates) share this database
but belong to the bot: ``bot/tables.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


def utc_now() -> dt.datetime:
    """The current time, time zone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


class Article(SQLModel, table=True):
    """One article, known by ``key`` (its file, and its id inside a .jsonl file)."""

    __table_args__ = (
        # One live article per key; retired rows of the same key may stay a while.
        Index(
            "ux_article_live_key",
            "key",
            unique=True,
            sqlite_where=text("removed_in IS NULL"),
            postgresql_where=text("removed_in IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)
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
    removed_in: int | None = Field(default=None, index=True)  # None: live; see the module doc


class Chunk(SQLModel, table=True):
    """Neighbouring sentences of one article, embedded together; ``id`` is the FAISS id."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    position: int
    text: str


class Sentence(SQLModel, table=True):
    """One quotable sentence with the line it stands on."""

    __table_args__ = {"sqlite_autoincrement": True}

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


class AwareDateTime(TypeDecorator[dt.datetime]):
    """A time zone-aware datetime stored as UTC; read back aware even from SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Store UTC; a naive datetime is a bug, never silently guessed."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone-aware one")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """SQLite drops the offset: what comes back is UTC."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


class AnswerRecord(SQLModel, table=True):
    """An answer the bot sent in a chat, kept so that a reader's vote on it says what was judged.

    Its id is what the vote buttons under the answer carry. ``quotes`` holds the quoted
    sentences, best first: ``{"text", "article_key", "path", "line"}`` each.
    """

    __table_args__ = {"sqlite_autoincrement": True}  # an old button never names a newer answer

    id: int | None = Field(default=None, primary_key=True)
    question: str
    quotes: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    index_version: int
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    asked_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    answered_at: dt.datetime = Field(
        default_factory=utc_now, sa_column=Column(AwareDateTime(), nullable=False, index=True)
    )


class AnswerVote(SQLModel, table=True):
    """One reader's 👍 or 👎 on one answer: a row per reader and answer, changed when they change it."""

    __table_args__ = (UniqueConstraint("answer_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answerrecord.id", index=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    vote: str  # "up" or "down"
    voted_at: dt.datetime = Field(
        default_factory=utc_now, sa_column=Column(AwareDateTime(), nullable=False, index=True)
    )
