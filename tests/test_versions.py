"""Index versions: built aside, switched by one commit, old searchers unharmed, crashes harmless."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

import index.storage.builder
from bot.admin_replies import format_number, report_lines
from config.settings import Settings
from index.cli import report_lines as shell_report_lines
from index.encoders.embedder import Embedder
from index.search.searcher import Searcher
from index.serving import ReloadRunningError, ServingIndex
from index.storage.builder import build_index
from index.storage.store import make_engine
from index.storage.tables import Article, Chunk, Sentence
from index.storage.versions import (
    BuildBusyError,
    build_lock,
    collect_garbage,
    current_version,
    version_folder,
    versions_on_disk,
)
from tests.conftest import MISSION_ANSWER, MISSION_QUESTION, make_settings, with_seed

CHILI = "cabai.txt"
CHILI_QUESTION = "berapa harga cabai rawit di Pasar Senen?"


def _chili(price: str) -> str:
    return f"Harga cabai rawit di Pasar Senen naik menjadi Rp {price} per kilogram.\n"


def _seeded(
    root: Path, chili: str | None = "80.000", *, database_url: str | None = None
) -> Settings:
    with_seed(root)
    if chili:
        (root / "seeds" / CHILI).write_text(_chili(chili))
    return make_settings(root, database_url=database_url)


def _article_rows(settings: Settings) -> list[tuple[str, int | None]]:
    with Session(make_engine(settings.sqlalchemy_url)) as session:
        rows = session.exec(select(Article.key, Article.removed_in).order_by(col(Article.id)))
        return [(key, removed) for key, removed in rows]


def test_each_build_is_a_new_folder_and_unchanged_builds_make_none(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    settings = _seeded(tmp_path, database_url=database_url)
    assert build_index(settings, embedder=embedder).version == 1
    again = build_index(settings, embedder=embedder)
    assert (again.version, again.chunks_embedded, again.unchanged) == (1, 0, 2)
    (settings.seeds_dir / CHILI).write_text(_chili("60.000"))
    assert build_index(settings, embedder=embedder).version == 2
    assert versions_on_disk(settings.index_dir) == [1, 2]
    assert current_version(make_engine(settings.sqlalchemy_url)) == 2
    assert version_folder(settings.index_dir, 2).name == "v000002"


def test_a_searcher_keeps_its_version_while_reloads_change_and_remove_rows(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    settings = _seeded(tmp_path, database_url=database_url)
    build_index(settings, embedder=embedder)
    old = Searcher.open(settings, embedder=embedder)
    (settings.seeds_dir / CHILI).write_text(_chili("60.000"))
    build_index(settings, embedder=embedder)
    new = Searcher.open(settings, embedder=embedder)
    assert (old.version, new.version) == (1, 2)
    # The changed article's old rows are retired, not deleted: the old searcher still quotes them.
    assert "Rp 80.000" in old.answer(CHILI_QUESTION).quotes[0].text
    assert "Rp 60.000" in new.answer(CHILI_QUESTION).quotes[0].text
    assert _article_rows(settings) == [
        ("000_30e2f8887a133a25.txt", None),
        (CHILI, 2),
        (CHILI, None),
    ]
    # Clean-up keeps the previous version (1) and every row it needs.
    garbage = collect_garbage(settings.index_dir, make_engine(settings.sqlalchemy_url))
    assert (garbage.folders, garbage.articles) == ([], 0)
    assert "Rp 80.000" in old.answer(CHILI_QUESTION).quotes[0].text

    (settings.seeds_dir / CHILI).unlink()
    assert build_index(settings, embedder=embedder).removed == 1
    newest = Searcher.open(settings, embedder=embedder)
    assert not newest.answer(CHILI_QUESTION).answered
    assert "Rp 60.000" in new.answer(CHILI_QUESTION).quotes[0].text  # version 2 still whole
    garbage = collect_garbage(settings.index_dir, make_engine(settings.sqlalchemy_url))
    # Version 1 goes, with the rows only it needed (the 80.000 article, retired in 2).
    assert (garbage.folders, garbage.articles) == (["v000001"], 1)
    assert versions_on_disk(settings.index_dir) == [2, 3]
    assert _article_rows(settings) == [("000_30e2f8887a133a25.txt", None), (CHILI, 3)]


def test_ids_are_never_reused_after_clean_up(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    settings = _seeded(tmp_path, database_url=database_url)
    (settings.seeds_dir / "b.txt").write_text("Gempa bermagnitudo 5,2 mengguncang Cianjur.\n")
    engine = make_engine(settings.sqlalchemy_url)

    def highest() -> tuple[int, int]:
        with Session(engine) as session:
            sentence = session.exec(select(Sentence.id).order_by(col(Sentence.id).desc())).first()
            chunk = session.exec(select(Chunk.id).order_by(col(Chunk.id).desc())).first()
        return int(sentence or 0), int(chunk or 0)

    build_index(settings, embedder=embedder)
    issued = highest()  # the chili article, read last, holds the highest ids
    (settings.seeds_dir / CHILI).unlink()
    build_index(settings, embedder=embedder)
    (settings.seeds_dir / "b.txt").unlink()
    build_index(settings, embedder=embedder)
    assert collect_garbage(settings.index_dir, engine).articles == 1  # the chili rows are gone
    assert highest() < issued
    (settings.seeds_dir / "d.txt").write_text("Harga emas naik menjadi Rp 1,5 juta per gram.\n")
    build_index(settings, embedder=embedder)
    sentence, chunk = highest()
    # A searcher of an older version maps those ids to the chili rows: they must stay unused.
    assert sentence > issued[0] and chunk > issued[1]


def test_questions_during_a_build_are_answered_from_the_old_version(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    settings = _seeded(tmp_path, database_url=database_url)
    build_index(settings, embedder=embedder)
    serving = Searcher.open(settings, embedder=embedder)
    for n in range(12):  # enough to keep the build busy while questions are asked
        (settings.seeds_dir / f"pasar_{n}.txt").write_text(
            f"Harga bawang merah di pasar nomor {n} turun menjadi Rp {20 + n}.000 per kilogram. "
            f"Pedagang di pasar nomor {n} mengatakan pasokan dari Brebes melimpah pekan ini.\n"
        )
    (settings.seeds_dir / CHILI).write_text(_chili("60.000"))
    (settings.seeds_dir / "000_30e2f8887a133a25.txt").unlink()
    answers: list[tuple[str, str]] = []
    built = threading.Event()

    def ask_until_built() -> None:
        while not built.is_set() or len(answers) < 4:
            for question in (MISSION_QUESTION, CHILI_QUESTION):
                quotes = serving.answer(question).quotes
                answers.append((question, quotes[0].text if quotes else ""))

    asker = threading.Thread(target=ask_until_built)
    asker.start()
    report = build_index(settings, embedder=embedder, progress=lambda *_: None)
    built.set()
    asker.join()
    assert (report.added, report.changed, report.removed) == (12, 1, 1)
    assert len(answers) >= 4
    # Every answer came whole from version 1, even after the commit retired its rows.
    for question, quoted in answers:
        assert quoted == (
            MISSION_ANSWER if question == MISSION_QUESTION else _chili("80.000").strip()
        )
    assert serving.answer(MISSION_QUESTION).quotes[0].text == MISSION_ANSWER
    fresh = Searcher.open(settings, embedder=embedder)
    assert fresh.version == 2 and not fresh.answer(MISSION_QUESTION).answered


@pytest.mark.parametrize("fail_after_folder", [False, True])
def test_a_failed_build_changes_nothing_and_the_next_one_succeeds(
    tmp_path: Path,
    embedder: Embedder,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    fail_after_folder: bool,
) -> None:
    settings = _seeded(tmp_path, database_url=database_url)
    build_index(settings, embedder=embedder)
    rows_before = _article_rows(settings)
    (settings.seeds_dir / CHILI).write_text(_chili("60.000"))
    (settings.seeds_dir / "baru.txt").write_text("Gempa bermagnitudo 5,2 mengguncang Cianjur.\n")
    write_version = index.storage.builder.write_version

    def broken(*args: object, **kwargs: object) -> Path:
        if fail_after_folder:  # the folder is in place, the commit never happens
            write_version(*args, **kwargs)  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index.storage.builder, "write_version", broken)
    with pytest.raises(OSError, match="No space left"):
        build_index(settings, embedder=embedder)
    assert _article_rows(settings) == rows_before
    assert current_version(make_engine(settings.sqlalchemy_url)) == 1
    assert (version_folder(settings.index_dir, 2).exists()) is fail_after_folder
    searcher = ServingIndex(settings, embedder=embedder).open()
    assert searcher.version == 1
    assert "Rp 80.000" in searcher.answer(CHILI_QUESTION).quotes[0].text

    monkeypatch.setattr(index.storage.builder, "write_version", write_version)
    report = build_index(settings, embedder=embedder)
    assert (report.version, report.added, report.changed) == (2, 1, 1)
    assert (
        "Rp 60.000"
        in Searcher.open(settings, embedder=embedder).answer(CHILI_QUESTION).quotes[0].text
    )


def test_one_build_at_a_time(tmp_path: Path, embedder: Embedder, database_url: str) -> None:
    settings = _seeded(tmp_path, database_url=database_url)
    with (
        build_lock(settings.index_dir),
        pytest.raises(BuildBusyError, match=r"pid \d+") as busy,
    ):
        build_index(settings, embedder=embedder)
    # Who holds the lock, as its file records it: this process, this host, since just now.
    holder = busy.value.holder
    assert (holder.pid, holder.host) == (os.getpid(), socket.gethostname())
    assert holder.since is not None
    assert abs(dt.datetime.now(dt.UTC) - holder.since) < dt.timedelta(minutes=1)
    assert build_index(settings, embedder=embedder).version == 1


def test_one_reload_at_a_time_in_a_process(tmp_path: Path, embedder: Embedder) -> None:
    serving = ServingIndex(_seeded(tmp_path), embedder=embedder)
    with serving.reload_turn() as turn:
        assert turn is not None and serving.reloading
        with serving.reload_turn() as second:
            assert second is None
        with pytest.raises(ReloadRunningError):
            serving.reload()
    assert not serving.reloading
    assert serving.reload().report.version == 1
    assert serving.searcher is not None and serving.searcher.version == 1


def test_the_build_lock_can_be_waited_for(tmp_path: Path) -> None:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with build_lock(tmp_path):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    with pytest.raises(BuildBusyError), build_lock(tmp_path, wait=0.3):
        pass
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    with build_lock(tmp_path, wait=10):  # a starting worker waits for another one's build
        waited = time.monotonic() - started
    holder.join()
    assert 0.2 < waited < 5


def test_an_index_from_before_versions_is_adopted_without_embedding(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = _seeded(tmp_path)
    build_index(settings, embedder=embedder)
    # Rewind to the old layout: files directly in data/index, a unique key, no removed_in.
    for path in version_folder(settings.index_dir, 1).iterdir():
        path.rename(settings.index_dir / path.name)
    version_folder(settings.index_dir, 1).rmdir()
    with sqlite3.connect(settings.data_dir / "tanya.db") as db:
        db.execute("DROP INDEX ux_article_live_key")
        db.execute("DROP INDEX ix_article_removed_in")
        db.execute("DROP INDEX ix_article_key")
        db.execute("ALTER TABLE article DROP COLUMN removed_in")
        db.execute("CREATE UNIQUE INDEX ix_article_key ON article (key)")

    result = ServingIndex(settings, embedder=embedder).reload()
    assert (result.report.chunks_embedded, result.report.unchanged) == (0, 2)
    assert result.searcher is not None and result.searcher.version == 1
    assert result.searcher.answer(MISSION_QUESTION).quotes[0].text == MISSION_ANSWER
    (settings.seeds_dir / CHILI).write_text(_chili("60.000"))  # same key again: no unique clash
    assert ServingIndex(settings, embedder=embedder).reload().report.changed == 1


def test_report_reads_the_indonesian_way(tmp_path: Path, embedder: Embedder) -> None:
    settings = _seeded(tmp_path, chili=None)
    (settings.seeds_dir / "kosong.txt").write_text("  \n")
    (settings.seeds_dir / "data.jsonl").write_text('{"id": 1, "text": "Satu."}\nbukan json\n')
    report = ServingIndex(settings, embedder=embedder).reload().report
    report.seconds = 1.84
    lines = report_lines(report)
    assert lines[0] == "+2 baru, 0 berubah, 0 dihapus, 0 tetap, 1,8 s"
    assert f"dilewati: {settings.seeds_dir}/kosong.txt: berkas kosong" in lines
    assert f"dilewati: {settings.seeds_dir}/data.jsonl:2: baris 2: bukan JSON yang sah" in lines
    assert (format_number(1234567), format_number(1234.56, 1)) == ("1.234.567", "1.234,6")


def test_the_shell_reads_the_same_report_in_english(tmp_path: Path, embedder: Embedder) -> None:
    settings = _seeded(tmp_path, chili=None)
    (settings.seeds_dir / "kosong.txt").write_text("  \n")
    (settings.seeds_dir / "data.jsonl").write_text('{"id": 1, "text": "Satu."}\nbukan json\n')
    report = ServingIndex(settings, embedder=embedder).build()
    report.seconds = 1234.56
    lines = shell_report_lines(report)
    assert lines[0] == "+2 new, 0 changed, 0 removed, 0 unchanged, 1234.6 s"
    assert f"skipped: {settings.seeds_dir}/kosong.txt: empty file" in lines
    assert f"skipped: {settings.seeds_dir}/data.jsonl:2: line 2: not valid JSON" in lines
