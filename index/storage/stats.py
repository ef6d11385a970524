"""Figures about the built index: what ``python -m index stats`` and the bot's /status show."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine, func
from sqlalchemy import text as sql
from sqlmodel import Session, col, select

from config.settings import Settings
from index.storage.store import LIVE, create_schema, index_state, make_engine
from index.storage.tables import Article, Chunk, Sentence
from index.storage.versions import version_folder, versions_on_disk


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Figures about the built index (0 and None before the first build)."""

    articles: int  #: live articles
    sentences: int
    chunks: int
    model: str | None  #: the embedding model that built it
    dimension: int | None
    index_bytes: int  #: the serving version's folder
    disk_bytes: int  #: the index folder (the kept previous version too) and the database
    last_build: dt.datetime | None  #: when the serving version was built (aware)
    version: int  #: the version the database names (0: never built)
    versions_on_disk: tuple[int, ...]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: ``last_build`` as ISO 8601 to the second, ``versions_on_disk`` a list."""
        data = asdict(self)
        data["last_build"] = (
            self.last_build.isoformat(timespec="seconds") if self.last_build else None
        )
        data["versions_on_disk"] = list(self.versions_on_disk)
        return data


def _size_on_disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def _database_bytes(engine: Engine) -> int | None:
    """The database's size in bytes (None for databases other than SQLite and PostgreSQL).

    SQLite: its file and write-ahead log; PostgreSQL: as the server counts it.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            size = connection.execute(sql("SELECT pg_database_size(current_database())"))
            return int(size.scalar_one())
    parsed = engine.url
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    files = [path, path.with_name(path.name + "-wal")]
    return sum(p.stat().st_size for p in files if p.is_file())


def index_stats(settings: Settings, *, engine: Engine | None = None) -> IndexStats:
    """Live articles, sentences, chunks, model, index size on disk and the last build time.

    ``index_bytes`` is the serving version's folder; ``disk_bytes`` adds the kept previous
    version and the database file.
    """
    own_engine = engine is None
    engine = engine or make_engine(settings.sqlalchemy_url)
    create_schema(engine)
    with Session(engine) as session:
        counts = {"articles": session.exec(select(func.count()).where(LIVE)).one()}
        for name, table in (("sentences", Sentence), ("chunks", Chunk)):
            counts[name] = session.exec(
                select(func.count())
                .select_from(table)
                .join(Article, col(table.article_id) == col(Article.id))
                .where(LIVE)
            ).one()
        state = index_state(session=session)
    database_bytes = _database_bytes(engine)
    if own_engine:
        engine.dispose()
    version = state.version if state else 0
    built = state.built_at if state else None
    if built is not None and built.tzinfo is None:  # SQLite drops the offset of stored UTC
        built = built.replace(tzinfo=dt.UTC)
    return IndexStats(
        articles=counts["articles"],
        sentences=counts["sentences"],
        chunks=counts["chunks"],
        model=state.model if state else None,
        dimension=state.dim if state else None,
        index_bytes=_size_on_disk(version_folder(settings.index_dir, version)),
        disk_bytes=_size_on_disk(settings.index_dir) + (database_bytes or 0),
        last_build=built,
        version=version,
        versions_on_disk=tuple(versions_on_disk(settings.index_dir)),
    )
