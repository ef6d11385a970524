"""A fit's state on disk: a fit longer than one sitting goes on where it stopped.

:meth:`index.encoders.crossencoder.CrossEncoder.fit` writes its trainable weights, its
optimiser and the steps done to a file now and then; run again with the same questions and
settings (:func:`fit_key`), it reads them back and ends as one run would have.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from index.encoders.weights import E5Error

if TYPE_CHECKING:
    from index.encoders.network import Network

log = logging.getLogger(__name__)

#: How often a fit with a checkpoint file writes its state there.
CHECKPOINT_SECONDS = 300.0


class CheckpointError(E5Error):
    """The checkpoint file cannot be read."""


class Checkpoint:
    """A fit's state in a file: written now and then, read back by the same fit run again."""

    def __init__(self, path: Path | None, *, key: str, every: float) -> None:
        self.path, self.key, self.every = path, key, every
        self._written = time.monotonic()

    def resume(
        self, network: Network, optimiser: torch.optim.Optimizer, steps: int, running: float
    ) -> tuple[int, float]:
        """Steps already done and the running loss: the file's, if it holds this fit."""
        if self.path is None or not self.path.is_file():
            return 0, running
        try:
            state = torch.load(self.path, weights_only=True)
            if state.get("key") != self.key:
                log.warning(
                    "%s holds a fit of other questions or settings: starting again", self.path
                )
                return 0, running
            network.load_state_dict(state["network"], strict=False)
            optimiser.load_state_dict(state["optimiser"])
        except (
            OSError,
            RuntimeError,
            KeyError,
            ValueError,
            AttributeError,
            pickle.UnpicklingError,
        ) as error:
            raise CheckpointError(
                f"cannot read the fit's checkpoint {self.path}: {error}; delete it to start again"
            ) from error
        done = int(state["step"])
        log.info("going on from %s: %d of %d steps done", self.path, done, steps)
        return done, float(state["running"])

    def step(
        self,
        network: Network,
        optimiser: torch.optim.Optimizer,
        step: int,
        steps: int,
        running: float,
    ) -> None:
        """Write the state after ``step`` when it is time, and after the last step."""
        if self.path is None:
            return
        if step < steps and time.monotonic() - self._written < self.every:
            return
        trained = {
            name: tensor.detach().clone()
            for name, tensor in network.state_dict(keep_vars=True).items()
            if tensor.requires_grad
        }
        state = {
            "key": self.key,
            "step": step,
            "running": running,
            "network": trained,
            "optimiser": optimiser.state_dict(),
        }
        partial = self.path.with_name(self.path.name + ".partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, partial)
        os.replace(partial, self.path)
        self._written = time.monotonic()


def fit_key(
    model: str,
    lessons: Sequence[tuple[object, ...]],
    seed: int,
    epochs: float,
    rate: float,
    head_rate: float,
    context: bool,
    below: str = "",
) -> str:
    """What a checkpoint must have been made with to be gone on from: model, questions, settings.

    ``lessons``: each lesson's question, sentences and which are correct, in the fit's order.
    ``below``: a digest of the adapter a fit on top of one starts from.
    """
    settings: tuple[object, ...] = (model, seed, epochs, rate, head_rate)
    if below:
        settings = (*settings, below)
    digest = hashlib.sha256(repr((*settings, "context") if context else settings).encode())
    for lesson in lessons:
        digest.update(repr(lesson).encode())
    return digest.hexdigest()
