"""RSS and Atom feeds: fetch each with a timeout, keep its items as articles in ``data/feeds/``.

Every feed URL has one ``.jsonl`` file in the data dir's ``feeds/`` folder (named after the
host and path, plus a short hash of the URL), one article per line: ``id`` (the item's guid,
else its link), ``title``, ``url``, ``date`` (the day it was published, in the feed's own
offset), ``source`` (the feed's title) and ``text`` (the item's content, else its summary,
HTML stripped). A fetch adds the new items and rewrites items whose text changed; items that
have left the feed stay, so what was answerable yesterday still is. The builder reads these
files beside the seeds folder. A feed that is down is reported and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import hashlib
import html.parser
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx

#: A feed larger than this is refused (a feed is a list of recent items, not an archive).
MAX_FEED_BYTES = 20_000_000
USER_AGENT = "TanyaBerita/0.1 (feed reader)"

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "svg"})


class FeedFailure(enum.Enum):
    """Why a feed could not be read; its ``detail`` says more, worded where it is shown."""

    UNREACHABLE = "unreachable"  #: no connection, no such host, a bad URL: the error
    TIMEOUT = "timeout"  #: no answer in time: the seconds waited
    HTTP_STATUS = "http-status"  #: the server said no: status code and reason
    NOT_A_FEED = "not-a-feed"  #: an answer that is no RSS or Atom feed: the parser's reason


@dataclass(frozen=True, slots=True)
class FeedResult:
    """What fetching one feed did."""

    url: str
    file: str | None = None  #: where its items are kept
    items: int = 0  #: items in the feed now
    added: int = 0  #: items not kept before
    updated: int = 0  #: kept items whose text or title changed
    failure: FeedFailure | None = None  #: why the feed could not be read (nothing was changed)
    detail: str = ""  #: the failure's facts (see :class:`FeedFailure`)


def fetch_feeds(
    urls: Sequence[str],
    *,
    folder: Path,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> list[FeedResult]:
    """Fetch every feed (each within ``timeout`` seconds) and keep its items in ``folder``."""
    if not urls:
        return []
    with httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
    ) as client:
        return [update_feed(url, client=client, folder=folder) for url in urls]


def update_feed(url: str, *, client: httpx.Client, folder: Path) -> FeedResult:
    """Fetch one feed and merge its items into its ``.jsonl`` file. Never raises for a bad feed."""
    path = folder / feed_file_name(url)
    try:
        body, headers = _download(client, url)
    except httpx.TimeoutException:
        waited = f"{client.timeout.read or 0:g}"
        return FeedResult(url, failure=FeedFailure.TIMEOUT, detail=waited)
    except httpx.HTTPStatusError as error:
        status = f"{error.response.status_code} {error.response.reason_phrase}".strip()
        return FeedResult(url, failure=FeedFailure.HTTP_STATUS, detail=status)
    except (httpx.HTTPError, ValueError) as error:
        reason = str(error) or type(error).__name__
        return FeedResult(url, failure=FeedFailure.UNREACHABLE, detail=reason)
    parsed = feedparser.parse(
        io.BytesIO(body),
        # No content-location: feedparser would rewrite a bare guid into a URL on this host.
        response_headers={k.lower(): v for k, v in headers.items() if k.lower() == "content-type"},
    )
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no items"
        return FeedResult(url, failure=FeedFailure.NOT_A_FEED, detail=str(reason))
    source = _clean_text(parsed.feed.get("title", "")) or urlsplit(url).netloc
    items = [item for entry in parsed.entries if (item := feed_item(entry, source=source))]
    added, updated = _merge(path, items)
    return FeedResult(url, file=path.as_posix(), items=len(items), added=added, updated=updated)


def feed_file_name(url: str) -> str:
    """The file a feed's items are kept in: readable, and unique per URL."""
    parts = urlsplit(url)
    readable = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.netloc}{parts.path}").strip("-")[:60]
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return f"{readable or 'feed'}-{digest}.jsonl"


def feed_item(entry: Mapping[str, Any], *, source: str) -> dict[str, str] | None:
    """One feed item as an article record, or None when it has no text."""
    text = html_to_text(_entry_html(entry))
    title = _clean_text(entry.get("title", ""))
    if not text:
        return None
    link = str(entry.get("link") or "").strip()
    identity = str(entry.get("id") or "").strip() or link
    if not identity:
        identity = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:16]
    record = {"id": identity, "title": title, "url": link, "source": source, "text": text}
    published = _published(entry)
    if published is not None:
        record["date"] = published.date().isoformat()
    return {key: value for key, value in record.items() if value}


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: blocks become lines, entities are decoded."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _download(client: httpx.Client, url: str) -> tuple[bytes, Mapping[str, str]]:
    with client.stream("GET", url) as response:
        response.raise_for_status()
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_FEED_BYTES:
                raise ValueError(f"larger than {MAX_FEED_BYTES // 1_000_000} MB")
            chunks.append(chunk)
        return b"".join(chunks), dict(response.headers)


def _entry_html(entry: Mapping[str, Any]) -> str:
    """The fullest text the item carries: its content, else its summary."""
    contents = [str(part.get("value", "")) for part in entry.get("content") or []]
    best = max(contents, key=len, default="")
    return best if len(best.strip()) else str(entry.get("summary", ""))


def _published(entry: Mapping[str, Any]) -> dt.datetime | None:
    """When the item was published, in the offset the feed gave (UTC if it gave none)."""
    for name in ("published", "updated", "created"):
        raw = str(entry.get(name) or "").strip()
        if not raw:
            continue
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            try:
                when = dt.datetime.fromisoformat(raw)
            except ValueError:
                parsed = entry.get(f"{name}_parsed")
                if not parsed:
                    continue
                year, month, day, hour, minute, second = parsed[:6]
                when = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return None


def _clean_text(value: object) -> str:
    return " ".join(html_to_text(str(value)).split())


def _merge(path: Path, items: Sequence[dict[str, str]]) -> tuple[int, int]:
    """Add new items to the feed's file and replace changed ones; return (added, updated)."""
    kept: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line edited by hand into something else: the reader reports it
            if isinstance(record, dict) and "id" in record:
                kept[str(record["id"])] = record
    added = updated = 0
    for item in items:
        old = kept.get(item["id"])
        if old is None:
            added += 1
        elif old != item:
            updated += 1
        kept[item["id"]] = item
    if added or updated:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            for record in kept.values():
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    return added, updated


class _TextExtractor(html.parser.HTMLParser):
    """Collects the text of an HTML fragment; block elements end a line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)
