"""The time a question names, the order of answering articles by time, and "berita hari ini"."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pytest

from index.search.timewords import (
    CLOSE_SHARE,
    NAMED_SHARE,
    Period,
    asks_for_todays_news,
    prefer_by_time,
    read_time,
)

TODAY = dt.date(2025, 1, 7)  # a Tuesday
D = dt.date


@pytest.mark.parametrize(
    ("question", "words", "first", "last"),
    [
        ("berapa harga cabai 12 Januari 2018?", "12 Januari 2018", D(2018, 1, 12), D(2018, 1, 12)),
        ("harga cabai pada 12/1/2018 berapa", "12/1/2018", D(2018, 1, 12), D(2018, 1, 12)),
        ("korban banjir 3-2-18", "3-2-18", D(2018, 2, 3), D(2018, 2, 3)),
        ("banjir 5 Agt 2019 di mana", "5 Agt 2019", D(2019, 8, 5), D(2019, 8, 5)),
        # No year: the last such day up to today.
        ("siapa yang dilantik 12 Januari?", "12 Januari", D(2024, 1, 12), D(2024, 1, 12)),
        ("rapat 6 januari membahas apa", "6 januari", D(2025, 1, 6), D(2025, 1, 6)),
        ("berapa inflasi Januari 2018?", "Januari 2018", D(2018, 1, 1), D(2018, 1, 31)),
        ("inflasi Februari tahun 2016", "Februari tahun 2016", D(2016, 2, 1), D(2016, 2, 29)),
        # "bulan Maret" before March is last year's March; "bulan Januari" is this one.
        ("berapa korban banjir bulan Maret?", "bulan Maret", D(2024, 3, 1), D(2024, 3, 31)),
        ("ekspor bulan Januari naik berapa", "bulan Januari", D(2025, 1, 1), D(2025, 1, 31)),
        ("siapa juara tahun 2016?", "tahun 2016", D(2016, 1, 1), D(2016, 12, 31)),
        ("pemenang pilkada 2018 siapa", "2018", D(2018, 1, 1), D(2018, 12, 31)),
        ("berapa harga cabai kemarin?", "kemarin", D(2025, 1, 6), D(2025, 1, 6)),
        ("kemarin lusa ada gempa di mana", "kemarin lusa", D(2025, 1, 5), D(2025, 1, 5)),
        ("brp harga cabai kmrn", "kmrn", D(2025, 1, 6), D(2025, 1, 6)),  # as chats type it
        ("kemaren ada gempa di mana", "kemaren", D(2025, 1, 6), D(2025, 1, 6)),
        ("tarif tol hari ini berapa", "hari ini", TODAY, TODAY),
        # Last week is the calendar week before this one, Monday to Sunday.
        ("siapa yang ditangkap minggu lalu", "minggu lalu", D(2024, 12, 30), D(2025, 1, 5)),
        ("berapa korban pekan lalu", "pekan lalu", D(2024, 12, 30), D(2025, 1, 5)),
        ("harga beras bulan lalu", "bulan lalu", D(2024, 12, 1), D(2024, 12, 31)),
        ("siapa juara liga tahun lalu?", "tahun lalu", D(2024, 1, 1), D(2024, 12, 31)),
        # The first time named counts.
        ("harga 12 Januari 2018 dan 2019", "12 Januari 2018", D(2018, 1, 12), D(2018, 1, 12)),
        # A regulation's year names the regulation; a later year still counts.
        ("isi UU Nomor 11 Tahun 2008 yang direvisi 2016", "2016", D(2016, 1, 1), D(2016, 12, 31)),
    ],
)
def test_a_named_time_is_a_span_of_days(
    question: str, words: str, first: dt.date, last: dt.date
) -> None:
    timed = read_time(question, TODAY)
    assert timed.words == words
    assert timed.period == Period(first, last)


@pytest.mark.parametrize(
    "question",
    [
        "berapa tentara Korea Utara dikirim?",
        "tahun berapa pakta itu ditandatangani?",
        "isi Instruksi Gubernur 16 Tahun 2015 apa",  # a regulation, not a time
        "berapa harga Rp 2016 per liter",
        "musik tahun 1990-an",
        "skor 20.15 di babak kedua",
        "musim 2023/2024 siapa juaranya",
        "apa yang terjadi 31/2/2020",  # no such day
        "berapa 24/7 layanan",
        "siapa juara Liga Champions musim lalu?",
    ],
)
def test_no_time_is_read_where_none_is_named(question: str) -> None:
    timed = read_time(question, TODAY)
    assert timed.period is None and timed.words == ""
    assert timed.search_text == question


def test_relative_words_are_left_out_of_the_search_and_dates_kept() -> None:
    assert read_time("berapa harga cabai kemarin?", TODAY).search_text == "berapa harga cabai ?"
    assert read_time("tarif tol hari ini berapa", TODAY).search_text == "tarif tol berapa"
    assert read_time("korban pekan lalu berapa", TODAY).search_text == "korban berapa"
    dated = "berapa harga cabai 12 Januari 2018?"
    assert read_time(dated, TODAY).search_text == dated
    # Nothing but the time word: the question stays as it is.
    assert read_time("kemarin?", TODAY).search_text == "kemarin?"


def test_a_leap_day_without_a_year_is_the_last_one() -> None:
    assert read_time("29 Februari", TODAY).period == Period(D(2024, 2, 29), D(2024, 2, 29))
    assert read_time("29 Februari", D(2027, 3, 1)).period == Period(D(2024, 2, 29), D(2024, 2, 29))


@dataclass(frozen=True)
class Q:
    text: str
    score: float
    article_key: str
    date: dt.date | None


def _texts(quotes: tuple[Q, ...]) -> list[str]:
    return [quote.text for quote in quotes]


OLD = Q("tarif Rp 14.500", 20.0, "a", D(2025, 1, 6))
OLD_MORE = Q("tarif naik", 19.5, "a", D(2025, 1, 6))
NEW = Q("tarif Rp 16.000", 19.2, "b", D(2025, 1, 7))
UNDATED = Q("tarif Rp 15.000", 19.4, "c", None)
#: How far a question's scores run (``Ranking.spread``), and the margins it makes.
SPREAD = 20.0
CLOSE_MARGIN = CLOSE_SHARE * SPREAD
NAMED_MARGIN = NAMED_SHARE * SPREAD
FAR = Q("gerbang tol", 19.2 - CLOSE_MARGIN - 0.1, "d", D(2025, 1, 7))


def test_the_most_recent_of_close_articles_comes_first() -> None:
    ordered = prefer_by_time((OLD, OLD_MORE, NEW), None, today=TODAY, spread=SPREAD)
    assert _texts(ordered) == ["tarif Rp 16.000", "tarif Rp 14.500", "tarif naik"]


def test_a_named_time_prefers_its_articles() -> None:
    yesterday = Period(D(2025, 1, 6), D(2025, 1, 6))
    assert _texts(prefer_by_time((NEW, OLD), yesterday, today=TODAY, spread=SPREAD)) == [
        "tarif Rp 14.500",
        "tarif Rp 16.000",
    ]
    # None inside the time named: the nearest to it first.
    december = Period(D(2024, 12, 1), D(2024, 12, 31))
    assert _texts(prefer_by_time((NEW, OLD), december, today=TODAY, spread=SPREAD)) == [
        "tarif Rp 14.500",
        "tarif Rp 16.000",
    ]


def test_an_undated_article_keeps_its_place() -> None:
    ordered = prefer_by_time((OLD, UNDATED, NEW), None, today=TODAY, spread=SPREAD)
    assert _texts(ordered) == ["tarif Rp 16.000", "tarif Rp 15.000", "tarif Rp 14.500"]
    first_undated = Q("tarif Rp 15.000", 20.5, "c", None)
    ordered = prefer_by_time((first_undated, OLD, NEW), None, today=TODAY, spread=SPREAD)
    assert _texts(ordered) == ["tarif Rp 15.000", "tarif Rp 16.000", "tarif Rp 14.500"]


def test_an_article_past_the_margin_is_not_moved() -> None:
    far_newer = Q("tarif Rp 16.000", OLD.score - CLOSE_MARGIN - 0.01, "b", D(2025, 1, 7))
    assert prefer_by_time((OLD, far_newer), None, today=TODAY, spread=SPREAD) == (OLD, far_newer)
    # ... nor moved ahead of one that is inside it.
    assert _texts(prefer_by_time((OLD, NEW, FAR), None, today=TODAY, spread=SPREAD)) == [
        "tarif Rp 16.000",
        "tarif Rp 14.500",
        "gerbang tol",
    ]


def test_close_is_a_share_of_how_far_the_scores_run() -> None:
    # A refit that doubles every score doubles the spread: the same order.
    doubled = tuple(dataclasses.replace(q, score=2 * q.score) for q in (OLD, OLD_MORE, NEW))
    assert _texts(prefer_by_time(doubled, None, today=TODAY, spread=2 * SPREAD)) == [
        "tarif Rp 16.000",
        "tarif Rp 14.500",
        "tarif naik",
    ]
    # The same gap where the scores run narrow is not close: nothing moves.
    narrow = (OLD.score - NEW.score) / CLOSE_SHARE - 1.0
    assert prefer_by_time((OLD, NEW), None, today=TODAY, spread=narrow) == (OLD, NEW)


def test_a_named_time_reaches_further_than_the_newest_first() -> None:
    # Another day's report that answers a little better: past the margin of "the newest
    # first", inside the wider one of a question that names its day.
    newer = Q("korban 17 orang", 20.0, "b", D(2025, 1, 7))
    named_day = Q("korban 12 orang", 20.0 - CLOSE_MARGIN - 0.7, "a", D(2025, 1, 5))
    assert NAMED_MARGIN > CLOSE_MARGIN + 0.7
    fifth = Period(D(2025, 1, 5), D(2025, 1, 5))
    assert _texts(prefer_by_time((newer, named_day), fifth, today=TODAY, spread=SPREAD)) == [
        "korban 12 orang",
        "korban 17 orang",
    ]
    assert prefer_by_time((newer, named_day), None, today=TODAY, spread=SPREAD) == (
        newer,
        named_day,
    )
    far = Q("korban 12 orang", 20.0 - NAMED_MARGIN - 0.01, "a", D(2025, 1, 5))
    assert prefer_by_time((newer, far), fifth, today=TODAY, spread=SPREAD) == (newer, far)


def test_one_article_alone_keeps_the_ranking_order() -> None:
    assert prefer_by_time((OLD, OLD_MORE), None, today=TODAY, spread=SPREAD) == (OLD, OLD_MORE)
    assert prefer_by_time((), None, today=TODAY, spread=SPREAD) == ()


@pytest.mark.parametrize(
    "question",
    [
        "ada berita apa hari ini?",
        "Ada berita apa hari ini",
        "berita hari ini",
        "berita terbaru apa",
        "apa kabar hari ini",
        "berita apa saja hari ini dong",
        "ada berita apa?",
        "info terkini apa",
    ],
)
def test_asking_for_todays_news(question: str) -> None:
    assert asks_for_todays_news(question)


@pytest.mark.parametrize(
    "question",
    [
        "apa kabar",  # a greeting
        "berita hari ini tentang banjir",
        "berita terbaru soal harga cabai?",
        "berapa harga cabai hari ini?",
        "hari ini",
        "",
    ],
)
def test_questions_about_something_are_searched(question: str) -> None:
    assert not asks_for_todays_news(question)
