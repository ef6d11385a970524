"""What reading article files reports: the articles, each file skipped and why, warnings.

Reasons and warnings are typed (an enum and the facts that vary), never sentences: the bot words
them in Indonesian (``bot/admin_replies.py``), the shell in English (``index/cli.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "ParsedArticle",
    "ReadReport",
    "ReadWarning",
    "SkipReason",
    "SkippedFile",
    "SourceSentence",
    "WarningKind",
    "human_size",
]


@dataclass(frozen=True, slots=True)
class SourceSentence:
    """One quotable sentence and where it stands."""

    text: str  #: the sentence, cleaned, as it will be quoted
    line: int  #: 1-based line in the file (for .jsonl: the line of the article)


@dataclass(frozen=True, slots=True)
class ParsedArticle:
    """One cleaned article."""

    key: str  #: stable identity: relative posix path, for .jsonl ``relpath#<id>``
    path: str  #: the file as shown to users (``folder/relpath`` as posix)
    line: int  #: 1-based line of the article in its file (1 for .txt/.md)
    title: str
    sentences: tuple[SourceSentence, ...]
    content_hash: str  #: sha256 hex of the raw content
    date: dt.date | None = None
    source: str | None = None  #: publisher (jsonl ``source``)
    url: str | None = None
    attribution: str | None = None  #: from a "Sumber:" line
    place: str | None = None  #: dateline place, e.g. "PYONGYANG"


class SkipReason(StrEnum):
    """Why a file, or a .jsonl record, was not read (``SkippedFile.detail`` in brackets)."""

    NOT_ARTICLE_FILE = "not_article_file"  #: [its suffix, "" for none]
    CANNOT_READ = "cannot_read"  #: [the system's error]
    TOO_LARGE = "too_large"  #: [its size, e.g. "7.2 MB"], and ``SkippedFile.limit``
    BINARY = "binary"
    EMPTY = "empty"
    NOT_DECODABLE = "not_decodable"  #: not UTF-8 (nor UTF-16 with a BOM) and not cp1252
    NOT_JSON = "not_json"
    NOT_JSON_OBJECT = "not_json_object"
    NO_TEXT = "no_text"  #: a .jsonl record without a ``text``
    NO_SENTENCES = "no_sentences"  #: nothing left after cleaning
    #: [the article id, as ``repr`` shows it], and ``SkippedFile.first_line``
    DUPLICATE_ID = "duplicate_id"


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file, or a .jsonl record, that was not read, and why."""

    path: str  #: as shown to users; for a .jsonl record ``file.jsonl:LINE``
    reason: SkipReason
    detail: str = ""  #: the fact that varies with the reason (see :class:`SkipReason`)
    line: int | None = None  #: the .jsonl line of a record skipped for what it holds
    limit: str = ""  #: ``TOO_LARGE``: the largest size read, e.g. "5 MB"
    first_line: int | None = None  #: ``DUPLICATE_ID``: where that id was first seen


class WarningKind(StrEnum):
    """Something read, but not quite as written (``ReadWarning.detail`` in brackets)."""

    READ_AS_CP1252 = "read_as_cp1252"  #: not UTF-8: read as cp1252 (``lines`` of a .jsonl)
    DUPLICATE_ID = "duplicate_id"  #: [the id's ``repr``]: the record is keyed by its line
    BAD_DATE = "bad_date"  #: [the date's ``repr``]: ignored
    CANNOT_LIST_FOLDER = "cannot_list_folder"  #: [the system's error]


@dataclass(frozen=True, slots=True)
class ReadWarning:
    """A file (or a .jsonl line, ``file.jsonl:LINE``) read with something to say about it."""

    path: str
    kind: WarningKind
    detail: str = ""
    #: ``READ_AS_CP1252`` in a .jsonl: the first lines read so (``more`` says there were more)
    lines: tuple[int, ...] = ()
    more: bool = False


@dataclass(slots=True)
class ReadReport:
    """What reading produced: articles, what was skipped, and warnings."""

    articles: list[ParsedArticle] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[ReadWarning] = field(default_factory=list)
    #: Keys of articles whose content hash matched the ``known`` one: not parsed again.
    unchanged: list[str] = field(default_factory=list)

    def extend(self, other: ReadReport) -> None:
        """Append everything from ``other``."""
        self.articles.extend(other.articles)
        self.skipped.extend(other.skipped)
        self.warnings.extend(other.warnings)
        self.unchanged.extend(other.unchanged)


def human_size(size: int) -> str:
    """A file size as read anywhere: "7.2 MB", "5 MB", "850 bytes"."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB".replace(".0 MB", " MB")
    if size >= 1_000:
        return f"{size / 1_000:.1f} KB".replace(".0 KB", " KB")
    return f"{size} bytes"
