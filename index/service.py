"""Opening the index for serving: build it on first start, then load it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from config.settings import Settings
from index.encoders.embedder import Embedder, settings_embedder
from index.reload import collect_garbage, embedder_for_builds
from index.search.searcher import Searcher
from index.storage.builder import Published, build_index, index_exists
from index.storage.store import make_engine
from index.storage.vectors import IndexMismatchError
from index.storage.versions import BuildBusyError, StaleTokensError, build_lock, current_version

log = logging.getLogger(__name__)

#: How long a starting worker waits for another one's build of the same index (seconds).
STARTUP_BUILD_WAIT = 3600.0
#: The name of the thread that goes on with a build after its first version serves.
BUILD_THREAD = "index build"

#: Hears, from the build's thread, of a searcher on each later version of a build at start.
NewVersion = Callable[[Searcher], None]


def load_searcher(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    engine: Engine | None = None,
    on_new_version: NewVersion | None = None,
) -> Searcher:
    """A searcher over the built index; builds it from the articles first if there is none.

    A missing or damaged index file is logged and the index rebuilt from the articles, so a
    restart mends it instead of crashing again. Tokens an older tokenizer made are made again
    (a build that embeds nothing it has already embedded).

    With ``on_new_version`` (the bot) such a build goes on in a thread: this returns a searcher
    as soon as the build has published its first version (a first build publishes one every
    ``settings.build_publish_every`` articles), and ``on_new_version`` gets a searcher on each
    later one. Without it, this returns when the whole build is done.

    Raises:
        Whatever stopped the build before it published a version.
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
        _build(settings, embedder=embedder, engine=engine, full=False, on_new=on_new_version)
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
    _build(settings, embedder=embedder, engine=engine, full=True, on_new=on_new_version)
    return Searcher.open(settings, embedder=embedder, engine=engine)


def _build(
    settings: Settings,
    *,
    embedder: Embedder,
    engine: Engine,
    full: bool,
    on_new: NewVersion | None,
) -> None:
    if on_new is None:
        _build_or_wait(settings, embedder=embedder, engine=engine, full=full)
    else:
        _build_in_background(settings, embedder=embedder, engine=engine, full=full, on_new=on_new)


def _build_in_background(
    settings: Settings, *, embedder: Embedder, engine: Engine, full: bool, on_new: NewVersion
) -> None:
    """Start the build in a thread; return once it has published a version, or has ended.

    The build embeds with an embedder of its own (``embedder_for_builds``), so questions to the
    first versions are not kept waiting behind it. Each later version is opened with
    ``embedder`` and handed to ``on_new``; one that fails to open is logged and skipped. A
    build that stops after its first version leaves the last one it published serving.

    Raises:
        Whatever stopped the build before it published a version.
    """
    first = threading.Event()
    published: list[int] = []
    failure: list[BaseException] = []

    def serve(version: int) -> None:
        published.append(version)
        if len(published) == 1:
            first.set()  # the caller opens this one
            return
        try:
            searcher = Searcher.open(settings, embedder=embedder, engine=engine)
        except Exception:
            log.exception("cannot open index version %d; the previous one keeps serving", version)
            return
        on_new(searcher)

    def run() -> None:
        try:
            _build_or_wait(
                settings,
                embedder=embedder_for_builds(embedder),
                engine=engine,
                full=full,
                published=serve,
            )
            collect_garbage(settings.index_dir, engine)
        except BaseException as error:
            if published:
                log.exception("the index build stopped; version %d keeps serving", published[-1])
            else:
                failure.append(error)
        finally:
            first.set()

    threading.Thread(target=run, name=BUILD_THREAD, daemon=True).start()
    first.wait()
    if failure:
        raise failure[0]


def _build_or_wait(
    settings: Settings,
    *,
    embedder: Embedder,
    engine: Engine,
    full: bool,
    published: Published | None = None,
) -> None:
    """Build the index, or wait for the build another worker of the same folder is running.

    Waiting is enough: that build makes what this one would (workers starting together on a
    new data dir, or all finding the same damaged file). The wait ends when that build ends,
    or as soon as it publishes a version: a first build publishes in steps, and a worker
    follows the later ones (``TANYA_SYNC_SECONDS``).
    """
    since = current_version(engine)
    try:
        build_index(settings, embedder=embedder, engine=engine, full=full, published=published)
    except BuildBusyError as error:
        log.info("%s: waiting for it to publish a version", error)
        _wait_for_other_build(settings, engine=engine, since=since)


def _wait_for_other_build(settings: Settings, *, engine: Engine, since: int) -> None:
    """Until the build that holds the lock ends, or a version after ``since`` serves."""
    deadline = time.monotonic() + STARTUP_BUILD_WAIT
    while True:
        try:
            with build_lock(settings.index_dir, wait=min(1.0, deadline - time.monotonic())):
                return
        except BuildBusyError:
            if current_version(engine) > since and index_exists(settings, engine=engine):
                return
            if time.monotonic() >= deadline:
                raise
