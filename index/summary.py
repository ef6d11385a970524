"""The daily summary: the day's most central sentences, quoted with their sources.

Extractive only. The candidates are the first sentences of each article of a time window (the
last 24 hours by the article's date, else by when it was added). Each candidate is embedded
(e5 ``query:`` prefix, the one its authors give for symmetric similarity); after removing the
embeddings' common direction, LexRank's PageRank over the cosine graph gives each sentence its
centrality: how much the day's other articles say the same. A news article's lead is where
Indonesian news puts its facts, so early positions get a bonus. Maximal marginal relevance then
picks at most five sentences, at most one per article (unless there are fewer articles than
slots), never two near-duplicates.

Sentence vectors are computed here, at summary time, rather than read from the chunk index:
a chunk holds up to five sentences, too coarse to tell one sentence's centrality or to catch
two near-identical sentences. A day's candidates are a few hundred sentences, a few seconds
of embedding, and the vectors are cached by text.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from index.encoders.embedder import Embedder
from index.search.answers import Quote
from index.search.sources import ArticleSource, article_sources
from index.storage.store import ArticleTime, SentenceRow, article_sentence_rows, article_times

#: Sentences quoted in one summary.
MAX_SENTENCES = 5
#: Only an article's first sentences are candidates: the lead and what directly follows it.
CANDIDATE_POSITIONS = 8
#: Most articles one summary reads (the most recently added first).
MAX_ARTICLES = 300
#: Candidates shorter or longer than this (in words) are left out unless nothing else is left.
MIN_WORDS, MAX_WORDS = 6, 60
#: Added to the centrality (scaled to 0..1) of an article's first, second and third sentence.
LEAD_BONUS = (0.5, 0.25, 0.1)
#: A sentence that opens with a quotation is someone's words, not the news: its score is scaled.
QUOTATION_FACTOR = 0.6
#: How much an edge between two sentences of the same article counts, against 1 across articles.
SAME_ARTICLE_WEIGHT = 0.3
#: LexRank's damping factor, and the weight of relevance against novelty in MMR.
DAMPING, MMR_LAMBDA = 0.85, 0.7
#: Near-duplicates: cosine of the raw embeddings, or overlap of stemmed words (Jaccard).
DUPLICATE_COSINE, DUPLICATE_JACCARD = 0.95, 0.6
#: Sentence vectors kept between summaries (by text).
VECTOR_CACHE_SIZE = 50_000

_OPENING_QUOTE = re.compile(r"^\s*[\"“”'‘]")


@dataclass(frozen=True, slots=True)
class Window:
    """A span of time, ``start`` included, ``end`` excluded; both time zone-aware."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a summary window needs time zone-aware datetimes")

    @property
    def is_whole_day(self) -> bool:
        """Whether the window is one calendar day, midnight to midnight, in its own time zone."""
        return self.start.time() == dt.time(0) and self.end == dt.datetime.combine(
            self.start.date() + dt.timedelta(days=1), dt.time(0), tzinfo=self.start.tzinfo
        )

    def days(self, zone: ZoneInfo) -> tuple[dt.date, dt.date]:
        """The first and last local day the window touches."""
        last = self.end - dt.timedelta(microseconds=1)
        return self.start.astimezone(zone).date(), last.astimezone(zone).date()


def last_24_hours(as_of: dt.datetime) -> Window:
    """The 24 hours before ``as_of`` (aware)."""
    return Window(start=as_of - dt.timedelta(hours=24), end=as_of)


def day_window(day: dt.date, zone: ZoneInfo) -> Window:
    """One local day, midnight to midnight."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return Window(start=start, end=end)


@dataclass(frozen=True, slots=True)
class Summary:
    """The quoted sentences for a window: the most important article first, each in text order.

    ``recent_fallback`` is True when no article falls in the window and the sentences come
    from the most recent articles instead; ``day`` is the local day the summary is labelled with;
    ``sources`` cites each quoted article, by article key.
    """

    window: Window
    day: dt.date
    quotes: tuple[Quote, ...]
    article_count: int
    recent_fallback: bool = False
    sources: Mapping[str, ArticleSource] = field(default_factory=dict)


def articles_in_window(
    times: Sequence[ArticleTime], window: Window, zone: ZoneInfo
) -> tuple[list[int], bool]:
    """The articles of ``window``, or else those of the most recent day before it.

    An article with a date belongs to the whole local day; one without, to the moment it was
    added. Returns the article ids (most recently added first, at most ``MAX_ARTICLES``) and
    whether they are the fallback.
    """
    first_day, last_day = window.days(zone)

    def in_window(item: ArticleTime) -> bool:
        if item.date is not None:
            return first_day <= item.date <= last_day
        return window.start <= item.added_at < window.end

    chosen = [item for item in times if in_window(item)]
    fallback = not chosen
    if fallback and times:

        def local_day(item: ArticleTime) -> dt.date:
            return item.date or item.added_at.astimezone(zone).date()

        before = [item for item in times if local_day(item) <= last_day] or list(times)
        latest = max(local_day(item) for item in before)
        chosen = [item for item in before if local_day(item) == latest]
    chosen.sort(key=lambda item: (item.added_at, item.article_id), reverse=True)
    return [item.article_id for item in chosen[:MAX_ARTICLES]], fallback


class Summarizer:
    """Builds summaries from the index database. Thread-safe."""

    def __init__(self, *, engine: Engine, embedder: Embedder) -> None:
        self.engine = engine
        self.embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def summarize(
        self,
        window: Window,
        *,
        zone: ZoneInfo,
        limit: int = MAX_SENTENCES,
        day: dt.date | None = None,
    ) -> Summary:
        """The summary of the articles of ``window`` (or of the most recent ones, if none).

        ``day`` labels it; by default, the local day the window ends in.
        """
        label = day or (window.end - dt.timedelta(microseconds=1)).astimezone(zone).date()
        with Session(self.engine) as session:
            article_ids, fallback = articles_in_window(article_times(session=session), window, zone)
            rows = article_sentence_rows(
                session=session, article_ids=article_ids, max_position=CANDIDATE_POSITIONS
            )
        quotes = self.select(candidates(rows), limit=limit)
        with Session(self.engine) as session:
            sources = article_sources(quotes, session=session)
        return Summary(
            window=window,
            day=label,
            quotes=quotes,
            article_count=len(article_ids),
            recent_fallback=fallback,
            sources=sources,
        )

    def select(
        self, rows: Sequence[SentenceRow], *, limit: int = MAX_SENTENCES
    ) -> tuple[Quote, ...]:
        """The ``limit`` sentences of ``rows`` that best sum them up.

        Articles come in the order their first sentence was picked; one article's sentences
        in the order they stand in it.
        """
        if not rows or limit <= 0:
            return ()
        vectors = self.vectors([row.text for row in rows])
        articles = np.asarray([row.article_id for row in rows])
        centered = _centered(vectors)
        similarity = np.clip(centered @ centered.T, 0.0, None)
        same_article = articles[:, None] == articles[None, :]
        scores = lexrank(np.where(same_article, similarity * SAME_ARTICLE_WEIGHT, similarity))
        scores = scores / (scores.max() or 1.0)
        scores = scores + np.asarray([_lead_bonus(row.position) for row in rows])
        scores = scores * np.asarray(
            [QUOTATION_FACTOR if _OPENING_QUOTE.match(row.text) else 1.0 for row in rows]
        )
        relevance = scores / (scores.max() or 1.0)
        picked = mmr(
            relevance,
            similarity=similarity,
            raw_similarity=vectors @ vectors.T,
            token_sets=[frozenset(row.tokens) for row in rows],
            articles=articles,
            limit=limit,
        )
        first_pick: dict[int, int] = {}
        for rank, i in enumerate(picked):
            first_pick.setdefault(rows[i].article_id, rank)
        ordered = sorted(picked, key=lambda i: (first_pick[rows[i].article_id], rows[i].position))
        return tuple(Quote.of(rows[i], relevance[i]) for i in ordered)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors (``query:`` prefix, symmetric similarity), cached by text."""
        # One summary at a time: the embedder serialises its callers anyway.
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
            found = {text: self._vectors[text] for text in texts if text in self._vectors}
            if missing:
                found.update(zip(missing, self.embedder.embed_queries(missing), strict=True))
            for text in dict.fromkeys(texts):
                self._vectors[text] = found[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > VECTOR_CACHE_SIZE:
                self._vectors.popitem(last=False)
        return np.vstack([found[text] for text in texts]).astype(np.float32)


def candidates(rows: Sequence[SentenceRow]) -> list[SentenceRow]:
    """The sentences worth quoting: not a repeat, a full statement of a sensible length.

    When every sentence fails the length test (very short articles), the repeats are still
    removed and the rest kept.
    """
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = " ".join(row.text.lower().split())
        if key not in seen:
            seen.add(key)
            unique.append(row)
    good = [
        row
        for row in unique
        if MIN_WORDS <= len(row.text.split()) <= MAX_WORDS and not row.text.rstrip().endswith("?")
    ]
    return good or unique


def lexrank(
    similarity: np.ndarray, *, damping: float = DAMPING, iterations: int = 100
) -> np.ndarray:
    """Continuous LexRank: PageRank over a non-negative similarity matrix (self-loops ignored)."""
    n = similarity.shape[0]
    if n == 0:
        return np.zeros(0)
    weights = similarity.astype(np.float64).copy()
    np.fill_diagonal(weights, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    # A sentence like no other spreads its vote evenly, as PageRank does for a dead end.
    transition = np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), 1.0 / n)
    rank = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1 - damping) / n + damping * (transition.T @ rank)
        if np.abs(updated - rank).sum() < 1e-9:
            return updated
        rank = updated
    return rank


def mmr(
    relevance: np.ndarray,
    *,
    similarity: np.ndarray,
    raw_similarity: np.ndarray,
    token_sets: Sequence[frozenset[str]],
    articles: np.ndarray,
    limit: int,
    balance: float = MMR_LAMBDA,
) -> list[int]:
    """Maximal marginal relevance under the summary's rules; returns row positions in order.

    At most one sentence per article unless there are fewer articles than ``limit`` (then as
    many as it takes to fill the slots), and never a near-duplicate of a chosen sentence.
    """
    article_count = len(set(articles.tolist()))
    per_article = -(-limit // article_count) if article_count < limit else 1
    chosen: list[int] = []
    taken: dict[int, int] = {}
    available = set(range(len(relevance)))
    while available and len(chosen) < limit:
        best, best_score = -1, -np.inf
        for i in sorted(available):
            redundancy = max((float(similarity[i, j]) for j in chosen), default=0.0)
            score = balance * float(relevance[i]) - (1 - balance) * redundancy
            if score > best_score:
                best, best_score = i, score
        available.discard(best)
        article = int(articles[best])
        if taken.get(article, 0) >= per_article:
            continue
        if any(
            _near_duplicate(best, j, raw_similarity=raw_similarity, token_sets=token_sets)
            for j in chosen
        ):
            continue
        chosen.append(best)
        taken[article] = taken.get(article, 0) + 1
    return chosen


def _near_duplicate(
    i: int, j: int, *, raw_similarity: np.ndarray, token_sets: Sequence[frozenset[str]]
) -> bool:
    if raw_similarity[i, j] >= DUPLICATE_COSINE:
        return True
    union = token_sets[i] | token_sets[j]
    return bool(union) and len(token_sets[i] & token_sets[j]) / len(union) >= DUPLICATE_JACCARD


def _centered(vectors: np.ndarray) -> np.ndarray:
    """Vectors minus their mean, renormalised: e5 cosines all sit high; this spreads them."""
    if len(vectors) < 2:
        return vectors
    centered = vectors - vectors.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(centered, axis=1, keepdims=True)
    return centered / np.where(norms > 0, norms, 1.0)


def _lead_bonus(position: int) -> float:
    return LEAD_BONUS[position] if position < len(LEAD_BONUS) else 0.0
