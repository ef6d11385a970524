"""Fitting the ranker with numpy: a listwise ranking loss and a logistic one.

There are only a few hundred weights, so plain full-batch gradient descent (Adam steps) fits
them in a minute or two on tens of thousands of candidate rows; no optimisation library is
needed. The linear losses are convex; the ranking network (a linear part plus one small tanh
layer) is not, so it starts from a fixed seed and every fit gives the same weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def minimise(
    objective: Objective, start: np.ndarray, *, steps: int = 1500, rate: float = 0.05
) -> np.ndarray:
    """Weights that minimise a smooth ``objective`` (value, gradient), by Adam steps."""
    weights = start.astype(np.float64).copy()
    first = np.zeros_like(weights)
    second = np.zeros_like(weights)
    beta1, beta2 = 0.9, 0.999
    for step in range(1, steps + 1):
        _, gradient = objective(weights)
        first = beta1 * first + (1 - beta1) * gradient
        second = beta2 * second + (1 - beta2) * gradient**2
        corrected = first / (1 - beta1**step)
        scale = np.sqrt(second / (1 - beta2**step)) + 1e-8
        weights -= rate * corrected / scale
    return weights


@dataclass(frozen=True, slots=True)
class Network:
    """A ranking score over raw feature rows: ``F @ linear + tanh(F @ hidden + bias) @ output``."""

    linear: np.ndarray  # (features,)
    hidden: np.ndarray  # (features, units)
    bias: np.ndarray  # (units,)
    output: np.ndarray  # (units,)

    def score(self, features: np.ndarray) -> np.ndarray:
        """One score per row of ``features``."""
        inner = np.tanh(features @ self.hidden + self.bias)
        return features @ self.linear + inner @ self.output


def fit_network(
    matrices: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    *,
    units: int = 8,
    l2: float = 1e-3,
    steps: int = 1500,
    seed: int = 0,
) -> Network:
    """A :class:`Network` fitted with the listwise loss of :func:`network_objective`.

    The hidden units let features combine (the kind of answer a sentence holds matters more
    when it covers the question, say), which one weight per feature cannot express. Features
    are standardised while fitting, and the weights are folded back to raw features.
    """
    matrices, labels = _learnable(matrices, labels)
    stacked = np.vstack(matrices).astype(np.float64)
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0) + 1e-6
    objective = network_objective(
        [(m - mean) / scale for m in matrices], labels, units=units, l2=l2
    )
    width = stacked.shape[1]
    rng = np.random.default_rng(seed)
    start = np.concatenate(
        [
            np.zeros(width),
            rng.normal(0.0, 1.0 / np.sqrt(width), width * units),
            np.zeros(units),
            rng.normal(0.0, 1.0 / np.sqrt(max(units, 1)), units),
        ]
    )
    fitted = _unpack(minimise(objective, start, steps=steps, rate=0.01), width, units)
    # (F - mean) / scale @ W = F @ (W / scale) - (mean / scale) @ W
    hidden = fitted.hidden / scale[:, None]
    return Network(
        linear=fitted.linear / scale,
        hidden=hidden,
        bias=fitted.bias - mean @ hidden,
        output=fitted.output,
    )


def network_objective(
    matrices: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    *,
    units: int,
    l2: float = 1e-3,
) -> Objective:
    """Softmax over each question's candidates: minus the log of the mass on correct ones.

    The scores are a :class:`Network`'s (``units=0``: a linear score), its weights packed in
    one vector: linear (F), hidden (F × units, row-major), bias (units), output (units).
    """
    features, correct, group, starts = _stack(*_learnable(matrices, labels))
    count = len(starts)
    width = features.shape[1]

    def objective(packed: np.ndarray) -> tuple[float, np.ndarray]:
        net = _unpack(packed, width, units)
        inner = np.tanh(features @ net.hidden + net.bias)
        scores = features @ net.linear + inner @ net.output
        shifted = np.exp(scores - np.maximum.reduceat(scores, starts)[group])
        total = np.bincount(group, shifted, minlength=count)
        good = np.bincount(group, shifted * correct, minlength=count)
        value = -float(np.mean(np.log(good / total))) + l2 * float(packed @ packed)
        coefficient = -(shifted * correct / good[group] - shifted / total[group]) / count
        through = np.outer(coefficient, net.output) * (1.0 - inner**2)
        gradient = np.concatenate(
            [
                features.T @ coefficient,
                (features.T @ through).ravel(),
                through.sum(axis=0),
                inner.T @ coefficient,
            ]
        )
        return value, gradient + 2 * l2 * packed

    return objective


def _unpack(packed: np.ndarray, width: int, units: int) -> Network:
    cut = np.cumsum([width, width * units, units])
    linear, hidden, bias, output = np.split(packed, cut)
    return Network(linear, hidden.reshape(width, units), bias, output)


def _learnable(
    matrices: Sequence[np.ndarray], labels: Sequence[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The questions with a correct candidate among several: the only ones that teach order."""
    kept = [(m, y) for m, y in zip(matrices, labels, strict=True) if y.any() and len(y) > 1]
    if not kept:
        raise ValueError("no question has a correct candidate to learn from")
    return [m for m, _ in kept], [y for _, y in kept]


def _stack(
    matrices: Sequence[np.ndarray], labels: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All rows in one matrix, their labels, each row's question and each question's first row."""
    features = np.vstack(matrices).astype(np.float64)
    correct = np.concatenate(labels).astype(np.float64)
    group = np.repeat(np.arange(len(labels)), [len(y) for y in labels])
    starts = np.r_[0, np.cumsum([len(y) for y in labels])[:-1]]
    return features, correct, group, starts


def logistic_objective(
    features: np.ndarray, labels: np.ndarray, *, l2: float = 1e-3, balance: bool = True
) -> Objective:
    """Mean log-loss of a logistic model; the last weight is the bias (not penalised).

    ``balance`` weighs both classes equally, whatever their counts.
    """
    matrix = np.column_stack([features, np.ones(len(features))]).astype(np.float64)
    target = labels.astype(np.float64)
    positives = max(float(target.sum()), 1.0)
    negatives = max(float(len(target) - target.sum()), 1.0)
    if balance:
        sample = np.where(target > 0, 0.5 / positives, 0.5 / negatives)
    else:
        sample = np.full(len(target), 1.0 / max(len(target), 1))
    penalty = np.ones(matrix.shape[1])
    penalty[-1] = 0.0

    def objective(weights: np.ndarray) -> tuple[float, np.ndarray]:
        z = np.clip(matrix @ weights, -50, 50)
        probability = 1.0 / (1.0 + np.exp(-z))
        value = -float(
            np.sum(
                sample
                * (
                    target * np.log(probability + 1e-12)
                    + (1 - target) * np.log(1 - probability + 1e-12)
                )
            )
        )
        gradient = matrix.T @ (sample * (probability - target))
        value += l2 * float(np.sum(penalty * weights**2))
        return value, gradient + 2 * l2 * penalty * weights

    return objective
