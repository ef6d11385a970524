"""A first build in steps: a version every few articles, served at once; the last one equals a
build in one step. Real parts: the bundled model, SQLite (and PostgreSQL), FAISS."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, col, select

import index.serving
import index.startup
from config.settings import Settings
from index.encoders.embedder import Embedder
from index.search.answers import Answer
from index.search.searcher import Searcher
from index.search.tokens import tokenize
from index.serving import ServingIndex
from index.startup import BUILD_THREAD
from index.storage.builder import build_index
from index.storage.lexical import BM25Index
from index.storage.store import make_engine
from index.storage.tables import Article, Chunk, Sentence
from index.storage.vectors import VectorIndex
from index.storage.versions import (
    LEXICAL_DIR,
    collect_garbage,
    current_version,
    version_folder,
    versions_on_disk,
)
from tests.conftest import (
    USER,
    BotProcess,
    api_settings,
    bot_env,
    make_settings,
    running_bot,
    say,
)
from tests.telegram_api import BotApiServer

SHARED = "Pemerintah daerah berjanji memantau harga dan pasokan setiap hari."
#: Five articles, read in this order (by file name): steps of two make versions of 2, 4, 5.
ARTICLES = {
    "a_cabai.txt": (
        "Harga cabai rawit di Pasar Senen naik menjadi Rp 80.000 per kilogram.\n" + SHARED + "\n"
    ),
    "b_gempa.txt": "Gempa bermagnitudo 5,2 mengguncang Cianjur pada Senin pagi.\n",
    "c_emas.txt": "Harga emas Antam naik menjadi Rp 1,5 juta per gram pada Selasa.\n",
    "d_banjir.txt": (
        "Banjir setinggi 80 sentimeter merendam 300 rumah di Kampung Melayu.\n" + SHARED + "\n"
    ),
    "e_kereta.txt": (
        "Kereta cepat Jakarta-Bandung mengangkut 20.000 penumpang pada hari Minggu.\n"
    ),
}
#: A question on each article, and the words its answer holds.
QUESTIONS = {
    "a_cabai.txt": ("berapa harga cabai rawit di Pasar Senen?", "Rp 80.000"),
    "b_gempa.txt": ("berapa magnitudo gempa yang mengguncang Cianjur?", "5,2"),
    "c_emas.txt": ("berapa harga emas Antam per gram?", "Rp 1,5 juta"),
    "d_banjir.txt": ("berapa rumah terendam banjir di Kampung Melayu?", "300 rumah"),
    "e_kereta.txt": ("berapa penumpang kereta cepat Jakarta-Bandung hari Minggu?", "20.000"),
}
NAMES = list(ARTICLES)


def _write(root: Path, names: list[str] = NAMES) -> Path:
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / "seeds" / name).write_text(ARTICLES[name], encoding="utf-8")
    return root


def _answers_about(searcher: Searcher, name: str) -> bool:
    """Whether ``searcher`` answers the question on article ``name`` by quoting it."""
    question, fact = QUESTIONS[name]
    answer = searcher.answer(question)
    return answer.answered and fact in answer.quotes[0].text


def _shape(answer: Answer) -> list[tuple[str, str, int, list[str]]]:
    """An answer without the folder it was built in: text, file, line, the other copies' files."""
    return [
        (q.text, Path(q.path).name, q.line, [Path(other.path).name for other in q.also])
        for q in answer.quotes
    ]


def _content(settings: Settings) -> dict[str, object]:
    """The live rows of an index by content, never by id."""
    engine = make_engine(settings.sqlalchemy_url)
    with Session(engine) as session:
        articles = session.exec(select(Article).where(col(Article.removed_in).is_(None))).all()
        keys = {a.id: a.key for a in articles}
        chunks = session.exec(select(Chunk).where(col(Chunk.article_id).in_(list(keys)))).all()
        sentences = session.exec(
            select(Sentence).where(col(Sentence.article_id).in_(list(keys)))
        ).all()
    engine.dispose()
    return {
        "articles": sorted((a.key, a.content_hash, a.title, a.line, a.date) for a in articles),
        "chunks": sorted((keys[c.article_id], c.position, c.text) for c in chunks),
        "sentences": sorted(
            (keys[s.article_id], s.position, s.line, s.text, s.tokens) for s in sentences
        ),
    }


def _vectors_by_text(settings: Settings, embedder: Embedder) -> dict[str, np.ndarray]:
    engine = make_engine(settings.sqlalchemy_url)
    folder = version_folder(settings.index_dir, current_version(engine))
    with Session(engine) as session:
        rows = session.exec(
            select(Chunk.id, Chunk.text)
            .join(Article, col(Chunk.article_id) == col(Article.id))
            .where(col(Article.removed_in).is_(None))
        ).all()
    engine.dispose()
    vectors = VectorIndex.load(folder, model=embedder.name)
    assert len(vectors) == len(rows)
    return dict(zip((text for _, text in rows), vectors.vectors([i for i, _ in rows]), strict=True))


def _bm25_by_text(settings: Settings, question: str) -> dict[str, float]:
    """The BM25 score of every sentence for ``question``, by sentence text and file."""
    engine = make_engine(settings.sqlalchemy_url)
    folder = version_folder(settings.index_dir, current_version(engine))
    lexical = BM25Index.load(folder / LEXICAL_DIR)
    scores = lexical.scores(tokenize(question))
    with Session(engine) as session:
        rows = session.exec(
            select(Sentence.id, Sentence.text, Article.key).join(
                Article, col(Sentence.article_id) == col(Article.id)
            )
        ).all()
    engine.dispose()
    text_of = {sentence_id: (key, text) for sentence_id, text, key in rows}
    return {
        f"{text_of[int(i)][0]}: {text_of[int(i)][1]}": float(s)
        for i, s in zip(lexical.doc_ids, scores, strict=True)
    }


def test_a_first_build_publishes_every_step_and_its_last_version_equals_one_build(
    tmp_path: Path, embedder: Embedder, database_url: str
) -> None:
    stepped = make_settings(
        _write(tmp_path / "stepped"), database_url=database_url, build_publish_every=2
    )
    engine = make_engine(stepped.sqlalchemy_url)
    served: dict[int, list[str]] = {}  # version -> the articles its searcher answers about
    progress: list[tuple[int, int]] = []

    def published(version: int) -> None:
        assert current_version(engine) == version  # committed: this is what a worker opens
        searcher = Searcher.open(stepped, embedder=embedder, engine=engine)
        served[version] = [name for name in NAMES if _answers_about(searcher, name)]

    report = build_index(
        stepped,
        embedder=embedder,
        published=published,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert (report.version, report.added, report.chunks_embedded) == (3, 5, progress[-1][0])
    assert served == {1: NAMES[:2], 2: NAMES[:4], 3: NAMES}
    # Progress counts the whole build, never a step's share.
    assert {total for _, total in progress} == {report.chunks_embedded}
    assert [done for done, _ in progress] == sorted({done for done, _ in progress})
    # The build dropped its own first step; clean-up keeps the current and previous version.
    assert versions_on_disk(stepped.index_dir) == [2, 3]
    assert collect_garbage(stepped.index_dir, engine).folders == []
    assert versions_on_disk(stepped.index_dir) == [2, 3]

    at_once = make_settings(_write(tmp_path / "at_once"), build_publish_every=0)
    assert build_index(at_once, embedder=embedder).version == 1
    assert _content(stepped) == _content(at_once)
    ours, theirs = _vectors_by_text(stepped, embedder), _vectors_by_text(at_once, embedder)
    assert sorted(ours) == sorted(theirs)
    for text, vector in ours.items():
        np.testing.assert_allclose(vector, theirs[text], atol=1e-5)
    final = Searcher.open(stepped, embedder=embedder, engine=engine)
    whole = Searcher.open(at_once, embedder=embedder)
    for question, _ in [*QUESTIONS.values(), ("apa janji pemerintah daerah soal pasokan?", "")]:
        assert _bm25_by_text(stepped, question) == pytest.approx(_bm25_by_text(at_once, question))
        ours_answer, theirs_answer = final.answer(question), whole.answer(question)
        assert ours_answer.answered == theirs_answer.answered
        assert _shape(ours_answer) == _shape(theirs_answer)
        assert [q.score for q in ours_answer.quotes] == pytest.approx(
            [q.score for q in theirs_answer.quotes], abs=1e-4
        )
    # The sentence two articles share: the same copy is quoted first, the other one beside it.
    shared = [q for q in final.rank("apa janji pemerintah daerah soal pasokan?").quotes]
    assert [Path(q.path).name for q in shared if q.text == SHARED] == [
        Path(q.path).name
        for q in whole.rank("apa janji pemerintah daerah soal pasokan?").quotes
        if q.text == SHARED
    ]
    engine.dispose()


def test_a_rebuild_in_steps_keeps_when_each_article_was_first_added(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(_write(tmp_path), build_publish_every=0)
    build_index(settings, embedder=embedder)
    engine = make_engine(settings.sqlalchemy_url)

    def added() -> dict[str, object]:
        with Session(engine) as session:
            live = select(Article).where(col(Article.removed_in).is_(None))
            return {a.key: a.added_at for a in session.exec(live)}

    first = added()
    assert len(first) == 5
    # The serving version's folder is lost: nothing serves, every article is embedded again.
    for path in sorted(version_folder(settings.index_dir, 1).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    version_folder(settings.index_dir, 1).rmdir()
    settings = settings.model_copy(update={"build_publish_every": 2})
    versions: list[int] = []
    report = build_index(settings, embedder=embedder, published=versions.append)
    assert (versions, report.added, report.removed) == ([2, 3, 4], 5, 0)
    assert added() == first  # the steps after the first, too, keep the first dates
    final = Searcher.open(settings, embedder=embedder, engine=engine)
    assert all(_answers_about(final, name) for name in NAMES)

    # A rebuild of an index that serves: one version at the end, never a shrunken first step.
    versions.clear()
    report = build_index(settings, embedder=embedder, full=True, published=versions.append)
    assert (versions, report.added) == ([5], 5)
    assert added() == first
    engine.dispose()


class Failing:
    """The bundled model, failing on a chosen call to embed passages (a step's articles)."""

    def __init__(self, inner: Embedder, *, fail_on_call: int) -> None:
        self.inner, self.fail_on_call, self.calls = inner, fail_on_call, 0
        self.name, self.dim = inner.name, inner.dim

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("the model ran out of memory")
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


@pytest.mark.parametrize("failure", ["embedding", "progress"])
def test_a_build_stopped_after_a_step_leaves_the_last_published_version_serving(
    tmp_path: Path, embedder: Embedder, database_url: str, failure: str
) -> None:
    settings = make_settings(_write(tmp_path), database_url=database_url, build_publish_every=2)
    published: list[int] = []

    def progress(done: int, total: int) -> None:
        if failure == "progress" and published:  # the second step is being embedded
            raise KeyboardInterrupt

    # One call per step here: each step's two chunks fit one batch.
    building = Failing(embedder, fail_on_call=2 if failure == "embedding" else 0)
    expected = RuntimeError if failure == "embedding" else KeyboardInterrupt
    with pytest.raises(expected):
        build_index(
            settings,
            embedder=building,  # type: ignore[arg-type]
            published=published.append,
            progress=progress,
        )
    assert published == [1]
    engine = make_engine(settings.sqlalchemy_url)
    assert current_version(engine) == 1
    searcher = ServingIndex(settings, embedder=embedder, engine=engine).open()
    assert searcher.version == 1
    assert [name for name in NAMES if _answers_about(searcher, name)] == NAMES[:2]

    # The next build adds the rest to the version that serves.
    report = build_index(settings, embedder=embedder)
    assert (report.version, report.added, report.unchanged) == (2, 3, 2)
    searcher = Searcher.open(settings, embedder=embedder, engine=engine)
    assert all(_answers_about(searcher, name) for name in NAMES)
    engine.dispose()


class Gated:
    """The bundled model; the calls to embed passages numbered in ``gates`` wait for theirs."""

    def __init__(self, inner: Embedder, *, gated: tuple[int, ...] = (2,)) -> None:
        self.inner, self.calls = inner, 0
        self.name, self.dim = inner.name, inner.dim
        self.gates = {call: threading.Event() for call in gated}
        self.entered = {call: threading.Event() for call in gated}

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        if self.calls in self.gates:
            self.entered[self.calls].set()
            self.gates[self.calls].wait(300)  # a safety net for a broken test, never a condition
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


def _build_thread() -> threading.Thread:
    [thread] = [t for t in threading.enumerate() if t.name == BUILD_THREAD]
    return thread


def test_a_first_start_serves_the_first_step_while_the_build_goes_on(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = make_settings(_write(tmp_path), build_publish_every=2)
    gated = Gated(embedder)
    newer: list[Searcher] = []
    serving = ServingIndex(settings, embedder=gated)  # type: ignore[arg-type]
    searcher = serving.open(background=True, on_new_version=newer.append)
    # The first step serves; the second waits, embedding, for the gate.
    build = _build_thread()
    assert searcher.version == 1 and build.is_alive()
    assert [name for name in NAMES if _answers_about(searcher, name)] == NAMES[:2]
    gated.gates[2].set()
    build.join()
    assert [s.version for s in newer] == [2, 3]
    assert all(_answers_about(newer[-1], name) for name in NAMES)
    assert serving.searcher is newer[-1]  # each later version was swapped in as it came
    assert versions_on_disk(settings.index_dir) == [2, 3]


def test_a_start_while_another_worker_builds_waits_for_its_first_step_only(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(_write(tmp_path), build_publish_every=2)
    gated = Gated(embedder, gated=(1, 2))  # before the first step, and before the second
    other = threading.Thread(
        target=build_index, kwargs={"settings": settings, "embedder": gated}, name="other worker"
    )
    other.start()
    gated.entered[1].wait(300)  # the other worker holds the build lock, nothing published yet
    waiting = threading.Event()
    build_lock = index.startup.build_lock

    def watched(*args: object, **kwargs: object) -> object:
        waiting.set()
        return build_lock(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index.startup, "build_lock", watched)
    loaded: list[Searcher] = []
    starting = threading.Thread(
        target=lambda: loaded.append(ServingIndex(settings, embedder=embedder).open())
    )
    starting.start()
    waiting.wait(300)  # this worker found the build busy and waits for it
    gated.gates[1].set()
    starting.join()
    [searcher] = loaded
    assert searcher.version == 1 and other.is_alive()  # the other build waits at its second step
    assert [name for name in NAMES if _answers_about(searcher, name)] == NAMES[:2]
    gated.gates[2].set()
    other.join()
    assert current_version(make_engine(settings.sqlalchemy_url)) == 3


async def test_the_bot_answers_from_the_first_step_and_swaps_in_the_later_ones(
    tmp_path: Path, embedder: Embedder, api: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gated = Gated(embedder)
    monkeypatch.setattr(index.serving, "settings_embedder", lambda _: gated)
    settings = api_settings(
        _write(tmp_path),
        api,
        build_publish_every=2,
        sync_seconds=0,  # no following of other workers: the build itself swaps versions in
    )
    api.private_chat(USER)
    async with running_bot(settings, None) as application:
        build = _build_thread()
        assert application.bot_data.searcher is not None
        assert application.bot_data.searcher.version == 1 and build.is_alive()
        question, fact = QUESTIONS["a_cabai.txt"]
        [answer] = await say(api, USER, question)
        assert fact in answer.plain_text.split("\n")[0]
        question, fact = QUESTIONS["e_kereta.txt"]
        [before] = await say(api, USER, question)
        assert fact not in before.plain_text
        gated.gates[2].set()
        await asyncio.to_thread(build.join)
        await asyncio.sleep(0)  # the swaps the build handed to the loop run
        assert application.bot_data.searcher.version == 3
        [after] = await say(api, USER, question)
        assert fact in after.plain_text.split("\n")[0]


async def test_python_m_bot_on_a_new_data_dir_serves_each_step_of_its_first_build(
    tmp_path: Path, api: BotApiServer
) -> None:
    root = _write(tmp_path)
    env = bot_env(
        api,
        seeds=root / "seeds",
        data=root / "data",
        build_publish_every="2",
        sync_seconds="0",  # the build itself hands each version to the bot
    )
    api.private_chat(USER)
    bot = BotProcess("bot", env, tmp_path)
    try:
        await api.wait_for_calls("getUpdates", 1, timeout=300)
        # 300 s: a safety net, never a condition of the test.
        await bot.wait_for_log("now serving index version 3", timeout=300)
        for name in ("a_cabai.txt", "e_kereta.txt"):
            question, fact = QUESTIONS[name]
            [answer] = await say(api, USER, question)
            assert fact in answer.plain_text.split("\n")[0], bot.log()
    finally:
        code = await bot.stop()
    log = bot.log()
    assert code == 0, log
    assert "publishing one every 2 of 5 articles" in log
    assert "Traceback" not in log
