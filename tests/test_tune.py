"""``python -m index tune``: questions asked through the bot's path, cross-validated, fitted."""

from __future__ import annotations

import dataclasses
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from index.__main__ import main
from index.encoders.crossencoder import default_cross_encoder, reading_dtype
from index.encoders.embedder import Embedder
from index.lab.asking import (
    ELSEWHERE,
    QuestionSet,
    ask_all,
    passage_parts,
    source_name,
    split_thirds,
)
from index.lab.evaluate import Question
from index.lab.lessons import READING_GROUP, further_lessons, reading_pairs
from index.lab.probe import WEIGHTS, judge, judged_questions
from index.lab.tune import (
    CROSS_WEIGHTS,
    cross_validate,
    decide_after_reading,
    fit,
    format_held_out,
    weigh_cross_encoder,
)
from index.search.ranker import RERANK_DEPTH, Ranker
from tests.conftest import make_settings, write_jsonl

# Invented news passages, each with one question its text answers.
FACTS = [
    (
        "cabai",
        "Harga cabai rawit di Pasar Senen naik menjadi Rp 80.000 per kilogram.",
        "Berapa harga cabai rawit di Pasar Senen?",
        "80.000",
    ),
    (
        "banjir",
        "Banjir setinggi 70 sentimeter merendam 300 rumah di Kampung Melayu.",
        "Berapa rumah terendam banjir di Kampung Melayu?",
        "300",
    ),
    (
        "kereta",
        "Kereta cepat Jakarta-Bandung mengangkut 18.000 penumpang pada hari Minggu.",
        "Berapa penumpang kereta cepat pada hari Minggu?",
        "18.000",
    ),
    (
        "sekolah",
        "Dinas Pendidikan membangun 12 gedung sekolah baru di Kabupaten Bogor.",
        "Berapa gedung sekolah dibangun di Kabupaten Bogor?",
        "12",
    ),
    (
        "gempa",
        "Gempa bermagnitudo 5,6 mengguncang Cianjur pada Senin siang.",
        "Berapa magnitudo gempa yang mengguncang Cianjur?",
        "5,6",
    ),
    (
        "menteri",
        "Menteri Keuangan Sri Mulyani membuka rapat anggaran di Jakarta.",
        "Siapa yang membuka rapat anggaran di Jakarta?",
        "Sri Mulyani",
    ),
    (
        "bandara",
        "Bandara Kualanamu di Deli Serdang melayani 8 juta penumpang setahun.",
        "Di mana letak Bandara Kualanamu?",
        "Deli Serdang",
    ),
    (
        "festival",
        "Festival Danau Toba digelar pada 12 Agustus di Parapat.",
        "Kapan Festival Danau Toba digelar?",
        "12 Agustus",
    ),
]
FILLER = [
    "Pemerintah daerah menyiapkan anggaran untuk perbaikan jalan.",
    "Warga diminta tetap waspada terhadap cuaca buruk.",
]


def _fact_questions() -> list[Question]:
    """The question of each of ``FACTS``, as a train file gives it."""
    return [
        Question(id=key, question=q, answers=(a,), passage_id=key, source="train.jsonl")
        for key, _, q, a in FACTS
    ]


def _write_facts(folder: Path) -> Path:
    """The passages of ``FACTS``, each with the filler after its fact."""
    return write_jsonl(
        folder / "passages.jsonl",
        [
            {"passage_id": key, "title": None, "text": " ".join([text, *FILLER])}
            for key, text, _, _ in FACTS
        ],
    )


def test_cross_validation_scores_every_question_once_by_a_fit_without_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    passages = _write_facts(tmp_path)
    questions = _fact_questions()
    unanswerable = [
        Question(
            id="u1",
            question="Siapa juara Liga Champions tahun lalu?",
            answers=(),
            passage_id=None,
            source="none.jsonl",
        ),
        Question(
            id="u2",
            question="Bagaimana resep rendang daging sapi?",
            answers=(),
            passage_id=None,
            source="none.jsonl",
        ),
    ]
    asked = ask_all(
        make_settings(tmp_path),
        embedder=embedder,
        sets=[QuestionSet(passages=passages, questions=questions, unanswerable=unanswerable)],
    )
    asked_texts = [a.found.query.text for a in asked]
    assert asked_texts == [q.question for q in [*questions, *unanswerable]]
    # Every answerable question has a hit among its candidates: the passage holds the answer.
    assert all(a.labels.any() for a in asked if a.answerable)
    assert not any(a.labels.any() for a in asked if not a.answerable)

    figures = {f.source: f for f in cross_validate(asked, folds=2)}
    # One set, so no other set's questions; named by the passages' folder and questions file.
    folder = tmp_path.name
    assert set(figures) == {f"{folder}/train.jsonl", f"{folder}/none.jsonl"}
    answerable, none = figures[f"{folder}/train.jsonl"], figures[f"{folder}/none.jsonl"]
    assert answerable.questions == len(FACTS) and none.questions == 2
    assert none.ranked_first == 0.0  # nothing there is ever a hit
    for f in figures.values():
        assert 0.0 <= f.answered_right <= f.ranked_first <= 1.0
        assert 0.0 <= f.declined <= 1.0
    # These questions share their rare words with one sentence only: a fit on half of them
    # ranks the other half's answers first.
    assert answerable.ranked_first >= 0.75
    table = format_held_out(list(figures.values()), folds=2)
    assert f"| {folder}/train.jsonl | 8 | {answerable.ranked_first:.3f} |" in table
    assert f"| {folder}/none.jsonl | 2 |  |  | {none.declined:.2f} |" in table
    assert ELSEWHERE not in table

    ranker = fit(asked)
    assert isinstance(ranker, Ranker) and ranker.fitted["questions"] == len(FACTS)


def test_cross_validation_needs_questions_to_learn_from() -> None:
    with pytest.raises(ValueError, match="correct candidate"):
        cross_validate([], folds=2)


def test_the_cross_encoder_is_fitted_and_weighed_on_questions_of_other_passages(
    tmp_path: Path, embedder: Embedder
) -> None:
    passages = _write_facts(tmp_path)
    # Each question again ten places later: a split by position (ten is not a multiple of
    # three) would part every such pair.
    questions = [
        Question(id=f"{key}-{n}", question=q, answers=(a,), passage_id=key, source="train.jsonl")
        for n, (key, _, q, a) in enumerate([*FACTS, *FACTS[:2], *FACTS])
    ]
    asked = ask_all(
        make_settings(tmp_path),
        embedder=embedder,
        sets=[QuestionSet(passages=passages, questions=questions)],
    )
    parts = passage_parts(asked)
    assert set(parts) <= {0, 1, 2}
    by_question: dict[str, set[int]] = {}
    for item, part in zip(asked, parts, strict=True):
        by_question.setdefault(item.found.query.text, set()).add(part)
    assert all(len(found) == 1 for found in by_question.values())

    ranker = fit(asked)
    reader = default_cross_encoder()
    pairs = reading_pairs(asked, ranker, reader)
    assert len(pairs) == len(asked)  # every answer is among the best candidates here
    for pair, item in zip(pairs, asked, strict=True):
        # The question as each sentence is read with it: as asked, no short form to write out.
        assert pair.question == (item.found.query.text,) * len(pair.sentences)
        assert 1 < len(pair.sentences) <= READING_GROUP and any(pair.correct)
        assert len(pair.sentences) == len(pair.correct)

    weighed = weigh_cross_encoder(ranker, asked, reader)
    assert weighed.cross_weight in CROSS_WEIGHTS
    assert dataclasses.replace(weighed, cross_weight=None, fitted=ranker.fitted) == ranker
    assert weighed.fitted["cross_weight_questions"] == len(asked)
    # Each question's best sentences were read once and kept.
    assert all(len(item.cross) == min(RERANK_DEPTH, len(item.found.rows)) for item in asked)
    # The decision after reading reads what the cross-encoder read, nothing more.
    deciding = decide_after_reading(weighed, asked, reader)
    assert deciding.cross_decision is not None
    assert dataclasses.replace(deciding, cross_decision=None, fitted=weighed.fitted) == weighed
    assert deciding.fitted["after_reading_questions"] == len(asked)
    assert all(len(item.cross) == min(RERANK_DEPTH, len(item.found.rows)) for item in asked)
    figures = cross_validate(asked[:9], folds=3, reader=reader, also_ranked=asked[9:])
    assert sum(f.questions for f in figures) == 9
    assert all(0.0 <= f.answered_right <= f.ranked_first <= 1.0 for f in figures)


def test_a_question_without_a_hit_keeps_its_part_when_its_file_grows(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Unanswerable questions are parted by their text, not by their place in the file."""
    passages = _write_facts(tmp_path)
    no_answer = [
        Question(id=f"u{n}", question=q, answers=(), passage_id=None, source="u.jsonl")
        for n, q in enumerate(
            [
                "Bagaimana cara membuat rendang?",
                "Siapa juara Liga Inggris musim lalu?",
                "Berapa harga tiket pesawat ke Bali?",
                "Kapan musim hujan berakhir?",
            ]
        )
    ]
    added = Question(
        id="u9",
        question="Siapa pelatih tim voli putri?",
        answers=(),
        passage_id=None,
        source="u.jsonl",
    )

    def parts_of(unanswerable: list[Question]) -> dict[str, int]:
        asked = ask_all(
            make_settings(tmp_path),
            embedder=embedder,
            sets=[QuestionSet(passages=passages, questions=[], unanswerable=unanswerable)],
        )
        return {
            item.found.query.text: part
            for item, part in zip(asked, passage_parts(asked), strict=True)
        }

    before = parts_of(no_answer)
    after = parts_of([added, *no_answer])
    assert len(set(before.values())) > 1  # the four do not all fall in one part
    assert {q.question: after[q.question] for q in no_answer} == before


def test_a_held_out_set_is_never_a_lesson_and_counts_its_weight(
    tmp_path: Path, embedder: Embedder
) -> None:
    """A set's ``weight`` and ``held_out`` reach its own questions, not others' asked there."""
    passages = _write_facts(tmp_path)
    questions = _fact_questions()
    written = [dataclasses.replace(q, id=f"{q.id}-w", source="written.jsonl") for q in questions]
    asked = ask_all(
        make_settings(tmp_path),
        embedder=embedder,
        sets=[
            QuestionSet(passages=passages, questions=questions),
            QuestionSet(passages=passages, questions=written, weight=2.5, held_out=True),
        ],
    )
    own = [item for item in asked if item.source.endswith("written.jsonl")]
    assert len(own) == len(FACTS)
    assert all(item.weight == 2.5 and item.held_out for item in own)
    others = [item for item in asked if not item.source.endswith("written.jsonl")]
    assert others and all(item.weight == 1.0 and not item.held_out for item in others)
    read, judged = split_thirds(asked)
    judged_ids = {id(item) for item in judged}
    assert {id(item) for item in own} <= judged_ids
    # The other set's questions are parted by passage as before: a third judged, the rest read.
    parts = passage_parts(asked)
    assert {id(item) for item in read} == {
        id(item) for item, part in zip(asked, parts, strict=True) if part != 0 and not item.held_out
    }
    assert read and any(id(item) in judged_ids for item in others)


def test_a_weighed_set_not_held_out_is_parted_by_passage_and_its_lessons_count_its_weight(
    tmp_path: Path, embedder: Embedder
) -> None:
    """``tune --news-lessons``: the written questions' two thirds are lessons, repeated."""
    passages = _write_facts(tmp_path)
    written = [
        dataclasses.replace(q, id=f"{q.id}-w", source="written.jsonl") for q in _fact_questions()
    ]
    asked = ask_all(
        make_settings(tmp_path),
        embedder=embedder,
        sets=[QuestionSet(passages=passages, questions=written, weight=2.6)],
    )
    own = [item for item in asked if item.source.endswith("written.jsonl")]
    assert len(own) == len(FACTS) and all(not item.held_out for item in own)
    read, judged = split_thirds(asked)
    parts = dict(zip(map(id, asked), passage_parts(asked), strict=True))
    assert {id(item) for item in own if parts[id(item)] != 0} == {id(item) for item in read}
    assert {id(item) for item in own if parts[id(item)] == 0} <= {id(item) for item in judged}
    assert read and any(parts[id(item)] == 0 for item in own)

    lessons = reading_pairs(read, fit(asked), default_cross_encoder())
    # Each lesson three times (2.6 rounded), the same object: its question once per copy.
    assert len(lessons) == 3 * len(read)
    assert len({id(pair) for pair in lessons}) == len(read)
    counted = {pair.question: 0 for pair in lessons}
    for pair in lessons:
        counted[pair.question] += 1
    assert set(counted.values()) == {3}


def test_an_adapter_on_top_learns_every_lesson_of_its_questions_and_a_sample_of_the_rest(
    tmp_path: Path, embedder: Embedder
) -> None:
    """``tune --cross-encoder-from``: the written questions' lessons, each once, and a few more."""
    passages = _write_facts(tmp_path)
    written = [
        dataclasses.replace(q, id=f"{q.id}-w", question=q.question.lower(), source="written.jsonl")
        for q in _fact_questions()
    ]
    own = QuestionSet(passages=passages, questions=written, weight=2.6)
    asked = ask_all(
        make_settings(tmp_path),
        embedder=embedder,
        sets=[QuestionSet(passages=passages, questions=_fact_questions()), own],
    )
    read, _ = split_thirds(asked)
    sources = {source_name(own, q) for q in written}
    in_order = [item.found.query.text for item in read if item.source in sources]
    mine = set(in_order)
    # Another set's questions asked here are never lessons (they judge the decisions).
    rest = {
        item.found.query.text for item in read if item.source not in sources and not item.elsewhere
    }
    assert mine and len(rest) > 1 and not mine & rest

    ranker, reader = fit(asked), default_cross_encoder()
    lessons = further_lessons(read, ranker, reader, sources=sources, others=1)
    # Each written question's lesson once (not 2.6 times), then one of the others' lessons.
    assert [pair.question[0] for pair in lessons[:-1]] == in_order
    assert lessons[-1].question[0] in rest
    again = further_lessons(read, ranker, reader, sources=sources, others=1)
    assert again[-1].question == lessons[-1].question  # the same sample every run
    everything = further_lessons(read, ranker, reader, sources=sources, others=len(read))
    assert {pair.question[0] for pair in everything} == mine | rest


@pytest.mark.usefixtures("isolated_env")
def test_the_cross_encoder_can_learn_from_more_questions_than_the_ranking(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``tune --limit 4 --cross-encoder-limit 0``: ranking on 4 questions, adapter on all 8."""
    passages = _write_facts(tmp_path)
    questions = write_jsonl(
        tmp_path / "train.questions.jsonl",
        [{"id": key, "question": q, "answers": [a], "passage_id": key} for key, _, q, a in FACTS],
    )
    no_answer = [
        "Bagaimana cara membuat rendang?",
        "Siapa juara Liga Inggris musim lalu?",
        "Berapa harga tiket pesawat ke Bali?",
    ]
    unanswerable = write_jsonl(
        tmp_path / "train.unanswerable.jsonl",
        [{"id": f"u{n}", "question": q, "answers": []} for n, q in enumerate(no_answer)],
    )
    monkeypatch.setenv("TANYA_DATA_DIR", str(tmp_path / "data"))
    adapter = tmp_path / "adapter.npz"
    argv = [
        "tune",
        "--set",
        str(passages),
        str(questions),
        str(unanswerable),
        "--limit",
        "4",
        "--output",
        str(tmp_path / "ranker.json"),
        "--cross-output",
        str(tmp_path / "ranker-cross.json"),
        "--train-cross-encoder",
        "--cross-encoder",
        str(adapter),
        "--cross-encoder-limit",
        "0",
        "--asked-cache",
        str(tmp_path / "asked.pkl"),
        "--cross-encoder-checkpoint",
        str(tmp_path / "fit.pt"),
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    printed = [json.loads(line) for line in out.splitlines()]
    learned = next(line for line in printed if "cross_encoder" in line)
    # The log says how long each stage took, and in which precision the adapter was fitted.
    stages = re.findall(r"^(.+): \d+\.\d s$", err, flags=re.MULTILINE)
    assert stages == [
        "asking the train questions",
        "fitting the ranking",
        "asking the cross-encoder's questions",
        f"fitting the cross-encoder ({reading_dtype()})",
        "weighing the cross-encoder",
        "fitting the decision after reading",
    ]
    # Every question whose passage falls outside the judged third (the adapter never reads
    # that one): 4 of the 8, where the 4-question sample holds only 1.
    assert learned["questions"] == sum(zlib.crc32(key.encode()) % 3 != 0 for key, *_ in FACTS)
    assert adapter.is_file()
    crossed = Ranker.load(tmp_path / "ranker-cross.json")
    assert crossed.cross_weight in CROSS_WEIGHTS
    assert Ranker.load(tmp_path / "ranker.json").weights == crossed.weights
    # The unanswerable questions teach the adapter to decline, or judge the decision after
    # reading, never both: each is a lesson or honest, by the third its text falls in.
    assert crossed.cross_decision is not None
    judged_unanswerable = crossed.fitted["after_reading_unanswerable"]
    parts = [zlib.crc32(q.encode()) % 3 for q in no_answer]
    assert parts.count(0) == judged_unanswerable == 1
    assert learned["unanswerable"] == 2

    # Run again, as after a stop: the questions asked and the adapter's fit are read back, and
    # the fit ends where it had.
    with np.load(adapter) as saved:
        fitted = {name: saved[name] for name in saved.files}
    with caplog.at_level("INFO", logger="index.encoders.checkpoint"):
        assert main(argv) == 0
    assert re.search(r"fit\.pt: (\d+) of \1 steps done", caplog.text), caplog.text
    _, again = capsys.readouterr()
    assert f"asked questions read from {tmp_path / 'asked.pkl'}" in again
    assert f"asked questions read from {tmp_path / 'asked.cross-encoder.pkl'}" in again
    with np.load(adapter) as saved:
        assert saved.files == list(fitted)
        for name in saved.files:
            np.testing.assert_array_equal(saved[name], fitted[name], err_msg=name)


def test_the_reading_probe_judges_both_ways_of_reading_on_the_same_questions(
    tmp_path: Path, embedder: Embedder
) -> None:
    passages = _write_facts(tmp_path)
    questions = [
        Question(id=key, question=q, answers=(a,), passage_id=key, source="news.jsonl")
        for key, _, q, a in FACTS
    ]
    asked = ask_all(
        make_settings(tmp_path),
        embedder=embedder,
        sets=[QuestionSet(passages=passages, questions=questions)],
    )
    _, judged = split_thirds(asked)
    chosen = judged_questions(judged, "news.jsonl", others=0)
    # Every answerable question of the news file the third holds, none of another set's.
    assert chosen and {id(q) for q in chosen} == {
        id(q) for q in judged if q.source.endswith("news.jsonl") and q.answerable
    }
    ranker = fit(asked)
    weight, figures, hits = judge(default_cross_encoder(), ranker, chosen)
    assert weight in WEIGHTS and len(hits) == len(chosen)
    ((n, ranking, with_reading, alone),) = figures.values()
    assert n == len(chosen) and with_reading == np.mean(hits)
    # The weight chosen puts at least as many hits first as the ranking alone does.
    assert with_reading >= ranking and 0.0 <= alone <= 1.0
