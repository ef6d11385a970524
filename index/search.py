"""Answering: hybrid retrieval (FAISS chunks + BM25 sentences), then sentence ranking.

Dense search finds the chunks that mean the same as the question; BM25 finds the sentences
that share its rare words. Every sentence of those chunks is then scored on both, on how much
of the question it covers, and on whether it holds the kind of answer the question word asks
for (a number for "berapa", a date for "kapan" ...). Nothing is generated: an answer is a list
of stored sentences with their sources, or nothing when no sentence is good enough.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import Settings
from index.embedder import Embedder
from index.lexical import BM25Index
from index.questions import AnswerKind, answer_kind, holds_answer_kind
from index.store import SentenceRow, make_engine, sentence_rows
from index.tokens import tokenize, words
from index.vectors import VectorIndex
from index.versions import current_version, load_version

DENSE_CHUNKS = 30
LEXICAL_SENTENCES = 50


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


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to a question: quoted sentences, best first, or ``answered=False``."""

    question: str
    answered: bool
    kind: AnswerKind
    quotes: tuple[Quote, ...] = ()
    has_words: bool = True  # False: nothing searchable in the question (emoji, punctuation)


#: What each candidate sentence is scored on, in the order of ``Weights.features``.
FEATURES = (
    "dense",  # cosine of the question with the sentence's chunk, minus the best chunk's
    "lexical",  # BM25 of the sentence, over the best candidate's
    "coverage",  # idf-weighted share of the question's words the sentence has
    "context",  # the same share for the sentence's whole chunk
    "phrase",  # share of the question's word pairs found as pairs in the sentence
    "kind",  # holds the kind of answer the question word asks for
    "lead",  # first sentence of its article
)


@dataclass(frozen=True, slots=True)
class Weights:
    """How the sentence features add up to a score, and when the best one is not good enough."""

    features: tuple[float, ...] = (4.6, 0.0, 0.5, 0.5, 0.0, 0.6, 0.0)
    min_coverage: float = 0.45
    min_score: float = 0.0


@dataclass(frozen=True, slots=True)
class Ranking:
    """Every candidate sentence of a question, best first, and whether the best one is trusted."""

    kind: AnswerKind
    quotes: tuple[Quote, ...]
    confident: bool
    has_words: bool = True


@dataclass(frozen=True, slots=True)
class ParsedQuestion:
    """A question as the ranking sees it."""

    text: str
    kind: AnswerKind
    weights: dict[str, float]  # lexical token -> idf
    words: list[str]  # lower-case words, in order

    def coverage(self, tokens: set[str]) -> float:
        """Idf-weighted share of the question's tokens found in ``tokens``."""
        total = sum(self.weights.values())
        if total <= 0:
            return 0.0
        return sum(w for token, w in self.weights.items() if token in tokens) / total

    def phrase_overlap(self, sentence: str) -> float:
        """Share of the question's neighbouring word pairs that stand together in ``sentence``."""
        pairs = set(itertools.pairwise(self.words))
        if not pairs:
            return 0.0
        return len(pairs & set(itertools.pairwise(words(sentence)))) / len(pairs)


@dataclass(frozen=True, slots=True)
class Candidates:
    """The sentences a question retrieved, and one row of ``FEATURES`` for each."""

    query: ParsedQuestion
    rows: list[SentenceRow]
    features: np.ndarray


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
        weights: Weights | None = None,
        max_question_chars: int = 500,
    ) -> None:
        self.embedder = embedder
        self.vectors = vectors
        self.lexical = lexical
        self.engine = engine
        self.weights = weights or Weights()
        self.max_question_chars = max_question_chars

    @classmethod
    def open(
        cls, settings: Settings, *, embedder: Embedder, engine: Engine | None = None
    ) -> Searcher:
        """Load the index version the database names; it keeps serving that version.

        Raises:
            IndexNotBuiltError: If there is no built index yet.
            IndexMismatchError: If it was built with another embedding model.
        """
        engine = engine or make_engine(settings.sqlalchemy_url)
        version = current_version(engine)
        vectors, lexical = load_version(settings.index_dir, version, model=embedder.name)
        searcher = cls(
            embedder=embedder,
            vectors=vectors,
            lexical=lexical,
            engine=engine,
            max_question_chars=settings.max_question_chars,
        )
        searcher.version = version
        return searcher

    def answer(self, question: str, *, limit: int = 3) -> Answer:
        """The best sentences answering ``question``, or ``answered=False`` when none does."""
        ranking = self.rank(question, limit=limit)
        if not ranking.confident:
            return Answer(
                question=question, answered=False, kind=ranking.kind, has_words=ranking.has_words
            )
        return Answer(question=question, answered=True, kind=ranking.kind, quotes=ranking.quotes)

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
        scores = found.features @ np.asarray(self.weights.features, dtype=np.float32)
        order = np.argsort(-scores, kind="stable")
        best = order[0]
        confident = bool(
            found.features[best, FEATURES.index("coverage")] >= self.weights.min_coverage
            and scores[best] >= self.weights.min_score
        )
        quotes = tuple(_quote(found.rows[i], float(scores[i])) for i in order[:limit])
        return Ranking(kind=found.query.kind, quotes=quotes, confident=confident)

    def candidates(self, question: str) -> Candidates:
        """The sentences worth scoring for ``question``, with their features (unranked)."""
        question = " ".join(question.split())[: self.max_question_chars]
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
        features = (
            self.features(query, vector, rows, lexical_scores)
            if rows
            else np.zeros((0, len(FEATURES)))
        )
        return Candidates(query=query, rows=rows, features=features)

    def _parse(self, question: str) -> ParsedQuestion:
        tokens = tokenize(question)
        # A word no article has is the rarest of all: it must count against a match, not vanish.
        rarest = math.log1p((len(self.lexical) + 0.5) / 0.5)
        weights = {token: self.lexical.idf(token) or rarest for token in tokens}
        return ParsedQuestion(
            text=question, kind=answer_kind(question), weights=weights, words=words(question)
        )

    def features(
        self,
        query: ParsedQuestion,
        vector: np.ndarray,
        rows: Sequence[SentenceRow],
        lexical_scores: np.ndarray,
    ) -> np.ndarray:
        """One row of ``FEATURES`` per candidate sentence."""
        chunk_ids = sorted({row.chunk_id for row in rows})
        dense = dict(
            zip(chunk_ids, self.vectors.similarity(vector, np.asarray(chunk_ids)), strict=True)
        )
        best_dense = max(dense.values())
        lexical_rows = self.lexical.rows_of([row.sentence_id for row in rows])
        lexical = np.where(lexical_rows >= 0, lexical_scores[lexical_rows], 0.0)
        best_lexical = float(lexical.max()) or 1.0
        chunk_tokens: dict[int, set[str]] = {}
        for row in rows:
            chunk_tokens.setdefault(row.chunk_id, set()).update(row.tokens)
        matrix = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
        for i, (row, lexical_score) in enumerate(zip(rows, lexical, strict=True)):
            matrix[i] = (
                float(dense[row.chunk_id]) - best_dense,
                float(lexical_score) / best_lexical,
                query.coverage(set(row.tokens)),
                query.coverage(chunk_tokens[row.chunk_id]),
                query.phrase_overlap(row.text),
                holds_answer_kind(row.text, query.kind, set(query.words)),
                row.position == 0,
            )
        return matrix


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Row positions of the ``k`` highest positive scores."""
    k = min(k, int(np.count_nonzero(scores > 0)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    return np.argpartition(-scores, k - 1)[:k]


def _quote(row: SentenceRow, score: float) -> Quote:
    return Quote(
        text=row.text,
        title=row.title,
        path=row.path,
        line=row.line,
        score=round(float(score), 4),
        article_key=row.article_key,
        attribution=row.attribution,
        url=row.url,
    )
