"""Phrases in a sentence as character spans: the shared pieces of the answer finders."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import NamedTuple

from index.search.tokens import words

#: Character offsets ``(start, end)`` into a sentence.
Span = tuple[int, int]


class Found(NamedTuple):
    """The phrases of one kind in a sentence."""

    spans: list[Span]  #: phrases of the kind the question does not already hold
    doubtful: int  #: phrases that may be of the kind, or not: any of them makes a mark unsure


def held(text: str, question_words: frozenset[str]) -> bool:
    """Whether every word of ``text`` is one of the question's."""
    found = set(words(text))
    return bool(found) and found <= question_words


def overlaps(span: Span, others: Collection[Span]) -> bool:
    """Whether ``span`` shares a character with any of ``others``."""
    return any(span[0] < end and start < span[1] for start, end in others)


def merged(spans: list[Span], sentence: str) -> list[Span]:
    """Spans that overlap or stand next to each other (only spaces between) as one."""
    joined: list[Span] = []
    for start, end in sorted(spans):
        if joined and (start <= joined[-1][1] or not sentence[joined[-1][1] : start].strip()):
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def matches(patterns: Collection[re.Pattern[str]], sentence: str) -> Iterator[Span]:
    """Each match's span: its group ``t`` when the pattern has one, else the whole match."""
    for pattern in patterns:
        for match in pattern.finditer(sentence):
            yield match.span("t") if "t" in pattern.groupindex else match.span()
