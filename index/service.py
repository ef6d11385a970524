"""Opening the index for serving: build it on first start, then load it."""

from __future__ import annotations

import logging

from config.settings import Settings
from index.builder import build_index, index_exists
from index.embedder import Embedder, load_embedder
from index.search import Searcher

log = logging.getLogger(__name__)


def load_searcher(settings: Settings, *, embedder: Embedder | None = None) -> Searcher:
    """A searcher over the built index; builds it from the seeds folder first if there is none."""
    embedder = embedder or load_embedder(settings.embedding_model)
    if not index_exists(settings):
        log.info("no index in %s yet: building it from %s", settings.index_dir, settings.seeds_dir)
        build_index(settings, embedder=embedder)
    return Searcher.open(settings, embedder=embedder)
