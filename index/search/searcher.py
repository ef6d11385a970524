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
import itertools
import logging
import math
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from config.settings import Settings
from index.articles.cleaning import visible_line
from index.encoders.embedder import Embedder
from index.search.answerspan import answer_span
from index.search.colloquial import written_forms
from index.search.features import FEATURES, ParsedQuestion, sentence_features
from index.search.questions import AnswerKind, answer_kind, formal_question
from index.search.ranker import (
    CROSS_RANKER_FILE,
    RANKER_FILE,
    RERANK_DEPTH,
    Ranker,
    RankerFileError,
    confidence_values,
)
from index.search.shortforms import ShortForms, load_definitions, shipped, shipped_list
from index.search.timewords import prefer_by_time, read_time
from index.search.tokens import WORD, root_words, tokenize, words
from index.storage.lexical import BM25Index
from index.storage.store import SentenceRow, lead_tokens, make_engine, sentence_rows
from index.storage.vectors import VectorIndex
from index.storage.versions import current_version, load_version, version_folder

if TYPE_CHECKING:  # torch is imported only when the cross-encoder is used
    from index.encoders.crossencoder import CrossEncoder

log = logging.getLogger(__name__)

DENSE_CHUNKS = 30
LEXICAL_SENTENCES = 50
#: Ranked sentences a reply's quotes are picked from, once repeated sentences are merged.
MERGED_FROM = 10
#: A question word this long that no sentence has is read as a typing slip of a known one.
MIN_CORRECTED = 4
#: The shortest part a compound word is cut into ("kerjasama": "kerja" and "sama").
MIN_PART = 3
#: Default of ``TANYA_CROSS_ENCODER_MAX_WAIT_MS``, in seconds.
MAX_WAIT = 0.25
#: Questions that skip the cross-encoder are logged at most once in this many seconds.
SKIP_LOG_SECONDS = 60.0
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


@lru_cache(maxsize=2)
def default_ranker(*, cross_encoder: bool = False) -> Ranker:
    """The shipped weights (read once): ``index/search/ranker.json``, or ``ranker-cross.json``."""
    return Ranker.load(CROSS_RANKER_FILE if cross_encoder else RANKER_FILE)


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


@dataclass(frozen=True, slots=True)
class Ranking:
    """Every candidate sentence of a question, best first, and whether the best one is trusted."""

    kind: AnswerKind
    quotes: tuple[Quote, ...]
    confident: bool
    has_words: bool = True
    reread: bool | None = None  # as ``Answer.reread``
    question_words: frozenset[str] = frozenset()  # the question's words, as it was searched


@dataclass(frozen=True, slots=True)
class Candidates:
    """The sentences a question retrieved, and one row of ``FEATURES`` for each."""

    query: ParsedQuestion
    rows: list[SentenceRow]
    features: np.ndarray
    chunk_cosines: np.ndarray | None = None  # cosine of the question with each row's chunk
    shortforms: ShortForms | None = None  # the searcher's, for :meth:`worded`

    def worded(self, rows: Iterable[int]) -> tuple[str, ...]:
        """The question as the cross-encoder reads it beside each of ``rows`` (indexes).

        A short form is written as the sentence writes it (:meth:`ShortForms.worded_as`, read
        off the sentence's stored tokens).
        """
        forms = self.shortforms
        return tuple(
            forms.worded_as(self.query.text, self.rows[i].tokens) if forms else self.query.text
            for i in rows
        )


@dataclass(frozen=True, slots=True)
class RereadCounts:
    """Questions the cross-encoder read again, and those that waited too long and skipped it."""

    read: int = 0
    skipped: int = 0


_turns: weakref.WeakKeyDictionary[object, threading.Lock] = weakref.WeakKeyDictionary()
_turns_lock = threading.Lock()


def _turn_lock(reader: object) -> threading.Lock:
    """The lock of ``reader``'s turns, whichever searcher uses it.

    An old and a new index version's searchers share the shipped cross-encoder while a reload
    swaps them.
    """
    with _turns_lock:
        lock = _turns.get(reader)
        if lock is None:
            lock = _turns[reader] = threading.Lock()
        return lock


class Rereading:
    """Who the cross-encoder reads for: one question at a time, and none that waited too long.

    torch already spreads one reading over the cores, so questions take turns rather than share
    them and all finish late. A question whose wait since it arrived is past ``max_wait``
    seconds, or that finds the cross-encoder reading another question, skips it (the caller
    keeps the ranking's order): no question waits for another's reading, so none holds a worker
    thread while it waits. Thread-safe; counts both kinds, and logs skips at most once a minute.
    """

    def __init__(self, max_wait: float = MAX_WAIT) -> None:
        self.max_wait = max_wait
        self._counting = threading.Lock()
        self._read = 0
        self._skipped = 0
        self._unlogged = 0  # skipped since the last log line
        self._logged_at: float | None = None

    def counts(self) -> RereadCounts:
        """How many questions were read again and how many skipped, since this was made."""
        with self._counting:
            return RereadCounts(read=self._read, skipped=self._skipped)

    def read(
        self, reader: object, arrived: float | None, scores: Callable[[], np.ndarray]
    ) -> np.ndarray | None:
        """``scores()`` in ``reader``'s turn, or None when the question must not wait for it.

        ``arrived`` is the ``time.monotonic()`` at which the question arrived; None: no limit
        (evaluation and the shell wait for their turn, however long). A question with a time
        never waits for its turn: it is read now or not at all.
        """
        turn = _turn_lock(reader)
        if arrived is None:
            turn.acquire()
        else:
            waited = time.monotonic() - arrived
            if waited > self.max_wait or not turn.acquire(blocking=False):
                self._count(read=False, waited=waited)
                return None
        try:
            result = scores()
        finally:
            turn.release()
        self._count(read=True)
        return result

    def _count(self, *, read: bool, waited: float = 0.0) -> None:
        with self._counting:
            if read:
                self._read += 1
                return
            self._skipped += 1
            self._unlogged += 1
            now = time.monotonic()
            if self._logged_at is not None and now - self._logged_at < SKIP_LOG_SECONDS:
                return
            unlogged, self._unlogged, self._logged_at = self._unlogged, 0, now
            read_count, skipped = self._read, self._skipped
        log.info(
            "%d question(s) waited over %d ms (the last %d ms) and were answered without the "
            "cross-encoder, by the ranking alone; %d skipped, %d read again in all",
            unlogged,
            round(self.max_wait * 1000),
            round(waited * 1000),
            skipped,
            read_count,
        )


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
        shortforms: ShortForms | None = None,
        zone: dt.tzinfo = dt.UTC,
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
        #: Short forms a question's words may stand for: the shipped list unless others are
        #: given (``open`` adds those the version's articles define).
        self.shortforms = shortforms or shipped()
        #: Turns at the cross-encoder, and the counts of questions read again and skipped.
        self.rereading = Rereading(cross_encoder_max_wait)
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
            ranking, quotes=prefer_by_time(ranking.quotes, timed.period, today=today)
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
            first = ordering.order[:RERANK_DEPTH]
            best = [found.rows[i].text for i in first]
            reader = self.cross_encoder
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
        return Ranking(
            kind=found.query.kind,
            quotes=quotes,
            confident=confident,
            reread=reread,
            question_words=frozenset(found.query.words),
        )

    def candidates(self, question: str) -> Candidates:
        """The sentences worth scoring for ``question``, with their features (unranked)."""
        question = formal_question(visible_line(question)[: self.max_question_chars])
        question = self._respelled(question)
        query = self._parse(question)
        if not query.weights or len(self.vectors) == 0:
            return Candidates(query=query, rows=[], features=np.zeros((0, len(FEATURES))))
        vector = self.embedder.embed_queries([question])[0]
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

    def _parse(self, question: str) -> ParsedQuestion:
        tokens = tokenize(question)
        # "timnas" also matches "tim nasional", and "pemadam kebakaran" "damkar": such a word
        # is no typing slip, and is known when the article writes the other form.
        alternatives = self.shortforms.alternatives(tokens)
        tokens = [
            token if token in alternatives else (tokenize(self._spelled(token)) or [token])[0]
            for token in tokens
        ]
        alternatives = _joined(alternatives, self._compounds(tokens, alternatives))
        # A word no article has is the rarest of all: it must count against a match, not vanish.
        rarest = math.log1p((len(self.lexical) + 0.5) / 0.5)
        weights = {token: self.lexical.idf(token) or rarest for token in tokens}
        known = {
            token
            for token in tokens
            if self.lexical.idf(token) > 0
            or any(
                all(self.lexical.idf(other) > 0 for other in others)
                for others in alternatives.get(token, ())
            )
        }
        return ParsedQuestion(
            text=question,
            kind=answer_kind(question),
            weights=weights,
            words=words(question),
            rarest=rarest,
            known=frozenset(known),
            alternatives=alternatives,
        )

    def _compounds(
        self, tokens: Sequence[str], taken: Mapping[str, frozenset[frozenset[str]]]
    ) -> dict[str, set[frozenset[str]]]:
        """Compound words written in one or two words: "sepak bola" and "sepakbola".

        Two neighbouring question tokens stand for the one token they make when some article
        writes it; a token no article has stands for the two dictionary words it is made of
        ("kerjasama": "kerja" and "sama") when the articles have both. Tokens a short form
        already covers are left to it.
        """
        found: dict[str, set[frozenset[str]]] = {}
        for first, second in itertools.pairwise(tokens):
            joined = first + second
            if first not in taken and second not in taken and self.lexical.idf(joined) > 0:
                for token in (first, second):
                    found.setdefault(token, set()).add(frozenset({joined}))
        for token in tokens:
            if token in taken or self.lexical.idf(token) > 0 or not token.isalpha():
                continue
            for cut in range(MIN_PART, len(token) - MIN_PART + 1):
                head, tail = token[:cut], token[cut:]
                roots = head in root_words() and tail in root_words()
                if roots and self.lexical.idf(head) > 0 and self.lexical.idf(tail) > 0:
                    found.setdefault(token, set()).add(frozenset({head, tail}))
        return found

    def _respelled(self, question: str) -> str:
        """``question`` with each typing slip written as the articles write the word.

        The embedding and the cross-encoder read the question's words, not its tokens: "korea
        utra" must reach them as "korea utara". Only a word that is its own token (no prefix or
        suffix to keep) is rewritten, and never a short form the index knows.
        """
        alternatives = self.shortforms.alternatives(tokenize(question))

        def respell(match: re.Match[str]) -> str:
            form = match.group(0)
            token = form.lower()
            if tokenize(form) != [token] or token in alternatives:
                return form
            spelled = self._spelled(token)
            return form if spelled == token else spelled

        return WORD.sub(respell, question)

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
        return self._written(token) or self.lexical.nearest_known(token) or token

    def _written(self, token: str) -> str | None:
        """The article spelling of a chat-typed word, if the index knows one.

        "nyebar" is "menyebar", "prnh" "pernah" (:mod:`index.search.colloquial`). Of several, the most common token wins, and of one token's forms the likeliest.
        """
        known = []
        for rank, form in enumerate(written_forms(token)):
            parts = tokenize(form)
            if len(parts) == 1 and (idf := self.lexical.idf(parts[0])) > 0:
                known.append((idf, rank, form))
        return min(known)[2] if known else None


def _joined(
    *maps: Mapping[str, Iterable[frozenset[str]]],
) -> dict[str, frozenset[frozenset[str]]]:
    """The alternatives of every map, token by token."""
    joined: dict[str, set[frozenset[str]]] = {}
    for alternatives in maps:
        for token, sets in alternatives.items():
            joined.setdefault(token, set()).update(sets)
    return {token: frozenset(sets) for token, sets in joined.items()}


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
