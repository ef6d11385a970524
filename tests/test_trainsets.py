"""Train questions in the shapes readers meet: paragraphs joined into articles, chat typing."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from index.__main__ import main
from index.encoders.embedder import Embedder
from index.lab.asking import QuestionSet, ask_all
from index.lab.evaluate import RankedSentence, is_hit, read_questions
from index.lab.trainsets import chat_typed, context_set, news_passages, with_chat_typed
from index.search.ranker import Ranker
from index.storage.builder import chunk_vectors
from tests.conftest import make_settings, write_jsonl
from tests.test_eval import _article_records

# Invented paragraphs about one town; the name "Sukamaju" stands in several of them.
PARAGRAPHS = [
    "Desa Sukamaju terletak di lereng Gunung Salak. Desa itu dihuni 4.200 jiwa.",
    "Kepala Desa Sukamaju adalah Budi Santoso. Ia terpilih pada tahun 2019.",
    "Pasar Sukamaju buka setiap hari Rabu. Pedagang datang dari Bogor dan Sukabumi.",
    "Sungai Cisadane mengalir di sebelah timur desa. Airnya dipakai untuk sawah.",
]


def _contexts(folder: Path) -> Path:
    rows = [
        ("q1", "Berapa jumlah penduduk Desa Sukamaju?", ["4.200"], 0),
        ("q2", "Siapa kepala Desa Sukamaju?", ["Budi Santoso"], 1),
        ("q3", "Kapan kepala desa terpilih?", ["2019"], 1),
        ("q4", "Hari apa Pasar Sukamaju buka?", ["Rabu"], 2),
        ("q5", "Sungai apa yang mengalir di sebelah barat desa?", [], 3),
        # "Sukamaju" stands in three of the paragraphs: only the question's own may hold its hit.
        ("q6", "Apa nama desa di lereng Gunung Salak?", ["Sukamaju"], 0),
    ]
    return write_jsonl(
        folder / "extra.train.jsonl",
        [
            {"id": key, "question": q, "answers": a, "context": PARAGRAPHS[n], "source": "x"}
            for key, q, a, n in rows
        ],
    )


def test_paragraphs_are_joined_into_articles_in_file_order(tmp_path: Path) -> None:
    found = context_set(_contexts(tmp_path), folder=tmp_path / "sets", paragraphs=3)
    articles = [json.loads(line) for line in found.passages.read_text().splitlines()]
    assert [a["passage_id"] for a in articles] == ["extra-00000", "extra-00001"]
    assert articles[0]["text"] == "\n\n".join(PARAGRAPHS[:3])
    assert articles[1]["text"] == PARAGRAPHS[3]
    assert [q.id for q in found.answerable] == ["q1", "q2", "q3", "q4", "q6"]
    assert [q.id for q in found.unanswerable] == ["q5"]
    assert {q.passage_id for q in found.answerable} == {"extra-00000"}
    assert found.unanswerable[0].passage_id == "extra-00001"
    assert found.answerable[1].context == PARAGRAPHS[1]


def test_a_hit_stands_in_the_questions_own_paragraph(tmp_path: Path) -> None:
    found = context_set(_contexts(tmp_path), folder=tmp_path / "sets", paragraphs=4)
    name = next(q for q in found.answerable if q.id == "q6")
    own = RankedSentence("Desa Sukamaju terletak di lereng Gunung Salak.", "extra-00000", 0.0)
    other = RankedSentence("Pasar Sukamaju buka setiap hari Rabu.", "extra-00000", 0.0)
    assert is_hit(own, name)
    assert not is_hit(other, name)  # holds the answer, in another paragraph of the article
    # Questions read from an eval file have no paragraph: any sentence of the passage counts.
    plain = write_jsonl(
        tmp_path / "plain.jsonl",
        [{"id": "p", "question": "?", "answers": ["Sukamaju"], "passage_id": "extra-00000"}],
    )
    assert is_hit(other, read_questions(plain)[0])


def test_a_file_without_paragraphs_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "a", "question": "Siapa?", "answers": ["x"]}])
    with pytest.raises(ValueError, match=r"bad\.jsonl line 1: no question or no context"):
        context_set(bad, folder=tmp_path / "sets")
    with pytest.raises(ValueError, match="at least one paragraph"):
        context_set(_contexts(tmp_path), folder=tmp_path / "sets", paragraphs=0)


def test_chat_typed_copies_keep_answers_and_passage(tmp_path: Path) -> None:
    assert chat_typed("Berapakah jumlah penduduk yang tinggal di Sukamaju?") == (
        "brp jumlah penduduk yg tinggal di sukamaju"
    )
    found = context_set(_contexts(tmp_path), folder=tmp_path / "sets")
    everything = with_chat_typed(found.answerable, 1.0)
    assert everything[: len(found.answerable)] == found.answerable
    copies = everything[len(found.answerable) :]
    assert [c.id for c in copies] == [f"{q.id}~chat" for q in found.answerable]
    for copy, question in zip(copies, found.answerable, strict=True):
        assert copy.question == chat_typed(question.question) != question.question
        assert (copy.answers, copy.passage_id, copy.context) == (
            question.answers,
            question.passage_id,
            question.context,
        )
    assert with_chat_typed(found.answerable, 0.0) == found.answerable
    # The same share draws the same questions every time.
    assert with_chat_typed(found.answerable, 0.5) == with_chat_typed(found.answerable, 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        with_chat_typed(found.answerable, 1.5)


def test_questions_asked_of_joined_paragraphs_find_their_own(
    tmp_path: Path, embedder: Embedder
) -> None:
    found = context_set(_contexts(tmp_path), folder=tmp_path / "sets")
    asked = ask_all(
        make_settings(tmp_path),
        embedder=embedder,
        sets=[
            QuestionSet(
                passages=found.passages,
                questions=found.answerable,
                unanswerable=found.unanswerable,
            )
        ],
    )
    by_question = {a.found.query.text: a for a in asked}
    for question in found.answerable:
        item = by_question[question.question]
        hits = [row.text for row, hit in zip(item.found.rows, item.labels, strict=True) if hit]
        assert hits, question.question
        # Every hit lies in the question's paragraph, though the article has four.
        assert all(text in question.context for text in hits)
    assert not by_question[found.unanswerable[0].question].labels.any()


def _tune_argv(folder: Path, *options: str) -> list[str]:
    """``tune`` on the paragraphs file, writing its weights into ``folder``."""
    return [
        "tune",
        "--contexts",
        str(_contexts(folder)),
        *options,
        "--output",
        str(folder / "ranker.json"),
        "--cross-output",
        str(folder / "ranker-cross.json"),
    ]


@pytest.mark.usefixtures("isolated_env")
def test_tune_reads_paragraph_files_and_chat_typed_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    argv = _tune_argv(tmp_path, "--paragraphs", "2", "--chat-typed", "1")
    cache = tmp_path / "asked.pickle"
    assert main([*argv, "--asked-cache", str(cache)]) == 0
    out, err = capsys.readouterr()
    fitted = json.loads(out.splitlines()[0])
    # Five answerable questions and one unanswerable, each also typed as in a chat.
    assert (fitted["questions"], fitted["unanswerable"]) == (10, 2)
    assert (tmp_path / "data" / "tune-sets" / "extra.p2.passages.jsonl").is_file()
    assert "read from" not in err and cache.is_file()
    # Asked again with the same files: the candidates are read back, and fit the same.
    assert main([*argv, "--asked-cache", str(cache)]) == 0
    out, err = capsys.readouterr()
    assert f"12 asked questions read from {cache}" in err
    assert json.loads(out.splitlines()[0]) == fitted
    # Other questions (no chat-typed copies): the cache does not hold them.
    assert main([*_tune_argv(tmp_path, "--paragraphs", "2"), "--asked-cache", str(cache)]) == 0
    out, err = capsys.readouterr()
    assert "holds other questions: asking again" in err
    assert json.loads(out.splitlines()[0])["questions"] == 5


@pytest.mark.usefixtures("isolated_env")
def test_tune_asks_the_other_questions_of_news_articles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--news``: articles with no questions of their own, where every set's are asked."""
    articles = write_jsonl(tmp_path / "articles.jsonl", _article_records())
    passages = news_passages(articles, folder=tmp_path / "sets", count=3)
    taken = [json.loads(line) for line in passages.read_text().splitlines()]
    assert [t["passage_id"] for t in taken] == ["a-gempa", "a-timnas", "a-kopi"]  # 0, 5/3, 10/3
    with pytest.raises(ValueError, match="at least one"):
        news_passages(articles, folder=tmp_path / "sets", count=0)

    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    assert main(_tune_argv(tmp_path, "--news", str(articles), "--news-articles", "4")) == 0
    fitted = json.loads(capsys.readouterr().out.splitlines()[0])
    # The five answerable questions of the paragraphs file, asked again of the news articles.
    assert (fitted["questions"], fitted["unanswerable"], fitted["elsewhere"]) == (5, 1, 5)
    news = tmp_path / "data" / "tune-sets" / "articles.n4.passages.jsonl"
    assert len(news.read_text().splitlines()) == 4


@pytest.mark.usefixtures("isolated_env")
def test_tune_reuses_the_vectors_of_another_index_for_its_news_archive(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    embedder: Embedder,
) -> None:
    """``--vectors-from``: a large archive's chunks are not embedded again; the fit is the same."""

    def vectors_of(folder: Path) -> dict[str, np.ndarray]:
        return chunk_vectors(make_settings(tmp_path, data_dir=folder), model=embedder.name)

    records = _article_records()
    articles = write_jsonl(tmp_path / "articles.jsonl", records)
    argv = _tune_argv(tmp_path, "--news", str(articles), "--news-articles", "4")
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "first"))
    assert main(argv) == 0
    fresh = json.loads(capsys.readouterr().out.splitlines()[0])
    # The index the first run built of the news articles is the one to reuse.
    opening = str(records[0]["text"])[:40]
    [archive] = [
        folder
        for folder in (tmp_path / "first" / "eval-cache").iterdir()
        if any(opening in text for text in vectors_of(folder))
    ]

    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "second"))
    assert main([*argv, "--vectors-from", str(archive)]) == 0
    out, err = capsys.readouterr()
    counted = re.search(r"(\d+) chunks embedded, (\d+) reused", err)
    assert counted is not None
    assert int(counted.group(2)) == len(vectors_of(archive)) > 0
    assert json.loads(out.splitlines()[0]) == fresh


@pytest.mark.usefixtures("isolated_env")
def test_tune_asks_questions_written_on_full_news_articles_of_those_articles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--news-questions``: asked of the whole articles they name, weighed as a whole file."""
    articles, questions, offtopic = _written_on_news(tmp_path)
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    news = ["--news", str(articles), "--news-articles", "2"]
    argv = _tune_argv(tmp_path, *news, "--news-questions", str(questions), str(offtopic))
    assert main(argv) == 0
    out, err = capsys.readouterr()
    fitted = json.loads(out.splitlines()[0])
    # The paragraphs file's 5 answerable and 1 unanswerable questions, and these 2 and 1.
    assert (fitted["questions"], fitted["unanswerable"]) == (7, 2)
    # Each is counted as often as the paragraphs file's 5 questions over its own 2.
    assert "written.questions.jsonl: 2 questions on full articles, each counted 2.50 times" in err
    written = tmp_path / "data" / "tune-sets" / f"{tmp_path.name}.written.articles.passages.jsonl"
    taken = [json.loads(line) for line in written.read_text().splitlines()]
    assert [t["passage_id"] for t in taken] == ["a-gempa", "a-timnas"]
    assert taken[0]["text"] == _article_records()[0]["text"]

    with pytest.raises(SystemExit, match="needs --news"):
        main(_tune_argv(tmp_path, "--news-questions", str(questions)))


@pytest.mark.usefixtures("isolated_env")
def test_tune_news_lessons_teach_the_cross_encoder_each_as_often_as_it_weighs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--news-lessons``: the questions of two thirds of the articles become lessons."""
    articles, questions, _ = _written_on_news(tmp_path)
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    adapter = tmp_path / "adapter.npz"
    argv = _tune_argv(
        tmp_path,
        *("--news", str(articles), "--news-articles", "2"),
        *("--news-questions", str(questions), "--news-lessons"),
        *("--train-cross-encoder", "--cross-encoder", str(adapter)),
    )
    assert main(argv) == 0
    out, err = capsys.readouterr()
    learned = next(json.loads(x) for x in out.splitlines() if "cross_encoder" in x)
    assert "2 questions on full articles, each counted 2.50 times" in err
    # Both articles fall outside the judged third (a-gempa and a-timnas, by passage id), so
    # both questions are lessons, each twice (2.5 rounded); every other lesson once. Held out
    # (without --news-lessons) they would be no lesson at all.
    assert [zlib.crc32(key.encode()) % 3 for key in ("a-gempa", "a-timnas")] == [1, 1]
    assert learned["questions"] >= 2
    assert learned["lessons"] == learned["questions"] + learned["unanswerable"] + 2
    assert adapter.is_file()


@pytest.mark.usefixtures("isolated_env")
def test_tune_fits_an_adapter_on_top_of_another_on_the_news_lessons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--cross-encoder-from``: a second adapter on the news lessons, saved with the first."""
    articles, questions, _ = _written_on_news(tmp_path)
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    news = (
        *("--news", str(articles), "--news-articles", "2"),
        *("--news-questions", str(questions), "--news-lessons"),
    )
    below, both = tmp_path / "below.npz", tmp_path / "both.npz"
    fresh = ("--train-cross-encoder", "--cross-encoder", str(below))
    assert main(_tune_argv(tmp_path, *news, *fresh)) == 0
    capsys.readouterr()
    on_top = ("--cross-encoder-from", str(below), "--cross-encoder", str(both))
    argv = _tune_argv(tmp_path, *news, "--train-cross-encoder", *on_top)
    assert main([*argv, "--cross-encoder-others", "1"]) == 0
    out, _ = capsys.readouterr()
    learned = next(json.loads(x) for x in out.splitlines() if "cross_encoder" in x)
    # Both written questions are lessons (neither article is in the judged third), each once
    # however much the file weighs (twice in the fresh fit, 2.5 rounded). The paragraphs file's
    # questions stand in one joined article, in the judged third: none is a lesson to sample.
    assert (learned["questions"], learned["unanswerable"], learned["lessons"]) == (2, 0, 2)
    with np.load(below) as first, np.load(both) as saved:
        assert saved.files == first.files
        for name in first.files:
            if name.endswith(".down"):
                rank = first[name].shape[0]
                assert saved[name].shape[0] == 2 * rank
                np.testing.assert_array_equal(saved[name][:rank], first[name])
    assert Ranker.load(tmp_path / "ranker-cross.json").cross_weight is not None

    for wrong in (
        [a for a in argv if a != "--news-lessons"],
        [*argv, "--cross-encoder-context"],
        [*argv, "--cross-encoder-limit", "0"],
    ):
        with pytest.raises(SystemExit):
            main(wrong)
    assert "--cross-encoder-from" in capsys.readouterr().err


def _written_on_news(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An articles file, two questions written on its articles, one off-topic question."""
    articles = write_jsonl(tmp_path / "articles.jsonl", _article_records())
    questions = write_jsonl(
        tmp_path / "written.questions.jsonl",
        [
            {
                "id": "w1",
                "question": "brp org meninggal krn gempa lombok",
                "answers": ["98 orang"],
                "article_id": "a-gempa",
            },
            {
                "id": "w2",
                "question": "Siapa pencetak dua gol timnas?",
                "answers": ["Evan Dimas"],
                "article_id": "a-timnas",
            },
        ],
    )
    offtopic = write_jsonl(
        tmp_path / "written.offtopic.jsonl",
        [{"id": "o1", "question": "resep rendang gimana", "answers": [], "article_id": None}],
    )
    return articles, questions, offtopic


def test_tune_needs_train_questions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["tune"])
    assert "--set or --contexts" in capsys.readouterr().err


def test_tune_takes_a_checkpoint_only_for_a_fit_of_the_adapter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passages = write_jsonl(tmp_path / "p.jsonl", [{"passage_id": "a", "text": "Satu."}])
    questions = write_jsonl(
        tmp_path / "q.jsonl", [{"id": "q", "question": "Apa?", "answers": ["Satu"]}]
    )
    with pytest.raises(SystemExit):
        main(["tune", "--set", str(passages), str(questions), "--cross-encoder-checkpoint", "f"])
    assert "--cross-encoder-checkpoint is for --train-cross-encoder" in capsys.readouterr().err
