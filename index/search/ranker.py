"""The learned ranking: how sentence features add up, and when the best sentence is trusted.

Up to four steps, fitted on train questions by ``python -m index tune`` and kept in
``index/search/ranker.json`` (read once, when a Searcher is made):

1. **ranking**: a weight per column of ``features.FEATURES``; every candidate sentence gets
   the weighted sum;
2. **confidence**: a logistic model over ``CONFIDENCE_FEATURES`` of the best sentence, with a
   small tanh layer beside the linear part (``ConfidenceLayer``); below ``threshold`` the bot
   says the articles do not answer;
3. **reading again**, with ``TANYA_CROSS_ENCODER`` (on by default; ``index/search/ranker-cross.json``:
   the same weights and ``cross_weight``): the cross-encoder (``index/encoders/crossencoder.py``)
   scores the best few sentences (``TANYA_CROSS_ENCODER_DEPTH``, at most ``RERANK_DEPTH``)
   together with the question, and those are ordered by ranking score + ``cross_weight`` x its
   score;
4. **deciding after reading** (``cross_decision`` in ``ranker-cross.json``): a second
   confidence model over ``CROSS_CONFIDENCE_FEATURES``, the facts of the sentence now first
   and what the cross-encoder made of it, replaces step 2's call for a question that was read.
   It is fitted on questions whose cross-encoder scores are honest: questions of passages
   the cross-encoder's adapter never read, and questions asked where nothing answers them
   (never a lesson of the adapter). A question that skipped the reading (it waited too long)
   keeps step 2's call.

Nothing is embedded at question time but the question: re-ranking the best few sentences by
their own embedding cost more time than it gained (see the dated page in docs/experiments/).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.search.features import FEATURES

RANKER_FILE = Path(__file__).with_name("ranker.json")
#: The weights when the cross-encoder reads the best sentences again.
CROSS_RANKER_FILE = Path(__file__).with_name("ranker-cross.json")
#: The most of the ranking's best sentences the cross-encoder reads again: ``tune`` fits its
#: weight and the decision after reading on this many; the bot may read fewer.
RERANK_DEPTH = 8

#: Ranking features of the best sentence that the confidence also reads, as they are (see
#: ``features.BASE_FEATURES``).
_PLAIN = ("dense_top", "names", "lexical", "phrase", "lead_context")
#: What the confidence of an answer is judged on: facts about the question's best sentence.
CONFIDENCE_FEATURES = (
    "score",  # its ranking score
    "margin",  # its score minus the second best's
    "coverage",  # idf-weighted share of the question's words it has
    "context",  # the same share for its chunk
    "missing",  # idf of the rarest question word its chunk lacks, over the rarest possible
    "unknown",  # idf-weighted share of the question's words that no article has
    # cosine of the question with its chunk, minus the mean over the retrieved chunks: a
    # contrast, so a model whose cosines run higher or lower overall reads the same
    "chunk_contrast",
    "kind",  # it holds the kind of answer the question word asks for (1 when none is asked)
    *_PLAIN,
)


#: What the decision after reading (step 4) is judged on: the same facts of the sentence the
#: cross-encoder put first (score and margin are then of the combined score), and its reading.
CROSS_CONFIDENCE_FEATURES = (
    *CONFIDENCE_FEATURES,
    "cross",  # the cross-encoder's score of the first sentence
    "cross_margin",  # that minus the best score of the other sentences it read
    "cross_moved",  # 1 when the first sentence is not the ranking's first
)


@dataclass(frozen=True, slots=True)
class Ordering:
    """Candidate rows best first, with their scores."""

    order: np.ndarray  # row positions, best first
    scores: np.ndarray  # score of each row in ``order`` (decreasing)


@dataclass(frozen=True, slots=True)
class ConfidenceLayer:
    """The confidence model's tanh units, on standardised ``CONFIDENCE_FEATURES`` values."""

    mean: tuple[float, ...]  # subtracted from each value ...
    scale: tuple[float, ...]  # ... which is then divided by this
    weights: tuple[tuple[float, ...], ...]  # one row per value, one column per unit
    bias: tuple[float, ...]  # one per unit
    output: tuple[float, ...]  # what each unit adds to the logit

    def standardise(self, values: np.ndarray) -> np.ndarray:
        """Values minus ``mean``, over ``scale``."""
        return (values - np.asarray(self.mean)) / np.asarray(self.scale)

    def logit(self, standardised: np.ndarray) -> np.ndarray:
        """What the units add to the logit of each row."""
        units = np.tanh(standardised @ np.asarray(self.weights) + np.asarray(self.bias))
        return units @ np.asarray(self.output)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready data."""
        return {
            "mean": [round(v, 6) for v in self.mean],
            "scale": [round(v, 6) for v in self.scale],
            "weights": [[round(v, 6) for v in row] for row in self.weights],
            "bias": [round(v, 6) for v in self.bias],
            "output": [round(v, 6) for v in self.output],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConfidenceLayer:
        """Read :meth:`as_dict` data."""
        return cls(
            mean=tuple(map(float, data["mean"])),
            scale=tuple(map(float, data["scale"])),
            weights=tuple(tuple(map(float, row)) for row in data["weights"]),
            bias=tuple(map(float, data["bias"])),
            output=tuple(map(float, data["output"])),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to answer: a logistic model with an optional tanh layer over a row of facts.

    ``weights`` apply to the values as they are, or standardised by ``layer`` when there is
    one; a confidence below ``threshold`` declines.
    """

    weights: tuple[float, ...]
    bias: float
    threshold: float
    layer: ConfidenceLayer | None = None

    def confidences(self, matrix: np.ndarray) -> np.ndarray:
        """Probability-like confidence of each row."""
        x = np.asarray(matrix, dtype=np.float64)
        if self.layer is not None:
            x = self.layer.standardise(x)
        z = self.bias + x @ np.asarray(self.weights, dtype=np.float64)
        if self.layer is not None:
            z = z + self.layer.logit(x)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    def confident(self, values: Sequence[float]) -> bool:
        """Whether one row's confidence reaches the threshold."""
        return bool(self.confidences(np.asarray([values]))[0] >= self.threshold)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready data."""
        return {
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "threshold": round(self.threshold, 6),
            "layer": self.layer.as_dict() if self.layer else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        """Read :meth:`as_dict` data."""
        return cls(
            weights=tuple(map(float, data["weights"])),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            layer=ConfidenceLayer.from_dict(data["layer"]) if data.get("layer") else None,
        )


class RankerFileError(RuntimeError):
    """The ranker file is missing, unreadable, or was fitted for other features."""


@dataclass(frozen=True, slots=True)
class Ranker:
    """Fitted weights of the two models (see the module docstring)."""

    weights: tuple[float, ...]
    confidence_weights: tuple[float, ...]
    confidence_bias: float
    threshold: float
    fitted: dict[str, object] = field(default_factory=dict)  # what it was fitted on, for people
    # With a layer, ``confidence_weights`` apply to the standardised values as well.
    confidence_layer: ConfidenceLayer | None = None
    # Step 3: what a cross-encoder score point is worth; None: no step 3.
    cross_weight: float | None = None
    # Step 4: whether to answer once the cross-encoder has read; None: step 2 decides.
    cross_decision: Decision | None = None

    def reorder(self, ordering: Ordering, cross: np.ndarray) -> Ordering:
        """Step 3: the first ``len(cross)`` rows of ``ordering`` by score + cross-encoder score.

        ``cross`` holds the cross-encoder scores of those rows, in ``ordering``'s order. The
        other rows stay after them, in their order.
        """
        head = len(cross)
        if head == 0:
            return ordering
        combined = ordering.scores[:head] + (self.cross_weight or 0.0) * cross
        inner = np.argsort(-combined, kind="stable")
        # The rows not read again keep their distances, below the lowest row read again.
        rest = ordering.scores[head:] - ordering.scores[head - 1] + combined.min()
        return Ordering(
            order=np.concatenate([ordering.order[:head][inner], ordering.order[head:]]),
            scores=np.concatenate([combined[inner], rest]),
        )

    def score(self, features: np.ndarray) -> np.ndarray:
        """Step 1: a score per row of ``FEATURES``."""
        return features @ np.asarray(self.weights, dtype=np.float32)

    def order(self, features: np.ndarray) -> Ordering:
        """Rank candidate rows (one row of ``FEATURES`` each), best first."""
        scores = self.score(features)
        order = np.argsort(-scores, kind="stable")
        return Ordering(order=order, scores=scores[order])

    def confidence(self, values: Sequence[float]) -> float:
        """Step 2: probability-like confidence from ``CONFIDENCE_FEATURES`` values."""
        return float(self.confidences(np.asarray([values], dtype=np.float64))[0])

    def confidences(self, matrix: np.ndarray) -> np.ndarray:
        """:meth:`confidence` of each row of ``CONFIDENCE_FEATURES`` values."""
        return self.decision.confidences(matrix)

    @property
    def decision(self) -> Decision:
        """Step 2 as a :class:`Decision`."""
        return Decision(
            weights=self.confidence_weights,
            bias=self.confidence_bias,
            threshold=self.threshold,
            layer=self.confidence_layer,
        )

    def confident_after_reading(
        self,
        ranked: Ordering,
        reordered: Ordering,
        cross: np.ndarray,
        features: np.ndarray,
        chunk_cosines: np.ndarray,
        *,
        unknown: float,
    ) -> bool:
        """Step 4 (step 2 when there is none): whether to answer once ``cross`` was read.

        ``ranked`` is step 1's ordering, ``reordered`` step 3's from ``cross`` (the scores
        of ``ranked``'s first ``len(cross)`` rows); the rest as for :func:`confidence_values`.
        """
        if self.cross_decision is None:
            values = confidence_values(ranked, features, chunk_cosines, unknown=unknown)
            return self.decision.confident(values)
        values = cross_confidence_values(
            ranked, reordered, cross, features, chunk_cosines, unknown=unknown
        )
        return self.cross_decision.confident(values)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready data, with the feature names so a file can be checked on load."""
        return {
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "confidence_features": list(CONFIDENCE_FEATURES),
            "confidence_weights": [round(w, 6) for w in self.confidence_weights],
            "confidence_bias": round(self.confidence_bias, 6),
            "threshold": round(self.threshold, 6),
            **(
                {"rerank_depth": RERANK_DEPTH, "cross_weight": round(self.cross_weight, 6)}
                if self.cross_weight is not None
                else {}
            ),
            "confidence_layer": self.confidence_layer.as_dict() if self.confidence_layer else None,
            **(
                {
                    "cross_confidence_features": list(CROSS_CONFIDENCE_FEATURES),
                    "cross_decision": self.cross_decision.as_dict(),
                }
                if self.cross_decision is not None
                else {}
            ),
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
        reads_again = data.get("cross_weight") is not None
        expected: dict[str, object] = {
            "features": list(FEATURES),
            "confidence_features": list(CONFIDENCE_FEATURES),
        }
        if reads_again:
            expected["rerank_depth"] = RERANK_DEPTH
        decides_after = data.get("cross_decision") is not None
        if decides_after:
            expected["cross_confidence_features"] = list(CROSS_CONFIDENCE_FEATURES)
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
            confidence_layer=ConfidenceLayer.from_dict(data["confidence_layer"])
            if data.get("confidence_layer")
            else None,
            cross_weight=float(data["cross_weight"]) if reads_again else None,
            cross_decision=Decision.from_dict(data["cross_decision"]) if decides_after else None,
        )


def confidence_values(
    ordering: Ordering, features: np.ndarray, chunk_cosines: np.ndarray, *, unknown: float
) -> list[float]:
    """``CONFIDENCE_FEATURES`` of the best row of ``ordering``.

    Args:
        ordering: the ranked rows (before :meth:`Ranker.reorder`).
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
        float(chunk_cosines[best]) - float(np.unique(chunk_cosines).mean()),
        1.0 - float(features[best, column("no_kind")]),
        *(float(features[best, column(name)]) for name in _PLAIN),
    ]


def cross_confidence_values(
    ranked: Ordering,
    reordered: Ordering,
    cross: np.ndarray,
    features: np.ndarray,
    chunk_cosines: np.ndarray,
    *,
    unknown: float,
) -> list[float]:
    """``CROSS_CONFIDENCE_FEATURES`` of the first row of ``reordered``.

    Args:
        ranked: step 1's ordering.
        reordered: step 3's, :meth:`Ranker.reorder` of ``ranked`` with ``cross``.
        cross: the cross-encoder's scores of ``ranked``'s first ``len(cross)`` rows.
        features: one row of ``FEATURES`` per candidate (in candidate order).
        chunk_cosines: cosine of the question with each candidate's chunk (candidate order).
        unknown: idf-weighted share of the question's words that no article has.
    """
    first = int(reordered.order[0])
    read = [int(row) for row in ranked.order[: len(cross)]]
    mine = float(cross[read.index(first)])
    others = [float(score) for row, score in zip(read, cross, strict=True) if row != first]
    return [
        *confidence_values(reordered, features, chunk_cosines, unknown=unknown),
        mine,
        mine - max(others, default=mine - 1.0),
        float(first != int(ranked.order[0])),
    ]


@lru_cache(maxsize=2)
def default_ranker(*, cross_encoder: bool = False) -> Ranker:
    """The shipped weights (read once): ``index/search/ranker.json``, or ``ranker-cross.json``."""
    return Ranker.load(CROSS_RANKER_FILE if cross_encoder else RANKER_FILE)
