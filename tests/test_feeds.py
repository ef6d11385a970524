"""Feeds over real HTTP on 127.0.0.1: fetched with a timeout, kept as .jsonl, indexed, reported."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.admin_replies import feed_line
from index.articles.feeds import (
    FeedFailure,
    FeedResult,
    feed_file_name,
    fetch_feeds,
    html_to_text,
)
from index.articles.files import read_file
from index.cli import feed_error_text
from index.encoders.embedder import Embedder
from index.search.searcher import Searcher
from index.storage.builder import build_index
from tests.conftest import make_settings
from tests.feed_server import FeedServer, closed_port_url


def _records(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_rss_and_atom_items_are_kept_as_articles(tmp_path: Path) -> None:
    async with FeedServer() as server:
        rss, atom = server.url("/rss.xml"), server.url("/atom.xml")
        results = await asyncio.to_thread(fetch_feeds, [rss, atom], folder=tmp_path, timeout=5)
    assert [(r.url, r.items, r.added, r.updated, r.failure) for r in results] == [
        (rss, 2, 2, 0, None),
        (atom, 1, 1, 0, None),
    ]
    flood, festival = _records(tmp_path / feed_file_name(rss))
    assert flood == {
        "id": "kabar-kota-1001",
        "title": "Banjir rendam rumah di Kampung Melayu",
        "url": "http://127.0.0.1/berita/banjir-kampung-melayu",
        "source": "Kabar Kota & Sekitarnya",
        "date": "2025-01-06",
        "text": (
            "JAKARTA - Banjir setinggi 1,5 meter merendam 314 rumah di Kampung Melayu, Jakarta "
            "Timur, pada Senin pagi.\nPetugas mengevakuasi 120 warga ke masjid terdekat."
        ),
    }
    # content:encoded wins over the summary; list items become their own lines.
    assert festival["text"] == (
        "Festival kuliner Nusantara digelar di Lapangan Banteng selama tiga hari.\n"
        "Panitia menghadirkan 85 pedagang kaki lima dari berbagai daerah."
    )
    # Published 23:30 at +07:00: the article's day is the feed's own day, not UTC's.
    [bridge] = _records(tmp_path / feed_file_name(atom))
    assert bridge["date"] == "2025-01-06"
    assert bridge["url"] == "http://127.0.0.1/warta/77"
    assert bridge["text"].startswith("Bupati meresmikan jembatan gantung sepanjang 62 meter")


async def test_second_fetch_adds_only_new_items_and_keeps_old_ones(tmp_path: Path) -> None:
    async with FeedServer() as server:
        url = server.url("/rss.xml")
        await asyncio.to_thread(fetch_feeds, [url], folder=tmp_path, timeout=5)
        [again] = await asyncio.to_thread(fetch_feeds, [url], folder=tmp_path, timeout=5)
        assert (again.added, again.updated) == (0, 0)
        # The feed drops the flood item, edits the festival and brings a new one.
        server.rss = (
            server.rss.replace("85 pedagang", "90 pedagang")
            .replace("kabar-kota-1001", "kabar-kota-1003")
            .replace("314 rumah", "12 rumah")
        )
        [changed] = await asyncio.to_thread(fetch_feeds, [url], folder=tmp_path, timeout=5)
    assert (changed.items, changed.added, changed.updated) == (2, 1, 1)
    records = {r["id"]: r for r in _records(tmp_path / feed_file_name(url))}
    assert set(records) == {"kabar-kota-1001", "kabar-kota-1002", "kabar-kota-1003"}
    assert "314 rumah" in records["kabar-kota-1001"]["text"]  # gone from the feed, still kept
    assert "90 pedagang" in records["kabar-kota-1002"]["text"]


async def test_dead_slow_missing_and_non_feeds_are_reported_and_change_nothing(
    tmp_path: Path,
) -> None:
    dead = closed_port_url()
    async with FeedServer() as server:
        server.slow_seconds = 3.0
        urls = [dead, server.url("/slow"), server.url("/missing"), server.url("/page.html")]
        urls.append(server.url("/rss.xml"))
        results = await asyncio.to_thread(fetch_feeds, urls, folder=tmp_path, timeout=0.5)
    failures = [(r.failure, feed_error_text(r)) for r in results]
    assert failures[0][0] is FeedFailure.UNREACHABLE and failures[0][1].startswith("cannot fetch")
    assert failures[1] == (FeedFailure.TIMEOUT, "no answer within 0.5 s")
    assert failures[2] == (FeedFailure.HTTP_STATUS, "HTTP 404 Not Found")
    assert failures[3][0] is FeedFailure.NOT_A_FEED
    assert failures[3][1].startswith("not an RSS or Atom feed")
    # The good feed after them still came in.
    assert failures[4] == (None, "") and results[4].added == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [feed_file_name(urls[4])]


def test_html_is_stripped_to_lines() -> None:
    markup = (
        "<h2>Judul</h2><p>Satu &amp; dua<br/>tiga</p><style>p{}</style>"
        "<script>var x = '<p>';</script><p>  empat  lima </p>"
    )
    assert html_to_text(markup) == "Judul\nSatu & dua\ntiga\nempat lima"


async def test_feed_items_are_indexed_and_answerable(tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tmp_path)
    settings.seeds_dir.mkdir()
    async with FeedServer() as server:
        url = server.url("/rss.xml")
        await asyncio.to_thread(fetch_feeds, [url], folder=settings.feeds_dir, timeout=5)
    report = build_index(settings, embedder=embedder)
    assert report.added == 2 and report.skipped == []
    answer = Searcher.open(settings, embedder=embedder).answer(
        "berapa rumah terendam banjir di Kampung Melayu?"
    )
    assert answer.answered
    first = answer.quotes[0]
    assert "314 rumah" in first.text
    assert first.url == "http://127.0.0.1/berita/banjir-kampung-melayu"
    assert first.path == f"{settings.data_dir.as_posix()}/feeds/{feed_file_name(url)}"
    assert first.line == 1
    # The stored file reads back through the ordinary article reader.
    read = read_file(settings.feeds_dir / feed_file_name(url), folder=settings.data_dir)
    assert [a.key for a in read.articles] == [
        f"feeds/{feed_file_name(url)}#kabar-kota-1001",
        f"feeds/{feed_file_name(url)}#kabar-kota-1002",
    ]


def test_each_feed_failure_is_worded_for_the_shell_and_for_admins() -> None:
    """The failure travels as a kind with its facts; English and Indonesian are made from it."""
    url = "http://127.0.0.1:9/feed.xml"
    cases = [
        (
            FeedFailure.UNREACHABLE,
            "[Errno 111] Connection refused",
            "cannot fetch: ",
            "tidak bisa diambil: ",
        ),
        (FeedFailure.TIMEOUT, "0.5", "no answer within 0.5 s", "tidak menjawab dalam 0.5 s"),
        (FeedFailure.HTTP_STATUS, "404 Not Found", "HTTP 404 Not Found", "HTTP 404 Not Found"),
        (
            FeedFailure.NOT_A_FEED,
            "no items",
            "not an RSS or Atom feed: ",
            "bukan feed RSS atau Atom: ",
        ),
    ]
    assert {case[0] for case in cases} == set(FeedFailure)
    for failure, detail, english, indonesian in cases:
        feed = FeedResult(url, failure=failure, detail=detail)
        shell = feed_error_text(feed)
        admin = feed_line(feed)
        assert shell.startswith(english) and detail in shell
        assert admin.startswith(f"feed gagal: {url}: {indonesian}") and detail in admin
    good = FeedResult(url, file="feeds/x.jsonl", items=3, added=1, updated=2)
    assert feed_error_text(good) == ""
    assert feed_line(good) == f"feed: {url}: 1 item baru, 2 diperbarui, 3 di feed"
