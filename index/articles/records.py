"""JSONL article files: one JSON record per line, each an article (``id``, ``title``, ``text``...).

A record is keyed ``relpath#<id>`` (``passage_id`` also names it; without either, or with an id
seen before, ``relpath#line<N>``). A bad record is skipped with its line; the others are read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path

from index.articles.decoding import BINARY_SAMPLE, decode
from index.articles.reports import (
    ReadReport,
    ReadWarning,
    SkippedFile,
    SkipReason,
    WarningKind,
    human_size,
)
from index.articles.text import parse_text_article

__all__ = ["read_jsonl"]

#: The cp1252 lines a warning names; it says "and more" after them.
_SHOWN_LINES = 5


def read_jsonl(
    path: Path,
    key: str,
    display: str,
    max_bytes: int,
    report: ReadReport,
    known: Mapping[str, str],
) -> None:
    """Read the records of a .jsonl file into ``report`` (see ``files.read_file``).

    Raises:
        OSError: If the file cannot be read.
    """
    with path.open("rb") as handle:
        head = handle.read(BINARY_SAMPLE)
        if b"\x00" in head:
            report.skipped.append(SkippedFile(display, SkipReason.BINARY))
            return
        handle.seek(0)
        seen_keys: set[str] = set()
        any_content = False
        cp1252_lines: list[int] = []
        for number, raw_line in enumerate(handle, start=1):
            if not raw_line.strip():
                continue
            any_content = True
            skipped: SkippedFile | None = None
            record: dict[str, object] = {}
            where = f"{display}:{number}"
            if len(raw_line) > max_bytes:
                skipped = SkippedFile(
                    where,
                    SkipReason.TOO_LARGE,
                    human_size(len(raw_line)),
                    line=number,
                    limit=human_size(max_bytes),
                )
            else:
                try:
                    line, fallback = decode(raw_line)
                except UnicodeDecodeError:
                    skipped = SkippedFile(where, SkipReason.NOT_DECODABLE, line=number)
                else:
                    if fallback:
                        cp1252_lines.append(number)
                    record, reason = _parse_record(line)
                    if reason is not None:
                        skipped = SkippedFile(where, reason, line=number)
            if skipped is not None:
                report.skipped.append(skipped)
                continue
            _add_record(record, number, key, display, seen_keys, report, known)
        if not any_content:
            report.skipped.append(SkippedFile(display, SkipReason.EMPTY))
        if cp1252_lines:
            report.warnings.append(
                ReadWarning(
                    display,
                    WarningKind.READ_AS_CP1252,
                    lines=tuple(cp1252_lines[:_SHOWN_LINES]),
                    more=len(cp1252_lines) > _SHOWN_LINES,
                )
            )


def _parse_record(line: str) -> tuple[dict[str, object], SkipReason | None]:
    """The JSON object on a line, or the reason it is not a usable article."""
    try:
        record = json.loads(line)
    except ValueError:
        return {}, SkipReason.NOT_JSON
    if not isinstance(record, dict):
        return {}, SkipReason.NOT_JSON_OBJECT
    # "\u0000" is valid JSON, but no database text column should get it (PostgreSQL refuses).
    record = {k: v.replace("\x00", " ") if isinstance(v, str) else v for k, v in record.items()}
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return record, SkipReason.NO_TEXT
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
    where = f"{display}:{number}"
    if article_key in seen_keys:
        report.warnings.append(ReadWarning(where, WarningKind.DUPLICATE_ID, repr(record_id)))
        article_key = f"{key}#line{number}"
    seen_keys.add(article_key)
    raw_title, raw_date = record.get("title"), record.get("date")
    source, url = _optional_str(record.get("source")), _optional_str(record.get("url"))
    date, date_ok = _parse_date(raw_date)
    if not date_ok:
        report.warnings.append(ReadWarning(where, WarningKind.BAD_DATE, repr(raw_date)))
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
        report.skipped.append(SkippedFile(where, SkipReason.NO_SENTENCES, line=number))
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


def passage_id(article_key: str) -> str:
    """The record id a JSONL article's key (``passages.jsonl#ID``) stands for."""
    return article_key.split("#", 1)[1] if "#" in article_key else article_key
