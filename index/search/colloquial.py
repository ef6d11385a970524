"""How a word typed in a chat may be written in an article: "nyebar" -> "menyebar".

Readers in a group type Jakarta-style colloquial Indonesian, which the articles never write.
Beyond the fixed chat spellings of ``index.search.chat.CHAT_WORDS`` ("brp", "yg"), a few regular
patterns make most of the rest, and each can be undone by rule:

- the nasal prefix without its "me-": "nyebar" (menyebar), "nyari" (mencari), "ngambil"
  (mengambil), "nulis" (menulis), "ngeliput" (meliput);
- the suffix "-in" for "-kan" or "-i": "umumin" (umumkan), "ngumumin" (mengumumkan);
- "e" for "a" in the last syllable: "cepet" (cepat), "dapet" (dapat), "ditangkep" (ditangkap);
  and a final "-e" for "-ai": "pake" (pakai), "sampe" (sampai);
- the vowels left out: "prnh" (pernah), "tmpt" (tempat).

:func:`written_forms` lists what a word may stand for; the searcher takes the first the index
knows, and only for a word no article has, so a word the articles use is never rewritten.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from index.search.tokens import root_words

_VOWELS = frozenset("aeiou")
# "e" in a closed last syllable: "cepet", "dapet", "ditangkep" (but not "pergi": open).
_LAST_E = re.compile(r"e([^aeiou]{1,2})$")
#: Words shorter than this are left alone by the vowel rule: "tp", "sj" are in CHAT_WORDS and
#: three consonants are more often an unknown short form than a word without vowels.
MIN_SKELETON = 4


def written_forms(word: str) -> list[str]:
    """Formal spellings ``word`` (lower case, one word) may stand for, most likely first.

    Not ``word`` itself. Prefix, suffix and vowel rules combine ("ngumumin" gives
    "mengumumkan"); a word without vowels gives the dictionary root words with its letters as
    consonants ("prnh": "pernah"), most likely first by length.
    """
    if not word.isalpha():
        return []
    forms = [
        full
        for start in _prefixed(word)
        for ending in _suffixed(start)
        for full in _vowelled(ending)
    ]
    if not set(word) & _VOWELS and len(word) >= MIN_SKELETON:
        forms.extend(_roots_by_skeleton().get(word, ()))
    return [form for form in dict.fromkeys(forms) if form != word]


def _prefixed(word: str) -> list[str]:
    """``word``, and the "me-" forms of a bare nasal prefix: "nyebar" -> "menyebar"."""
    forms = [word]
    if word.startswith("nge") and len(word) > 5 and word[3] not in _VOWELS:
        forms += [f"me{word[3:]}", f"menge{word[3:]}"]  # "ngeliput": meliput
    elif word.startswith("ny") and len(word) > 4 and word[2] in _VOWELS:
        forms += [f"me{word}", f"menc{word[2:]}"]  # "nyebar": menyebar; "nyari": mencari
    elif word.startswith("ng") and len(word) > 4 and word[2] in _VOWELS:
        forms.append(f"me{word}")  # "ngambil": mengambil
    elif word[0] in "mn" and len(word) > 4 and word[1] in _VOWELS:
        forms.append(f"me{word}")  # "nulis": menulis, "mukul": memukul
    return forms


def _suffixed(word: str) -> list[str]:
    """``word``, and for an "-in" ending the "-kan" and "-i" forms: "umumin" -> "umumkan"."""
    if word.endswith("in") and len(word) > 5:
        return [word, f"{word[:-2]}kan", f"{word[:-2]}i"]
    return [word]


def _vowelled(word: str) -> list[str]:
    """``word``, and its last syllable's "e" as "a" ("cepet": cepat), final "-e" as "-ai"."""
    forms = [word]
    if len(word) > 3 and word.endswith("e") and word[-2] not in _VOWELS:
        forms.append(f"{word[:-1]}ai")  # "pake": pakai, "sampe": sampai
    if len(word) > 4 and _LAST_E.search(word):
        forms.append(_LAST_E.sub(r"a\1", word))
    return forms


def skeleton(word: str) -> str:
    """``word`` without its vowels: "pernah" -> "prnh"."""
    return "".join(letter for letter in word if letter not in _VOWELS)


@lru_cache(maxsize=1)
def _roots_by_skeleton() -> dict[str, tuple[str, ...]]:
    """Dictionary root words by their skeleton, shorter first (a chat writer drops vowels).

    Only words that begin with a consonant: "adlh" is no skeleton a reader types for "adalah".
    """
    found: dict[str, list[str]] = defaultdict(list)
    for root in root_words():
        if root.isalpha() and root[0] not in _VOWELS and len(root) >= MIN_SKELETON:
            found[skeleton(root)].append(root)
    return {key: tuple(sorted(roots, key=lambda r: (len(r), r))) for key, roots in found.items()}
