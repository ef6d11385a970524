"""Answering: hybrid retrieval (FAISS chunks + BM25 sentences), then sentence ranking.

Dense search finds the chunks that mean the same as the question; BM25 finds the sentences
that share its rare words. Every sentence of those chunks is then scored on both, on how much
of the question it covers, and on whether it holds the kind of answer the question word asks
for (a number for "berapa", a date for "kapan" ...): ``index/search/features.py``. The weights come
from ``index/search/ranker.json`` (fitted on train questions by ``python -m index tune``), and a
confidence model decides whether the best one is trusted. Nothing is generated: an answer is a
list of stored sentences with their sources, or nothing when no sentence is good enough.

With ``TANYA_CROSS_ENCODER`` the best sentences are read again by the cross-encoder, one
question at a time (``Rereading``). A question that has already waited longer than
``TANYA_CROSS_ENCODER_MAX_WAIT_MS`` since it arrived, or finds the cross-encoder reading another
question, skips that step and is answered by the ranking alone: under load replies stay quick,
never queued.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import Settings
from index.articles.cleaning import visible_line
from index.encoders.embedder import Embedder
from index.search.answerspan import answer_span
from index.search.candidates import Candidates
from index.search.chat import formal_question
from index.search.features import FEATURES, ParsedQuestion, sentence_features
from index.search.parsing import QuestionParser
from index.search.ranker import (
    RERANK_DEPTH,
    Ranker,
    RankerFileError,
    confidence_values,
    default_ranker,
)
from index.search.shortforms import ShortForms, load_definitions, shipped, shipped_list
from index.search.timewords import prefer_by_time, read_time
from index.storage.lexical import BM25Index
from index.storage.store import lead_tokens, make_engine, sentence_rows
from index.storage.vectors import VectorIndex
from index.storage.versions import current_version, load_version, version_folder

if TYPE_CHECKING:  # torch is imported only when the cross-encoder is used
    from index.encoders.crossencoder import CrossEncoder
from index.search.answers import Answer, Quote, Ranking, merge_repeated
from index.search.rereading import MAX_WAIT, Rereading

log = logging.getLogger(__name__)
DENSE_CHUNKS = 30
LEXICAL_SENTENCES = 50
#: Ranked sentences a reply's quotes are picked from, once repeated sentences are merged.
MERGED_FROM = 10
__all__ = [
    "FEATURES",
    "Answer",
    "Candidates",
    "ParsedQuestion",
    "Quote",
    "Ranking",
    "Rereading",
    "Searcher",
]


def _shipped_cross_encoder() -> CrossEncoder:
    """The shipped cross-encoder (torch is imported here, not with this module).

    Raises:
        RankerFileError: If its adapter cannot be read or belongs to another model file.
    """
    from index.encoders.crossencoder import CrossEncoderError, default_cross_encoder

    try:
        return default_cross_encoder()
    except CrossEncoderError as error:
        raise RankerFileError(str(error)) from error


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
        cross_encoder_max_wait: float = MAX_WAIT,
        cross_encoder_depth: int = RERANK_DEPTH,
        shortforms: ShortForms | None = None,
        zone: dt.tzinfo = dt.UTC,
    ) -> None:
        if not 1 <= cross_encoder_depth <= RERANK_DEPTH:
            raise ValueError(
                f"the cross-encoder reads 1 to {RERANK_DEPTH} sentences (the weights were "
                f"fitted reading {RERANK_DEPTH}), not {cross_encoder_depth}"
            )
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
        #: Short forms a question's words may stand for: the shipped list unless others are
        #: given (``open`` adds those the version's articles define).
        self.shortforms = shortforms or shipped()
        #: Turns at the cross-encoder, and the counts of questions read again and skipped.
        self.rereading = Rereading(cross_encoder_max_wait)
        #: How many of the ranking's best sentences the cross-encoder reads.
        self.cross_encoder_depth = cross_encoder_depth
        #: Where "today" is when a question names a time and the caller gives no date.
        self.zone = zone

    @property
    def reads_again(self) -> bool:
        """Whether the cross-encoder reads each question's best sentences again."""
        return self.ranker.cross_weight is not None

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
            cross_encoder_max_wait=settings.cross_encoder_max_wait_ms / 1000,
            cross_encoder_depth=settings.cross_encoder_depth,
            shortforms=ShortForms.of(
                [
                    *shipped_list(),
                    *load_definitions(version_folder(settings.index_dir, version)),
                ]
            ),
            zone=settings.zone,
        )
        searcher.version = version
        return searcher

    def answer(
        self,
        question: str,
        *,
        limit: int = 3,
        arrived: float | None = None,
        today: dt.date | None = None,
    ) -> Answer:
        """The best sentences answering ``question``, or ``answered=False`` when none does.

        A sentence several articles share is quoted once, with the others' sources in
        ``Quote.also``; the ``limit`` quotes are distinct sentences. Each quote's ``mark`` is
        the phrase that answers the question word, when it is sure. ``arrived``: see
        :meth:`rank`.

        When several articles answer about equally well, the one of the time the question
        names ("kemarin", "bulan Maret", "2016") comes first, else the most recent
        (:func:`index.search.timewords.prefer_by_time`); the ranking and the decision to answer are
        the weights' alone. ``today``: the day "hari ini" is (default: now in ``zone``).
        """
        ranking = self.rank_in_time(
            question,
            today=today or dt.datetime.now(self.zone).date(),
            limit=max(limit, MERGED_FROM),
            arrived=arrived,
            read_declined=False,
        )
        if not ranking.confident:
            return Answer(
                question=question,
                answered=False,
                kind=ranking.kind,
                has_words=ranking.has_words,
                reread=ranking.reread,
            )
        quotes = tuple(
            dataclasses.replace(
                quote, mark=answer_span(quote.text, ranking.kind, ranking.question_words)
            )
            for quote in merge_repeated(ranking.quotes)[:limit]
        )
        return Answer(
            question=question,
            answered=True,
            kind=ranking.kind,
            quotes=quotes,
            reread=ranking.reread,
        )

    def rank_in_time(
        self,
        question: str,
        *,
        today: dt.date,
        limit: int = 10,
        arrived: float | None = None,
        read_declined: bool = True,
    ) -> Ranking:
        """:meth:`rank` in the order a reader gets: time words read, as :meth:`answer` does.

        A relative time word ("kemarin", "bulan lalu") is not searched for; among the quotes
        that answer alike, those of the time the question names come first, else the most
        recent (:func:`index.search.timewords.prefer_by_time`). ``today``: the day "hari ini" is.
        """
        timed = read_time(question, today)
        ranking = self.rank(
            timed.search_text, limit=limit, arrived=arrived, read_declined=read_declined
        )
        return dataclasses.replace(
            ranking,
            quotes=prefer_by_time(ranking.quotes, timed.period, today=today, spread=ranking.spread),
        )

    def rank(
        self,
        question: str,
        *,
        limit: int = 10,
        arrived: float | None = None,
        read_declined: bool = True,
    ) -> Ranking:
        """Candidate sentences for ``question``, best first (up to ``limit``), with confidence.

        Whether to answer is decided after the cross-encoder reads when the weights have a
        decision for it (``Ranker.cross_decision``, the shipped ``ranker-cross.json`` does), and
        every question is read. Otherwise it is decided before: without ``read_declined``, a
        question the ranking is not confident about is not read again (``reread=None``), since
        nobody will see its order.

        ``arrived``: the ``time.monotonic()`` at which the question reached whoever asks
        (a bot's handler). With the cross-encoder, a question that waited longer than
        ``TANYA_CROSS_ENCODER_MAX_WAIT_MS`` since then is not read again: its order is the
        ranking's alone (``reread=False``), as without the cross-encoder, since
        ``ranker-cross.json`` keeps ``ranker.json``'s weights. None: no limit, it waits for its
        turn (evaluation, the shell).
        """
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
        reread = None
        decides_after = self.ranker.cross_decision is not None
        if self.reads_again and (confident or read_declined or decides_after):
            first = ordering.order[: self.cross_encoder_depth]
            reader = self.cross_encoder
            best = found.passages(first, reader)
            cross = self.rereading.read(
                reader, arrived, lambda: reader.scores(found.worded(first), best)
            )
            reread = cross is not None
            if cross is not None:
                reordered = self.ranker.reorder(ordering, cross)
                if decides_after:
                    confident = self.ranker.confident_after_reading(
                        ordering,
                        reordered,
                        cross,
                        found.features,
                        found.chunk_cosines,
                        unknown=found.query.unknown,
                    )
                ordering = reordered
        quotes = tuple(
            Quote.of(found.rows[i], score)
            for i, score in zip(ordering.order[:limit], ordering.scores[:limit], strict=True)
        )
        scores = ordering.scores[:RERANK_DEPTH]
        return Ranking(
            kind=found.query.kind,
            quotes=quotes,
            confident=confident,
            reread=reread,
            question_words=frozenset(found.query.words),
            spread=float(scores[0] - scores[-1]),
        )

    def candidates(self, question: str) -> Candidates:
        """The sentences worth scoring for ``question``, with their features (unranked)."""
        question = formal_question(visible_line(question)[: self.max_question_chars])
        parser = QuestionParser(self.lexical, self.shortforms)
        query = parser.parse(parser.respelled(question))
        if not query.weights or len(self.vectors) == 0:
            return Candidates(query=query, rows=[], features=np.zeros((0, len(FEATURES))))
        vector = self.embedder.embed_queries([query.text])[0]
        dense_ids, _ = self.vectors.search(vector, DENSE_CHUNKS)
        lexical_scores = self.lexical.scores(sorted(query.expanded))
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
            shortforms=self.shortforms,
        )


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Row positions of the ``k`` highest positive scores."""
    k = min(k, int(np.count_nonzero(scores > 0)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    return np.argpartition(-scores, k - 1)[:k]
