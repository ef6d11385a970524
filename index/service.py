"""Opening the index for serving: build it on first start, then load it."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from config.settings import Settings
from index.builder import build_index, index_exists
from index.embedder import Embedder, load_embedder
from index.search import Searcher
from index.store import make_engine
from index.vectors import IndexMismatchError
from index.versions import current_version

log = logging.getLogger(__name__)


def load_searcher(
    settings: Settings, *, embedder: Embedder | None = None, engine: Engine | None = None
) -> Searcher:
    """A searcher over the built index; builds it from the articles first if there is none.

    A missing or damaged index file is logged and the index rebuilt from the articles, so a
    restart mends it instead of crashing again.
    """
    embedder = embedder or load_embedder(settings.embedding_model)
    engine = engine or make_engine(settings.sqlalchemy_url)
    if not index_exists(settings, engine=engine):
        version = current_version(engine)
        if version > 0:
            log.error(
                "index version %d in %s is missing files: rebuilding it from %s",
                version,
                settings.index_dir,
                settings.seeds_dir,
            )
        else:
            log.info(
                "no index in %s yet: building it from %s", settings.index_dir, settings.seeds_dir
            )
        build_index(settings, embedder=embedder, engine=engine)
    try:
        return Searcher.open(settings, embedder=embedder, engine=engine)
    except IndexMismatchError:
        raise  # its message says what to run; rebuilding with another model is a decision
    except Exception as error:  # a damaged file of any kind: faiss, numpy, JSON
        log.error(
            "the index in %s cannot be read (%s: %s): rebuilding it from %s",
            settings.index_dir,
            type(error).__name__,
            error,
            settings.seeds_dir,
        )
    build_index(settings, embedder=embedder, engine=engine, full=True)
    return Searcher.open(settings, embedder=embedder, engine=engine)
