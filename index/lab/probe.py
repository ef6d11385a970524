"""``python -m index.lab.probe``: is a way of reading worth a full fit of the adapter?

A full fit of the cross-encoder's adapter takes hours on 2 cores. This fits two small ones on
the same lessons, from scratch, one reading each sentence alone and one with its context
(``CrossEncoder.passage``), and judges both on the same questions of the third of the train
passages no lesson comes from: every answerable question of the news file (``--news``, a
substring of its source) and ``--others`` of each other file. Each is scored by the ranking
plus the cross-encoder at the weight that puts the most hits first for it (chosen on those
questions, alike for both), and by the cross-encoder alone. It reads a ``tune --asked-cache``
file (the questions already asked) and the ranking weights to order their candidates.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.encoders.crossencoder import CrossEncoder
from index.lab.asking import Asked, split_thirds
from index.lab.lessons import distinct_lessons, reading_pairs
from index.search.ranker import RERANK_DEPTH, Ranker

#: The cross-encoder weights tried for each adapter.
WEIGHTS = (0.0, *np.geomspace(0.1, 20.0, 30).tolist())


def judged_questions(judged: Sequence[Asked], news: str, others: int) -> list[Asked]:
    """Every answerable news question of ``judged`` and ``others`` of each other file's."""
    by_source: dict[str, list[Asked]] = defaultdict(list)
    for item in judged:
        if item.answerable and item.found.rows and not item.elsewhere:
            by_source[item.source].append(item)
    chosen = []
    for source, items in sorted(by_source.items()):
        random.Random(1).shuffle(items)
        chosen += items if news in source else items[:others]
    return chosen


def judge(
    reader: CrossEncoder, ranker: Ranker, questions: Sequence[Asked]
) -> tuple[float, dict[str, tuple[int, float, float, float]], list[bool]]:
    """The best weight, figures by source (n, ranking, with reading, reading alone), hits."""
    heads = []
    for item in questions:
        ordering = ranker.order(item.found.features)
        rows = [int(r) for r in ordering.order[:RERANK_DEPTH]]
        cross = reader.scores(item.found.worded(rows), item.found.passages(rows, reader))
        heads.append((item, rows, ordering.scores[: len(rows)], cross))

    def hits(weight: float | None) -> list[bool]:
        return [
            bool(item.labels[rows[int(np.argmax(cross if weight is None else s + weight * cross))]])
            for item, rows, s, cross in heads
        ]

    weight = max(WEIGHTS, key=lambda w: sum(hits(w)))  # the first of a tie
    with_reading, alone, ranking = hits(weight), hits(None), hits(0.0)
    figures = {}
    for source in sorted({item.source for item in questions}):
        at = [i for i, item in enumerate(questions) if item.source == source]
        figures[source] = (
            len(at),
            float(np.mean([ranking[i] for i in at])),
            float(np.mean([with_reading[i] for i in at])),
            float(np.mean([alone[i] for i in at])),
        )
    return weight, figures, with_reading


def main(argv: Sequence[str] | None = None) -> None:
    """Fit both small adapters, judge them alike, print the figures and the paired change."""
    parser = argparse.ArgumentParser(prog="python -m index.lab.probe", description=__doc__)
    parser.add_argument("--asked-cache", type=Path, required=True, help="tune's --asked-cache")
    parser.add_argument("--ranker", type=Path, required=True, help="ranking weights (ranker.json)")
    parser.add_argument("--lessons", type=int, default=1500, help="lessons of each adapter")
    parser.add_argument(
        "--news", default="tune-sets/questions.jsonl", help="the news questions' source in tune"
    )
    parser.add_argument("--others", type=int, default=250, help="questions of each other file")
    args = parser.parse_args(argv)
    with args.asked_cache.open("rb") as handle:
        _, asked = pickle.load(handle)
    ranker = Ranker.load(args.ranker)
    read, judged = split_thirds(asked)
    questions = judged_questions(judged, args.news, args.others)
    hits: dict[bool, list[bool]] = {}
    for context in (False, True):
        reader = CrossEncoder(context=context)
        lessons = distinct_lessons(reading_pairs(read, ranker, reader))
        random.Random(0).shuffle(lessons)
        started = time.perf_counter()
        reader.fit(lessons[: args.lessons], epochs=1)
        fitted = time.perf_counter() - started
        started = time.perf_counter()
        weight, figures, hits[context] = judge(reader, ranker, questions)
        each = (time.perf_counter() - started) / max(len(questions), 1)
        name = "with context" if context else "sentence alone"
        print(f"\n{name}: fitted in {fitted:.0f} s, {each * 1000:.0f} ms a question's reading")
        print(f"| questions | n | ranking | + reading (weight {weight:.2f}) | reading alone |")
        print("|---|---|---|---|---|")
        for source, (n, ranking, both, alone) in figures.items():
            print(f"| {source} | {n} | {ranking:.3f} | {both:.3f} | {alone:.3f} |")
    gained = sum(b and not a for a, b in zip(hits[False], hits[True], strict=True))
    lost = sum(a and not b for a, b in zip(hits[False], hits[True], strict=True))
    print(json.dumps({"questions": len(questions), "gained": gained, "lost": lost}))


if __name__ == "__main__":
    main()
