"""Train questions asked of their own passages: each question's candidates and which are hits.

What ``python -m index tune`` fits on, asked once: every set's questions of its own passages,
some of the other sets' as questions with no answer there, and the parts by passage that keep
the cross-encoder's lessons apart from the questions that judge it.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from config.settings import Settings
from index.articles.records import passage_id
from index.encoders.embedder import Embedder
from index.lab.corpus import prepare_corpus
from index.lab.evaluate import Question, RankedSentence, is_hit
from index.search.features import FEATURES
from index.search.ranker import (
    CONFIDENCE_FEATURES,
    Ranker,
)
from index.search.searcher import Candidates, Searcher
from index.storage.builder import build_index

#: Placeholder weights while the real ones are fitted (the searcher needs some).
NEUTRAL = Ranker(
    weights=(0.0,) * len(FEATURES),
    confidence_weights=(0.0,) * len(CONFIDENCE_FEATURES),
    confidence_bias=0.0,
    threshold=0.5,
)


@dataclass(frozen=True, slots=True)
class QuestionSet:
    """Passages to index and the train questions asked of them."""

    passages: Path
    questions: Sequence[Question]
    unanswerable: Sequence[Question] = ()
    # How many times each of its own questions counts in the ranking's fit (and as a lesson of
    # the cross-encoder), as if repeated: a small set of questions typed as readers type, on
    # full news articles, weighs as much as a large file there. The decisions count every
    # question once.
    weight: float = 1.0
    # Its questions are never lessons of the cross-encoder: they judge its weight and the
    # decision after reading, beside the third of the other sets it never read. A set that is
    # not held out is parted by passage like any other, its lessons counted ``weight`` times.
    held_out: bool = False


@dataclass(slots=True)
class Asked:
    """One question's candidates, and which of them are hits (none for an unanswerable one)."""

    found: Candidates
    labels: np.ndarray
    answerable: bool
    elsewhere: bool = False  # a question of another set: its answer is in no indexed text
    source: str = ""  # what its figures are reported under: set folder and questions file
    cross: dict[int, float] = field(default_factory=dict)  # cross-encoder score by row, once read
    weight: float = 1.0  # times it counts in the ranking's fit and as a lesson (its set's)
    held_out: bool = False  # never a lesson of the cross-encoder (its set's ``held_out``)


def ask_all(
    settings: Settings,
    *,
    embedder: Embedder,
    sets: Sequence[QuestionSet],
    elsewhere: int = 300,
    progress: Callable[[int, int], None] | None = None,
) -> list[Asked]:
    """Every question of ``sets`` asked of its own passages, plus ``elsewhere`` of the others'."""
    plans = []
    for n, item in enumerate(sets):
        others = [q for j, other in enumerate(sets) if j != n for q in other.questions]
        sample = random.Random(n).sample(others, min(elsewhere, len(others)))
        plans.append((item, [*item.questions], [*item.unanswerable], sample))
    total = sum(len(a) + len(b) + len(c) for _, a, b, c in plans)
    done = 0
    asked: list[Asked] = []
    for item, answerable, unanswerable, sample in plans:
        corpus = prepare_corpus(
            settings, passages=item.passages, distractors=None, model=embedder.name
        )
        build_index(corpus, embedder=embedder)
        # Only retrieval and features are used here: any weights will do.
        searcher = Searcher.open(corpus, embedder=embedder, ranker=NEUTRAL)
        kinds = [(q, True, False) for q in answerable] + [(q, False, False) for q in unanswerable]
        for question, has_answer, other_set in kinds + [(q, False, True) for q in sample]:
            item_asked = _ask(searcher, question, answerable=has_answer)
            item_asked.elsewhere = other_set
            if not other_set:
                item_asked.weight = item.weight
                item_asked.held_out = item.held_out
            item_asked.source = ELSEWHERE if other_set else source_name(item, question)
            asked.append(item_asked)
            done += 1
            if progress:
                progress(done, total)
    return asked


#: The source name of the questions asked of another set's passages.
ELSEWHERE = "other sets' questions"


def source_name(question_set: QuestionSet, question: Question) -> str:
    """What a set's own question is reported under (``Asked.source``): folder and file.

    Sets often name their files alike (train.questions.jsonl): the folder tells them apart.
    """
    return f"{question_set.passages.parent.name}/{question.source}"


def passage_parts(asked: Sequence[Asked], *, parts: int = 3) -> list[int]:
    """A part (0 to ``parts - 1``) for each question: all questions of one passage in one part.

    A question's passage is that of its first hit among the candidates; a question without one
    (unanswerable, another set's, or not found) is placed by its own text. Either way a
    question keeps its part when questions are added to its file or taken out.
    """
    placed = []
    for item in asked:
        if item.labels.any():
            row = item.found.rows[int(np.argmax(item.labels))]
            key = passage_id(row.article_key)
        else:
            key = item.found.query.text
        placed.append(zlib.crc32(key.encode()) % parts)
    return placed


def split_thirds(asked: Sequence[Asked]) -> tuple[list[Asked], list[Asked]]:
    """``asked`` by :func:`passage_parts`: parts 1 and 2 (the cross-encoder's lessons), part 0.

    A ``held_out`` question is always judged, never a lesson.
    """
    parts = passage_parts(asked)
    read = [a for a, part in zip(asked, parts, strict=True) if part != 0 and not a.held_out]
    judged = [a for a, part in zip(asked, parts, strict=True) if part == 0 or a.held_out]
    return read, judged


def _ask(searcher: Searcher, question: Question, *, answerable: bool) -> Asked:
    found = searcher.candidates(question.question)
    labels = np.array(
        [
            answerable
            and is_hit(RankedSentence(row.text, passage_id(row.article_key), 0.0), question)
            for row in found.rows
        ],
        dtype=bool,
    )
    return Asked(found=found, labels=labels, answerable=answerable)
