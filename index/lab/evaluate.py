"""Answer quality on question sets: hit@1, hit@3, hit@5 and MRR@10 (``shared/eval/README.md``).

hit@3: one of the three quotes a reply shows is right. The passages are written as a .jsonl
articles file and indexed by the same builder the bot uses, into a cache folder named by their
content hash and the model, so a second run re-embeds nothing. Every question goes through
``Searcher.rank``, the bot's own path; the baselines (plain BM25 over lower-cased words, dense
chunks alone) are measured on the same index. Questions may name an ``article_id`` instead of a
``passage_id``: ``write_article_passages`` then turns the full articles they name (plus evenly
spread distractors) into that passages file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session

from config.settings import Settings
from index.encoders.embedder import Embedder, KnownVectors
from index.search.ranker import Ranker
from index.search.searcher import Searcher
from index.search.tokens import word_forms
from index.storage.builder import build_index
from index.storage.lexical import BM25Index
from index.storage.store import newest_article_date, sentence_sources

if TYPE_CHECKING:  # the cross-encoder imports torch
    from index.encoders.crossencoder import CrossEncoder
from index.articles.records import passage_id
from index.lab.corpus import prepare_corpus

log = logging.getLogger(__name__)
RANK_DEPTH = 10


@dataclass(frozen=True, slots=True)
class Question:
    """An evaluation question; ``answers`` empty means the text does not answer it."""

    id: str
    question: str
    answers: tuple[str, ...]
    passage_id: str | None
    source: str = ""  # the file it was read from, for figures per file
    # the paragraph of its passage that answers it, when the passage is longer (fitting only)
    context: str = ""


@dataclass(frozen=True, slots=True)
class RankedSentence:
    """One returned sentence, with the passage (article id) it comes from."""

    text: str
    passage_id: str
    score: float


@dataclass(slots=True)
class MethodScore:
    """Scores of one method over the answerable questions (and the share it declined)."""

    name: str
    hit1: float = 0.0
    hit3: float = 0.0
    hit5: float = 0.0
    mrr10: float = 0.0
    answered: float = 1.0
    declined_unanswerable: float | None = None


@dataclass(slots=True)
class EvalResult:
    """Every method's scores, plus the counts the table is about."""

    questions: int
    unanswerable: int
    passages: int
    sentences: int
    methods: list[MethodScore] = field(default_factory=list)
    declined: dict[str, float] = field(default_factory=dict)  # by source of no-answer questions
    seconds_per_question: float = 0.0  # the shipped path's answer time, mean
    answer_ms_p50: float = 0.0  # ... its median, in milliseconds
    answer_ms_p95: float = 0.0  # ... and its 95th percentile
    read_again: int = 0  # questions whose best sentences the cross-encoder read again

    def as_dict(self) -> dict[str, object]:
        """JSON-ready data."""
        return {
            "questions": self.questions,
            "unanswerable": self.unanswerable,
            "passages": self.passages,
            "sentences": self.sentences,
            "declined": self.declined,
            "seconds_per_question": round(self.seconds_per_question, 4),
            "answer_ms_p50": round(self.answer_ms_p50, 1),
            "answer_ms_p95": round(self.answer_ms_p95, 1),
            "read_again": self.read_again,
            "methods": [
                {key: getattr(m, key) for key in MethodScore.__slots__}  # type: ignore[attr-defined]
                for m in self.methods
            ],
        }


def read_questions(path: Path) -> list[Question]:
    """Questions from a .jsonl file of ``{"id", "question", "answers", "passage_id"}``.

    ``article_id`` stands for ``passage_id`` in questions about full articles.
    """
    questions = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                questions.append(
                    Question(
                        id=str(record["id"]),
                        question=record["question"],
                        answers=tuple(record.get("answers") or ()),
                        passage_id=record.get("passage_id") or record.get("article_id"),
                        source=path.name,
                    )
                )
    return questions


def is_hit(sentence: RankedSentence, question: Question) -> bool:
    """From the gold passage and containing a gold answer (case-insensitive).

    A question with a ``context`` also needs the sentence to stand in that paragraph.
    """
    if sentence.passage_id != question.passage_id:
        return False
    text = sentence.text.lower()
    if question.context and _spaced(text) not in _spaced(question.context.lower()):
        return False
    return any(answer.lower() in text for answer in question.answers)


def _spaced(text: str) -> str:
    return " ".join(text.split())


def score_method(
    name: str,
    rankings: Sequence[Sequence[RankedSentence]],
    questions: Sequence[Question],
    answered: Sequence[bool] | None = None,
) -> MethodScore:
    """hit@1, hit@3, hit@5, MRR@10 of ranked sentences; a declined question counts as a miss."""
    answered = answered if answered is not None else [True] * len(questions)
    hit1 = hit3 = hit5 = mrr = 0.0
    for ranking, question, said in zip(rankings, questions, answered, strict=True):
        if not said:
            continue
        for rank, sentence in enumerate(ranking[:RANK_DEPTH], start=1):
            if is_hit(sentence, question):
                hit1 += rank == 1
                hit3 += rank <= 3
                hit5 += rank <= 5
                mrr += 1 / rank
                break
    n = max(len(questions), 1)
    return MethodScore(name, hit1 / n, hit3 / n, hit5 / n, mrr / n, sum(answered) / n)


def evaluate(
    settings: Settings,
    *,
    embedder: Embedder,
    passages: Path,
    questions: Sequence[Question],
    unanswerable: Sequence[Question] = (),
    distractors: Path | None = None,
    predictions: Path | None = None,
    known_vectors: Mapping[str, np.ndarray] | None = None,
    ranker: Ranker | None = None,
    cross_encoder: CrossEncoder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Index the passages, ask every question through the bot's path, score it and the baselines.

    ``known_vectors`` (chunk text to vector, same model) spares embedding chunks another index
    already holds; the index built is the same either way. ``ranker`` and ``cross_encoder``
    stand for the shipped ones (a fit being judged before it is shipped).
    """
    corpus = prepare_corpus(
        settings, passages=passages, distractors=distractors, model=embedder.name
    )
    building = KnownVectors(embedder, known_vectors) if known_vectors else embedder
    build_index(corpus, embedder=building)
    if isinstance(building, KnownVectors):
        log.info("%d chunks embedded, %d reused", building.embedded, building.reused)
    searcher = Searcher.open(corpus, embedder=embedder, ranker=ranker, cross_encoder=cross_encoder)
    with Session(searcher.engine) as session:
        # Answers are ordered as on the day after the newest article: the most recent first
        # among those that answer alike, as a reader gets them.
        newest = newest_article_date(session=session)
        today = (newest or dt.date.today()) + dt.timedelta(days=1)
        table = sentence_sources(session=session)
    sentence_ids = [row[0] for row in table]
    texts = {row[0]: (row[1], passage_id(row[3])) for row in table}
    by_chunk: dict[int, list[int]] = {}
    for sentence_id, (_, _, chunk_id, _) in zip(sentence_ids, table, strict=True):
        by_chunk.setdefault(chunk_id, []).append(sentence_id)
    plain_bm25 = BM25Index.build(sentence_ids, (_plain_words(texts[i][0]) for i in sentence_ids))

    everything = [*questions, *unanswerable]
    shipped, confident, bm25, dense = [], [], [], []
    answering: list[float] = []
    read_again = 0
    for n, question in enumerate(everything, start=1):
        started = time.perf_counter()
        ranking = searcher.rank_in_time(question.question, today=today, limit=RANK_DEPTH)
        answering.append(time.perf_counter() - started)
        read_again += ranking.reread is True
        shipped.append(
            [RankedSentence(q.text, passage_id(q.article_key), q.score) for q in ranking.quotes]
        )
        confident.append(ranking.confident)
        hits = plain_bm25.search(_plain_words(question.question), RANK_DEPTH)
        bm25.append(
            [
                RankedSentence(*texts[int(i)], float(s))
                for i, s in zip(hits.ids, hits.scores, strict=True)
            ]
        )
        vector = embedder.embed_queries([question.question])[0]
        chunk_ids, chunk_scores = searcher.vectors.search(vector, RANK_DEPTH)
        dense.append(
            [
                RankedSentence(*texts[sentence_id], float(score))
                for chunk_id, score in zip(chunk_ids.tolist(), chunk_scores.tolist(), strict=True)
                for sentence_id in by_chunk.get(chunk_id, [])
            ][:RANK_DEPTH]
        )
        if progress:
            progress(n, len(everything))

    answerable = len(questions)
    result = EvalResult(
        questions=answerable,
        unanswerable=len(unanswerable),
        passages=_count_lines(passages),
        sentences=len(sentence_ids),
        seconds_per_question=sum(answering) / max(len(everything), 1),
        answer_ms_p50=1000 * float(np.percentile(answering, 50)) if answering else 0.0,
        answer_ms_p95=1000 * float(np.percentile(answering, 95)) if answering else 0.0,
        read_again=read_again,
    )
    result.methods.append(score_method("BM25 alone (plain words)", bm25[:answerable], questions))
    result.methods.append(score_method("dense alone (e5 chunks)", dense[:answerable], questions))
    result.methods.append(score_method("ranking (no decline)", shipped[:answerable], questions))
    shipped_score = score_method(
        "shipped path", shipped[:answerable], questions, confident[:answerable]
    )
    if unanswerable:
        shipped_score.declined_unanswerable = 1 - float(np.mean(confident[answerable:]))
        for source in dict.fromkeys(q.source for q in unanswerable):
            said = [
                c
                for q, c in zip(unanswerable, confident[answerable:], strict=True)
                if q.source == source
            ]
            result.declined[source] = 1 - float(np.mean(said))
    result.methods.append(shipped_score)
    if predictions is not None:
        _write_predictions(predictions, everything, shipped, confident)
    return result


def _count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def _write_predictions(
    path: Path,
    questions: Iterable[Question],
    rankings: Sequence[Sequence[RankedSentence]],
    answered: Sequence[bool],
) -> None:
    with path.open("w", encoding="utf-8") as out:
        for question, ranking, said in zip(questions, rankings, answered, strict=True):
            record = {
                "id": question.id,
                "answered": said,
                "sentences": [
                    {"text": s.text, "passage_id": s.passage_id, "score": s.score} for s in ranking
                ],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def format_table(result: EvalResult) -> str:
    """The scores as a Markdown table."""
    lines = [
        f"{result.questions} answerable questions, {result.unanswerable} unanswerable; "
        f"{result.passages} passages, {result.sentences} sentences indexed",
        "",
        "| method | hit@1 | hit@3 | hit@5 | MRR@10 | answered | unanswerable declined |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in result.methods:
        declined = "" if m.declined_unanswerable is None else f"{m.declined_unanswerable:.2f}"
        lines.append(
            f"| {m.name} | {m.hit1:.3f} | {m.hit3:.3f} | {m.hit5:.3f} | {m.mrr10:.3f} | {m.answered:.2f} | {declined} |"
        )
    lines.append("")
    for source, share in result.declined.items():
        lines.append(f"declined by the shipped path, {source}: {share:.2f}")
    asked = result.questions + result.unanswerable
    if result.read_again == asked:
        reading = "the cross-encoder read every question again"
    elif result.read_again == 0:
        reading = "the cross-encoder read none: the ranking alone"
    else:
        reading = f"the cross-encoder read {result.read_again} of {asked} questions again"
    lines.append(
        f"answer time of the shipped path: {1000 * result.seconds_per_question:.0f} ms on "
        f"average, {result.answer_ms_p50:.0f} ms median, {result.answer_ms_p95:.0f} ms p95 "
        f"({reading})"
    )
    return "\n".join(lines)


def _plain_words(text: str) -> list[str]:
    """The baseline's tokens: lower-cased words and numbers as written (no stems, no stopwords)."""
    return [form.lower() for form in word_forms(text)]
