"""What a question retrieved: its candidate sentences, with their features.

Each is also given as the cross-encoder reads it: beside the question's short forms as that
sentence writes them, and with its context when the reader was fitted to read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from index.search.features import ParsedQuestion
from index.search.shortforms import ShortForms
from index.storage.store import SentenceRow

if TYPE_CHECKING:  # torch is imported only when the cross-encoder is used
    from index.encoders.crossencoder import CrossEncoder


@dataclass(frozen=True, slots=True)
class Candidates:
    """The sentences a question retrieved, and one row of ``FEATURES`` for each."""

    query: ParsedQuestion
    rows: list[SentenceRow]
    features: np.ndarray
    chunk_cosines: np.ndarray | None = None  # cosine of the question with each row's chunk
    shortforms: ShortForms | None = None  # the searcher's, for :meth:`worded`

    def worded(self, rows: Iterable[int]) -> tuple[str, ...]:
        """The question beside each of ``rows`` (indexes), short forms as that sentence has them."""
        forms = self.shortforms
        return tuple(
            forms.worded_as(self.query.text, self.rows[i].tokens) if forms else self.query.text
            for i in rows
        )

    def passages(self, rows: Iterable[int], reader: CrossEncoder) -> tuple[str, ...]:
        """``rows``' sentences as ``reader`` reads them: with context if it was fitted so."""
        chosen = [self.rows[i] for i in rows]
        if not reader.reads_context:
            return tuple(row.text for row in chosen)
        placed = {(row.article_key, row.position): row.text for row in self.rows}
        before = [placed.get((row.article_key, row.position - 1), "") for row in chosen]
        return tuple(
            reader.passage(row.text, title=row.title, before=text)
            for row, text in zip(chosen, before, strict=True)
        )
