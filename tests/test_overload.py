"""Overload: a question that waited too long skips the cross-encoder and is answered by the
ranking alone, with the real index, embedder and cross-encoder. Time is controlled by the
``arrived`` each question is given, never measured by the test."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from index.encoders.embedder import Embedder
from index.search.answers import Answer
from index.search.ranker import default_ranker
from index.search.searcher import Searcher
from tests.conftest import MISSION_ANSWER, MISSION_QUESTION, make_settings

#: Long enough that no question asked "now" in a test can outwait it, however slow the machine.
PATIENT_MS = 600_000
#: Arrived an hour ago: past any budget used here.
LONG_AGO = 3600.0
QUESTIONS = [
    MISSION_QUESTION,
    "berapa harga cabai rawit di Pasar Senen?",
    "siapa menempatkan 11000 tentara Korea Utara?",
    "berapa harga bawang putih di Brebes?",
]


@pytest.fixture(scope="module")
def plain(corpus_root: Path, embedder: Embedder) -> Searcher:
    """The ranking alone (no cross-encoder)."""
    return Searcher.open(make_settings(corpus_root, cross_encoder=False), embedder=embedder)


def crossed(corpus_root: Path, embedder: Embedder, max_wait_ms: int = PATIENT_MS) -> Searcher:
    """A searcher that reads the best sentences again, waiting at most ``max_wait_ms``."""
    settings = make_settings(corpus_root, cross_encoder=True, cross_encoder_max_wait_ms=max_wait_ms)
    return Searcher.open(settings, embedder=embedder)


def test_a_question_that_waited_too_long_is_answered_by_the_ranking_alone(
    corpus_root: Path, embedder: Embedder, plain: Searcher, caplog: pytest.LogCaptureFixture
) -> None:
    searcher = crossed(corpus_root, embedder)
    assert searcher.reads_again and searcher.rereading.max_wait == PATIENT_MS / 1000
    caplog.set_level(logging.INFO, logger="index.search.rereading")

    stale = searcher.answer(MISSION_QUESTION, arrived=time.monotonic() - LONG_AGO)
    assert stale.reread is False
    assert (searcher.rereading.counts().read, searcher.rereading.counts().skipped) == (0, 1)
    # Exactly what the ranking alone gives: the same quotes, in the same order, same scores.
    alone = plain.answer(MISSION_QUESTION)
    assert (stale.answered, stale.quotes) == (alone.answered, alone.quotes)
    assert stale.answered and stale.quotes[0].text == MISSION_ANSWER
    stale_ranking = searcher.rank(MISSION_QUESTION, arrived=time.monotonic() - LONG_AGO)
    assert stale_ranking.quotes == plain.rank(MISSION_QUESTION).quotes
    assert (searcher.rereading.counts().read, searcher.rereading.counts().skipped) == (0, 2)
    [line] = [
        r.getMessage() for r in caplog.records if "without the cross-encoder" in r.getMessage()
    ]
    assert line.startswith(f"1 question(s) waited over {PATIENT_MS} ms")
    assert line.endswith("1 skipped, 0 read again in all")  # the second skip: no second line

    fresh = searcher.rank(MISSION_QUESTION, arrived=time.monotonic())
    assert fresh.reread is True
    assert (searcher.rereading.counts().read, searcher.rereading.counts().skipped) == (1, 2)
    # Read again: the same candidates, the best ones scored anew.
    assert {q.text for q in fresh.quotes} == {q.text for q in stale_ranking.quotes}
    assert [q.score for q in fresh.quotes] != [q.score for q in stale_ranking.quotes]
    assert fresh.quotes[0].text == MISSION_ANSWER
    # Without a time of arrival (evaluation, the shell) a question is always read again.
    assert searcher.answer(MISSION_QUESTION).reread is True
    assert searcher.rereading.counts().read == 2
    # Without the cross-encoder there is nothing to read again or to skip.
    assert plain.answer(MISSION_QUESTION, arrived=time.monotonic() - LONG_AGO).reread is None
    assert plain.rereading.counts().read == plain.rereading.counts().skipped == 0


def test_whether_to_answer_is_decided_after_reading(corpus_root: Path, embedder: Embedder) -> None:
    """The shipped weights decide once the cross-encoder has read: every question is read."""
    searcher = crossed(corpus_root, embedder)
    assert searcher.ranker.cross_decision is not None
    off_topic = "Bagaimana resep rendang daging sapi yang empuk?"
    declined = searcher.answer(off_topic, arrived=time.monotonic())
    assert not declined.answered and declined.reread is True
    assert (searcher.rereading.counts().read, searcher.rereading.counts().skipped) == (1, 0)
    answered = searcher.answer(MISSION_QUESTION, arrived=time.monotonic())
    assert answered.answered and answered.reread is True
    assert searcher.rereading.counts().read == 2


def test_without_a_decision_after_reading_a_declined_question_is_not_read(
    corpus_root: Path, embedder: Embedder
) -> None:
    """Weights with no decision after reading decide first: nobody sees a declined order."""
    settings = make_settings(corpus_root, cross_encoder=True, cross_encoder_max_wait_ms=PATIENT_MS)
    before = dataclasses.replace(default_ranker(cross_encoder=True), cross_decision=None)
    searcher = Searcher.open(settings, embedder=embedder, ranker=before)
    off_topic = "Bagaimana resep rendang daging sapi yang empuk?"
    declined = searcher.answer(off_topic, arrived=time.monotonic())
    assert not declined.answered and declined.reread is None
    assert (searcher.rereading.counts().read, searcher.rereading.counts().skipped) == (0, 0)
    # Ranked for its own sake (evaluation's ranking without the decision), it is read.
    ranked = searcher.rank(off_topic)
    assert not ranked.confident and ranked.reread is True
    assert searcher.rereading.counts().read == 1
    answered = searcher.answer(MISSION_QUESTION, arrived=time.monotonic())
    assert answered.answered and answered.reread is True
    assert searcher.rereading.counts().read == 2


def test_while_another_question_is_read_one_that_would_wait_past_its_budget_skips(
    corpus_root: Path, embedder: Embedder, plain: Searcher
) -> None:
    searcher = crossed(corpus_root, embedder, max_wait_ms=1000)
    reader = searcher.cross_encoder
    reading, done = threading.Event(), threading.Event()

    def slow_reading() -> np.ndarray:
        reading.set()
        done.wait()
        return reader.scores(MISSION_QUESTION, [MISSION_ANSWER])

    other = threading.Thread(target=searcher.rereading.read, args=(reader, None, slow_reading))
    other.start()
    try:
        assert reading.wait(60)
        # The cross-encoder is reading another question: this one does not queue for it, though
        # its budget (a second) would allow the wait.
        answer = searcher.answer(MISSION_QUESTION, arrived=time.monotonic())
    finally:
        done.set()
        other.join()
    alone = plain.answer(MISSION_QUESTION)
    assert answer.reread is False and (answer.answered, answer.quotes) == (
        alone.answered,
        alone.quotes,
    )
    assert (searcher.rereading.counts().read, searcher.rereading.counts().skipped) == (1, 1)


def test_many_at_once_all_are_answered_none_lost(
    corpus_root: Path, embedder: Embedder, plain: Searcher
) -> None:
    searcher = crossed(corpus_root, embedder)
    # Half of the questions arrived long ago (they must skip), half have no time limit (they
    # take their turns, as evaluation does).
    asked = [(q, stale) for q in QUESTIONS for stale in (True, False)]

    def ask(question: str, stale: bool) -> Answer:
        arrived = time.monotonic() - LONG_AGO if stale else None
        return searcher.answer(question, arrived=arrived)

    with ThreadPoolExecutor(max_workers=len(asked)) as pool:
        answers = list(pool.map(lambda item: ask(*item), asked))

    assert len(answers) == len(asked)
    # Whether to answer is decided after reading: every question is read or skips, none is
    # lost, and a stale one is answered as the ranking alone answers it.
    counts = searcher.rereading.counts()
    assert (counts.read, counts.skipped) == (len(QUESTIONS), len(QUESTIONS))
    for (question, stale), answer in zip(asked, answers, strict=True):
        assert answer.question == question and answer.reread is (not stale)
        if stale:
            alone = plain.answer(question)
            assert (answer.answered, answer.quotes) == (alone.answered, alone.quotes)
        else:
            alone = searcher.answer(question)  # the same question read again on its own
            assert answer.answered == alone.answered
            assert [q.text for q in answer.quotes] == [q.text for q in alone.quotes]
