"""The database: engine, schema, and the queries the index needs (keyword-only arguments)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, event, func, inspect, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InternalError, OperationalError
from sqlmodel import Session, SQLModel, col, create_engine, select

from index.storage.private import private_dir, private_file
from index.storage.tables import Article, Chunk, IndexState, Sentence

#: The articles of the current index version (retired rows stay until no version needs them).
LIVE = col(Article.removed_in).is_(None)


class DatabaseUnavailableError(RuntimeError):
    """The database refused a write: read-only, locked by another process, or out of space."""


#: What a database that cannot take a write raises: SQLite's "readonly" and "locked", and
#: PostgreSQL's disk full, too many connections (operational) or read-only transaction
#: (``InternalError``, SQLSTATE 25006: a read-only database or a standby server).
UNWRITABLE = (OperationalError, InternalError)


def database_unavailable(
    error: OperationalError | InternalError,
    *,
    meanwhile: str = "questions are still answered from the current index",
) -> DatabaseUnavailableError:
    """A message a person can act on for a failed write (without the SQL statement).

    ``meanwhile``: what still works, or what cannot happen, because of it.
    """
    reason = str(error.orig) if error.orig is not None else str(error).split("\n")[0]
    lowered = reason.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        advice = "the database is read-only: give the bot write access to it and its folder"
    elif "locked" in lowered or "busy" in lowered:
        advice = "the database is locked by another process: try again when it is done"
    else:
        advice = "the database cannot be written"
    return DatabaseUnavailableError(f"{advice} ({reason}); {meanwhile}")


#: Key of the PostgreSQL advisory lock held while the schema is created or changed.
_SCHEMA_LOCK = 0x54414E5941  # "TANYA"
#: Key of the PostgreSQL advisory lock a build holds from its version check to its commit.
_BUILD_LOCK = _SCHEMA_LOCK + 1


def database_url(url: str) -> str:
    """``url`` with PostgreSQL's driver named.

    ``postgres://`` and ``postgresql://`` (the forms hosting platforms hand out) mean psycopg 3,
    the driver this project installs, rather than SQLAlchemy's default psycopg2.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its folder created, WAL mode and foreign keys.

    Any other database (PostgreSQL for several workers) gets connections checked before use,
    so a restarted database server costs one reconnect instead of a failed question.
    """
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
        database = Path(parsed.database)
        private_dir(database.parent)
        private_file(database)  # SQLite gives its -wal and -shm files the same mode
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection: object, _record: object) -> None:
        cursor = connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def create_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet, and bring an older ``article`` table up to date.

    On PostgreSQL an advisory lock makes workers starting together take turns: two ``CREATE
    TABLE`` of the same table at once would fail in one of them.

    Raises:
        DatabaseUnavailableError: If a table is missing and the database cannot be written.
    """
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            SQLModel.metadata.create_all(connection)
            _add_article_versions(connection)
    except UNWRITABLE as error:
        raise database_unavailable(error, meanwhile="its tables cannot be created") from error


def _add_article_versions(connection: Connection) -> None:
    """Give a database from before index versions its ``removed_in`` column and live-key index."""
    inspector = inspect(connection)
    if "removed_in" in {column["name"] for column in inspector.get_columns("article")}:
        return
    connection.execute(sql("ALTER TABLE article ADD COLUMN removed_in INTEGER"))
    for index in inspector.get_indexes("article"):
        if index["column_names"] == ["key"] and index["unique"] and index["name"]:
            connection.execute(sql(f"DROP INDEX {index['name']}"))
    for new_index in Article.__table__.indexes:  # type: ignore[attr-defined]
        new_index.create(connection, checkfirst=True)


@dataclass(frozen=True, slots=True)
class SentenceRow:
    """A sentence with what a reply needs to cite it."""

    sentence_id: int
    chunk_id: int
    article_id: int
    position: int
    line: int
    text: str
    tokens: tuple[str, ...]
    article_key: str
    title: str
    path: str
    attribution: str | None
    url: str | None
    date: dt.date | None


def _sentence_rows_select() -> Select[*tuple[Any, ...]]:
    """Columns of a sentence and its article.

    Plain columns, not ORM objects: a question reads a few hundred rows, and building model
    instances for them cost more than the query itself.
    """
    return select_columns(
        col(Sentence.id),
        col(Sentence.chunk_id),
        col(Sentence.article_id),
        col(Sentence.position),
        col(Sentence.line),
        col(Sentence.text),
        col(Sentence.tokens),
        col(Article.key),
        col(Article.title),
        col(Article.path),
        col(Article.attribution),
        col(Article.url),
        col(Article.date),
    ).join(Article, col(Sentence.article_id) == col(Article.id))


def _sentence_row(values: Sequence[Any]) -> SentenceRow:
    """A :class:`SentenceRow` from one row of :func:`_sentence_rows_select`."""
    sentence_id, chunk_id, article_id, position, line, text, tokens = values[:7]
    key, title, path, attribution, url, date = values[7:]
    return SentenceRow(
        sentence_id=sentence_id or 0,
        chunk_id=chunk_id,
        article_id=article_id,
        position=position,
        line=line,
        text=text,
        tokens=tuple(tokens.split()),
        article_key=key,
        title=title,
        path=path,
        attribution=attribution,
        url=url,
        date=date,
    )


def sentence_rows(*, session: Session, chunk_ids: Sequence[int]) -> list[SentenceRow]:
    """Every sentence of the given chunks with its article, in one query, in article order."""
    if not chunk_ids:
        return []
    statement = (
        _sentence_rows_select()
        .where(col(Sentence.chunk_id).in_([int(i) for i in chunk_ids]))
        .order_by(col(Sentence.id))
    )
    return [_sentence_row(values) for values in session.connection().execute(statement)]


def lead_tokens(*, session: Session, article_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    """The lexical tokens of each given article's first sentence, by article id."""
    if not article_ids:
        return {}
    statement = select(Sentence.article_id, Sentence.tokens).where(
        col(Sentence.article_id).in_([int(i) for i in article_ids]), col(Sentence.position) == 0
    )
    return {article_id: tuple(text.split()) for article_id, text in session.exec(statement)}


def sentence_tokens(*, session: Session) -> tuple[list[int], list[int], list[list[str]]]:
    """Every live sentence id in increasing order, with its chunk id and its lexical tokens."""
    statement = (
        select(Sentence.id, Sentence.chunk_id, Sentence.tokens)
        .join(Article, col(Sentence.article_id) == col(Article.id))
        .where(LIVE)
        .order_by(col(Sentence.id))
    )
    ids: list[int] = []
    chunk_ids: list[int] = []
    tokens: list[list[str]] = []
    for sentence_id, chunk_id, text in session.exec(statement):
        ids.append(int(sentence_id or 0))
        chunk_ids.append(chunk_id)
        tokens.append(text.split())
    return ids, chunk_ids, tokens


def sentence_texts_with(*markers: str, session: Session) -> list[str]:
    """The text of every live sentence that holds one of ``markers`` (such as "("), in id order.

    A sentence holding several is listed once.
    """
    holds = [col(Sentence.text).contains(marker, autoescape=True) for marker in markers]
    statement = (
        select(Sentence.text)
        .join(Article, col(Sentence.article_id) == col(Article.id))
        .where(LIVE, or_(*holds))
        .order_by(col(Sentence.id))
    )
    return list(session.exec(statement))


def retokenize(*, session: Session, tokenize: Callable[[str], list[str]]) -> int:
    """Store ``tokenize`` of every live sentence as its tokens; the number of sentences changed.

    For an index whose tokens an older tokenizer made (see ``index.search.tokens.TOKENS_VERSION``).
    The caller commits, with the lexical index built from the new tokens.
    """
    statement = (
        select(Sentence.id, Sentence.text, Sentence.tokens)
        .join(Article, col(Sentence.article_id) == col(Article.id))
        .where(LIVE)
    )
    changed = [
        {"id": sentence_id, "tokens": new}
        for sentence_id, text, old in session.exec(statement)
        if (new := " ".join(tokenize(text))) != old
    ]
    for start in range(0, len(changed), 5000):
        session.execute(update(Sentence), changed[start : start + 5000])
    return len(changed)


def article_hashes(*, session: Session) -> dict[str, tuple[int, str]]:
    """Live articles: key -> (id, content hash)."""
    statement = select(Article.key, Article.id, Article.content_hash).where(LIVE)
    return {
        key: (int(article_id or 0), digest) for key, article_id, digest in session.exec(statement)
    }


def index_state(*, session: Session) -> IndexState | None:
    """The record of the last build, if any."""
    return session.exec(select(IndexState)).first()


def lock_index_state(*, session: Session) -> IndexState | None:
    """The record of the last build, read under a lock that lasts until this transaction ends.

    Two builds on two machines that share a PostgreSQL database (the folder's ``flock`` only
    serialises the builds of one machine) take turns here, so the second sees the version the
    first committed. SQLite needs no lock: its second writer fails on a stale read instead.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": _BUILD_LOCK})
    return index_state(session=session)


@dataclass(frozen=True, slots=True)
class ArticleTime:
    """When an article is from: its date if it has one, else when it was added (aware, UTC)."""

    article_id: int
    date: dt.date | None
    added_at: dt.datetime


def article_times(*, session: Session) -> list[ArticleTime]:
    """Every article's date and time added, for choosing the articles of a time window."""
    statement = (
        select(col(Article.id), col(Article.date), col(Article.added_at))
        .where(LIVE)
        .order_by(col(Article.id))
    )
    return [
        ArticleTime(
            article_id=int(article_id or 0),
            date=date,
            # SQLite hands the stored UTC time back without its offset.
            added_at=added_at if added_at.tzinfo else added_at.replace(tzinfo=dt.UTC),
        )
        for article_id, date, added_at in session.exec(statement)
    ]


@dataclass(frozen=True, slots=True)
class ArticleDetails:
    """What a reply shows of an article beyond the quote itself: its date and publisher."""

    key: str
    date: dt.date | None
    source: str | None  #: the publisher (a ``.jsonl`` record's ``source``, a feed's title)


def article_details(
    *, session: Session, keys: Collection[str], version: int = 0
) -> dict[str, ArticleDetails]:
    """The date and publisher of each article key, as index version ``version`` knows it.

    A searcher serving an older version may quote an article a later reload changed: its row
    is the oldest one that version still had (retired after it, or live). ``version`` 0: the
    live rows only.
    """
    if not keys:
        return {}
    in_version = LIVE if version <= 0 else or_(LIVE, col(Article.removed_in) > version)
    statement = (
        select_columns(col(Article.key), col(Article.date), col(Article.source))
        .where(col(Article.key).in_(list(keys)), in_version)
        .order_by(col(Article.id).desc())
    )
    # Newest first, so the oldest row of a key is the one that stays.
    return {
        key: ArticleDetails(key=key, date=date, source=source)
        for key, date, source in session.connection().execute(statement)
    }


def article_sentence_rows(
    *, session: Session, article_ids: Sequence[int], max_position: int
) -> list[SentenceRow]:
    """The first ``max_position`` sentences of each given article, in article and text order."""
    if not article_ids:
        return []
    statement = (
        _sentence_rows_select()
        .where(col(Sentence.article_id).in_([int(i) for i in article_ids]))
        .where(col(Sentence.position) < max_position)
        .order_by(col(Sentence.article_id), col(Sentence.position))
    )
    return [_sentence_row(values) for values in session.connection().execute(statement)]


def live_chunk_texts(*, session: Session) -> list[tuple[int, str]]:
    """Every live article's chunks: (chunk id, the text that was embedded)."""
    rows = session.exec(
        select(Chunk.id, Chunk.text)
        .join(Article, col(Chunk.article_id) == col(Article.id))
        .where(LIVE)
    ).all()
    return [(int(chunk_id or 0), text) for chunk_id, text in rows]


def newest_article_date(*, session: Session) -> dt.date | None:
    """The date of the newest article (None: no article has a date)."""
    return session.exec(select(func.max(Article.date))).one()


def sentence_sources(*, session: Session) -> list[tuple[int, str, int, str]]:
    """Every sentence by id: (sentence id, text, chunk id, its article's key)."""
    rows = session.exec(
        select(Sentence.id, Sentence.text, Sentence.chunk_id, Article.key)
        .join(Article, col(Sentence.article_id) == col(Article.id))
        .order_by(col(Sentence.id))
    ).all()
    return [(int(sid or 0), text, chunk_id, key) for sid, text, chunk_id, key in rows]
