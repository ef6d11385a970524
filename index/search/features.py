"""What a candidate sentence is scored on: one row of numbers per sentence, from pure inputs.

Nothing here touches the database, FAISS or the model: the searcher hands over the parsed
question, the candidate sentences, their chunks' cosines and their BM25 scores, and gets a
matrix back. ``python -m index tune`` computes the very same rows to fit the ranker's weights.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from index.search.questions import AnswerKind, Focus, focus_in, holds_answer_kind, question_focus
from index.search.tokens import STOPWORDS, word_forms, words

#: What each candidate sentence is scored on, before the question's length is brought in.
BASE_FEATURES = (
    "dense",  # cosine of the question with the sentence's chunk, minus the best chunk's
    "dense_rank",  # 1 / (1 + rank of the sentence's chunk by that cosine): 1 for the best chunk
    "dense_top",  # the sentence's chunk is the nearest one
    "lexical",  # BM25 of the sentence, over the best candidate's
    "coverage",  # idf-weighted share of the question's words the sentence has
    "context",  # the same share for the sentence with its neighbours (one before, one after)
    # ... for the sentence with its article's first sentence, where the article names what it
    # is about: in "Arsiteknya bernama Budi Santoso", "-nya" is the monument the first names
    "lead_context",
    "phrase",  # share of the question's word pairs found as pairs in the sentence
    "names",  # share of the question's names the sentence has (capitalised words, or those
    # of a question typed in lower case that the candidates write capitalised)
    "missing",  # idf of the rarest question word the chunk lacks, over the rarest possible
    "novelty",  # share of the sentence's words the question does not have
    "length",  # log of the sentence's word count, over log 50
    "lead",  # first sentence of its article
    "kind_quantity",  # a number that is not a date (question asks "berapa")
    "kind_time",  # a date or time ("kapan", "tahun berapa")
    "kind_person",  # a name ("siapa")
    "kind_place",  # a place phrase ("di mana", "di negara manakah")
    "kind_name",  # a name or acronym ("apa nama", "perusahaan apakah")
    "kind_clause",  # a reason, manner or definition ("mengapa", "bagaimana", "apa itu")
    "no_kind",  # the question asks for a kind the sentence does not hold
    "focus",  # it has the noun the question asks about ("berapa penumpang", "desa apakah")
    "focus_slot",  # ... where an answer stands: "120 penumpang", "Desa Sukamaju"
)
#: The question's length, in words, at which the length factor is 1 (it stops at 2).
LONG_QUESTION = 20
#: What each candidate sentence is scored on, in column order: every base feature, then each
#: again times the question's length (``len(words) / LONG_QUESTION``, at most 2). A long
#: question shares many words with the sentence it was asked of, so the words count for more;
#: a short one leans on the embedding. The fitted weights decide by how much.
FEATURES = BASE_FEATURES + tuple(f"{name}*question_length" for name in BASE_FEATURES)

_KIND_COLUMN = {
    AnswerKind.QUANTITY: "kind_quantity",
    AnswerKind.TIME: "kind_time",
    AnswerKind.PERSON: "kind_person",
    AnswerKind.PLACE: "kind_place",
    AnswerKind.NAME: "kind_name",
    AnswerKind.REASON: "kind_clause",
    AnswerKind.MANNER: "kind_clause",
    AnswerKind.DEFINITION: "kind_clause",
}
_COLUMN = {name: i for i, name in enumerate(FEATURES)}
_CAPITALISED = re.compile(r"\b[A-Z][\w-]*")


class CandidateSentence(Protocol):
    """What the features need to know of a candidate sentence."""

    @property
    def chunk_id(self) -> int: ...  # noqa: D102

    @property
    def article_key(self) -> str: ...  # noqa: D102

    @property
    def position(self) -> int: ...  # noqa: D102

    @property
    def text(self) -> str: ...  # noqa: D102

    @property
    def tokens(self) -> tuple[str, ...]: ...  # noqa: D102


@dataclass(frozen=True, slots=True)
class ParsedQuestion:
    """A question as the ranking sees it."""

    text: str
    kind: AnswerKind
    weights: dict[str, float]  # lexical token -> idf
    words: list[str]  # lower-case words, in order
    rarest: float = 1.0  # idf of a word no sentence has: the highest possible
    known: frozenset[str] | None = None  # tokens some sentence has (None: all of them)
    # Token sets that stand for a question token: a short form's long form's tokens, and back
    # ("damkar": {"madam", "bakar"}). A sentence with all of one set has the token.
    alternatives: Mapping[str, frozenset[frozenset[str]]] = field(default_factory=dict)

    @property
    def length(self) -> float:
        """The question's length in words over ``LONG_QUESTION``, at most 2."""
        return min(len(self.words) / LONG_QUESTION, 2.0)

    @property
    def focus(self) -> Focus | None:
        """The noun the question asks about, if it names one."""
        return question_focus(self.text)

    @property
    def unknown(self) -> float:
        """Idf-weighted share of the question's tokens that no sentence has."""
        total = sum(self.weights.values())
        if self.known is None or total <= 0:
            return 0.0
        return sum(w for t, w in self.weights.items() if t not in self.known) / total

    @property
    def names(self) -> set[str]:
        """Words of the capitalised words after the first word: the names the question gives.

        In lower-case words, as ``words`` splits them: "Jong-un" gives "jong" and "un".
        """
        found = _CAPITALISED.findall(self.text)
        first = found[0] if found and self.text.lstrip().startswith(found[0]) else None
        return {word for form in found if form != first for word in words(form)}

    def names_in(self, sentences: Iterable[str]) -> set[str]:
        """The question's names, found in ``sentences`` if it is typed all in lower case.

        Those are the question's words that some sentence writes capitalised, other than as its
        first word: "utara" and "rusia" for "tentara korea utara dikirim ke rusia".
        """
        if any(character.isupper() for character in self.text):
            return self.names
        asked = {word for word in self.words if word.isalpha() and word not in STOPWORDS}
        written = {
            form.lower()
            for sentence in sentences
            for form in word_forms(sentence)[1:]
            if form[0].isupper()
        }
        return asked & written

    @property
    def expanded(self) -> set[str]:
        """The question's tokens with those of their alternatives: what BM25 is asked for."""
        return set(self.weights).union(
            *(other for sets in self.alternatives.values() for other in sets)
        )

    def has(self, token: str, tokens: set[str]) -> bool:
        """Whether ``tokens`` hold the question's ``token``, or all of one of its alternatives."""
        return token in tokens or any(other <= tokens for other in self.alternatives.get(token, ()))

    def _held(self, tokens: set[str]) -> set[str]:
        """The question's tokens that ``tokens`` hold, themselves or by an alternative."""
        held = tokens.intersection(self.weights)
        for token in self.alternatives.keys() - held:
            if self.has(token, tokens):
                held.add(token)
        return held

    def coverage(self, tokens: set[str]) -> float:
        """Idf-weighted share of the question's tokens found in ``tokens``."""
        total = sum(self.weights.values())
        if total <= 0:
            return 0.0
        held = self._held(tokens)
        return sum(w for token, w in self.weights.items() if token in held) / total

    def missing(self, tokens: set[str]) -> float:
        """Idf of the rarest question token not in ``tokens``, over the rarest possible."""
        held = self._held(tokens)
        lacking = [w for token, w in self.weights.items() if token not in held]
        return max(lacking, default=0.0) / max(self.rarest, 1e-9)

    def phrase_overlap(self, sentence_words: Sequence[str]) -> float:
        """Share of the question's neighbouring word pairs that stand together in a sentence.

        Args:
            sentence_words: the sentence's :func:`~index.search.tokens.words`.
        """
        pairs = set(itertools.pairwise(self.words))
        if not pairs:
            return 0.0
        return len(pairs & set(itertools.pairwise(sentence_words))) / len(pairs)


def sentence_features(
    query: ParsedQuestion,
    rows: Sequence[CandidateSentence],
    chunk_cosines: Mapping[int, float],
    lexical_scores: np.ndarray,
    leads: Mapping[str, Collection[str]] | None = None,
) -> np.ndarray:
    """One row of ``FEATURES`` per candidate sentence.

    Args:
        query: the parsed question.
        rows: candidate sentences; all sentences of a chunk should be among them. A row's
            neighbours are the rows of the same article one position before and after.
        chunk_cosines: cosine of the question with each candidate's chunk, by chunk id.
        lexical_scores: BM25 score of each row, in row order.
        leads: tokens of each article's first sentence, by article key, for articles whose
            first sentence is not among ``rows`` (one that is among them is read there).
    """
    matrix = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
    if not rows:
        return matrix
    best_dense = max(chunk_cosines[row.chunk_id] for row in rows)
    nearest = sorted({row.chunk_id for row in rows}, key=lambda c: -chunk_cosines[c])
    chunk_rank = {chunk_id: rank for rank, chunk_id in enumerate(nearest)}
    best_lexical = float(np.max(lexical_scores)) or 1.0
    chunk_tokens: dict[int, set[str]] = {}
    by_place: dict[tuple[str, int], set[str]] = {}
    lead_tokens = {key: set(tokens) for key, tokens in (leads or {}).items()}
    for row in rows:
        chunk_tokens.setdefault(row.chunk_id, set()).update(row.tokens)
        by_place[(row.article_key, row.position)] = set(row.tokens)
        if row.position == 0:
            lead_tokens[row.article_key] = set(row.tokens)
    question_tokens = query.expanded
    question_words = set(query.words)
    names = query.names_in(row.text for row in rows)
    kind_column = _KIND_COLUMN.get(query.kind)
    focus = query.focus
    for i, (row, lexical) in enumerate(zip(rows, lexical_scores, strict=True)):
        tokens = set(row.tokens)
        sentence_words = words(row.text)
        values = matrix[i]
        values[_COLUMN["dense"]] = chunk_cosines[row.chunk_id] - best_dense
        values[_COLUMN["dense_rank"]] = 1.0 / (1.0 + chunk_rank[row.chunk_id])
        values[_COLUMN["dense_top"]] = chunk_rank[row.chunk_id] == 0
        values[_COLUMN["lexical"]] = float(lexical) / best_lexical
        values[_COLUMN["coverage"]] = query.coverage(tokens)
        window = tokens.union(
            by_place.get((row.article_key, row.position - 1), ()),
            by_place.get((row.article_key, row.position + 1), ()),
        )
        values[_COLUMN["context"]] = query.coverage(window)
        values[_COLUMN["lead_context"]] = query.coverage(
            tokens.union(lead_tokens.get(row.article_key, ()))
        )
        values[_COLUMN["phrase"]] = query.phrase_overlap(sentence_words)
        values[_COLUMN["names"]] = len(names & set(sentence_words)) / len(names) if names else 0.0
        values[_COLUMN["missing"]] = query.missing(chunk_tokens[row.chunk_id])
        values[_COLUMN["novelty"]] = len(tokens - question_tokens) / len(tokens) if tokens else 0.0
        values[_COLUMN["length"]] = min(math.log1p(len(sentence_words)) / math.log(50), 1.5)
        values[_COLUMN["lead"]] = row.position == 0
        if kind_column is not None:
            holds = holds_answer_kind(row.text, query.kind, question_words)
            values[_COLUMN[kind_column]] = holds
            values[_COLUMN["no_kind"]] = not holds
        if focus is not None:
            named, by_answer = focus_in(row.text, focus, tokens)
            values[_COLUMN["focus"]] = named
            values[_COLUMN["focus_slot"]] = by_answer
    base = len(BASE_FEATURES)
    matrix[:, base:] = matrix[:, :base] * query.length
    return matrix
