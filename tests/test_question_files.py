"""The question files on full news articles: well formed, and the train files apart from dev.

The real-use dev set (``tests/data/realuse``) is never fitted on; the train set
(``tests/data/realuse-train``) must share neither an article nor a question with it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
DEV, TRAIN = DATA / "realuse", DATA / "realuse-train"
KINDS = {
    *("berapa", "siapa", "apa", "mengapa", "dimana", "kapan"),
    *("ya/tidak", "bagaimana", "skor", "yang mana"),
}
FIELDS = {"id", "question", "answers", "article_id", "style", "kind"}


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _plain(question: str) -> str:
    """A question as compared: lower case, words only."""
    return " ".join(re.findall(r"\w+", question.lower()))


@pytest.mark.parametrize("folder", [DEV, TRAIN], ids=["dev", "train"])
def test_each_question_is_well_formed(folder: Path) -> None:
    answerable, offtopic = _read(folder / "questions.jsonl"), _read(folder / "offtopic.jsonl")
    ids = [q["id"] for q in [*answerable, *offtopic]]
    assert len(ids) == len(set(ids))
    for question in [*answerable, *offtopic]:
        assert set(question) == FIELDS, question["id"]
        assert question["style"] in {"formal", "chat"}, question["id"]
        assert question["kind"] in KINDS, question["id"]
        assert question["question"].strip(), question["id"]
    for question in answerable:
        assert question["article_id"] and question["answers"], question["id"]
        assert all(a.strip() for a in question["answers"]), question["id"]
    for question in offtopic:
        assert question["article_id"] is None and question["answers"] == [], question["id"]


def test_the_train_questions_share_no_article_and_no_question_with_dev() -> None:
    dev = [*_read(DEV / "questions.jsonl"), *_read(DEV / "offtopic.jsonl")]
    train = [*_read(TRAIN / "questions.jsonl"), *_read(TRAIN / "offtopic.jsonl")]
    dev_articles = {q["article_id"] for q in dev if q["article_id"]}
    assert not dev_articles & {q["article_id"] for q in train if q["article_id"]}
    assert not {_plain(q["question"]) for q in dev} & {_plain(q["question"]) for q in train}
    # No train question repeats another.
    plain = [_plain(q["question"]) for q in train]
    assert len(plain) == len(set(plain))
