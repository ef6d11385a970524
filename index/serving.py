"""The index one process serves: opened (built on a first start), reloaded, swapped, followed.

:class:`ServingIndex` holds the searcher that answers questions and is the one place that
changes it. ``open`` loads the version the database names, building the index from the
articles first when there is none or it is damaged (the build at start: ``startup.py``).
``reload`` (``/reload`` in the bot) fetches the feeds, builds a new version, opens a searcher on
it aside and swaps it in: the searcher that was serving is never touched, and questions go on
meanwhile. ``build`` is the same without a searcher (``python -m index build``). One reload at a
time per process (``reload_turn``), and per index folder across processes
(``versions.build_lock``, whose holder ``BuildBusyError`` names). Other processes on the same
database and folder pick up a new version with ``follow`` (the bot runs it every
``TANYA_SYNC_SECONDS``); a version that fails to open leaves the old one serving. Old versions
are collected after every build.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine

from config.settings import Settings
from index.encoders.embedder import Embedder, settings_embedder
from index.search.searcher import Searcher
from index.startup import build_in_background, build_or_wait, embedder_for_builds
from index.storage.builder import BuildReport, Progress, build_index, index_exists
from index.storage.store import make_engine
from index.storage.vectors import IndexMismatchError
from index.storage.versions import Garbage, StaleTokensError, collect_garbage, current_version

log = logging.getLogger(__name__)

__all__ = [
    "ReloadResult",
    "ReloadRunningError",
    "ReloadTurn",
    "ServingIndex",
]

#: Hears, from the build's thread, of a searcher on each later version of a build at start.
NewVersion = Callable[[Searcher], None]


class ReloadRunningError(RuntimeError):
    """This process is already reloading the index."""


@dataclass(slots=True)
class ReloadResult:
    """What a reload did, and the searcher it swapped in (None: the serving one stays)."""

    report: BuildReport
    searcher: Searcher | None = None


class ServingIndex:
    """The searcher a process answers from, and everything that replaces it.

    Thread-safe: ``searcher`` may be read from any thread while a reload, a build at start or
    ``follow`` swaps another one in (one assignment).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        engine: Engine | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        """Nothing is read yet; ``searcher`` (already open) serves at once.

        ``embedder`` and ``engine`` default to ``searcher``'s, else to the settings' (made when
        first needed).
        """
        self.settings = settings
        self._embedder = embedder or (searcher.embedder if searcher else None)
        self._engine = engine or (searcher.engine if searcher else None)
        self._owns_engine = self._engine is None
        self._searcher = searcher
        self._swap = threading.Lock()
        self._turn = threading.Lock()
        self._builds_embedder: Embedder | None = None
        #: The last reload's outcome, None before the first.
        self.last: ReloadResult | None = None
        #: A version another process made that would not open (logged once, retried).
        self.failed_version: int | None = None

    @property
    def embedder(self) -> Embedder:
        """What embeds questions (and, with nothing serving, the articles of a build)."""
        if self._embedder is None:
            self._embedder = settings_embedder(self.settings)
        return self._embedder

    @property
    def engine(self) -> Engine:
        """The database engine every searcher of this index shares."""
        if self._engine is None:
            self._engine = make_engine(self.settings.sqlalchemy_url)
        return self._engine

    @property
    def searcher(self) -> Searcher | None:
        """The searcher answering questions now (None before ``open``)."""
        return self._searcher

    @searcher.setter
    def searcher(self, searcher: Searcher) -> None:
        """Serve ``searcher`` from now on, whatever its version."""
        with self._swap:
            self._searcher = searcher

    @property
    def reloading(self) -> bool:
        """Whether a reload (or ``build``) of this process is running."""
        return self._turn.locked()

    def close(self) -> None:
        """Dispose of the database engine, if this made it."""
        if self._owns_engine and self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ------------------------------------------------------------------------------- open

    def open(
        self, *, background: bool = False, on_new_version: NewVersion | None = None
    ) -> Searcher:
        """Serve the version the database names, built from the articles first if there is none.

        A missing or damaged index file is logged and the index rebuilt from the articles, so a
        restart mends it instead of crashing again. Tokens an older tokenizer made are made again
        (a build that embeds nothing it has already embedded).

        With ``background`` (the bot) such a build goes on in a thread: this returns as soon as
        the build has published its first version (a first build publishes one every
        ``settings.build_publish_every`` articles), and each later one is swapped in as it comes
        (``on_new_version`` hears of it too). Without it, this returns when the whole build is
        done.

        Raises:
            IndexMismatchError: If the index was built with another model (its message says
                what to run).
            Whatever stopped the build before it published a version.
        """
        settings, engine = self.settings, self.engine
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
                    "no index in %s yet: building it from %s",
                    settings.index_dir,
                    settings.seeds_dir,
                )
            self._start_build(full=False, background=background, on_new=on_new_version)
        try:
            return self._open_and_serve()
        except StaleTokensError as error:
            log.info("%s: doing that now", error)
            build_or_wait(self.settings, embedder=self.embedder, engine=self.engine, full=False)
            return self._open_and_serve()
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
        self._start_build(full=True, background=background, on_new=on_new_version)
        return self._open_and_serve()

    # ----------------------------------------------------------------------------- reload

    @contextmanager
    def reload_turn(self) -> Iterator[ReloadTurn | None]:
        """This process's one turn to reload, taken at once; None while another reload runs.

        Taken before the reload itself runs (in another thread), so that a second ``/reload``
        is told at once that one is running.
        """
        if not self._turn.acquire(blocking=False):
            yield None
            return
        try:
            yield ReloadTurn(self)
        finally:
            self._turn.release()

    def reload(self, *, full: bool = False, progress: Progress | None = None) -> ReloadResult:
        """Fetch the feeds, build what changed into a new version, open it aside and serve it.

        The searcher that was serving is never touched; the new one answers with its embedder
        and shares its database engine. With nothing serving yet, the new version serves.
        ``report.seconds`` is the feeds and the build. Older versions are collected afterwards.

        Raises:
            ReloadRunningError: If this process is already reloading.
            BuildBusyError: If another process is building the same index.
        """
        with self.reload_turn() as turn:
            if turn is None:
                raise ReloadRunningError("a reload of this index is already running")
            return turn.reload(full=full, progress=progress)

    def build(self, *, full: bool = False, progress: Progress | None = None) -> BuildReport:
        """Fetch the feeds and build what changed, serving nothing (``python -m index build``).

        A bot on the same data dir may still serve the previous version: it is kept.

        Raises:
            ReloadRunningError: If this process is already reloading.
            BuildBusyError: If another process is building the same index.
        """
        with self.reload_turn() as turn:
            if turn is None:
                raise ReloadRunningError("a reload of this index is already running")
            report = self._build(full=full, progress=progress)
            self.collect_garbage()
            return report

    # ----------------------------------------------------------------------------- follow

    def follow(self) -> Searcher | None:
        """Serve the version the database names, when another process made it; None if not.

        This is how a worker picks up a reload another worker (or ``python -m index build``)
        made: the database is shared, and so is the index folder. Skipped while this process
        reloads (its own reload swaps). A version that fails to open is logged once, and the
        old one keeps serving; the next call tries again.
        """
        serving = self._searcher
        if serving is None or self.reloading:
            return None
        latest = current_version(self.engine)
        if latest in (0, serving.version):
            return None
        try:
            searcher = Searcher.open(self.settings, embedder=serving.embedder, engine=self.engine)
        except Exception as error:  # the old version keeps serving; try again on the next run
            if self.failed_version != latest:
                log.error(
                    "cannot open index version %d (%s: %s); version %d keeps serving",
                    latest,
                    type(error).__name__,
                    error,
                    serving.version,
                )
            self.failed_version = latest
            return None
        with self._swap:
            if self._searcher is not serving:  # swapped meanwhile: that one stays
                return None
            self._searcher = searcher
        self.failed_version = None
        log.info(
            "now serving index version %d (was %d), built by another process",
            searcher.version,
            serving.version,
        )
        return searcher

    def collect_garbage(self) -> Garbage:
        """Delete versions older than the previous one (``versions.collect_garbage``)."""
        return collect_garbage(self.settings.index_dir, self.engine)

    # -------------------------------------------------------------------------- internals

    def _reload(self, *, full: bool, progress: Progress | None) -> ReloadResult:
        """``reload``, its turn taken."""
        previous = self._searcher
        report = self._build(full=full, progress=progress)
        searcher = None
        if previous is None or previous.version != report.version:
            searcher = Searcher.open(
                self.settings,
                embedder=previous.embedder if previous else self.embedder,
                engine=self.engine,
            )
            self.searcher = searcher  # the swap: questions from now on use the new version
        result = ReloadResult(report=report, searcher=searcher)
        self.last = result
        # The build logged its counts; this says the new version now serves.
        log.info("reload to index version %d: serving it", report.version)
        self.collect_garbage()
        return result

    def _build(self, *, full: bool, progress: Progress | None) -> BuildReport:
        """Fetch the feeds and build, with an embedder that keeps no question waiting."""
        return build_index(
            self.settings,
            embedder=self._embedder_for_builds(),
            engine=self.engine,
            full=full,
            feeds=True,
            progress=progress,
        )

    def _embedder_for_builds(self) -> Embedder:
        """The builds' own embedder once questions are answered, else this index's."""
        if self._searcher is None:
            return self.embedder  # no question waits behind the build
        return self._builds_own_embedder()

    def _builds_own_embedder(self) -> Embedder:
        """``embedder_for_builds`` of this index's embedder, made once for every build."""
        if self._builds_embedder is None:
            self._builds_embedder = embedder_for_builds(self.embedder)
        return self._builds_embedder

    def _open_and_serve(self) -> Searcher:
        """A searcher on the version the database names, served unless a newer one serves."""
        searcher = Searcher.open(self.settings, embedder=self.embedder, engine=self.engine)
        self._serve_newer(searcher)
        return searcher

    def _serve_newer(self, searcher: Searcher) -> bool:
        """Serve ``searcher`` unless a version as new already serves."""
        with self._swap:
            serving = self._searcher
            if serving is not None and serving.version >= searcher.version:
                return False
            self._searcher = searcher
        if serving is not None:
            log.info("now serving index version %d (was %d)", searcher.version, serving.version)
        return True

    def _start_build(self, *, full: bool, background: bool, on_new: NewVersion | None) -> None:
        """Build at start (``startup``): in a thread that serves each later version, or here."""
        if not background:
            build_or_wait(self.settings, embedder=self.embedder, engine=self.engine, full=full)
            return

        def serve_later(version: int) -> None:  # from the build's thread
            try:
                searcher = self._open_and_serve()
            except Exception:
                log.exception(
                    "cannot open index version %d; the previous one keeps serving", version
                )
                return
            if on_new is not None:
                on_new(searcher)

        build_in_background(
            self.settings,
            embedder=self._builds_own_embedder(),
            engine=self.engine,
            full=full,
            later=serve_later,
        )


class ReloadTurn:
    """This process's turn to reload, taken with ``ServingIndex.reload_turn``."""

    def __init__(self, serving: ServingIndex) -> None:
        self._serving = serving

    def reload(self, *, full: bool = False, progress: Progress | None = None) -> ReloadResult:
        """The reload (``ServingIndex.reload``), in this turn.

        Raises:
            BuildBusyError: If another process is building the same index.
        """
        return self._serving._reload(full=full, progress=progress)
