"""BM25 over sentence tokens: built from token lists, saved as arrays, searched with numpy."""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

K1 = 1.2
B = 0.75


@dataclass(frozen=True, slots=True)
class LexicalHits:
    """Best documents for a query: their ids and BM25 scores, best first."""

    ids: np.ndarray
    scores: np.ndarray


class BM25Index:
    """Term-major postings with precomputed BM25 impacts; documents are known by an int64 id."""

    def __init__(
        self,
        *,
        vocabulary: dict[str, int],
        indptr: np.ndarray,
        postings: np.ndarray,
        impacts: np.ndarray,
        doc_ids: np.ndarray,
        groups: np.ndarray,
        idf: np.ndarray,
    ) -> None:
        self._vocabulary = vocabulary
        self._indptr = indptr
        self._postings = postings
        self._impacts = impacts
        self.doc_ids = doc_ids
        self.groups = groups
        self._idf = idf

    def __len__(self) -> int:
        return int(self.doc_ids.shape[0])

    @classmethod
    def build(
        cls,
        doc_ids: Sequence[int],
        documents: Iterable[Sequence[str]],
        *,
        groups: Sequence[int] | None = None,
    ) -> BM25Index:
        """Index token lists; ``doc_ids[i]`` names ``documents[i]`` and must be increasing.

        ``groups[i]`` is what document ``i`` belongs to (a sentence's chunk), kept for lookups.
        """
        ids = np.asarray(doc_ids, dtype=np.int64)
        if ids.size and np.any(np.diff(ids) <= 0):
            raise ValueError("BM25Index.build needs strictly increasing document ids")
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(ids.shape[0], dtype=np.float32)
        for row, tokens in enumerate(documents):
            lengths[row] = len(tokens)
            for token, count in Counter(tokens).items():
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
                rows.append(row)
                counts.append(count)
        if len(lengths) != len(ids):
            raise ValueError("BM25Index.build got a different number of ids and documents")
        term = np.asarray(cols, dtype=np.int64)
        doc = np.asarray(rows, dtype=np.int32)
        tf = np.asarray(counts, dtype=np.float32)
        n_docs = max(len(ids), 1)
        df = np.bincount(term, minlength=len(vocabulary)).astype(np.float32)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if len(lengths) else 1.0
        norm = K1 * (1 - B + B * lengths[doc] / max(avgdl, 1e-9))
        impacts = idf[term] * tf * (K1 + 1) / (tf + norm)
        order = np.argsort(term, kind="stable")
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(df.astype(np.int64), out=indptr[1:])
        return cls(
            vocabulary=vocabulary,
            indptr=indptr,
            postings=doc[order],
            impacts=impacts[order].astype(np.float32),
            doc_ids=ids,
            groups=np.asarray(groups if groups is not None else ids, dtype=np.int64),
            idf=idf,
        )

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token; 0 for a token no document has."""
        term = self._vocabulary.get(token)
        return 0.0 if term is None else float(self._idf[term])

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document (row order of ``doc_ids``) for the query tokens."""
        scores = np.zeros(len(self), dtype=np.float32)
        for token in set(tokens):
            term = self._vocabulary.get(token)
            if term is None:
                continue
            start, end = self._indptr[term], self._indptr[term + 1]
            # A term's postings name each document once, so fancy-index addition is exact.
            scores[self._postings[start:end]] += self._impacts[start:end]
        return scores

    def search(self, tokens: Sequence[str], k: int) -> LexicalHits:
        """The ``k`` best documents with a positive score, best first."""
        scores = self.scores(tokens)
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return LexicalHits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return LexicalHits(self.doc_ids[top], scores[top])

    def rows_of(self, doc_ids: Sequence[int]) -> np.ndarray:
        """Row positions of documents (by id) in ``scores()``; -1 for an unknown id."""
        wanted = np.asarray(doc_ids, dtype=np.int64)
        if len(self) == 0:
            return np.full(wanted.shape, -1, dtype=np.int64)
        rows = np.searchsorted(self.doc_ids, wanted).clip(0, len(self) - 1)
        return np.where(self.doc_ids[rows] == wanted, rows, -1)

    def save(self, folder: Path) -> None:
        """Write the arrays and vocabulary into ``folder`` (each file written aside, then renamed)."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            "indptr": self._indptr,
            "postings": self._postings,
            "impacts": self._impacts,
            "doc_ids": self.doc_ids,
            "groups": self.groups,
            "idf": self._idf,
        }
        for name, array in arrays.items():
            _write_atomic(folder / f"{name}.npy", functools.partial(_save_array, array=array))
        terms = sorted(self._vocabulary, key=self._vocabulary.__getitem__)
        _write_atomic(
            folder / "vocabulary.json",
            lambda handle: handle.write(json.dumps(terms, ensure_ascii=False).encode()),
        )

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True) -> BM25Index:
        """Read an index written by ``save``; arrays are memory-mapped unless ``mmap`` is False."""
        arrays = {
            name: np.load(folder / f"{name}.npy", mmap_mode="r" if mmap else None)
            for name in ("indptr", "postings", "impacts", "doc_ids", "groups", "idf")
        }
        terms = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        return cls(vocabulary={term: i for i, term in enumerate(terms)}, **arrays)


def _save_array(handle: BinaryIO, *, array: np.ndarray) -> None:
    np.save(handle, array)


def _write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write through ``write`` into a temporary file beside ``path``, then rename over it."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
