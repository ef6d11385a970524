"""Readers' votes on answers: kept answers, one vote per reader and answer, the figures, the
export as eval questions (on SQLite and PostgreSQL); then 👍 / 👎 pressed in Telegram through the
Bot API stand-in, and ``/status`` and ``python -m index feedback`` on what was voted."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from index.evaluate import read_questions
from index.feedback import (
    KEEP_UNVOTED,
    FeedbackStore,
    Vote,
    VoteOutcome,
    export_votes,
)
from index.models import AnswerRecord, AnswerVote
from index.search import Quote
from index.store import create_schema, make_engine

NOW = dt.datetime(2025, 3, 10, 7, 0, tzinfo=dt.UTC)
CHAT = 1001
GROUP = -1001234567890


def quote(text: str, key: str = "arsip.jsonl#berita-7", line: int = 3) -> Quote:
    return Quote(
        text=text, title="Judul", path="seeds/arsip.jsonl", line=line, score=1.0, article_key=key
    )


FIRST = quote("Harga cabai naik menjadi Rp 80.000 per kilogram.")
SECOND = quote("Pedagang menyebut pasokan berkurang.", key="pasar.txt", line=5)


@pytest.fixture
def store(database_url: str) -> Iterator[FeedbackStore]:
    engine = make_engine(database_url)
    create_schema(engine)
    yield FeedbackStore(engine)
    engine.dispose()


def keep(store: FeedbackStore, question: str = "berapa harga cabai?", **kw: object) -> int:
    values: dict[str, object] = {
        "quotes": [FIRST, SECOND],
        "index_version": 4,
        "chat_id": CHAT,
        "asked_by": CHAT,
        "now": NOW,
    }
    values.update(kw)
    return store.keep_answer(question=question, **values)  # type: ignore[arg-type]


def cast(
    store: FeedbackStore, answer_id: int, vote: Vote, user_id: int = CHAT, **kw: object
) -> VoteOutcome:
    values: dict[str, object] = {"chat_id": CHAT, "message_id": 77, "now": NOW}
    values.update(kw)
    return store.vote(answer_id=answer_id, vote=vote, user_id=user_id, **values)  # type: ignore[arg-type]


def votes(store: FeedbackStore) -> list[tuple[int, int, int, int | None, str]]:
    with Session(store.engine) as session:
        rows = session.exec(select(AnswerVote).order_by(AnswerVote.id)).all()
    return [(r.answer_id, r.user_id, r.chat_id, r.message_id, r.vote) for r in rows]


def test_an_answer_is_kept_with_its_question_quotes_and_index_version(
    store: FeedbackStore,
) -> None:
    answer_id = keep(store)
    with Session(store.engine) as session:
        record = session.get(AnswerRecord, answer_id)
    assert record is not None
    assert (record.question, record.index_version) == ("berapa harga cabai?", 4)
    assert (record.chat_id, record.asked_by, record.answered_at) == (CHAT, CHAT, NOW)
    assert record.quotes == [
        {
            "text": FIRST.text,
            "article_key": "arsip.jsonl#berita-7",
            "path": "seeds/arsip.jsonl",
            "line": 3,
        },
        {"text": SECOND.text, "article_key": "pasar.txt", "path": "seeds/arsip.jsonl", "line": 5},
    ]
    assert keep(store) > answer_id  # every answer has an id of its own


def test_one_vote_per_reader_and_answer_which_the_reader_may_change(
    store: FeedbackStore,
) -> None:
    answer_id = keep(store)
    assert cast(store, answer_id, Vote.UP) is VoteOutcome.RECORDED
    assert cast(store, answer_id, Vote.UP) is VoteOutcome.UNCHANGED
    later = NOW + dt.timedelta(minutes=2)
    assert cast(store, answer_id, Vote.DOWN, now=later) is VoteOutcome.CHANGED
    assert votes(store) == [(answer_id, CHAT, CHAT, 77, "down")]
    with Session(store.engine) as session:
        [row] = session.exec(select(AnswerVote)).all()
    assert row.voted_at == later


def test_two_readers_votes_are_two_rows(store: FeedbackStore) -> None:
    answer_id = keep(store, chat_id=GROUP, asked_by=5)
    assert cast(store, answer_id, Vote.UP, user_id=5, chat_id=GROUP) is VoteOutcome.RECORDED
    assert cast(store, answer_id, Vote.DOWN, user_id=6, chat_id=GROUP) is VoteOutcome.RECORDED
    assert votes(store) == [(answer_id, 5, GROUP, 77, "up"), (answer_id, 6, GROUP, 77, "down")]


def test_an_unknown_answer_or_one_of_another_chat_takes_no_vote(store: FeedbackStore) -> None:
    answer_id = keep(store)
    assert cast(store, answer_id + 1000, Vote.UP) is VoteOutcome.UNKNOWN_ANSWER
    assert cast(store, answer_id, Vote.UP, chat_id=GROUP) is VoteOutcome.UNKNOWN_ANSWER
    assert cast(store, answer_id, Vote.UP, chat_id=None) is VoteOutcome.UNKNOWN_ANSWER
    assert votes(store) == []


def test_racing_presses_of_one_reader_leave_one_row(store: FeedbackStore) -> None:
    answer_id = keep(store)
    start = threading.Barrier(6)
    outcomes: list[VoteOutcome] = []

    def press() -> None:
        start.wait()
        outcomes.append(cast(store, answer_id, Vote.DOWN))

    threads = [threading.Thread(target=press) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.value for o in outcomes) == ["recorded"] + ["unchanged"] * 5
    assert votes(store) == [(answer_id, CHAT, CHAT, 77, "down")]


def test_figures_count_the_votes_and_list_the_latest_down_votes(store: FeedbackStore) -> None:
    assert store.figures().votes == 0 and store.figures().up_share is None
    answers = [keep(store, f"pertanyaan {n}") for n in range(5)]
    cast(store, answers[0], Vote.UP)
    cast(store, answers[0], Vote.UP, user_id=2)
    for n, answer_id in enumerate(answers[1:], start=1):
        cast(store, answer_id, Vote.DOWN, now=NOW + dt.timedelta(minutes=n))
    cast(store, answers[4], Vote.UP, now=NOW + dt.timedelta(minutes=9))  # changed its mind
    figures = store.figures()
    assert (figures.up, figures.down, figures.up_share) == (3, 3, 0.5)
    assert [down.question for down in figures.latest_down] == [
        "pertanyaan 3",
        "pertanyaan 2",
        "pertanyaan 1",
    ]
    assert {down.first_quote for down in figures.latest_down} == {FIRST.text}


def test_answers_nobody_voted_on_are_pruned_the_voted_ones_kept(store: FeedbackStore) -> None:
    old = NOW - KEEP_UNVOTED - dt.timedelta(hours=1)
    forgotten = keep(store, now=old)
    voted = keep(store, now=old)
    recent = keep(store, now=NOW - dt.timedelta(hours=1))
    cast(store, voted, Vote.DOWN)
    assert store.prune(now=NOW) == 1
    assert store.prune(now=NOW) == 0
    with Session(store.engine) as session:
        assert sorted(r.id for r in session.exec(select(AnswerRecord))) == [voted, recent]
    assert cast(store, forgotten, Vote.UP) is VoteOutcome.UNKNOWN_ANSWER  # expired
    assert keep(store) > recent  # an id is never given again


def test_the_export_is_read_by_the_eval_reader(store: FeedbackStore, tmp_path: Path) -> None:
    liked = keep(store, "berapa harga cabai?")
    disliked = keep(store, "siapa pedagang itu?", quotes=[SECOND, FIRST])
    split = keep(store, "di mana pasarnya?")
    keep(store, "tidak ada yang memilih")  # no votes: not exported
    cast(store, liked, Vote.UP)
    cast(store, liked, Vote.UP, user_id=2)
    cast(store, liked, Vote.DOWN, user_id=3)
    cast(store, disliked, Vote.DOWN)
    cast(store, split, Vote.UP)
    cast(store, split, Vote.DOWN, user_id=2)
    helpful, wrong = tmp_path / "feedback.jsonl", tmp_path / "wrong.jsonl"
    counts = export_votes(store.engine, helpful=helpful, wrong=wrong)
    assert (counts.helpful, counts.wrong) == (1, 2)

    [question] = read_questions(helpful)
    assert question.id == f"feedback-{liked}"
    assert question.question == "berapa harga cabai?"
    assert question.answers == (FIRST.text,)
    assert question.passage_id == "berita-7"  # the record's id in its .jsonl, as eval --articles
    [line] = [json.loads(text) for text in helpful.read_text(encoding="utf-8").splitlines()]
    assert line["votes"] == {"up": 2, "down": 1} and line["index_version"] == 4
    assert line["quotes"] == [
        {"text": FIRST.text, "article_id": "berita-7", "line": 3},
        {"text": SECOND.text, "article_id": "pasar.txt", "line": 5},
    ]
    assert "wrong" not in line

    read_wrong = read_questions(wrong)
    assert [q.id for q in read_wrong] == [f"feedback-{disliked}", f"feedback-{split}"]
    assert all(q.answers == () for q in read_wrong)
    assert read_wrong[0].passage_id == "pasar.txt"  # a .txt article is known by its file
    lines = [json.loads(text) for text in wrong.read_text(encoding="utf-8").splitlines()]
    assert [entry["wrong"] for entry in lines] == [[SECOND.text], [FIRST.text]]
    assert [entry["votes"] for entry in lines] == [{"up": 0, "down": 1}, {"up": 1, "down": 1}]

    # Without a file for them, the 👎 answers are counted and left out.
    assert export_votes(store.engine, helpful=tmp_path / "only.jsonl").wrong == 2
    assert [q.id for q in read_questions(tmp_path / "only.jsonl")] == [f"feedback-{liked}"]
