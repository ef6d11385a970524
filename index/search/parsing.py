"""A question as the index reads it: slips and chat spellings written as the articles write them.

Tokens, their weights (a word no sentence has is the rarest of all), the short forms and compound
words they may stand for, and the kind of answer asked for: one :class:`ParsedQuestion`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from index.search.colloquial import written_forms
from index.search.features import ParsedQuestion
from index.search.questions import answer_kind
from index.search.shortforms import ShortForms
from index.search.tokens import WORD, root_words, tokenize, words
from index.storage.lexical import BM25Index

if TYPE_CHECKING:  # torch is imported only when the cross-encoder is used
    pass


#: A question word this long that no sentence has is read as a typing slip of a known one.
MIN_CORRECTED = 4
#: The shortest part a compound word is cut into ("kerjasama": "kerja" and "sama").
MIN_PART = 3


class QuestionParser:
    """Reads questions against one index version's words (BM25) and short forms."""

    def __init__(self, lexical: BM25Index, shortforms: ShortForms) -> None:
        self.lexical = lexical
        self.shortforms = shortforms

    def parse(self, question: str) -> ParsedQuestion:
        """``question``'s tokens, their weights, and the words they may stand for."""
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

    def respelled(self, question: str) -> str:
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
