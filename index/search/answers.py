"""What a question gets back: quoted sentences with their sources, best first, or none.

Frozen result types; nothing in them is generated: every text is a stored sentence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.search.questions import AnswerKind
from index.storage.store import SentenceRow

_SPACE_AND_PUNCTUATION = re.compile(r"\W+")


@dataclass(frozen=True, slots=True)
class Quote:
    """A sentence quoted from an article, with where it stands."""

    text: str
    title: str
    path: str
    line: int
    score: float
    article_key: str
    attribution: str | None = None
    url: str | None = None
    date: dt.date | None = None  # the article's date, when it has one
    # The same sentence where other articles have it too (wire copy republished), best first.
    also: tuple[Quote, ...] = ()
    # Character offsets in ``text`` of the words that answer the question word ("11.000
    # tentara" for "berapa"), when exactly one phrase can: ``index.search.answerspan``.
    mark: tuple[int, int] | None = None

    @classmethod
    def of(cls, row: SentenceRow, score: float) -> Quote:
        """The quote of a sentence row, scored ``score`` (rounded for display and logs)."""
        return cls(
            text=row.text,
            title=row.title,
            path=row.path,
            line=row.line,
            score=round(float(score), 4),
            article_key=row.article_key,
            attribution=row.attribution,
            url=row.url,
            date=row.date,
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to a question: quoted sentences, best first, or ``answered=False``."""

    question: str
    answered: bool
    kind: AnswerKind
    quotes: tuple[Quote, ...] = ()
    has_words: bool = True  # False: nothing searchable in the question (emoji, punctuation)
    # True: the cross-encoder read its best sentences again; False: it waited too long and
    # was answered by the ranking alone; None: no cross-encoder (not configured, or no sentence).
    reread: bool | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    """Every candidate sentence of a question, best first, and whether the best one is trusted."""

    kind: AnswerKind
    quotes: tuple[Quote, ...]
    confident: bool
    has_words: bool = True
    reread: bool | None = None  # as ``Answer.reread``
    question_words: frozenset[str] = frozenset()  # the question's words, as it was searched
    # How far this question's scores run: the first sentence's minus the eighth's (the last the
    # cross-encoder reads), or the last's when there are fewer. Scores of another fit run
    # wider or narrower; the time rule reads closeness as a share of this.
    spread: float = 0.0


def merge_repeated(quotes: Sequence[Quote]) -> tuple[Quote, ...]:
    """``quotes`` in order, each sentence once.

    A later quote of the same sentence (case, spacing and punctuation aside: "8,1 persen" is
    "8, 1 persen") goes into the first one's ``also``.
    """
    merged: dict[str, Quote] = {}
    for quote in quotes:
        key = _SPACE_AND_PUNCTUATION.sub("", quote.text.casefold())
        first = merged.get(key)
        if first is None:
            merged[key] = quote
        else:
            merged[key] = dataclasses.replace(first, also=(*first.also, quote))
    return tuple(merged.values())
