"""``python -m index tune``: fit the ranker's weights on train questions, write ``ranker.json``.

Each question set brings its passages, its answerable train questions and, optionally, train
questions its passages do not answer. Every passage set is indexed as the eval command does
(the same cache), every question goes through ``Searcher.candidates`` (the bot's own
retrieval and features), and a candidate is correct when it is a hit as
``shared/eval/README.md`` defines it. Questions of the *other* sets are asked too: their
answers are in no indexed text, so the bot should decline them. The confidence model learns
whether the best sentence is a hit; its threshold is set so that ``DECLINE_ELSEWHERE`` of those
other-set questions are declined, and at least ``DECLINE_UNANSWERABLE`` of the sets' own
unanswerable questions. Nothing here knows which set is which.

The cross-encoder (``index/encoders/crossencoder.py``) reads the ranking's best sentences again; its
scores on the questions it was fitted on would be too good to fit anything beside them. So the
questions are split by their gold passage (:func:`passage_parts`, no passage on both sides):
``--train-cross-encoder`` fits its adapter on two thirds (``index/lab/lessons.py``), and how much
its score counts (``cross_weight``, :func:`weigh_cross_encoder`) is chosen on the third it
never read, and so is the decision made once it has read (:func:`decide_after_reading`), with
every other set's question (never a lesson of the adapter). The ranking and the confidence
before reading are those of ``ranker.json``, fitted on all.

``--folds K`` first prints K-fold cross-validated figures (:func:`cross_validate`) of all the
train questions, then of that third with and without the cross-encoder: the place to judge a
new feature or model, since dev figures move by a few points from chance alone.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.encoders.crossencoder import CrossEncoder
from index.lab.asking import Asked
from index.lab.fitting import (
    listwise_objective,
    minimise,
    network_objective,
    network_start,
    unpack_network,
)
from index.search.features import FEATURES
from index.search.ranker import (
    CONFIDENCE_FEATURES,
    RERANK_DEPTH,
    ConfidenceLayer,
    Decision,
    Ordering,
    Ranker,
    confidence_values,
    cross_confidence_values,
)

log = logging.getLogger(__name__)
#: Share of the other sets' questions (answered by no indexed text) the threshold declines ...
DECLINE_ELSEWHERE = 0.95
#: ... and, at least, of a set's own questions its passages do not answer (where given).
DECLINE_UNANSWERABLE = 0.45
#: Tanh units of the confidence model, and how it is fitted.
CONFIDENCE_UNITS = 8
CONFIDENCE_STEPS = 2000
CONFIDENCE_RATE = 0.01
#: The cross-encoder weights tried; the one that puts the most hits first is kept.
CROSS_WEIGHTS = (0.0, *np.geomspace(0.05, 20.0, 49).round(4).tolist())


@dataclass(frozen=True, slots=True)
class HeldOut:
    """How a fit did on questions it was not fitted on, for one question file."""

    source: str  # set folder and questions file, or ELSEWHERE for other sets' questions
    answerable: bool  # its questions have answers in the indexed text
    questions: int
    ranked_first: float  # share whose best sentence is a hit (0 for unanswerable files)
    answered_right: float  # ... and confident enough to be said
    declined: float  # share the bot would decline


def cross_validate(
    asked: Sequence[Asked],
    *,
    folds: int = 3,
    reader: CrossEncoder | None = None,
    also_ranked: Sequence[Asked] = (),
) -> list[HeldOut]:
    """Fit on all but every ``folds``-th question, score those; once per fold, pooled.

    ``also_ranked`` questions join every fold's ranking and confidence fit, not the choice of
    the cross-encoder's weight: with a ``reader``, the questions it was fitted on. A change to
    the features or the fitting can be judged here without looking at dev questions: their
    figures move by a few points from chance alone.
    """
    results: dict[str, list[tuple[bool, bool]]] = {}
    answerable: dict[str, bool] = {}
    for fold in range(folds):
        training = [a for i, a in enumerate(asked) if i % folds != fold]
        ranker = fit([*training, *also_ranked])
        if reader is not None:
            ranker = weigh_cross_encoder(ranker, training, reader)
            ranker = decide_after_reading(ranker, training, reader)
        for item in (a for i, a in enumerate(asked) if i % folds == fold):
            results.setdefault(item.source, []).append(_judge(ranker, item, reader))
            answerable[item.source] = item.answerable
    return [
        HeldOut(
            source=source,
            answerable=answerable[source],
            questions=len(pairs),
            ranked_first=float(np.mean([first for first, _ in pairs])),
            answered_right=float(np.mean([first and said for first, said in pairs])),
            declined=1.0 - float(np.mean([said for _, said in pairs])),
        )
        for source, pairs in results.items()
    ]


def format_held_out(
    figures: Sequence[HeldOut], *, folds: int, of: str = "the train questions"
) -> str:
    """The cross-validated figures as a Markdown table."""
    lines = [
        f"{folds}-fold cross-validation on {of} (each scored by a fit without it):",
        "",
        "| questions | n | ranked first | answered right | declined |",
        "|---|---|---|---|---|",
    ]
    for f in figures:
        hits = f"{f.ranked_first:.3f} | {f.answered_right:.3f}" if f.answerable else " | "
        lines.append(f"| {f.source} | {f.questions} | {hits} | {f.declined:.2f} |")
    return "\n".join(lines)


def _judge(ranker: Ranker, item: Asked, reader: CrossEncoder | None) -> tuple[bool, bool]:
    """Whether ``ranker`` puts a hit first for ``item``, and whether it would say it."""
    if not item.found.rows:
        return False, False
    ordering = ranker.order(item.found.features)
    values, first = _best(ordering, item)
    reads = item.answerable or ranker.cross_decision is not None
    if reader is not None and ranker.cross_weight is not None and reads:
        assert item.found.chunk_cosines is not None
        cross = _read(reader, item, ordering.order)
        reordered = ranker.reorder(ordering, cross)
        said = ranker.confident_after_reading(
            ordering,
            reordered,
            cross,
            item.found.features,
            item.found.chunk_cosines,
            unknown=item.found.query.unknown,
        )
        return bool(item.labels[reordered.order[0]]), said
    return first, ranker.confidence(values) >= ranker.threshold


def _best(ordering: Ordering, item: Asked) -> tuple[list[float], bool]:
    """``CONFIDENCE_FEATURES`` of the sentence ``ordering`` puts first, and whether it is a hit."""
    assert item.found.chunk_cosines is not None
    values = confidence_values(
        ordering, item.found.features, item.found.chunk_cosines, unknown=item.found.query.unknown
    )
    return values, bool(item.labels[ordering.order[0]])


def _read(reader: CrossEncoder, item: Asked, order: np.ndarray) -> np.ndarray:
    """Cross-encoder scores of the first ``RERANK_DEPTH`` rows of ``order``.

    Scores are kept on ``item``: a row is read once however many fits ask for it.
    """
    rows = [int(r) for r in order[:RERANK_DEPTH]]
    unread = [r for r in rows if r not in item.cross]
    if unread:
        scores = reader.scores(item.found.worded(unread), item.found.passages(unread, reader))
        item.cross.update(zip(unread, map(float, scores), strict=True))
    return np.asarray([item.cross[r] for r in rows], dtype=np.float32)


def fit(asked: Sequence[Asked]) -> Ranker:
    """Fit the ranking on answerable questions, then the confidence of its best sentence."""
    with_rows = [a for a in asked if a.found.rows]
    answerable = [a for a in with_rows if a.answerable]
    start = np.zeros(len(FEATURES))
    weights = minimise(
        listwise_objective(
            [a.found.features for a in answerable],
            [a.labels for a in answerable],
            counts=[a.weight for a in answerable],
        ),
        start,
    )
    draft = Ranker(
        weights=tuple(float(w) for w in weights),
        confidence_weights=(0.0,) * len(CONFIDENCE_FEATURES),
        confidence_bias=0.0,
        threshold=0.5,
    )
    values, correct = [], []
    for item in with_rows:
        item_values, first = _best(draft.order(item.found.features), item)
        values.append(item_values)
        correct.append(first)
    decision, fitted = fit_decision(
        np.asarray(values, dtype=np.float64), np.asarray(correct), with_rows
    )
    log.info("fitted the ranker: %s", fitted)
    return dataclasses.replace(
        draft,
        confidence_weights=decision.weights,
        confidence_bias=decision.bias,
        threshold=decision.threshold,
        confidence_layer=decision.layer,
        fitted=fitted,
    )


def fit_decision(
    matrix: np.ndarray, labels: np.ndarray, asked: Sequence[Asked]
) -> tuple[Decision, dict[str, object]]:
    """A confidence model of whether the first sentence is a hit (``labels``), and its threshold.

    ``matrix`` holds a row of facts for each of ``asked``. The threshold declines
    ``DECLINE_ELSEWHERE`` of the other sets' questions and at least ``DECLINE_UNANSWERABLE`` of
    the sets' own unanswerable ones. Also returns figures on those questions, for people.
    """
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0) + 1e-6
    inputs = matrix.shape[1]
    solution = minimise(
        network_objective((matrix - mean) / scale, labels, hidden=CONFIDENCE_UNITS),
        network_start(inputs, CONFIDENCE_UNITS),
        steps=CONFIDENCE_STEPS,
        rate=CONFIDENCE_RATE,
    )
    layer, layer_bias, output, skip, bias = unpack_network(solution, inputs, CONFIDENCE_UNITS)
    decision = Decision(
        weights=tuple(float(w) for w in skip),
        bias=bias,
        threshold=0.5,
        layer=ConfidenceLayer(
            mean=tuple(float(v) for v in mean),
            scale=tuple(float(v) for v in scale),
            weights=tuple(tuple(float(w) for w in row) for row in layer),
            bias=tuple(float(v) for v in layer_bias),
            output=tuple(float(v) for v in output),
        ),
    )
    confidence = decision.confidences(matrix)
    elsewhere = np.asarray([a.elsewhere for a in asked])
    unanswered = np.asarray([not a.answerable and not a.elsewhere for a in asked])
    answerable = ~unanswered & ~elsewhere
    bars = []
    if elsewhere.any():
        bars.append(float(np.quantile(confidence[elsewhere], DECLINE_ELSEWHERE)))
    if unanswered.any():
        bars.append(float(np.quantile(confidence[unanswered], DECLINE_UNANSWERABLE)))
    threshold = max(bars, default=0.5)
    answered_right = labels & (confidence >= threshold)
    fitted: dict[str, object] = {
        "questions": int(answerable.sum()),
        "unanswerable": int(unanswered.sum()),
        "elsewhere": int(elsewhere.sum()),
        "train_hit@1": round(float(labels[answerable].mean()), 4) if answerable.any() else 0.0,
        "train_hit@1_kept": round(float(answered_right[answerable].mean()), 4)
        if answerable.any()
        else 0.0,
        "train_declined_unanswerable": round(
            float((confidence[unanswered] < threshold).mean()) if unanswered.any() else 0.0, 4
        ),
        "train_declined_elsewhere": round(float((confidence[elsewhere] < threshold).mean()), 4)
        if elsewhere.any()
        else 0.0,
    }
    return dataclasses.replace(decision, threshold=threshold), fitted


def weigh_cross_encoder(ranker: Ranker, asked: Sequence[Asked], reader: CrossEncoder) -> Ranker:
    """``ranker`` with the cross-encoder's weight that puts the most hits of ``asked`` first.

    ``asked`` must be questions the cross-encoder was not fitted on: on its own lessons it looks
    better than it is. The ``CROSS_WEIGHTS`` value with the most hits wins (the middle one of a
    tie).
    """
    heads = []
    for item in asked:
        if not item.answerable or not item.found.rows:
            continue
        ordering = ranker.order(item.found.features)
        head = ordering.order[:RERANK_DEPTH]
        heads.append((ordering.scores[: len(head)], _read(reader, item, head), item.labels[head]))
    hits = np.asarray(
        [
            sum(bool(labels[np.argmax(scores + weight * cross)]) for scores, cross, labels in heads)
            for weight in CROSS_WEIGHTS
        ]
    )
    best = np.flatnonzero(hits == hits.max())
    weight = float(CROSS_WEIGHTS[int(best[len(best) // 2])])
    fitted = {
        **ranker.fitted,
        "cross_weight_questions": len(heads),
        "cross_weight_hit@1": round(float(hits.max()) / max(len(heads), 1), 4),
        "cross_weight_hit@1_without": round(float(hits[0]) / max(len(heads), 1), 4),
    }
    log.info("weighed the cross-encoder: %s", {"cross_weight": weight, **fitted})
    return dataclasses.replace(ranker, cross_weight=weight, fitted=fitted)


def decide_after_reading(ranker: Ranker, asked: Sequence[Asked], reader: CrossEncoder) -> Ranker:
    """``ranker`` with a decision made once the cross-encoder has read (``cross_decision``).

    ``asked`` must hold questions whose readings are honest: questions of passages the
    adapter never read, and other sets' questions (never its lessons).
    The label is whether the sentence the cross-encoder puts first is a hit; the threshold
    follows :func:`fit_decision`'s rule.
    """
    values, correct, kept = [], [], []
    for item in asked:
        if not item.found.rows:
            continue
        assert item.found.chunk_cosines is not None
        ranked = ranker.order(item.found.features)
        cross = _read(reader, item, ranked.order)
        reordered = ranker.reorder(ranked, cross)
        values.append(
            cross_confidence_values(
                ranked,
                reordered,
                cross,
                item.found.features,
                item.found.chunk_cosines,
                unknown=item.found.query.unknown,
            )
        )
        correct.append(bool(item.labels[reordered.order[0]]))
        kept.append(item)
    decision, figures = fit_decision(
        np.asarray(values, dtype=np.float64), np.asarray(correct), kept
    )
    fitted = {**ranker.fitted, **{f"after_reading_{k}": v for k, v in figures.items()}}
    log.info("fitted the decision after reading: %s", figures)
    return dataclasses.replace(ranker, cross_decision=decision, fitted=fitted)
