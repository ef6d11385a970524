"""Figures about the built index: what ``python -m index stats`` and the bot's /status show."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from config.settings import Settings
from index.models import Article, Chunk, Sentence
from index.store import create_schema, index_state, make_engine


def _size_on_disk(settings: Settings) -> int:
    folder = settings.index_dir
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def index_stats(settings: Settings) -> dict[str, object]:
    """Articles, sentences, chunks, model, index size on disk and the last build time."""
    engine = make_engine(settings.sqlalchemy_url)
    create_schema(engine)
    with Session(engine) as session:
        counts = {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in (("articles", Article), ("sentences", Sentence), ("chunks", Chunk))
        }
        state = index_state(session=session)
    engine.dispose()
    return {
        **counts,
        "model": state.model if state else None,
        "dimension": state.dim if state else None,
        "index_bytes": _size_on_disk(settings),
        "last_build": state.built_at.isoformat(timespec="seconds") if state else None,
        "version": state.version if state else 0,
    }
