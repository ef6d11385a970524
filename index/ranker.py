"""The learned ranking: how sentence features add up, and when the best sentence is trusted.

Three small linear models, fitted on train questions by ``python -m index tune`` and kept in
``index/ranker.json`` (read once, when a Searcher is made):

1. **ranking**: a weight per column of ``features.FEATURES``; every candidate sentence gets
   the weighted sum, and the best ``rerank_top`` go on to step 2;
2. **re-ranking**: the same columns plus the cosine of the question with the sentence itself
   (embedded at question time: only a few sentences, so it stays fast), for those best few;
3. **confidence**: a logistic model over ``CONFIDENCE_FEATURES`` of the best sentence; below
   ``threshold`` the bot says the articles do not answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.features import FEATURES

RANKER_FILE = Path(__file__).with_name("ranker.json")

#: What step 2 adds to ``FEATURES``.
RERANK_FEATURES = (
    "sentence_dense",  # cosine of the question with the sentence, minus the best of the few
)

#: What the confidence of an answer is judged on: facts about the question's best sentence.
CONFIDENCE_FEATURES = (
    "score",  # its re-ranking score
    "margin",  # its score minus the second best's
    "coverage",  # idf-weighted share of the question's words it has
    "context",  # the same share for its chunk
    "missing",  # idf of the rarest question word its chunk lacks, over the rarest possible
    "unknown",  # idf-weighted share of the question's words that no article has
    "chunk_cosine",  # cosine of the question with its chunk
    "sentence_cosine",  # cosine of the question with the sentence
    "kind",  # it holds the kind of answer the question word asks for (1 when none is asked)
)


@dataclass(frozen=True, slots=True)
class Ordering:
    """Candidate rows best first, with the scores shown for them and what step 2 measured."""

    order: np.ndarray  # row positions, best first
    scores: np.ndarray  # score of each row in ``order`` (decreasing)
    sentence_cosines: np.ndarray  # cosine of the question with each of the first rows


class RankerFileError(RuntimeError):
    """The ranker file is missing, unreadable, or was fitted for other features."""


@dataclass(frozen=True, slots=True)
class Ranker:
    """Fitted weights of the three steps (see the module docstring)."""

    weights: tuple[float, ...]
    rerank_weights: tuple[float, ...]
    confidence_weights: tuple[float, ...]
    confidence_bias: float
    threshold: float
    rerank_top: int = 8
    fitted: dict[str, object] = field(default_factory=dict)  # what it was fitted on, for people

    def score(self, features: np.ndarray) -> np.ndarray:
        """Step 1: a score per row of ``FEATURES``."""
        return features @ np.asarray(self.weights, dtype=np.float32)

    def rescore(self, features: np.ndarray, sentence_cosines: np.ndarray) -> np.ndarray:
        """Step 2: a score per row of ``FEATURES`` given each sentence's own cosine."""
        relative = sentence_cosines - float(np.max(sentence_cosines, initial=0.0))
        matrix = np.column_stack([features, relative]).astype(np.float32)
        return matrix @ np.asarray(self.rerank_weights, dtype=np.float32)

    def order(
        self, features: np.ndarray, sentence_cosines: Callable[[np.ndarray], np.ndarray]
    ) -> Ordering:
        """Rank candidate rows: step 1 for all, then step 2 for the best ``rerank_top``.

        Args:
            features: one row of ``FEATURES`` per candidate.
            sentence_cosines: given row positions, the cosine of the question with each row's
                sentence (the caller embeds just those sentences).
        """
        first = self.score(features)
        order = np.argsort(-first, kind="stable")
        head = order[: self.rerank_top]
        cosines = np.asarray(sentence_cosines(head), dtype=np.float32)
        second = self.rescore(features[head], cosines)
        resorted = np.argsort(-second, kind="stable")
        head_scores = second[resorted]
        tail = order[len(head) :]
        # Below the re-ranked head, keep step 1's order, with scores that stay below the head's.
        tail_scores = (
            first[tail] - first[tail[0]] + float(head_scores[-1]) - 1.0
            if len(tail)
            else np.zeros(0, dtype=np.float32)
        )
        return Ordering(
            order=np.concatenate([head[resorted], tail]),
            scores=np.concatenate([head_scores, tail_scores]).astype(np.float32),
            sentence_cosines=cosines[resorted],
        )

    def confidence(self, values: Sequence[float]) -> float:
        """Step 3: probability-like confidence from ``CONFIDENCE_FEATURES`` values."""
        z = self.confidence_bias + float(
            np.dot(np.asarray(values, dtype=np.float64), self.confidence_weights)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def as_dict(self) -> dict[str, object]:
        """JSON-ready data, with the feature names so a file can be checked on load."""
        return {
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "rerank_top": self.rerank_top,
            "rerank_features": [*FEATURES, *RERANK_FEATURES],
            "rerank_weights": [round(w, 6) for w in self.rerank_weights],
            "confidence_features": list(CONFIDENCE_FEATURES),
            "confidence_weights": [round(w, 6) for w in self.confidence_weights],
            "confidence_bias": round(self.confidence_bias, 6),
            "threshold": round(self.threshold, 6),
            "fitted": self.fitted,
        }

    def save(self, path: Path = RANKER_FILE) -> None:
        """Write the weights as JSON."""
        path.write_text(json.dumps(self.as_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> Ranker:
        """Read weights written by :meth:`save`.

        Raises:
            RankerFileError: If the file is missing or names other features than this code has.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise RankerFileError(
                f"cannot read the ranker weights {path}: {error}; "
                "run `python -m index tune` to fit them"
            ) from error
        expected = {
            "features": list(FEATURES),
            "rerank_features": [*FEATURES, *RERANK_FEATURES],
            "confidence_features": list(CONFIDENCE_FEATURES),
        }
        for key, names in expected.items():
            if data.get(key) != names:
                raise RankerFileError(
                    f"{path} was fitted for other {key} than this code computes: "
                    "run `python -m index tune` to fit it again"
                )
        return cls(
            weights=tuple(data["weights"]),
            rerank_weights=tuple(data["rerank_weights"]),
            confidence_weights=tuple(data["confidence_weights"]),
            confidence_bias=float(data["confidence_bias"]),
            threshold=float(data["threshold"]),
            rerank_top=int(data["rerank_top"]),
            fitted=dict(data.get("fitted") or {}),
        )


def confidence_values(
    ordering: Ordering, features: np.ndarray, chunk_cosines: np.ndarray, *, unknown: float
) -> list[float]:
    """``CONFIDENCE_FEATURES`` of the best row of ``ordering``.

    Args:
        ordering: the ranked rows.
        features: one row of ``FEATURES`` per candidate (in candidate order).
        chunk_cosines: cosine of the question with each candidate's chunk (candidate order).
        unknown: idf-weighted share of the question's words that no article has.
    """
    best = int(ordering.order[0])
    scores = ordering.scores
    second = float(scores[1]) if len(scores) > 1 else float(scores[0]) - 1.0
    column = FEATURES.index
    return [
        float(scores[0]),
        float(scores[0]) - second,
        float(features[best, column("coverage")]),
        float(features[best, column("context")]),
        float(features[best, column("missing")]),
        unknown,
        float(chunk_cosines[best]),
        float(ordering.sentence_cosines[0]) if len(ordering.sentence_cosines) else 0.0,
        1.0 - float(features[best, column("no_kind")]),
    ]
