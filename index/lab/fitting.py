"""Fitting the ranker's linear models with numpy: a listwise ranking loss and a logistic one.

Both losses are convex in the weights and there are only a few dozen of them, so plain
full-batch gradient descent (Adam steps) converges in a few seconds on tens of thousands of
questions; no optimisation library is needed. The confidence model adds a small tanh layer
(:func:`network_objective`), no longer convex but small: it starts from fixed random weights,
so a fit repeats, though not to the last bit (two runs differed in the sixth decimal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def listwise_objective(
    matrices: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    *,
    l2: float = 1e-3,
    counts: Sequence[float] | None = None,
) -> Objective:
    """Softmax over each question's candidates: minus the log of the mass on correct ones.

    Questions with no correct candidate teach nothing about the order and are left out.
    ``counts``: how many times each question counts (default once each), as if repeated.
    """
    every = counts if counts is not None else [1.0] * len(labels)
    kept = [
        (m, y, c) for m, y, c in zip(matrices, labels, every, strict=True) if y.any() and len(y) > 1
    ]
    if not kept:
        raise ValueError("no question has a correct candidate to learn from")
    features = np.vstack([m for m, _, _ in kept]).astype(np.float64)
    correct = np.concatenate([y for _, y, _ in kept]).astype(np.float64)
    group = np.repeat(np.arange(len(kept)), [len(y) for _, y, _ in kept])
    starts = np.r_[0, np.cumsum([len(y) for _, y, _ in kept])[:-1]]
    count = len(kept)
    share = np.asarray([c for _, _, c in kept], dtype=np.float64)
    share /= share.sum()

    def objective(weights: np.ndarray) -> tuple[float, np.ndarray]:
        scores = features @ weights
        shifted = np.exp(scores - np.maximum.reduceat(scores, starts)[group])
        total = np.bincount(group, shifted, minlength=count)
        good = np.bincount(group, shifted * correct, minlength=count)
        value = -float(share @ np.log(good / total)) + l2 * float(weights @ weights)
        coefficient = (shifted * correct / good[group] - shifted / total[group]) * share[group]
        gradient = -(features.T @ coefficient) + 2 * l2 * weights
        return value, gradient

    return objective


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


def network_start(inputs: int, hidden: int, *, seed: int = 0) -> np.ndarray:
    """Fixed random starting weights for :func:`network_objective` (tanh units must differ)."""
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.normal(0.0, 1.0 / np.sqrt(inputs), inputs * hidden),
            np.zeros(hidden),
            rng.normal(0.0, 1.0 / np.sqrt(hidden), hidden),
            np.zeros(inputs + 1),
        ]
    )


def unpack_network(
    weights: np.ndarray, inputs: int, hidden: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(hidden weights ``inputs x hidden``, hidden bias, output, skip weights, bias)."""
    cut = np.cumsum([inputs * hidden, hidden, hidden, inputs])
    layer, layer_bias, output, skip, bias = np.split(weights, cut)
    return layer.reshape(inputs, hidden), layer_bias, output, skip, float(bias[0])


def network_objective(
    features: np.ndarray, labels: np.ndarray, *, hidden: int, l2: float = 1e-3
) -> Objective:
    """Mean log-loss of ``bias + x.skip + tanh(x W + c).output`` (x: standardised features).

    The weights are flat, in :func:`unpack_network` order; biases are not penalised.
    """
    inputs = features.shape[1]
    x = features.astype(np.float64)
    target = labels.astype(np.float64)
    count = max(len(target), 1)

    def objective(weights: np.ndarray) -> tuple[float, np.ndarray]:
        layer, layer_bias, output, skip, bias = unpack_network(weights, inputs, hidden)
        units = np.tanh(x @ layer + layer_bias)
        z = np.clip(units @ output + x @ skip + bias, -50, 50)
        probability = 1.0 / (1.0 + np.exp(-z))
        value = -float(
            np.mean(
                target * np.log(probability + 1e-12)
                + (1 - target) * np.log(1 - probability + 1e-12)
            )
        )
        error = (probability - target) / count
        back = np.outer(error, output) * (1 - units**2)
        penalised = (layer, output, skip)
        value += l2 * float(sum(np.sum(w**2) for w in penalised))
        gradient = np.concatenate(
            [
                (x.T @ back + 2 * l2 * layer).ravel(),
                back.sum(axis=0),
                units.T @ error + 2 * l2 * output,
                x.T @ error + 2 * l2 * skip,
                [error.sum()],
            ]
        )
        return value, gradient

    return objective
