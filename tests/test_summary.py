"""The extractive daily summary: which articles, which sentences, and the CLI that prints it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bot.summary_replies import summary_html
from index.encoders.embedder import Embedder
from index.storage.builder import build_index
from index.storage.store import make_engine
from index.summary import (
    MAX_SENTENCES,
    Summarizer,
    Summary,
    Window,
    day_window,
    last_24_hours,
    lexrank,
    mmr,
)
from tests.conftest import DATABASES, SEED, copy_database, make_settings, new_database, write_jsonl
from tests.test_cli import run

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = dt.date(2025, 3, 10)

# Invented articles. The day's big story (a flood) is told by three outlets, one of them a
# word-for-word copy; four other stories are told once; one article is from the day before.
FLOOD_LEAD = (
    "Banjir merendam sekitar 800 rumah warga di Jakarta Timur pada Senin pagi setelah hujan "
    "deras mengguyur ibu kota sejak Minggu malam."
)
ARTICLES = [
    {
        "id": "banjir-1",
        "date": "2025-03-10",
        "source": "Kabar Kota",
        "text": "\n".join(
            [
                FLOOD_LEAD,
                "Ketinggian air di beberapa gang mencapai satu meter, sehingga warga mengungsi ke "
                "masjid dan sekolah terdekat.",
                "Baca Juga: Lima Tips Menjaga Rumah Saat Musim Hujan",
                "Badan Penanggulangan Bencana Daerah mengerahkan perahu karet untuk mengevakuasi "
                "warga lanjut usia dan anak-anak.",
                "Petugas memperkirakan air baru surut pada Selasa jika hujan tidak turun lagi.",
            ]
        ),
    },
    {
        "id": "banjir-2",
        "date": "2025-03-10",
        "source": "Warta Harian",
        "text": "\n".join(
            [
                "Ratusan rumah di Jakarta Timur terendam banjir pada Senin pagi akibat hujan "
                "lebat yang turun sejak Minggu malam.",
                "Warga yang rumahnya terendam mengungsi ke masjid, sekolah, dan balai warga.",
                "Pemerintah kota menyiapkan dapur umum untuk para pengungsi banjir.",
                "Gabung ke Channel WhatsApp Warta Harian untuk update berita terbaru.",
            ]
        ),
    },
    {
        "id": "banjir-salinan",
        "date": "2025-03-10",
        "source": "Portal Ulang",
        "text": "\n".join(
            [
                FLOOD_LEAD,
                "Portal ini memuat ulang laporan tersebut dari mitra medianya di Jakarta.",
                "Warga diminta tetap waspada karena hujan diperkirakan masih turun sepekan ke depan.",
            ]
        ),
    },
    {
        "id": "cabai",
        "date": "2025-03-10",
        "source": "Pasar Kita",
        "text": "\n".join(
            [
                "Harga cabai rawit di pasar tradisional Bandung naik menjadi Rp 95.000 per "
                "kilogram menjelang bulan puasa.",
                "Pedagang menyebut pasokan dari petani berkurang karena panen terganggu hujan.",
                "Dinas perdagangan berjanji menggelar operasi pasar pekan ini.",
            ]
        ),
    },
    {
        "id": "timnas",
        "date": "2025-03-10",
        "source": "Bola Kita",
        "text": "\n".join(
            [
                "Tim nasional sepak bola Indonesia mengalahkan Vietnam 2-0 dalam laga persahabatan "
                "di Stadion Gelora Bung Karno pada Senin malam.",
                "Kedua gol dicetak pada babak kedua melalui sundulan dan tendangan penalti.",
                "Pelatih menyebut kemenangan itu modal penting menuju kualifikasi Piala Asia.",
            ]
        ),
    },
    {
        "id": "gempa",
        "date": "2025-03-10",
        "source": "Kabar Nusantara",
        "text": "\n".join(
            [
                "Gempa bermagnitudo 5,6 mengguncang Kabupaten Poso, Sulawesi Tengah, pada Senin "
                "siang tanpa memicu tsunami.",
                "Badan Meteorologi mencatat pusat gempa berada di darat pada kedalaman 10 kilometer.",
                "Sejumlah dinding rumah warga retak, tetapi tidak ada korban jiwa yang dilaporkan.",
            ]
        ),
    },
    {
        "id": "kereta",
        "date": "2025-03-10",
        "source": "Jalan Rel",
        "text": "\n".join(
            [
                "Operator kereta komuter menambah 20 perjalanan setiap hari mulai bulan depan "
                "untuk mengurangi kepadatan penumpang pada jam sibuk.",
                "Tambahan perjalanan itu melayani lintas Bogor dan Bekasi.",
                "Penumpang diimbau memakai kartu elektronik agar antrean di stasiun berkurang.",
            ]
        ),
    },
    {
        "id": "kemarin",
        "date": "2025-03-09",
        "source": "Kabar Kemarin",
        "text": "\n".join(
            [
                "Festival layang-layang internasional digelar di Pantai Sanur, Bali, pada Minggu "
                "dengan peserta dari dua belas negara.",
                "Layang-layang terbesar berbentuk naga sepanjang 200 meter.",
                "Panitia memperkirakan lebih dari sepuluh ribu penonton datang sepanjang hari.",
                "Festival ini digelar setiap tahun sejak 1978 untuk menarik wisatawan.",
                "Tahun depan panitia berencana menambah lomba layang-layang malam hari.",
            ]
        ),
    },
]
UNDATED = (
    "Perpustakaan daerah membuka layanan baca malam hingga pukul 21.00 setiap Jumat.\n"
    "Baca Juga: Perpustakaan Keliling Sambangi Sekolah di Pelosok\n"
    "Layanan itu dibuka karena banyak pekerja yang baru bisa datang sepulang kerja.\n"
    "Pengunjung cukup menunjukkan kartu anggota di pintu masuk.\n"
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    root = tmp_path_factory.mktemp("summary-corpus")
    (root / "seeds").mkdir()
    write_jsonl(root / "seeds" / "berita.jsonl", [{"title": None, **a} for a in ARTICLES])
    (root / "seeds" / "perpustakaan.txt").write_text(UNDATED, encoding="utf-8")
    build_index(make_settings(root), embedder=embedder)
    return root


@pytest.fixture(scope="module", params=DATABASES)
def summarizer(
    request: pytest.FixtureRequest,
    corpus: Path,
    embedder: Embedder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Summarizer]:
    """A summarizer on the corpus's rows in a database of each kind (SQLite, then PostgreSQL)."""
    with new_database(request.param, tmp_path_factory.mktemp("summary-db")) as url:
        copy_database(make_settings(corpus).sqlalchemy_url, url)
        engine = make_engine(url)
        yield Summarizer(engine=engine, embedder=embedder)
        engine.dispose()


def _file_line(corpus: Path, path: str, line: int) -> str:
    return (corpus / path).read_text(encoding="utf-8").splitlines()[line - 1]


def _article_of(corpus: Path, path: str, line: int) -> str:
    return json.loads(_file_line(corpus, path, line))["id"]


def test_day_summary_quotes_central_sentences_of_different_articles(
    corpus: Path, summarizer: Summarizer
) -> None:
    summary = summarizer.summarize(day_window(DAY, JAKARTA), zone=JAKARTA)
    assert not summary.recent_fallback
    assert summary.day == DAY
    assert summary.article_count == 7
    assert len(summary.quotes) == MAX_SENTENCES
    articles = [_article_of(corpus, q.path, q.line) for q in summary.quotes]
    assert len(set(articles)) == len(articles), articles  # one sentence per article
    assert "kemarin" not in articles  # the day before is outside the window
    texts = [q.text for q in summary.quotes]
    assert len(set(texts)) == len(texts)
    # The copy's lead is word for word the first outlet's: quoted once at most.
    assert texts.count(FLOOD_LEAD) <= 1
    # The story three outlets tell is the day's most central one: it comes first.
    assert articles[0] in {"banjir-1", "banjir-2", "banjir-salinan"}
    for quote in summary.quotes:
        assert quote.path.endswith("seeds/berita.jsonl")
        assert quote.text in _file_line(corpus, quote.path, quote.line)  # the cited line holds it
        assert "Baca Juga" not in quote.text and "WhatsApp" not in quote.text
        assert quote.title
        # Each article is cited with its record's date and publisher, its file under seeds/.
        record = json.loads(_file_line(corpus, quote.path, quote.line))
        source = summary.sources[quote.article_key]
        assert (source.file, source.title, source.publisher) == (
            "berita.jsonl",
            quote.title,
            record["source"],
        )
        assert source.date == dt.date.fromisoformat(record["date"])


def test_fewer_articles_than_slots_gives_several_sentences_of_one(
    corpus: Path, summarizer: Summarizer
) -> None:
    summary = summarizer.summarize(day_window(DAY - dt.timedelta(days=1), JAKARTA), zone=JAKARTA)
    assert not summary.recent_fallback
    assert summary.article_count == 1
    assert len(summary.quotes) == MAX_SENTENCES
    assert {_article_of(corpus, q.path, q.line) for q in summary.quotes} == {"kemarin"}
    assert len({q.text for q in summary.quotes}) == MAX_SENTENCES
    # One article's sentences are quoted in the order they stand in it, lead included.
    sentences = json.loads(_file_line(corpus, summary.quotes[0].path, 8))["text"].split("\n")
    positions = [sentences.index(q.text) for q in summary.quotes]
    assert positions == sorted(positions) and positions[0] == 0


def test_the_last_24_hours_take_the_dates_they_touch(corpus: Path, summarizer: Summarizer) -> None:
    morning = dt.datetime(2025, 3, 11, 7, 0, tzinfo=JAKARTA)
    summary = summarizer.summarize(last_24_hours(morning), zone=JAKARTA)
    assert not summary.recent_fallback
    assert summary.day == dt.date(2025, 3, 11)
    assert summary.article_count == 7  # the 10th, not the 9th
    html = summary_html(summary)
    assert "24 jam terakhir" in html and "Selasa, 11 Maret 2025" in html


def test_no_news_in_the_window_falls_back_to_the_latest_day_and_says_so(
    corpus: Path, summarizer: Summarizer
) -> None:
    later = summarizer.summarize(day_window(dt.date(2025, 3, 20), JAKARTA), zone=JAKARTA)
    assert later.recent_fallback
    assert later.article_count == 7  # the latest dated day before it: the 10th
    assert "Tidak ada berita pada hari itu" in summary_html(later)
    morning = dt.datetime(2025, 3, 25, 7, 0, tzinfo=JAKARTA)
    html = summary_html(summarizer.summarize(last_24_hours(morning), zone=JAKARTA))
    assert "Tidak ada berita baru dalam 24 jam terakhir" in html
    # Before every article: the most recent ones of all (the undated one, added today).
    early = summarizer.summarize(day_window(dt.date(2020, 1, 1), JAKARTA), zone=JAKARTA)
    assert early.recent_fallback
    assert {Path(q.path).name for q in early.quotes} == {"perpustakaan.txt"}


def test_an_undated_article_counts_from_when_it_was_added(
    corpus: Path, summarizer: Summarizer
) -> None:
    now = dt.datetime.now(JAKARTA)
    summary = summarizer.summarize(last_24_hours(now + dt.timedelta(minutes=1)), zone=JAKARTA)
    assert not summary.recent_fallback
    assert summary.article_count == 1
    assert {Path(q.path).name for q in summary.quotes} == {"perpustakaan.txt"}
    assert all("Baca Juga" not in q.text for q in summary.quotes)
    assert [q.line for q in summary.quotes] == sorted(q.line for q in summary.quotes)
    assert 2 not in [q.line for q in summary.quotes]  # the "Baca Juga" line


def test_window_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="time zone-aware"):
        Window(start=dt.datetime(2025, 3, 10), end=dt.datetime(2025, 3, 11))
    assert day_window(DAY, JAKARTA).is_whole_day
    assert not last_24_hours(dt.datetime(2025, 3, 11, 7, tzinfo=JAKARTA)).is_whole_day


def test_lexrank_ranks_the_sentence_others_agree_with_first() -> None:
    similarity = np.array(
        [[1.0, 0.8, 0.8, 0.8], [0.8, 1.0, 0.1, 0.0], [0.8, 0.1, 1.0, 0.0], [0.8, 0.0, 0.0, 1.0]]
    )
    ranks = lexrank(similarity)
    assert int(np.argmax(ranks)) == 0
    assert ranks.sum() == pytest.approx(1.0)


def test_mmr_skips_near_duplicates_and_caps_articles() -> None:
    relevance = np.array([1.0, 0.99, 0.9, 0.8, 0.7])
    raw = np.eye(5)
    raw[0, 1] = raw[1, 0] = 0.97  # a near-duplicate of the best sentence
    tokens = [frozenset({f"w{i}"}) for i in range(5)]
    articles = np.array([1, 2, 3, 3, 4])
    picked = mmr(
        relevance,
        similarity=np.zeros((5, 5)),
        raw_similarity=raw,
        token_sets=tokens,
        articles=articles,
        limit=4,
    )
    assert picked == [0, 2, 4]  # 1 repeats 0; 3 is a second sentence of article 3
    # Fewer articles than slots: an article may give more than one sentence.
    picked = mmr(
        relevance,
        similarity=np.zeros((5, 5)),
        raw_similarity=raw,
        token_sets=tokens,
        articles=articles,
        limit=5,
    )
    assert picked == [0, 2, 3, 4]
    # The same words in another order are a near-duplicate too.
    tokens[2] = tokens[0]
    picked = mmr(
        relevance,
        similarity=np.zeros((5, 5)),
        raw_similarity=np.eye(5),
        token_sets=tokens,
        articles=np.arange(5),
        limit=3,
    )
    assert picked == [0, 1, 3]


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir for the seeds folder, indexed by the first command that needs it."""
    return tmp_path_factory.mktemp("summary-cli-data")


def test_cli_summary_json_on_the_seed_article(cli_data: Path) -> None:
    result = run(["bot", "summary", "--json"], cli_data)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert dt.date.fromisoformat(data["date"])
    assert 1 <= len(data["sentences"]) <= MAX_SENTENCES
    seed_lines = SEED.read_text(encoding="utf-8").splitlines()
    for sentence in data["sentences"]:
        assert sentence["path"] == "seeds/000_30e2f8887a133a25.txt"
        line = seed_lines[sentence["line"] - 1]
        assert sentence["text"] in line
        assert not line.startswith(("Baca Juga", "Sumber", "Gabung"))
        assert sentence["title"]
    assert len({s["text"] for s in data["sentences"]}) == len(data["sentences"])
    assert data["reply"].startswith("🗞 <b>Ringkasan berita")
    assert data["reply"].count("<blockquote>") == len(data["sentences"])


def test_cli_summary_of_a_day_in_plain_text(cli_data: Path) -> None:
    result = run(["bot", "summary", "--date", "2024-12-27"], cli_data)
    assert result.returncode == 0, result.stderr
    # The seed has no date and was added today: 27 December 2024 falls back to it.
    assert result.stdout.startswith("🗞 Ringkasan berita · Jumat, 27 Desember 2024")
    assert "Tidak ada berita pada hari itu" in result.stdout
    assert "\n1. “" in result.stdout and "” (baris " in result.stdout


def test_cli_ask_for_todays_news_prints_the_summary(cli_data: Path) -> None:
    summary = run(["bot", "summary", "--json"], cli_data)
    asked = run(["bot", "ask", "ada berita apa hari ini?", "--json"], cli_data)
    assert asked.returncode == 0, asked.stderr
    # The same as /ringkasan (and as a Telegram reader asking this gets), not a search.
    assert json.loads(asked.stdout) == json.loads(summary.stdout)
    plain = run(["bot", "ask", "berita terbaru apa"], cli_data)
    assert plain.stdout.startswith("🗞 Ringkasan berita")


def test_summary_html_fits_telegram() -> None:
    from index.search.answers import Quote

    quotes = tuple(
        Quote(text="kata " * 400, title="Judul", path="a.txt", line=i, score=1.0, article_key="a")
        for i in range(1, 6)
    )
    summary = Summary(window=day_window(DAY, JAKARTA), day=DAY, quotes=quotes, article_count=5)
    html = summary_html(summary, footer=True)
    assert 1 <= html.count("<blockquote>") < 5
    assert html.endswith("Berhenti berlangganan: /berhenti")
