"""The learned ranking: how sentence features add up, and when the best sentence is trusted.

Two small linear models, fitted on train questions by ``python -m index tune`` and kept in
``index/ranker.json`` (read once, when a Searcher is made):

1. **ranking**: a weight per column of ``features.FEATURES``; every candidate sentence gets
   the weighted sum;
2. **confidence**: a logistic model over ``CONFIDENCE_FEATURES`` of the best sentence; below
   ``threshold`` the bot says the articles do not answer.

Nothing is embedded at question time but the question: a step that re-ranked the best few
sentences by their own embedding cost 100+ ms a question and moved dev hit@1 by under a point.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.features import FEATURES

RANKER_FILE = Path(__file__).with_name("ranker.json")

#: What the confidence of an answer is judged on: facts about the question's best sentence.
CONFIDENCE_FEATURES = (
    "score",  # its ranking score
    "margin",  # its score minus the second best's
    "coverage",  # idf-weighted share of the question's words it has
    "context",  # the same share for its chunk
    "missing",  # idf of the rarest question word its chunk lacks, over the rarest possible
    "unknown",  # idf-weighted share of the question's words that no article has
    "chunk_cosine",  # cosine of the question with its chunk
    "kind",  # it holds the kind of answer the question word asks for (1 when none is asked)
)


@dataclass(frozen=True, slots=True)
class Ordering:
    """Candidate rows best first, with their scores."""

    order: np.ndarray  # row positions, best first
    scores: np.ndarray  # score of each row in ``order`` (decreasing)


class RankerFileError(RuntimeError):
    """The ranker file is missing, unreadable, or was fitted for other features."""


@dataclass(frozen=True, slots=True)
class Ranker:
    """Fitted weights of the three steps (see the module docstring)."""

    weights: tuple[float, ...]
    confidence_weights: tuple[float, ...]
    confidence_bias: float
    threshold: float
    fitted: dict[str, object] = field(default_factory=dict)  # what it was fitted on, for people

    def score(self, features: np.ndarray) -> np.ndarray:
        """Step 1: a score per row of ``FEATURES``."""
        return features @ np.asarray(self.weights, dtype=np.float32)

    def order(self, features: np.ndarray) -> Ordering:
        """Rank candidate rows (one row of ``FEATURES`` each), best first."""
        scores = self.score(features)
        order = np.argsort(-scores, kind="stable")
        return Ordering(order=order, scores=scores[order])

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
            confidence_weights=tuple(data["confidence_weights"]),
            confidence_bias=float(data["confidence_bias"]),
            threshold=float(data["threshold"]),
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
        1.0 - float(features[best, column("no_kind")]),
    ]
