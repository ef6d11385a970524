"""BM25 over sentence tokens: built from token lists, saved as arrays, searched with numpy."""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import ascii_lowercase
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
        tf: np.ndarray | None = None,
        lengths: np.ndarray | None = None,
    ) -> None:
        self._vocabulary = vocabulary
        self._indptr = indptr
        self._postings = postings
        self._impacts = impacts
        self.doc_ids = doc_ids
        self.groups = groups
        self._idf = idf
        # Term counts of each posting and token count of each document: what an update needs
        # (None for an index saved before they were kept).
        self._tf = tf
        self._lengths = lengths

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
        docs = list(documents)
        if len(docs) != len(ids):
            raise ValueError("BM25Index.build got a different number of ids and documents")
        vocabulary: dict[str, int] = {}
        term, doc, tf, lengths = _postings(docs, vocabulary, first_row=0)
        return cls._from_postings(
            vocabulary,
            term,
            doc,
            tf,
            lengths,
            ids,
            np.asarray(groups if groups is not None else ids, dtype=np.int64),
        )

    def updated(
        self,
        *,
        remove_groups: np.ndarray,
        doc_ids: Sequence[int],
        documents: Iterable[Sequence[str]],
        groups: Sequence[int],
    ) -> BM25Index | None:
        """A new index without the documents of ``remove_groups`` and with the given ones added.

        Only the added documents are tokenised; scores equal those of :meth:`build` over the
        same documents. None when this index was saved without term counts (rebuild instead).
        """
        if self._tf is None or self._lengths is None:
            return None
        keep = ~np.isin(self.groups, np.asarray(remove_groups, dtype=np.int64))
        new_row = np.cumsum(keep) - 1
        old_term = np.repeat(np.arange(len(self._vocabulary)), np.diff(self._indptr))
        kept = keep[self._postings]
        docs = list(documents)
        vocabulary = dict(self._vocabulary)
        term, doc, tf, lengths = _postings(docs, vocabulary, first_row=int(keep.sum()))
        ids = np.concatenate([self.doc_ids[keep], np.asarray(doc_ids, dtype=np.int64)])
        all_groups = np.concatenate([self.groups[keep], np.asarray(groups, dtype=np.int64)])
        term = np.concatenate([old_term[kept], term])
        doc = np.concatenate([new_row[self._postings[kept]], doc])
        tf = np.concatenate([np.asarray(self._tf)[kept], tf])
        lengths = np.concatenate([np.asarray(self._lengths)[keep], lengths])
        if ids.size and np.any(np.diff(ids) <= 0):  # keep rows in increasing id order
            order = np.argsort(ids, kind="stable")
            ids, all_groups, lengths = ids[order], all_groups[order], lengths[order]
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            doc = rank[doc]
        return self._from_postings(vocabulary, term, doc, tf, lengths, ids, all_groups)

    @classmethod
    def _from_postings(
        cls,
        vocabulary: dict[str, int],
        term: np.ndarray,
        doc: np.ndarray,
        tf: np.ndarray,
        lengths: np.ndarray,
        ids: np.ndarray,
        groups: np.ndarray,
    ) -> BM25Index:
        """The index of postings (term, document row, count) over documents of ``lengths``."""
        n_docs = max(len(ids), 1)
        df = np.bincount(term, minlength=len(vocabulary)).astype(np.float32)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        # A term whose documents were all removed by an update is one no document has.
        idf[df == 0] = 0.0
        avgdl = float(lengths.mean()) if len(lengths) else 1.0
        norm = K1 * (1 - B + B * lengths[doc] / max(avgdl, 1e-9))
        impacts = idf[term] * tf * (K1 + 1) / (tf + norm)
        order = np.argsort(term, kind="stable")
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(df.astype(np.int64), out=indptr[1:])
        return cls(
            vocabulary=vocabulary,
            indptr=indptr,
            postings=doc[order].astype(np.int32),
            impacts=impacts[order].astype(np.float32),
            doc_ids=ids,
            groups=groups,
            idf=idf,
            tf=tf[order].astype(np.float32),
            lengths=lengths.astype(np.float32),
        )

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token; 0 for a token no document has."""
        term = self._vocabulary.get(token)
        return 0.0 if term is None else float(self._idf[term])

    def nearest_known(self, token: str) -> str | None:
        """The most common token some document has one slip away from ``token``, if any.

        A slip is a letter dropped, added or changed, or two neighbours swapped: "utra" is
        "utara", "tentera" is "tentara". The most common (lowest idf) of several wins.
        """
        found = [(idf, near) for near in _one_slip(token) if (idf := self.idf(near)) > 0]
        return min(found)[1] if found else None

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
        if self._tf is not None and self._lengths is not None:
            arrays.update(tf=self._tf, lengths=self._lengths)
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
        for name in ("tf", "lengths"):  # absent from versions saved before updates
            path = folder / f"{name}.npy"
            arrays[name] = (
                np.load(path, mmap_mode="r" if mmap else None) if path.is_file() else None
            )
        terms = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        return cls(vocabulary={term: i for i, term in enumerate(terms)}, **arrays)


def _postings(
    docs: Sequence[Sequence[str]], vocabulary: dict[str, int], *, first_row: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(term, document row, count) of every distinct token of each document, and their lengths.

    New tokens are numbered into ``vocabulary`` by first occurrence; rows start at
    ``first_row``. Every loop over the tokens runs in C.
    """
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    flat = list(itertools.chain.from_iterable(docs))
    for token in dict.fromkeys(flat):
        vocabulary.setdefault(token, len(vocabulary))
    terms = np.fromiter(map(vocabulary.__getitem__, flat), dtype=np.int64, count=len(flat))
    rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    width = max(len(vocabulary), 1)
    # One posting per (document, term), with its count: unique pairs, document-major.
    pairs, counts = np.unique(rows * width + terms, return_counts=True)
    return (
        pairs % width,
        pairs // width + first_row,
        counts.astype(np.float32),
        lengths.astype(np.float32),
    )


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


def _one_slip(word: str) -> set[str]:
    """Every string one typing slip from ``word`` (lower-case Latin letters)."""
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {head + tail[1:] for head, tail in cuts if tail}
        | {head + tail[1] + tail[0] + tail[2:] for head, tail in cuts if len(tail) > 1}
        | {head + letter + tail[1:] for head, tail in cuts if tail for letter in ascii_lowercase}
        | {head + letter + tail for head, tail in cuts for letter in ascii_lowercase}
    ) - {word}
