"""Index versions on disk: every build writes a new folder, the database says which one serves.

``data/index/v000042/`` holds one version's FAISS vectors (``chunks.faiss``, ``chunks.json``),
its BM25 arrays (``lexical/``) and the short forms its articles define (``shortforms.json``).
A build writes the folder under a temporary name and renames it into place, then commits the
database in one transaction whose ``IndexState.version`` names the folder: that commit is the
switch. A build killed before it leaves the previous version serving
(an unfinished folder is ignored and replaced by the next build); a searcher that is open keeps
the version it loaded. ``collect_garbage`` keeps the current and the previous version.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import socket
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, delete, inspect
from sqlmodel import Session, col, select

from index.search.shortforms import save_definitions
from index.search.tokens import TOKENS_VERSION
from index.storage.lexical import BM25Index
from index.storage.private import private_dir, private_file, private_tree
from index.storage.tables import Article, Chunk, IndexState, Sentence
from index.storage.vectors import INDEX_FILE, META_FILE, IndexMismatchError, VectorIndex

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: builds are not locked across processes
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LEXICAL_DIR = "lexical"
LOCK_FILE = ".build.lock"
#: Which ``TOKENS_VERSION`` made the lexical tokens of a version (absent: version 1).
TOKENS_FILE = "tokens.json"
_VERSION = re.compile(r"^v(\d{6,})$")
_UNFINISHED = re.compile(r"^v\d{6,}\.tmp-\d+$")
#: What the index folder held before versions (one index, updated in place).
_LEGACY = (INDEX_FILE, META_FILE, LEXICAL_DIR)


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds the build lock, as its lock file records it (each part None when unknown)."""

    pid: int | None = None
    host: str | None = None
    since: dt.datetime | None = None  #: when it took the lock (aware, UTC)

    def __str__(self) -> str:
        """For logs and exceptions, e.g. ``pid 4242 on worker-1 since 2026-12-06T13:02:26+00:00``."""
        parts = [f"pid {self.pid}" if self.pid is not None else "unknown process"]
        if self.host:
            parts.append(f"on {self.host}")
        if self.since is not None:
            parts.append(f"since {self.since.isoformat(timespec='seconds')}")
        return " ".join(parts)


class BuildBusyError(RuntimeError):
    """Another build (a reload in the bot, or ``python -m index build``) is running.

    ``holder`` is who holds the lock, as far as its lock file tells.
    """

    def __init__(self, index_dir: Path, holder: LockHolder) -> None:
        super().__init__(f"another build of {index_dir} is running ({holder})")
        self.index_dir = index_dir
        self.holder = holder


class IndexNotBuiltError(RuntimeError):
    """The database names no index version, or its folder is missing."""


class StaleTokensError(IndexMismatchError):
    """The version's lexical tokens were made by an older tokenizer: a build makes them again."""


def version_folder(index_dir: Path, version: int) -> Path:
    """The folder of one version, e.g. ``data/index/v000042``."""
    return index_dir / f"v{version:06d}"


def version_exists(index_dir: Path, version: int) -> bool:
    """Whether that version's vectors and lexical arrays are all on disk."""
    folder = version_folder(index_dir, version)
    return (
        version > 0
        and VectorIndex.exists(folder)
        and (folder / LEXICAL_DIR / "vocabulary.json").is_file()
    )


def versions_on_disk(index_dir: Path) -> list[int]:
    """The complete version folders, oldest first."""
    if not index_dir.is_dir():
        return []
    found = [int(m.group(1)) for p in index_dir.iterdir() if (m := _VERSION.match(p.name))]
    return sorted(v for v in found if version_exists(index_dir, v))


def current_version(engine: Engine) -> int:
    """The version the database names (0: never built)."""
    if not inspect(engine).has_table(IndexState.__tablename__):  # type: ignore[arg-type]
        return 0
    with Session(engine) as session:
        state = session.exec(select(IndexState)).first()
    return state.version if state else 0


def load_version(index_dir: Path, version: int, *, model: str) -> tuple[VectorIndex, BM25Index]:
    """One version's vectors (checked against ``model``) and lexical index, memory-mapped.

    Raises:
        IndexNotBuiltError: If that version is not on disk.
        IndexMismatchError: If it was built with another embedding model.
        StaleTokensError: If an older tokenizer made its lexical tokens.
    """
    if not version_exists(index_dir, version):
        raise IndexNotBuiltError(
            f"no index version {version} in {index_dir}: run `python -m index build`"
        )
    folder = version_folder(index_dir, version)
    vectors = VectorIndex.load(folder, model=model, mmap=True)
    if (found := tokens_version(folder)) != TOKENS_VERSION:
        raise StaleTokensError(
            f"the index in {folder} holds tokens of tokenizer version {found}, and this code "
            f"makes version {TOKENS_VERSION}: run `python -m index build` to tokenise the "
            "stored sentences again (nothing is embedded again)"
        )
    return vectors, BM25Index.load(folder / LEXICAL_DIR)


def tokens_version(folder: Path) -> int:
    """The ``TOKENS_VERSION`` that made the lexical tokens of the version in ``folder``."""
    path = folder / LEXICAL_DIR / TOKENS_FILE
    if not path.is_file():
        return 1  # written before tokenizer versions were recorded
    return int(json.loads(path.read_text(encoding="utf-8"))["version"])


def write_version(
    index_dir: Path,
    version: int,
    vectors: VectorIndex,
    lexical: BM25Index,
    definitions: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write a version under a temporary name, flush it to disk, then rename it into place.

    ``lexical`` must hold tokens of this code's tokenizer: the version is stamped with it.
    ``definitions``: the (short, long) forms its articles define (``index.search.shortforms``).
    """
    final = version_folder(index_dir, version)
    temporary = index_dir / f"{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    vectors.save(temporary)
    lexical.save(temporary / LEXICAL_DIR)
    (temporary / LEXICAL_DIR / TOKENS_FILE).write_text(
        json.dumps({"version": TOKENS_VERSION}), encoding="utf-8"
    )
    save_definitions(temporary, definitions)
    private_tree(temporary)
    _fsync_tree(temporary)
    if final.exists():  # left by a build that died before its commit: never served
        shutil.rmtree(final)
    os.replace(temporary, final)
    _fsync_dir(index_dir)
    return final


def adopt_legacy_layout(index_dir: Path, version: int) -> bool:
    """Move an index written before versions (files directly in ``index_dir``) into its folder."""
    if version <= 0 or version_exists(index_dir, version):
        return False
    if not (index_dir / INDEX_FILE).is_file() or not (index_dir / LEXICAL_DIR).is_dir():
        return False
    target = version_folder(index_dir, version)
    temporary = index_dir / f"{target.name}.tmp-{os.getpid()}"
    temporary.mkdir(parents=True, exist_ok=True)
    for name in _LEGACY:
        if (index_dir / name).exists():
            os.replace(index_dir / name, temporary / name)
    os.replace(temporary, target)
    log.info("moved the index in %s into %s", index_dir, target)
    return True


@dataclass(slots=True)
class Garbage:
    """What ``collect_garbage`` removed."""

    folders: list[str] = field(default_factory=list)
    articles: int = 0
    skipped: bool = False  # a build was running: nothing was touched


def collect_garbage(index_dir: Path, engine: Engine) -> Garbage:
    """Delete versions older than the previous one: their folders and their retired rows.

    Rows retired in version ``R`` were live in versions before ``R``; they go once ``R`` is at
    most the previous kept version, so the previous version's searcher still finds every row.
    Does nothing while a build holds the lock.
    """
    garbage = Garbage()
    try:
        with build_lock(index_dir):
            current = current_version(engine)
            if current == 0:
                return garbage
            adopt_legacy_layout(index_dir, current)
            previous = max((v for v in versions_on_disk(index_dir) if v < current), default=None)
            keep = {current} if previous is None else {current, previous}
            garbage.folders = _remove_folders(index_dir, keep)
            garbage.articles = _delete_retired(
                engine, up_to=current if previous is None else previous
            )
    except BuildBusyError:
        garbage.skipped = True
    if garbage.folders or garbage.articles:
        log.info(
            "removed old index versions %s and %d retired articles",
            ", ".join(garbage.folders) or "-",
            garbage.articles,
        )
    return garbage


def drop_versions(index_dir: Path, versions: Iterable[int]) -> None:
    """Delete those versions' folders; the caller holds the build lock and serves none of them.

    A build that publishes in steps drops its own older steps as it goes: a searcher that
    still maps one keeps reading it (on Linux a deleted file stays readable while mapped).
    """
    for version in versions:
        shutil.rmtree(version_folder(index_dir, version), ignore_errors=True)


def _remove_folders(index_dir: Path, keep: set[int]) -> list[str]:
    removed = []
    for path in sorted(index_dir.iterdir()):
        match = _VERSION.match(path.name)
        old_version = match is not None and int(match.group(1)) not in keep
        if old_version or _UNFINISHED.match(path.name) or path.name in _LEGACY:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path.name)
    return removed


def _delete_retired(engine: Engine, *, up_to: int) -> int:
    with Session(engine) as session:
        ids = list(
            session.exec(
                select(Article.id).where(col(Article.removed_in) <= up_to)  # type: ignore[operator]
            ).all()
        )
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            for table in (Sentence, Chunk):
                session.exec(delete(table).where(col(table.article_id).in_(batch)))  # type: ignore[call-overload]
            session.exec(delete(Article).where(col(Article.id).in_(batch)))  # type: ignore[call-overload]
        session.commit()
    return len(ids)


@contextmanager
def build_lock(index_dir: Path, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the index folder's build lock, waiting up to ``wait`` seconds for it.

    An advisory ``flock`` on ``index/.build.lock``: the system releases it when the process
    ends, even by SIGKILL, so a crashed build never blocks the next one. The file records who
    holds it (pid, host, since when), for the error another build gets meanwhile.

    Raises:
        BuildBusyError: If another process still holds it after ``wait`` seconds (at once
            by default).
    """
    private_dir(index_dir)
    private_file(index_dir / LOCK_FILE)
    with open(index_dir / LOCK_FILE, "a+", encoding="utf-8") as handle:
        if fcntl is not None:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise BuildBusyError(index_dir, _holder(handle)) from None
                time.sleep(min(0.2, max(deadline - time.monotonic(), 0.0)))
        handle.seek(0)
        handle.truncate()
        since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()}\nhost {socket.gethostname()}\nsince {since}\n")
        handle.flush()
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _holder(handle: IO[str]) -> LockHolder:
    """What the lock file records: ``pid N``, ``host NAME``, ``since ISO-TIME`` lines."""
    handle.seek(0)
    fields: dict[str, str] = {}
    for line in handle.read().splitlines():
        name, _, value = line.partition(" ")
        fields[name] = value.strip()
    pid = fields.get("pid", "")
    since = None
    with suppress(KeyError, ValueError):
        since = dt.datetime.fromisoformat(fields["since"])
    return LockHolder(
        pid=int(pid) if pid.isdigit() else None,
        host=fields.get("host") or None,
        since=since,
    )


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for sub in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync_dir(sub)


def _fsync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # some systems cannot open a folder: the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
