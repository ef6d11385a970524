"""``python -m index.lab.kinds``: the answer-kind rules put to the sentences of full articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.lab.kinds import main

ARTICLE = {
    "id": "pakta-1",
    "title": "Pakta dagang diteken",
    "date": "2018-01-12",
    "text": (
        "Indonesia dan Vietnam meneken pakta dagang baru di Hanoi. "
        "Menurut menteri, pakta itu mulai berlaku September lalu. "
        "Pakta itu menghapus bea masuk untuk 300 jenis barang."
    ),
}
QUESTIONS = [
    # Answered by "September lalu", a month alone: a time.
    {"id": "q1", "question": "kapan pakta itu berlaku", "answers": ["September lalu"]},
    # Answered by "di Hanoi": a place.
    {"id": "q2", "question": "Di kota mana pakta itu diteken?", "answers": ["di Hanoi"]},
    # No sentence of the article holds this answer: left out.
    {"id": "q3", "question": "kapan pakta itu dibahas", "answers": ["Maret 2017"]},
]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_each_kind_counts_its_questions_answers_and_other_sentences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = _write(tmp_path / "articles.jsonl", [ARTICLE])
    questions = _write(
        tmp_path / "questions.jsonl", [dict(q, article_id="pakta-1") for q in QUESTIONS]
    )
    assert main(["--articles", str(articles), "--questions", str(questions)]) == 0
    rows = {line.split(" | ")[0].lstrip("| "): line for line in capsys.readouterr().out.split("\n")}
    # One time question, its answer passes; of the two other sentences neither holds a time.
    assert rows["time"] == "| time | 1 | 1.000 | 2 | 0.000 |"
    # "di Hanoi" passes; "300 jenis barang" and "September lalu" are no place.
    assert rows["place"] == "| place | 1 | 1.000 | 2 | 0.000 |"


def test_a_question_whose_answer_fails_its_rule_is_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = _write(tmp_path / "articles.jsonl", [ARTICLE])
    # "berapa" asks for a count; the sentence that holds the answer has no number.
    asked = {"id": "q4", "question": "brp negara yg meneken pakta", "answers": ["Vietnam"]}
    questions = _write(tmp_path / "questions.jsonl", [dict(asked, article_id="pakta-1")])
    main(["--articles", str(articles), "--questions", str(questions), "--show", "quantity"])
    out = capsys.readouterr().out
    assert "| quantity | 1 | 0.000 | 2 | 0.500 |" in out
    assert "quantity: brp negara yg meneken pakta | Indonesia dan Vietnam meneken" in out
