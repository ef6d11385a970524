"""The FAISS index of chunk vectors, and the record of which model built it."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

# A search is one question against the flat index, and questions asked together already run in
# threads of their own: FAISS's own OpenMP threads only fight them and the model's for the
# cores (81,650 vectors on 2 cores: 8.7 ms a search with one thread, 14 ms with two). OpenMP's
# thread count belongs to the calling thread, and FAISS shares torch's OpenMP runtime when torch
# is loaded first: a search sets it to one for itself and puts it back, so that it holds in the
# bot's worker threads and the model keeps every core (set once at import instead, it would hold
# only in the importing thread and leave torch one core there).
SEARCH_THREADS = 1

INDEX_FILE = "chunks.faiss"
META_FILE = "chunks.json"


class IndexMismatchError(RuntimeError):
    """The stored index was built with another embedding model than the settings name."""


class ReadOnlyIndexError(RuntimeError):
    """A write to an index that serves from its memory-mapped file."""


@dataclass(frozen=True, slots=True)
class VectorMeta:
    """What built the vectors: recorded beside the index and checked on load."""

    model: str
    dim: int
    count: int
    kind: str
    built_at: str


class VectorIndex:
    """Inner-product search over L2-normalised chunk vectors, keyed by chunk id."""

    def __init__(self, index: faiss.Index, *, model: str, read_only: bool = False) -> None:
        self._index = index
        self.model = model
        # A memory-mapped index is a view of the file: FAISS aborts the process on a write.
        self.read_only = read_only

    @classmethod
    def empty(cls, *, dim: int, model: str) -> VectorIndex:
        """A new exact (flat) index; ids are given by the caller (the database's chunk ids)."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), model=model)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given ids."""
        self._check_writable()
        if len(ids):
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )

    def remove(self, ids: np.ndarray) -> None:
        """Remove the vectors with these ids (unknown ids are ignored)."""
        self._check_writable()
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyIndexError("a memory-mapped index is read-only: load it with mmap=False")

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and cosine scores of the ``k`` nearest chunks, best first."""
        if len(self) == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = query.reshape(1, -1).astype(np.float32)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(SEARCH_THREADS)
        try:
            scores, ids = self._index.search(query, min(k, len(self)))
        finally:
            faiss.omp_set_num_threads(threads)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def similarity(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Cosine of the query with each of the given (stored) chunks."""
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        return self.vectors(ids) @ query.reshape(-1).astype(np.float32)

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of the given chunk ids, one row each."""
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._index.reconstruct(int(i)) for i in ids])

    def save(self, folder: Path) -> None:
        """Write the index and its meta record aside, then rename both into place."""
        folder.mkdir(parents=True, exist_ok=True)
        meta = VectorMeta(
            model=self.model,
            dim=self.dim,
            count=len(self),
            kind="flat",
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        temporary = folder / (INDEX_FILE + ".tmp")
        faiss.write_index(self._index, str(temporary))
        os.replace(temporary, folder / INDEX_FILE)
        meta_tmp = folder / (META_FILE + ".tmp")
        meta_tmp.write_text(json.dumps(asdict(meta), indent=2), encoding="utf-8")
        os.replace(meta_tmp, folder / META_FILE)

    @staticmethod
    def exists(folder: Path) -> bool:
        """Whether an index has been saved in ``folder``."""
        return (folder / INDEX_FILE).is_file() and (folder / META_FILE).is_file()

    @staticmethod
    def read_meta(folder: Path) -> VectorMeta:
        """The meta record saved beside the index."""
        return VectorMeta(**json.loads((folder / META_FILE).read_text(encoding="utf-8")))

    @classmethod
    def load(cls, folder: Path, *, model: str, mmap: bool = False) -> VectorIndex:
        """Load the saved index; fail clearly when it was built with another model.

        With ``mmap`` the vectors stay in the file, read-only, shared through the page cache by
        every process serving this version; the builder loads a private, writable copy.
        """
        meta = cls.read_meta(folder)
        if meta.model != model:
            raise IndexMismatchError(
                f"the index in {folder} was built with embedding model {meta.model!r} "
                f"(dimension {meta.dim}), but the settings ask for {model!r}: "
                "run `python -m index build --full` to rebuild it with the configured model"
            )
        flags = faiss.IO_FLAG_MMAP_IFC if mmap else 0
        index = faiss.read_index(str(folder / INDEX_FILE), flags)
        return cls(index, model=meta.model, read_only=mmap)
