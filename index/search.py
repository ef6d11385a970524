"""Answering: hybrid retrieval (FAISS chunks + BM25 sentences), then sentence ranking.

Dense search finds the chunks that mean the same as the question; BM25 finds the sentences
that share its rare words. Every sentence of those chunks is then scored on both, on how much
of the question it covers, and on whether it holds the kind of answer the question word asks
for (a number for "berapa", a date for "kapan" ...): ``index/features.py``. The weights come
from ``index/ranker.json`` (fitted on train questions by ``python -m index tune``), and a
confidence model decides whether the best one is trusted. Nothing is generated: an answer is a
list of stored sentences with their sources, or nothing when no sentence is good enough.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import Settings
from index.embedder import Embedder
from index.features import FEATURES, ParsedQuestion, sentence_features
from index.lexical import BM25Index
from index.questions import AnswerKind, answer_kind, formal_question
from index.ranker import (
    CROSS_RANKER_FILE,
    RANKER_FILE,
    RERANK_DEPTH,
    Ranker,
    RankerFileError,
    confidence_values,
)
from index.store import SentenceRow, lead_tokens, make_engine, sentence_rows
from index.tokens import root_words, tokenize, words
from index.vectors import VectorIndex
from index.versions import current_version, load_version

if TYPE_CHECKING:  # torch is imported only when the cross-encoder is used
    from index.crossencoder import CrossEncoder

DENSE_CHUNKS = 30
LEXICAL_SENTENCES = 50
#: Ranked sentences a reply's quotes are picked from, once repeated sentences are merged.
MERGED_FROM = 10
#: A question word this long that no sentence has is read as a typing slip of a known one.
MIN_CORRECTED = 4
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
    # The same sentence where other articles have it too (wire copy republished), best first.
    also: tuple[Quote, ...] = ()

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
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to a question: quoted sentences, best first, or ``answered=False``."""

    question: str
    answered: bool
    kind: AnswerKind
    quotes: tuple[Quote, ...] = ()
    has_words: bool = True  # False: nothing searchable in the question (emoji, punctuation)


__all__ = ["FEATURES", "Answer", "Candidates", "ParsedQuestion", "Quote", "Ranking", "Searcher"]


@lru_cache(maxsize=2)
def default_ranker(*, cross_encoder: bool = False) -> Ranker:
    """The shipped weights (read once): ``index/ranker.json``, or ``ranker-cross.json``."""
    return Ranker.load(CROSS_RANKER_FILE if cross_encoder else RANKER_FILE)


def _shipped_cross_encoder() -> CrossEncoder:
    """The shipped cross-encoder (torch is imported here, not with this module).

    Raises:
        RankerFileError: If its adapter cannot be read or belongs to another model file.
    """
    from index.crossencoder import CrossEncoderError, default_cross_encoder

    try:
        return default_cross_encoder()
    except CrossEncoderError as error:
        raise RankerFileError(str(error)) from error


@dataclass(frozen=True, slots=True)
class Ranking:
    """Every candidate sentence of a question, best first, and whether the best one is trusted."""

    kind: AnswerKind
    quotes: tuple[Quote, ...]
    confident: bool
    has_words: bool = True


@dataclass(frozen=True, slots=True)
class Candidates:
    """The sentences a question retrieved, and one row of ``FEATURES`` for each."""

    query: ParsedQuestion
    rows: list[SentenceRow]
    features: np.ndarray
    chunk_cosines: np.ndarray | None = None  # cosine of the question with each row's chunk


class Searcher:
    """Answers questions from a built index. Thread-safe for concurrent questions."""

    #: The index version it serves (0 when built by hand); a reload opens a new Searcher.
    version: int = 0

    def __init__(
        self,
        *,
        embedder: Embedder,
        vectors: VectorIndex,
        lexical: BM25Index,
        engine: Engine,
        ranker: Ranker | None = None,
        cross_encoder: CrossEncoder | None = None,
        max_question_chars: int = 500,
    ) -> None:
        self.embedder = embedder
        self.vectors = vectors
        self.lexical = lexical
        self.engine = engine
        self.ranker = ranker or default_ranker()
        self._cross_encoder = cross_encoder
        if self.ranker.cross_weight is not None and cross_encoder is None:
            # Loaded now, so that a missing or foreign adapter stops the start, not a question.
            self._cross_encoder = _shipped_cross_encoder()
        self.max_question_chars = max_question_chars

    @property
    def cross_encoder(self) -> CrossEncoder:
        """What reads the best sentences again (the shipped one unless another was given)."""
        if self._cross_encoder is None:
            self._cross_encoder = _shipped_cross_encoder()
        return self._cross_encoder

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        embedder: Embedder,
        engine: Engine | None = None,
        ranker: Ranker | None = None,
        cross_encoder: CrossEncoder | None = None,
    ) -> Searcher:
        """Load the index version the database names; it keeps serving that version.

        Raises:
            IndexNotBuiltError: If there is no built index yet.
            IndexMismatchError: If it was built with another embedding model.
            RankerFileError: If the weights, or with ``cross_encoder`` the cross-encoder's
                adapter, cannot be read or do not fit this code.
        """
        engine = engine or make_engine(settings.sqlalchemy_url)
        version = current_version(engine)
        vectors, lexical = load_version(settings.index_dir, version, model=embedder.name)
        searcher = cls(
            embedder=embedder,
            vectors=vectors,
            lexical=lexical,
            engine=engine,
            ranker=ranker or default_ranker(cross_encoder=settings.cross_encoder),
            cross_encoder=cross_encoder,
            max_question_chars=settings.max_question_chars,
        )
        searcher.version = version
        return searcher

    def answer(self, question: str, *, limit: int = 3) -> Answer:
        """The best sentences answering ``question``, or ``answered=False`` when none does.

        A sentence several articles share is quoted once, with the others' sources in
        ``Quote.also``; the ``limit`` quotes are distinct sentences.
        """
        ranking = self.rank(question, limit=max(limit, MERGED_FROM))
        if not ranking.confident:
            return Answer(
                question=question, answered=False, kind=ranking.kind, has_words=ranking.has_words
            )
        quotes = merge_repeated(ranking.quotes)[:limit]
        return Answer(question=question, answered=True, kind=ranking.kind, quotes=quotes)

    def rank(self, question: str, *, limit: int = 10) -> Ranking:
        """Candidate sentences for ``question``, best first (up to ``limit``), with confidence."""
        found = self.candidates(question)
        if not found.rows:
            return Ranking(
                kind=found.query.kind,
                quotes=(),
                confident=False,
                has_words=bool(found.query.weights),
            )
        ordering = self.ranker.order(found.features)
        assert found.chunk_cosines is not None
        values = confidence_values(
            ordering, found.features, found.chunk_cosines, unknown=found.query.unknown
        )
        confident = self.ranker.confidence(values) >= self.ranker.threshold
        if self.ranker.cross_weight is not None:
            best = [found.rows[i].text for i in ordering.order[:RERANK_DEPTH]]
            cross = self.cross_encoder.scores(found.query.text, best)
            ordering = self.ranker.reorder(ordering, cross)
        quotes = tuple(
            Quote.of(found.rows[i], score)
            for i, score in zip(ordering.order[:limit], ordering.scores[:limit], strict=True)
        )
        return Ranking(kind=found.query.kind, quotes=quotes, confident=confident)

    def candidates(self, question: str) -> Candidates:
        """The sentences worth scoring for ``question``, with their features (unranked)."""
        question = formal_question(" ".join(question.split())[: self.max_question_chars])
        query = self._parse(question)
        if not query.weights or len(self.vectors) == 0:
            return Candidates(query=query, rows=[], features=np.zeros((0, len(FEATURES))))
        vector = self.embedder.embed_queries([question])[0]
        dense_ids, _ = self.vectors.search(vector, DENSE_CHUNKS)
        lexical_scores = self.lexical.scores(list(query.weights))
        top_rows = _top(lexical_scores, LEXICAL_SENTENCES)
        chunk_ids = list(
            dict.fromkeys([*dense_ids.tolist(), *self.lexical.groups[top_rows].tolist()])
        )
        with Session(self.engine) as session:
            rows = sentence_rows(session=session, chunk_ids=chunk_ids)
            # An article's first sentence tells what its later sentences are about.
            keys = {row.article_id: row.article_key for row in rows}
            unread = keys.keys() - {row.article_id for row in rows if row.position == 0}
            leads = lead_tokens(session=session, article_ids=unread)
        if not rows:
            return Candidates(query=query, rows=[], features=np.zeros((0, len(FEATURES))))
        chunk_ids = sorted({row.chunk_id for row in rows})
        similarity = self.vectors.similarity(vector, np.asarray(chunk_ids))
        by_chunk = {c: float(v) for c, v in zip(chunk_ids, similarity, strict=True)}
        lexical_rows = self.lexical.rows_of([row.sentence_id for row in rows])
        lexical = np.where(lexical_rows >= 0, lexical_scores[lexical_rows], 0.0)
        return Candidates(
            query=query,
            rows=rows,
            features=sentence_features(
                query, rows, by_chunk, lexical, {keys[i]: t for i, t in leads.items()}
            ),
            chunk_cosines=np.asarray([by_chunk[row.chunk_id] for row in rows], dtype=np.float32),
        )

    def _parse(self, question: str) -> ParsedQuestion:
        tokens = [self._spelled(token) for token in tokenize(question)]
        # A word no article has is the rarest of all: it must count against a match, not vanish.
        rarest = math.log1p((len(self.lexical) + 0.5) / 0.5)
        weights = {token: self.lexical.idf(token) or rarest for token in tokens}
        known = {token for token in tokens if self.lexical.idf(token) > 0}
        return ParsedQuestion(
            text=question,
            kind=answer_kind(question),
            weights=weights,
            words=words(question),
            rarest=rarest,
            known=frozenset(known),
        )

    def _spelled(self, token: str) -> str:
        """``token``, or the known token it is a typing slip of ("utra": "utara").

        Only a word of ``MIN_CORRECTED`` letters or more that no sentence has is corrected, and
        not an Indonesian root word: "rendang" is no slip of "renang", but a dish the articles
        do not mention, and must count against a match.
        """
        if (
            len(token) < MIN_CORRECTED
            or not token.isalpha()
            or self.lexical.idf(token) > 0
            or token in root_words()
        ):
            return token
        return self.lexical.nearest_known(token) or token


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


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Row positions of the ``k`` highest positive scores."""
    k = min(k, int(np.count_nonzero(scores > 0)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    return np.argpartition(-scores, k - 1)[:k]
