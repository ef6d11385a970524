"""Read article files (.txt, .md, .jsonl) and folders of them into cleaned articles.

A bad file never raises: it is reported in :class:`ReadReport.skipped` with a
:class:`SkipReason`. Plain text and Markdown are parsed in :mod:`index.articles.text`, JSONL
records in :mod:`index.articles.records`; the report types are in :mod:`index.articles.reports`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from index.articles.cleaning import INVISIBLE
from index.articles.decoding import BINARY_SAMPLE, decode, has_utf16_bom, looks_binary
from index.articles.records import read_jsonl
from index.articles.reports import (
    ReadReport,
    ReadWarning,
    SkippedFile,
    SkipReason,
    WarningKind,
    human_size,
)
from index.articles.text import parse_text_article

__all__ = [
    "ARTICLE_SUFFIXES",
    "DEFAULT_MAX_BYTES",
    "read_file",
    "read_folder",
]

#: File types read by :func:`read_folder`; anything else is ignored.
ARTICLE_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".jsonl")
#: Larger .txt/.md files, and larger .jsonl records, are skipped.
DEFAULT_MAX_BYTES = 5_000_000


def read_file(
    path: Path,
    *,
    folder: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    known: Mapping[str, str] | None = None,
) -> ReadReport:
    """Read one article file.

    Args:
        path: A ``.txt``, ``.md`` or ``.jsonl`` file.
        folder: The folder the file was found in: keys are relative to it and paths shown to
            users are ``folder/relpath``.
        max_bytes: Larger .txt/.md files are skipped; for .jsonl the limit applies to each
            record (line), since a .jsonl file is a collection of articles.
        known: Content hash of articles already indexed, by key: an article whose raw
            content still has that hash is listed in ``unchanged`` instead of parsed.

    Returns:
        The articles read, with anything skipped and any warnings. Never raises for a bad file.
    """
    path, folder = Path(path), Path(folder)
    key, display = _relative(path, folder)
    suffix = path.suffix.lower()
    report = ReadReport()
    try:
        if suffix == ".jsonl":
            read_jsonl(path, key, display, max_bytes, report, known or {})
        elif suffix in (".txt", ".md"):
            _read_text(path, key, display, max_bytes, report, known or {}, markdown=suffix == ".md")
        else:
            report.skipped.append(SkippedFile(display, SkipReason.NOT_ARTICLE_FILE, suffix))
    except OSError as exc:
        error = str(exc.strerror or exc)
        report.skipped.append(SkippedFile(display, SkipReason.CANNOT_READ, error))
    return report


def read_folder(
    folder: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, known: Mapping[str, str] | None = None
) -> ReadReport:
    """Read every ``.txt``, ``.md`` and ``.jsonl`` file under a folder.

    Files and folders whose names start with a dot are skipped; other file types are ignored
    silently. Files are read in order of their relative path.

    Args:
        folder: The folder to read, recursively.
        max_bytes: See :func:`read_file`.
        known: See :func:`read_file`.

    Returns:
        All articles read, what was skipped and why, and warnings.

    Raises:
        FileNotFoundError: If ``folder`` does not exist or is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"article folder not found: {folder}")
    report = ReadReport()
    for path in _article_files(folder, report.warnings):
        report.extend(read_file(path, folder=folder, max_bytes=max_bytes, known=known))
    return report


def _read_text(
    path: Path,
    key: str,
    display: str,
    max_bytes: int,
    report: ReadReport,
    known: Mapping[str, str],
    *,
    markdown: bool,
) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        report.skipped.append(
            SkippedFile(
                display, SkipReason.TOO_LARGE, human_size(size), limit=human_size(max_bytes)
            )
        )
        return
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if known.get(key) == digest:
        report.unchanged.append(key)
        return
    if b"\x00" in data[:BINARY_SAMPLE] and not has_utf16_bom(data):
        report.skipped.append(SkippedFile(display, SkipReason.BINARY))
        return
    try:
        text, fallback = decode(data)
    except UnicodeDecodeError:
        report.skipped.append(SkippedFile(display, SkipReason.NOT_DECODABLE))
        return
    if not text.translate(INVISIBLE).strip():
        report.skipped.append(SkippedFile(display, SkipReason.EMPTY))
        return
    if looks_binary(text):
        report.skipped.append(SkippedFile(display, SkipReason.BINARY))
        return
    if fallback:
        report.warnings.append(ReadWarning(display, WarningKind.READ_AS_CP1252))
    article = parse_text_article(
        text,
        key=key,
        path=display,
        content_hash=digest,
        markdown=markdown,
    )
    if article is None:
        report.skipped.append(SkippedFile(display, SkipReason.NO_SENTENCES))
    else:
        report.articles.append(article)


def _relative(path: Path, folder: Path) -> tuple[str, str]:
    """``(key path, display path)`` of a file read from ``folder``."""
    try:
        rel = path.relative_to(folder)
    except ValueError:
        return path.as_posix(), path.as_posix()
    return rel.as_posix(), (folder / rel).as_posix()


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _article_files(folder: Path, warnings: list[ReadWarning]) -> Iterable[Path]:
    found: list[tuple[str, Path]] = []

    def on_error(error: OSError) -> None:
        problem = str(error.strerror or error)
        warnings.append(ReadWarning(str(error.filename), WarningKind.CANNOT_LIST_FOLDER, problem))

    for root, dirnames, filenames in os.walk(folder, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
        for name in filenames:
            if _is_hidden(name) or not name.lower().endswith(ARTICLE_SUFFIXES):
                continue
            path = Path(root, name)
            found.append((path.relative_to(folder).as_posix(), path))
    found.sort(key=lambda item: item[0])
    return [path for _, path in found]
