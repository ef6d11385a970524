"""Time in replies, end to end: the newest of two differing articles first, unless the question
names a time; "ada berita apa hari ini?" gets the day's summary.

The real Application talks to the Bot API stand-in; "today" comes from a clock the test sets.
The two articles are written here: two days' reports of one toll tariff, with different figures.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from config.settings import Settings
from index.encoders.embedder import Embedder
from index.search.searcher import Searcher
from index.search.timewords import read_time
from index.storage.builder import build_index
from tests.conftest import (
    api_settings,
    ask,
    copy_database,
    make_settings,
    running_bot,
    with_seed,
    write_jsonl,
)
from tests.telegram_api import BotApiServer, SentMessage
from tests.test_bot_e2e import article_blocks
from tests.test_daily_summary import Clock
from tests.test_inline import inline

USER = 3001
QUESTION = "berapa tarif Tol Lingkar Sukamaju untuk golongan I?"
OLDER = {
    "id": "tol-sukamaju-6-januari",
    "title": "Tarif Tol Lingkar Sukamaju naik",
    "text": (
        "Badan Pengatur Jalan Tol mengumumkan penyesuaian tarif Tol Lingkar Sukamaju.\n"
        "Tarif Tol Lingkar Sukamaju untuk kendaraan golongan I naik menjadi Rp 14.500 sekali "
        "jalan.\n"
        "Kenaikan itu berlaku setelah evaluasi standar pelayanan minimal.\n"
        "Pengelola tol menyebut kenaikan diperlukan untuk perawatan jembatan di ruas timur."
    ),
    "date": "2025-01-06",
    "source": "Warta Sukamaju",
}
NEWER = {
    "id": "tol-sukamaju-7-januari",
    "title": "Tarif baru Tol Lingkar Sukamaju direvisi",
    "text": (
        "Pengguna jalan mulai membayar tarif baru di gerbang Tol Lingkar Sukamaju.\n"
        "Tarif Tol Lingkar Sukamaju untuk kendaraan golongan I kini Rp 16.000 sekali jalan "
        "setelah revisi kedua.\n"
        "Antrean panjang terlihat di gerbang tol barat sejak pagi.\n"
        "Petugas menambah dua gardu untuk mengurai kepadatan."
    ),
    "date": "2025-01-07",
    "source": "Kabar Kota",
}
FLOOD_OLDER = {
    "id": "banjir-cibening-5-januari",
    "title": "Banjir bandang terjang Cibening",
    "text": (
        "Banjir bandang menerjang Kecamatan Cibening setelah hujan deras semalaman.\n"
        "Hingga Minggu sore, jumlah korban meninggal akibat banjir bandang di Cibening tercatat "
        "12 orang.\n"
        "Tim SAR gabungan masih mencari warga yang hilang di sepanjang sungai.\n"
        "Ratusan rumah terendam lumpur setinggi satu meter."
    ),
    "date": "2025-01-05",
    "source": "Warta Sukamaju",
}
FLOOD_NEWER = {
    "id": "banjir-cibening-7-januari",
    "title": "Korban banjir bandang Cibening bertambah",
    "text": (
        "Pencarian korban banjir bandang di Kecamatan Cibening memasuki hari ketiga.\n"
        "Jumlah korban meninggal akibat banjir bandang di Cibening mencapai 17 orang.\n"
        "Pemerintah kabupaten menetapkan status tanggap darurat selama dua pekan.\n"
        "Bantuan logistik mulai tiba di posko pengungsian."
    ),
    "date": "2025-01-07",
    "source": "Kabar Kota",
}
OLDER_ANSWER = OLDER["text"].split("\n")[1]
NEWER_ANSWER = NEWER["text"].split("\n")[1]
OLDER_SOURCE = "tol.jsonl · 6 Januari 2025 · Warta Sukamaju"
NEWER_SOURCE = "tol.jsonl · 7 Januari 2025 · Kabar Kota"


@pytest.fixture(scope="module")
def tol_root(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The seed article and two days' reports of a toll tariff and of a flood, indexed."""
    root = with_seed(tmp_path_factory.mktemp("tol"))
    write_jsonl(root / "seeds" / "tol.jsonl", [OLDER, NEWER, FLOOD_OLDER, FLOOD_NEWER])
    build_index(make_settings(root), embedder=embedder)
    return root


@pytest.fixture(scope="module")
def tol_searcher(tol_root: Path, embedder: Embedder) -> Searcher:
    return Searcher.open(make_settings(tol_root), embedder=embedder)


@pytest.fixture
def settings(tol_root: Path, api: BotApiServer, tmp_path: Path) -> Settings:
    """The bot on the two reports, with the index's rows copied into a database of this test's
    own (which also takes the subscriptions and the claims of updates)."""
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    copy_database(make_settings(tol_root).sqlalchemy_url, database_url)
    return api_settings(tol_root, api, database_url=database_url)


def first_two(reply: SentMessage) -> list[tuple[str, str]]:
    """The first two articles of a reply: each one's first quote and its file, date, publisher."""
    return [(quotes[0][0], source[1]) for quotes, source in article_blocks(reply)[:2]]


def ranking_alone(searcher: Searcher, question: str, today: dt.date) -> list[dt.date | None]:
    """The dates of the two sentences the ranking alone puts first, before the time rule."""
    ranking = searcher.rank(read_time(question, today).search_text, limit=2)
    return [quote.date for quote in ranking.quotes]


JAN = {day: dt.date(2025, 1, day) for day in (5, 6, 7, 8)}
NEWER_FIRST = [(NEWER_ANSWER, NEWER_SOURCE), (OLDER_ANSWER, OLDER_SOURCE)]
OLDER_FIRST = [(OLDER_ANSWER, OLDER_SOURCE), (NEWER_ANSWER, NEWER_SOURCE)]


async def test_the_newest_report_comes_first_unless_the_question_names_a_time(
    api: BotApiServer, settings: Settings, tol_searcher: Searcher
) -> None:
    api.private_chat(USER)
    clock = Clock(9, 0, day=JAN[7])
    kemarin = "berapa tarif Tol Lingkar Sukamaju golongan I kemarin?"
    # The ranking alone puts the older report first, a little ahead of the newer.
    assert ranking_alone(tol_searcher, QUESTION, JAN[7]) == [JAN[6], JAN[7]]
    assert ranking_alone(tol_searcher, kemarin, JAN[8]) == [JAN[6], JAN[7]]
    async with running_bot(settings, tol_searcher, clock=clock):
        # No time named: both answer, the newer first; each with its date and publisher.
        assert first_two(await ask(api, QUESTION, chat_id=USER)) == NEWER_FIRST
        # "kemarin" on 7 January is the 6th.
        assert first_two(await ask(api, kemarin, chat_id=USER)) == OLDER_FIRST
        # A day later, "kemarin" is the 7th.
        clock.set(9, 0, day=JAN[8])
        assert first_two(await ask(api, kemarin, chat_id=USER)) == NEWER_FIRST
        # On the 6th, "hari ini" is the older report's day.
        clock.set(20, 0, day=JAN[6])
        today = "berapa tarif Tol Lingkar Sukamaju golongan I hari ini?"
        assert first_two(await ask(api, today, chat_id=USER)) == OLDER_FIRST


async def test_a_named_date_brings_its_report_first(
    api: BotApiServer, settings: Settings, tol_searcher: Searcher
) -> None:
    api.private_chat(USER)
    flood = "berapa korban meninggal banjir bandang di Cibening pada {} Januari 2025?"
    older = (FLOOD_OLDER["text"].split("\n")[1], "tol.jsonl · 5 Januari 2025 · Warta Sukamaju")
    newer = (FLOOD_NEWER["text"].split("\n")[1], "tol.jsonl · 7 Januari 2025 · Kabar Kota")
    # The date is not searched for: the ranking alone puts the two reports first in one order
    # whichever day is named, so for one of the two days the rule must move its report up.
    alone = ranking_alone(tol_searcher, flood.format(5), JAN[7])
    assert sorted(alone, key=str) == [JAN[5], JAN[7]]
    assert ranking_alone(tol_searcher, flood.format(7), JAN[7]) == alone
    async with running_bot(settings, tol_searcher, clock=Clock(9, 0, day=JAN[7])):
        assert first_two(await ask(api, flood.format(5), chat_id=USER)) == [older, newer]
        assert first_two(await ask(api, flood.format(7), chat_id=USER)) == [newer, older]
        question = "berapa tarif Tol Lingkar Sukamaju golongan I pada 6/1/2025?"
        assert first_two(await ask(api, question, chat_id=USER)) == OLDER_FIRST


async def test_an_inline_result_names_the_date_and_publisher_newest_first(
    api: BotApiServer, settings: Settings, tol_searcher: Searcher
) -> None:
    api.enable_inline_mode()
    async with running_bot(settings, tol_searcher, clock=Clock(9, 0, day=dt.date(2025, 1, 7))):
        answer = await inline(api, QUESTION, user_id=USER)
    first, second, *_ = answer.results
    assert first["title"] == NEWER_ANSWER and second["title"] == OLDER_ANSWER
    assert first["description"].startswith("7 Januari 2025 · Kabar Kota · ")
    assert second["description"].startswith("6 Januari 2025 · Warta Sukamaju · ")
    assert answer.message_texts[0].split("\n")[2:] == [f"📰 {NEWER['title']}", NEWER_SOURCE]


async def test_asking_for_todays_news_gets_the_days_summary(
    api: BotApiServer, settings: Settings, tol_searcher: Searcher
) -> None:
    api.private_chat(USER)
    api.enable_inline_mode()
    async with running_bot(settings, tol_searcher, clock=Clock(9, 0, day=dt.date(2025, 1, 7))):
        command = await ask(api, "/ringkasan", chat_id=USER)
        for question in ("ada berita apa hari ini?", "berita terbaru apa", "apa kabar hari ini"):
            reply = await ask(api, question, chat_id=USER)
            assert reply.text == command.text
        # A question about something in today's news is searched, not summed up.
        searched = await ask(
            api, "berita hari ini tentang tarif Tol Lingkar Sukamaju berapa?", chat_id=USER
        )
        inline_answer = await inline(api, "ada berita apa hari ini?", user_id=USER)
    assert command.plain_text.startswith(
        "🗞 Ringkasan berita 24 jam terakhir · Selasa, 7 Januari 2025"
    )
    # The day's two reports are summed up, each under its source.
    assert NEWER_SOURCE in command.plain_text.split("\n")
    assert OLDER_SOURCE in command.plain_text.split("\n")
    assert not searched.plain_text.startswith("🗞")
    assert first_two(searched)[0][1] == NEWER_SOURCE
    [offered] = inline_answer.results
    assert offered["title"] == "🗞 Ringkasan berita 24 jam terakhir · Selasa, 7 Januari 2025"
    assert offered["input_message_content"]["message_text"] == command.text
