"""Opening the index for serving: build it on first start, then load it."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from config.settings import Settings
from index.builder import build_index, index_exists
from index.embedder import Embedder, settings_embedder
from index.search import Searcher
from index.store import make_engine
from index.vectors import IndexMismatchError
from index.versions import BuildBusyError, StaleTokensError, build_lock, current_version

log = logging.getLogger(__name__)

#: How long a starting worker waits for another one's build of the same index (seconds).
STARTUP_BUILD_WAIT = 3600.0


def load_searcher(
    settings: Settings, *, embedder: Embedder | None = None, engine: Engine | None = None
) -> Searcher:
    """A searcher over the built index; builds it from the articles first if there is none.

    A missing or damaged index file is logged and the index rebuilt from the articles, so a
    restart mends it instead of crashing again. Tokens an older tokenizer made are made again
    (a build that embeds nothing it has already embedded).
    """
    embedder = embedder or settings_embedder(settings)
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
        _build_or_wait(settings, embedder=embedder, engine=engine, full=False)
    try:
        return Searcher.open(settings, embedder=embedder, engine=engine)
    except StaleTokensError as error:
        log.info("%s: doing that now", error)
        _build_or_wait(settings, embedder=embedder, engine=engine, full=False)
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
    _build_or_wait(settings, embedder=embedder, engine=engine, full=True)
    return Searcher.open(settings, embedder=embedder, engine=engine)


def _build_or_wait(settings: Settings, *, embedder: Embedder, engine: Engine, full: bool) -> None:
    """Build the index, or wait for the build another worker of the same folder is running.

    Waiting is enough: that build makes what this one would (workers starting together on a
    new data dir, or all finding the same damaged file).
    """
    try:
        build_index(settings, embedder=embedder, engine=engine, full=full)
    except BuildBusyError as error:
        log.info("%s: waiting for it to finish", error)
        with build_lock(settings.index_dir, wait=STARTUP_BUILD_WAIT):
            pass
