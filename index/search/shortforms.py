"""Short forms and their long forms: "KPK" is "Komisi Pemberantasan Korupsi", "timnas" too.

Two sources: the definitions the articles give once in parentheses ("Pemadam Kebakaran
(Damkar)", "KPK (Komisi Pemberantasan Korupsi)") and the names they write with a hyphen that
readers type as one word ("GO-JEK" or "GO - JEK": "gojek"; "e-KTP": "ektp"), found when they
are indexed and stored with the index version (``shortforms.json``); and a small shipped list
of common Indonesian news short forms (``index/search/shortforms.tsv``). A question's short form then
also matches the long form's words, and a long form the short one
(``ShortForms.alternatives``). The cross-encoder reads a question's short form as each sentence
it reads writes it (``ShortForms.worded_as``): "korut" is "Korea Utara" beside a sentence that
writes only that. The quoted sentences stay as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from index.search.tokens import WORD, tokenize

#: The shipped list: one "short<TAB>long" a line; "#" starts a comment.
SHIPPED_FILE = Path(__file__).with_name("shortforms.tsv")
#: Where an index version keeps the definitions its articles give.
DEFINITIONS_FILE = "shortforms.json"

MAX_LONG_WORDS = 6
_SHORT = re.compile(r"[A-Za-z0-9]{2,8}")
_VOWELS = frozenset("aeiou")
# Words a long form may hold without giving a letter to its short form.
_SKIPPABLE = frozenset("dan dari di ke untuk atas bagi serta the of and for".split())
# "(" with what stands inside, and the text before it.
_PARENTHESES = re.compile(r"\(([^()]{1,80})\)")
_LONG_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
# A name written with a hyphen, with or without spaces around it: "GO-JEK", "GO - JEK".
_HYPHENED = re.compile(r"(?<![\w-])([A-Za-z]{1,12})(?:-| - )([A-Za-z]{1,12})(?![\w-])")
# What ends the text a long form before "(" may come from: a clause or sentence break.
_BREAK = re.compile(r"[.;:!?\"“”()\[\]]|,\s")


def _syllable_starts(word: str) -> set[int]:
    """Where a short form's piece may start in ``word``: its start, or a consonant after a vowel."""
    return {0} | {
        i
        for i in range(1, len(word))
        if word[i] not in _VOWELS and word[i].isalpha() and word[i - 1] in _VOWELS
    }


def _pieces_make(short: str, long_words: Sequence[str], *, min_piece: int) -> bool:
    """Whether ``short`` is made of one piece of each long word, in order.

    A piece starts where a syllable starts and is at least ``min_piece`` letters; a word in
    ``_SKIPPABLE`` may give none.
    """
    words = [word.lower() for word in long_words]

    @cache
    def fits(at: int, word_index: int) -> bool:
        if word_index == len(words):
            return at == len(short)
        word = words[word_index]
        if word in _SKIPPABLE and fits(at, word_index + 1):
            return True
        for start in _syllable_starts(word):
            for end in range(start + min_piece, len(word) + 1):
                piece = word[start:end]
                if not short.startswith(piece, at):
                    break
                if fits(at + len(piece), word_index + 1):
                    return True
        return False

    return fits(0, 0)


def is_definition(short: str, long_words: Sequence[str]) -> bool:
    """Whether ``short`` plausibly stands for ``long_words``: "KPK" for "Komisi ... Korupsi".

    The short form is one token of 2-8 letters or digits with at least two letters. Mostly
    upper case ("KPK", "BMKG", "PT2"), each long word gives it a piece starting where a
    syllable starts (usually its initial); otherwise ("Damkar", "Pemprov"), it must be
    capitalised or all lower case and each piece at least two letters ("dam" + "kar"). The
    long form has 2-6 words and is no longer the short one.
    """
    if not _SHORT.fullmatch(short) or sum(c.isalpha() for c in short) < 2:
        return False
    if not 2 <= len(long_words) <= MAX_LONG_WORDS:
        return False
    lowered = short.lower()
    if any(word.lower() == lowered for word in long_words):
        return False
    upper = sum(c.isupper() for c in short)
    letters = "".join(c for c in lowered if c.isalpha())
    if upper >= 2 and upper * 2 >= len(letters):
        return _pieces_make(lowered, long_words, min_piece=1)
    if not (short[1:].islower() or short.islower()):
        return False
    if not all(word[0].isupper() for word in long_words if word.lower() not in _SKIPPABLE):
        return False  # "Pemadam Kebakaran (Damkar)": such a long form is a name
    return _pieces_make(lowered, long_words, min_piece=2)


def _long_words(text: str) -> list[str]:
    """Words of ``text``; a hyphenated word gives each part ("Bangsa-Bangsa")."""
    return [part for word in _LONG_WORD.findall(text) for part in word.split("-")]


def find_definitions(sentence: str) -> list[tuple[str, str]]:
    """The (short, long) forms ``sentence`` defines in parentheses, both ways round.

    "Komisi Pemberantasan Korupsi (KPK)" and "KPK (Komisi Pemberantasan Korupsi)" both give
    ("KPK", "Komisi Pemberantasan Korupsi"); "(21)", "(Reuters)" or "(foto: Antara)" give none.
    """
    found: list[tuple[str, str]] = []
    for match in _PARENTHESES.finditer(sentence):
        inside = match.group(1).strip()
        before = sentence[: match.start()]
        breaks = list(_BREAK.finditer(before))
        before = before[breaks[-1].end() :] if breaks else before
        if _SHORT.fullmatch(inside):  # "Long Form (SHORT)": the fewest words that make it
            words = _long_words(before)[-MAX_LONG_WORDS:]
            for count in range(2, len(words) + 1):
                long_words = words[-count:]
                if long_words[0].lower() in _SKIPPABLE:
                    continue
                if is_definition(inside, long_words):
                    found.append((inside, " ".join(long_words)))
                    break
            continue
        # "SHORT (Long Form)": every word inside makes the word before.
        if not re.fullmatch(r"[^\W\d_]+(?:[ -][^\W\d_]+)*", inside):
            continue
        previous = re.search(r"(?<![^\W_])([A-Za-z0-9]{2,8})\s*$", before)
        if previous and is_definition(previous.group(1), _long_words(inside)):
            found.append((previous.group(1), " ".join(_long_words(inside))))
    return found


def find_joined_names(sentence: str) -> list[tuple[str, str]]:
    """The names ``sentence`` writes with a hyphen, with the one word readers type for them.

    "GO-JEK", "GO - JEK" and "Go-Jek" give ("gojek", "GO-JEK"); "e-KTP" gives ("ektp",
    "e-KTP"). A hyphenated word without a capital ("sehari-hari", "kereta-api") or a repeated
    one ("Anak-anak") is a word form, not a name.
    """
    found = []
    for match in _HYPHENED.finditer(sentence):
        first, second = match.groups()
        name = first + second
        if first.lower() == second.lower() or name == name.lower():
            continue
        # With spaces, a dash may part a dateline from its story ("JAKARTA - Presiden"): the
        # two parts must be written alike ("GO - JEK", "Go - Jek"), or the first a prefix.
        spaced = " " in match.group(0)
        if spaced and len(first) > 2 and _style(first) != _style(second):
            continue
        found.append((name.lower(), f"{first}-{second}"))
    return found


def _style(word: str) -> str:
    return "upper" if word.isupper() else "title" if word.istitle() else "other"


def find_all_definitions(sentences: Iterable[str]) -> list[tuple[str, str]]:
    """Every distinct (short, long) definition of ``sentences``, in order of first finding.

    Definitions in parentheses (:func:`find_definitions`) and hyphenated names
    (:func:`find_joined_names`).
    """
    found: dict[tuple[str, str], None] = {}
    for sentence in sentences:
        pairs = find_definitions(sentence) if "(" in sentence else []
        if "-" in sentence:
            pairs += find_joined_names(sentence)
        for pair in pairs:
            found.setdefault(pair, None)
    return list(found)


def save_definitions(folder: Path, definitions: Sequence[tuple[str, str]]) -> None:
    """Write ``definitions`` into an index version's folder."""
    (folder / DEFINITIONS_FILE).write_text(
        json.dumps([list(pair) for pair in definitions], ensure_ascii=False), encoding="utf-8"
    )


def load_definitions(folder: Path) -> list[tuple[str, str]]:
    """The definitions an index version's folder keeps (none for a version saved without them)."""
    path = folder / DEFINITIONS_FILE
    if not path.is_file():
        return []
    return [(str(short), str(long)) for short, long in json.loads(path.read_text("utf-8"))]


def shipped_list(path: Path = SHIPPED_FILE) -> list[tuple[str, str]]:
    """The (short, long) pairs of the shipped list, with its ministries' ministers."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            short, long = line.split("\t", 1)
            pairs.append((short.strip(), long.strip()))
    return pairs + _ministers(pairs)


def _ministers(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The minister of each ministry in ``pairs`` not listed yet: "kemenag" gives "menag".

    News writes both by one rule: "Kemenag" (Kementerian Agama), "Menag" (Menteri Agama).
    """
    listed = {short.lower() for short, _ in pairs}
    found = []
    for short, long in pairs:
        office = long.lower().removeprefix("kementerian ")
        minister = short.lower().removeprefix("kemen")
        if office != long.lower() and minister != short.lower() and f"men{minister}" not in listed:
            found.append((f"men{minister}", f"menteri {office}"))
    return found


@dataclass(frozen=True, slots=True)
class ShortForms:
    """Which token runs stand for which others, both ways: ("damkar",) and ("madam", "bakar")."""

    equal: dict[tuple[str, ...], frozenset[tuple[str, ...]]]
    longest: int = 1
    #: One-word short forms (lower case) and how the long forms are written: "korut": ("Korea
    #: Utara",).
    written: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> ShortForms:
        """The short forms of (short, long) pairs, as lexical tokens."""
        equal: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        written: dict[str, dict[str, None]] = {}
        for short, long in pairs:
            a, b = tuple(tokenize(short)), tuple(tokenize(long))
            if not a or not b or a == b:
                continue
            equal.setdefault(a, set()).add(b)
            equal.setdefault(b, set()).add(a)
            if len(a) == 1:
                written.setdefault(a[0], {})[long] = None
        return cls(
            {key: frozenset(value) for key, value in equal.items()},
            max((len(key) for key in equal), default=1),
            {short: tuple(longs) for short, longs in written.items()},
        )

    def worded_as(self, question: str, said: Collection[str]) -> str:
        """``question`` with each one-word short form written as a sentence writes it.

        ``said`` is the sentence's tokens (as stored with it). "siapa yg menangkap tentara korut" beside "... tentara Korea Utara." reads "... tentara
        Korea Utara": a reader of the pair (the cross-encoder) need not know the short form. A
        short form the sentence writes too, or none of whose long forms it has, stays as typed.
        """
        if not self.written:
            return question
        said = frozenset(said)

        def as_said(match: re.Match[str]) -> str:
            form = match.group(0)
            short = tokenize(form)
            if len(short) != 1 or short[0] in said:
                return form
            for long in self.written.get(short[0], ()):
                if said.issuperset(tokenize(long)):
                    return long
            return form

        return WORD.sub(as_said, question)

    def alternatives(self, tokens: Sequence[str]) -> dict[str, frozenset[frozenset[str]]]:
        """For each question token in a short or long form, the token sets that stand for it.

        Runs are matched longest first and do not overlap: in "dewan perwakilan rakyat daerah"
        the DPRD long form wins over DPR's. A token is matched by a sentence that has it, or all
        the tokens of one of its alternatives.
        """
        found: dict[str, set[frozenset[str]]] = {}
        at = 0
        while at < len(tokens):
            for size in range(min(self.longest, len(tokens) - at), 0, -1):
                run = tuple(tokens[at : at + size])
                others = self.equal.get(run)
                if others:
                    for token in run:
                        found.setdefault(token, set()).update(frozenset(o) for o in others)
                    at += size
                    break
            else:
                at += 1
        return {token: frozenset(sets) for token, sets in found.items()}


@lru_cache(maxsize=1)
def shipped() -> ShortForms:
    """The shipped list's short forms (read once)."""
    return ShortForms.of(shipped_list())
