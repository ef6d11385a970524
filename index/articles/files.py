"""Read article files (.txt, .md, .jsonl) and clean Indonesian news into quotable sentences.

Every sentence keeps the 1-based line of the file it stands on, so an answer can cite
``file:line``. A bad file never raises: it is reported in :class:`ReadReport.skipped`.

Cleaning is conservative (:mod:`index.articles.cleaning`): it removes what is not part of the article
(related-article links, promotional footers, bylines, datelines, Wikipedia residue, scraper
debris) and otherwise keeps the text exactly as written, because the sentences are quoted.
"""

from __future__ import annotations

import bisect
import codecs
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from index.articles.cleaning import (
    HAS_ALNUM,
    INVISIBLE,
    LINE_BREAK,
    TITLE_LINE,
    WHITESPACE,
    attribution_of,
    clean_line,
    cut_related,
    derive_title,
    is_article_line,
    is_boilerplate,
    looks_like_title,
    strip_dateline,
)
from index.articles.sentences import sentence_spans

__all__ = [
    "ARTICLE_SUFFIXES",
    "DEFAULT_MAX_BYTES",
    "ParsedArticle",
    "ReadReport",
    "SkippedFile",
    "SourceSentence",
    "parse_text_article",
    "read_file",
    "read_folder",
]

#: File types read by :func:`read_folder`; anything else is ignored.
ARTICLE_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".jsonl")
#: Larger .txt/.md files, and larger .jsonl records, are skipped.
DEFAULT_MAX_BYTES = 5_000_000


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


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file, or a .jsonl line, that was not read, and why."""

    path: str  #: as shown to users; for a .jsonl line ``file.jsonl:LINE``
    reason: str  #: short and human, e.g. "empty file"


@dataclass(slots=True)
class ReadReport:
    """What reading produced: articles, what was skipped, and warnings."""

    articles: list[ParsedArticle] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Keys of articles whose content hash matched the ``known`` one: not parsed again.
    unchanged: list[str] = field(default_factory=list)

    def extend(self, other: ReadReport) -> None:
        """Append everything from ``other``."""
        self.articles.extend(other.articles)
        self.skipped.extend(other.skipped)
        self.warnings.extend(other.warnings)
        self.unchanged.extend(other.unchanged)


# ---------------------------------------------------------------------------------- markdown


class _Line(NamedTuple):
    number: int  # 1-based line in the file
    text: str  # cleaned; "" for a blank line
    block: bool = False  # markdown: a heading, list item or quote, never joined to neighbours


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_MD_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_MD_BULLET = re.compile(r"^\s*[-*+]\s+")
_MD_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+")
_MD_QUOTE = re.compile(r"^\s{0,3}>\s?")
_MD_INLINE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"), r"\1"),
    (re.compile(r"<[A-Za-z/][^>]*>"), " "),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
)


def _markdown_lines(
    raw_lines: Sequence[str], numbers: Sequence[int]
) -> tuple[list[_Line], str | None]:
    """Markdown lines as plain text, and the title from a leading ``# Title`` (or setext) line."""
    out: list[_Line] = []
    title: str | None = None
    in_fence = False
    seen_text = False
    for raw, number in zip(raw_lines, numbers, strict=True):
        if _MD_FENCE.match(raw):
            in_fence = not in_fence
            out.append(_Line(number, ""))
            continue
        if in_fence:
            out.append(_Line(number, ""))
            continue
        if _MD_SETEXT.match(raw) and out and out[-1].text and not out[-1].block:
            # "Heading\n=======" or "Heading\n-------": the previous line was a heading.
            previous = out.pop()
            first = not any(line.text for line in out)
            if title is None and first and raw.strip().startswith("="):
                title = previous.text
                out.append(previous._replace(text=""))
            else:
                out.append(previous._replace(block=True))
            out.append(_Line(number, ""))
            continue
        if _MD_RULE.match(raw):
            out.append(_Line(number, ""))
            continue
        block = False
        heading = _MD_HEADING.match(raw)
        if heading:
            text = heading.group(2)
            block = True
            if title is None and not seen_text and len(heading.group(1)) == 1:
                title = _md_inline(clean_line(text)) or None
                seen_text = True
                out.append(_Line(number, ""))
                continue
        else:
            text = raw
            for marker in (_MD_QUOTE, _MD_BULLET):
                m = marker.match(text)
                if m:
                    text = text[m.end() :]
                    block = True
            if _MD_NUMBERED.match(text):
                block = True
        text = _md_inline(clean_line(text))
        seen_text = seen_text or bool(text)
        out.append(_Line(number, text, block))
    return out, title


def _md_inline(text: str) -> str:
    for pattern, replacement in _MD_INLINE:
        text = pattern.sub(replacement, text)
    return WHITESPACE.sub(" ", text).strip()


# ---------------------------------------------------------------------------------- articles

_END_OF_SENTENCE = tuple(".!?…:;\"”’')]")


def _paragraphs(lines: Sequence[_Line], *, join_wrapped: bool, markdown: bool) -> list[list[_Line]]:
    """Group kept lines into paragraphs.

    One line is one paragraph, except that a wrapped line is joined to the previous one: in
    Markdown any line that follows a text line without a blank between; in plain text a line
    starting with a lower-case letter that follows a line not ending a sentence.
    """
    paragraphs: list[list[_Line]] = []
    previous_blank = True
    for line in lines:
        if not line.text:
            previous_blank = True
            continue
        if paragraphs and not previous_blank and join_wrapped:
            last = paragraphs[-1][-1]
            if markdown:
                joined = not line.block and not last.block
            else:
                joined = not last.text.endswith(_END_OF_SENTENCE) and line.text[0].islower()
            if joined:
                paragraphs[-1].append(line)
                previous_blank = False
                continue
        paragraphs.append([line])
        previous_blank = False
    return paragraphs


def parse_text_article(
    raw: str,
    *,
    key: str,
    path: str,
    content_hash: str,
    line_offset: int = 0,
    single_line: int | None = None,
    markdown: bool = False,
    detect_title: bool = True,
    title: str | None = None,
    date: dt.date | None = None,
    source: str | None = None,
    url: str | None = None,
) -> ParsedArticle | None:
    r"""Clean one article's text and split it into sentences with their lines.

    Args:
        raw: The article text; lines are separated by ``\n`` (or ``\r\n``, ``\r``).
        key: Stable identity of the article.
        path: The file as shown to users.
        content_hash: sha256 hex of the raw content.
        line_offset: Lines before ``raw`` in its file: line ``i`` of ``raw`` (0-based) is file
            line ``line_offset + i + 1``.
        single_line: If given, every sentence gets this line (a .jsonl record on that line).
        markdown: Treat ``raw`` as Markdown (``# Title``, lists, emphasis, links, wrapped lines).
        detect_title: Look for a title in the text (a ``Judul:`` line or a short first line).
        title: The title, if known (a .jsonl ``title``); no title is then looked for in the text.
        date: Publication date.
        source: Publisher.
        url: Address of the article.

    Returns:
        The article, or None if no sentence is left after cleaning.
    """
    raw_lines = LINE_BREAK.split(raw)
    if single_line is None:
        numbers: Sequence[int] = range(line_offset + 1, line_offset + 1 + len(raw_lines))
    else:
        numbers = [single_line] * len(raw_lines)
    if markdown:
        lines, md_title = _markdown_lines(raw_lines, numbers)
    else:
        lines = [_Line(n, clean_line(t)) for n, t in zip(numbers, raw_lines, strict=True)]
        md_title = None

    found_title = _clean_title(title)
    if found_title is None and md_title:
        found_title = md_title
    if found_title is None and detect_title:
        found_title, lines = _title_from_lines(lines)

    attributions: list[str] = []
    kept = [
        line if is_article_line(line.text, attributions) else line._replace(text="")
        for line in lines
    ]
    paragraphs = _paragraphs(kept, join_wrapped=single_line is None, markdown=markdown)

    place: str | None = None
    sentences: list[SourceSentence] = []
    for index, paragraph in enumerate(paragraphs):
        pieces = [line.text for line in paragraph]
        if index == 0:
            dateline = strip_dateline(pieces[0])
            if dateline is not None:
                place, pieces[0] = dateline
                if not pieces[0]:
                    pieces, paragraph = pieces[1:], paragraph[1:]
        _paragraph_sentences(pieces, [line.number for line in paragraph], sentences, attributions)

    if not sentences:
        return None
    return ParsedArticle(
        key=key,
        path=path,
        line=single_line if single_line is not None else line_offset + 1,
        title=found_title or derive_title(sentences[0].text),
        sentences=tuple(sentences),
        content_hash=content_hash,
        date=date,
        source=source,
        url=url,
        attribution="; ".join(attributions) or None,
        place=place,
    )


def _clean_title(title: str | None) -> str | None:
    if not title:
        return None
    return clean_line(title) or None


def _title_from_lines(lines: list[_Line]) -> tuple[str | None, list[_Line]]:
    """A title from the first non-blank line ("Judul: ..." or a short heading-like line)."""
    for i, line in enumerate(lines):
        if not line.text:
            continue
        m = TITLE_LINE.match(line.text)
        if m:
            title = m.group("title").strip()
        elif looks_like_title(line.text) and any(rest.text for rest in lines[i + 1 :]):
            title = line.text
        else:
            return None, lines
        return title, [*lines[:i], line._replace(text=""), *lines[i + 1 :]]
    return None, lines


def _paragraph_sentences(
    pieces: Sequence[str],
    numbers: Sequence[int],
    out: list[SourceSentence],
    attributions: list[str],
) -> None:
    """Split one paragraph (its lines' texts) into sentences, appending them to ``out``."""
    if not pieces:
        return
    text = " ".join(piece for piece in pieces if piece)
    # Where each line starts in the joined text, to give each sentence its line.
    starts: list[int] = []
    position = 0
    for piece in pieces:
        starts.append(position)
        position += len(piece) + 1 if piece else 0
    for start, end in sentence_spans(text):
        sentence = cut_related(text[start:end])
        if not sentence or HAS_ALNUM.search(sentence) is None:
            continue
        source = attribution_of(sentence)
        if source is not None:
            if source and source not in attributions:
                attributions.append(source)
            continue
        if is_boilerplate(sentence):
            continue
        line = numbers[bisect.bisect_right(starts, start) - 1]
        out.append(SourceSentence(sentence, line))


# ----------------------------------------------------------------------------------- reading

_BINARY_SAMPLE = 8192


def _human_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB".replace(".0 MB", " MB")
    if size >= 1_000:
        return f"{size / 1_000:.1f} KB".replace(".0 KB", " KB")
    return f"{size} bytes"


def _too_large(size: int, max_bytes: int) -> str:
    return f"larger than {_human_size(max_bytes)} ({_human_size(size)})"


def _decode(data: bytes) -> tuple[str, bool]:
    """Decode file bytes: UTF-8 (BOM allowed), UTF-16 with a BOM, else cp1252.

    Returns:
        The text and whether the cp1252 fallback was used.

    Raises:
        UnicodeDecodeError: If the bytes are neither.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), False
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return data.decode("cp1252"), True


def _looks_binary(text: str) -> bool:
    """Control characters other than whitespace in more than 1 of 20 characters."""
    sample = text[:_BINARY_SAMPLE]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return "\x00" in sample or controls * 20 > len(sample)


def _relative(path: Path, folder: Path) -> tuple[str, str]:
    """``(key path, display path)`` of a file read from ``folder``."""
    try:
        rel = path.relative_to(folder)
    except ValueError:
        return path.as_posix(), path.as_posix()
    return rel.as_posix(), (folder / rel).as_posix()


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
            _read_jsonl(path, key, display, max_bytes, report, known or {})
        elif suffix in (".txt", ".md"):
            _read_text(path, key, display, max_bytes, report, known or {}, markdown=suffix == ".md")
        else:
            reason = f"not an article file ({suffix or 'no suffix'})"
            report.skipped.append(SkippedFile(display, reason))
    except OSError as exc:
        report.skipped.append(SkippedFile(display, f"cannot read: {exc.strerror or exc}"))
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
        report.skipped.append(SkippedFile(display, _too_large(size, max_bytes)))
        return
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if known.get(key) == digest:
        report.unchanged.append(key)
        return
    is_utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in data[:_BINARY_SAMPLE] and not is_utf16:
        report.skipped.append(SkippedFile(display, "binary file"))
        return
    try:
        text, fallback = _decode(data)
    except UnicodeDecodeError:
        report.skipped.append(SkippedFile(display, "not UTF-8 and not cp1252"))
        return
    if not text.translate(INVISIBLE).strip():
        report.skipped.append(SkippedFile(display, "empty file"))
        return
    if _looks_binary(text):
        report.skipped.append(SkippedFile(display, "binary file"))
        return
    if fallback:
        report.warnings.append(f"{display}: not UTF-8, read as cp1252")
    article = parse_text_article(
        text,
        key=key,
        path=display,
        content_hash=digest,
        markdown=markdown,
    )
    if article is None:
        report.skipped.append(SkippedFile(display, "no sentences left after cleaning"))
    else:
        report.articles.append(article)


def _optional_str(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _parse_date(value: object) -> tuple[dt.date | None, bool]:
    """``(date, ok)``: a missing date is ok, a malformed one is not."""
    if value is None or value == "":
        return None, True
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}(?:$|[T ])", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()[:10]), True
        except ValueError:
            pass
    return None, False


def _record_id(record: dict[str, object]) -> str | None:
    for name in ("id", "passage_id"):
        value = record.get(name)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | str) and str(value).strip():
            return str(value).strip()
    return None


def _read_jsonl(
    path: Path,
    key: str,
    display: str,
    max_bytes: int,
    report: ReadReport,
    known: Mapping[str, str],
) -> None:
    with path.open("rb") as handle:
        head = handle.read(_BINARY_SAMPLE)
        if b"\x00" in head:
            report.skipped.append(SkippedFile(display, "binary file"))
            return
        handle.seek(0)
        seen_keys: set[str] = set()
        any_content = False
        cp1252_lines: list[int] = []
        for number, raw_line in enumerate(handle, start=1):
            if not raw_line.strip():
                continue
            any_content = True
            reason: str | None = None
            if len(raw_line) > max_bytes:
                reason = _too_large(len(raw_line), max_bytes)
            else:
                try:
                    line, fallback = _decode(raw_line)
                except UnicodeDecodeError:
                    reason = "not UTF-8 and not cp1252"
                else:
                    if fallback:
                        cp1252_lines.append(number)
                    record, reason = _parse_record(line)
            if reason is not None:
                where = f"{display}:{number}"
                report.skipped.append(SkippedFile(where, f"line {number}: {reason}"))
                continue
            _add_record(record, number, key, display, seen_keys, report, known)
        if not any_content:
            report.skipped.append(SkippedFile(display, "empty file"))
        if cp1252_lines:
            shown = ", ".join(map(str, cp1252_lines[:5])) + (", …" if len(cp1252_lines) > 5 else "")
            report.warnings.append(f"{display}: not UTF-8, read as cp1252 (lines {shown})")


def _parse_record(line: str) -> tuple[dict[str, object], str | None]:
    """The JSON object on a line, or the reason it is not a usable article."""
    try:
        record = json.loads(line)
    except ValueError:
        return {}, "not valid JSON"
    if not isinstance(record, dict):
        return {}, "not a JSON object"
    # "\u0000" is valid JSON, but no database text column should get it (PostgreSQL refuses).
    record = {k: v.replace("\x00", " ") if isinstance(v, str) else v for k, v in record.items()}
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return record, "no 'text'"
    return record, None


def _add_record(
    record: dict[str, object],
    number: int,
    key: str,
    display: str,
    seen_keys: set[str],
    report: ReadReport,
    known: Mapping[str, str],
) -> None:
    text = str(record["text"])
    record_id = _record_id(record)
    article_key = f"{key}#{record_id}" if record_id is not None else f"{key}#line{number}"
    if article_key in seen_keys:
        report.warnings.append(
            f"{display}:{number}: duplicate id {record_id!r}, keyed by its line instead"
        )
        article_key = f"{key}#line{number}"
    seen_keys.add(article_key)
    raw_title, raw_date = record.get("title"), record.get("date")
    source, url = _optional_str(record.get("source")), _optional_str(record.get("url"))
    date, date_ok = _parse_date(raw_date)
    if not date_ok:
        report.warnings.append(f"{display}:{number}: bad date {raw_date!r} ignored")
    digest = hashlib.sha256(
        json.dumps(
            [raw_title, text, raw_date, record.get("source"), record.get("url")],
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        ).encode("utf-8")
    ).hexdigest()
    if known.get(article_key) == digest:
        report.unchanged.append(article_key)
        return
    article = parse_text_article(
        text,
        key=article_key,
        path=display,
        content_hash=digest,
        single_line=number,
        detect_title=False,
        title=raw_title if isinstance(raw_title, str) else None,
        date=date,
        source=source,
        url=url,
    )
    if article is None:
        report.skipped.append(
            SkippedFile(f"{display}:{number}", f"line {number}: no sentences left after cleaning")
        )
    else:
        report.articles.append(article)


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _article_files(folder: Path, warnings: list[str]) -> Iterable[Path]:
    found: list[tuple[str, Path]] = []

    def on_error(error: OSError) -> None:
        warnings.append(f"{error.filename}: cannot list folder: {error.strerror or error}")

    for root, dirnames, filenames in os.walk(folder, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
        for name in filenames:
            if _is_hidden(name) or not name.lower().endswith(ARTICLE_SUFFIXES):
                continue
            path = Path(root, name)
            found.append((path.relative_to(folder).as_posix(), path))
    found.sort(key=lambda item: item[0])
    return [path for _, path in found]


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
