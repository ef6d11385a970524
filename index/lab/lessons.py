"""What the cross-encoder's adapter learns from: each question with the ranking's best sentences.

``tune --train-cross-encoder`` fits an adapter on :func:`reading_pairs` of two thirds of the
train questions (``index/lab/tune.py`` says which). An adapter fitted on top of another
(``--cross-encoder-from``) learns from :func:`further_lessons`: every lesson of the questions
it is to learn more of, and a sample of the others, so that it keeps what it knew.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from pathlib import Path

from index.encoders.crossencoder import CrossEncoder, Pairs
from index.lab.asking import Asked
from index.progress import ProgressBar
from index.search.ranker import RERANK_DEPTH, Ranker

#: Sentences of each question the cross-encoder is fitted on (of the ranking's best).
READING_GROUP = 6


def reading_pairs(asked: Sequence[Asked], ranker: Ranker, reader: CrossEncoder) -> list[Pairs]:
    """What ``reader`` is fitted on: each question's best sentences, as it reads them.

    ``READING_GROUP`` of the ranking's best. For an answerable question, the best hit among
    the best ``RERANK_DEPTH`` takes the last place when none of them is one; one with no hit
    there is left out. A question its set's passages do not answer comes with its best
    sentences, none correct (a lesson in declining); another set's question is left out: it
    stays honest for :func:`index.lab.tune.decide_after_reading`. A question of a weighed set
    comes as many times as its ``weight``, rounded (the same object each time).
    """
    pairs = []
    for item in asked:
        if item.elsewhere or not item.found.rows:
            continue
        best = ranker.order(item.found.features).order[:RERANK_DEPTH]
        group = [int(r) for r in best[:READING_GROUP]]
        if item.answerable:
            hits = [int(r) for r in best if item.labels[r]]
            if not hits:
                continue
            if not any(item.labels[r] for r in group):
                group[-1] = hits[0]
        lesson = Pairs(
            question=item.found.worded(group),
            sentences=item.found.passages(group, reader),
            correct=tuple(bool(item.labels[r]) for r in group),
        )
        pairs.extend([lesson] * max(1, round(item.weight)))
    return pairs


def distinct_lessons(pairs: Sequence[Pairs]) -> list[Pairs]:
    """Each lesson of ``pairs`` once (:func:`reading_pairs` repeats a weighed set's lessons)."""
    return list({id(pair): pair for pair in pairs}.values())


def fit_reader(
    reader: CrossEncoder,
    pairs: Sequence[Pairs],
    *,
    epochs: float,
    checkpoint: Path | None,
    on_top: bool,
) -> dict[str, int]:
    """Fit ``reader``'s adapter on ``pairs`` (``on_top`` of its own), showing its progress.

    Returns what it learned from: distinct questions, unanswerable ones, lessons given.
    """
    bar = ProgressBar("cross-encoder steps")
    reader.fit(
        pairs,
        epochs=epochs,
        progress=lambda step, steps, _loss: bar(step, steps),
        checkpoint=checkpoint,
        on_top=on_top,
    )
    distinct = distinct_lessons(pairs)
    declining = sum(not any(pair.correct) for pair in distinct)
    return {
        "questions": len(distinct) - declining,
        "unanswerable": declining,
        "lessons": len(pairs),
    }


def further_lessons(
    read: Sequence[Asked],
    ranker: Ranker,
    reader: CrossEncoder,
    *,
    sources: Collection[str],
    others: int,
) -> list[Pairs]:
    """Lessons of an adapter on top of another: those of ``sources``, and ``others`` of the rest.

    Every lesson of the questions reported under ``sources`` (``Asked.source``), then a sample
    of ``others`` of the other questions' lessons, the same every run; each lesson once.
    """
    mine = [item for item in read if item.source in sources]
    rest = [item for item in read if item.source not in sources]
    sample = distinct_lessons(reading_pairs(rest, ranker, reader))
    random.Random(0).shuffle(sample)
    return [*distinct_lessons(reading_pairs(mine, ranker, reader)), *sample[:others]]
