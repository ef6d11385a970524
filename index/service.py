"""Opening the index for serving: build it on first start, then load it."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from config.settings import Settings
from index.builder import build_index, index_exists
from index.embedder import Embedder, load_embedder
from index.search import Searcher
from index.store import make_engine

log = logging.getLogger(__name__)


def load_searcher(
    settings: Settings, *, embedder: Embedder | None = None, engine: Engine | None = None
) -> Searcher:
    """A searcher over the built index; builds it from the articles first if there is none."""
    embedder = embedder or load_embedder(settings.embedding_model)
    engine = engine or make_engine(settings.sqlalchemy_url)
    if not index_exists(settings, engine=engine):
        log.info("no index in %s yet: building it from %s", settings.index_dir, settings.seeds_dir)
        build_index(settings, embedder=embedder, engine=engine)
    return Searcher.open(settings, embedder=embedder, engine=engine)
