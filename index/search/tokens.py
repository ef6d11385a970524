"""Indonesian word tokens for the lexical side: lower-cased, stemmed, numbers kept whole."""

from __future__ import annotations

import re
from functools import lru_cache

# A number keeps its thousands dots and decimal commas (11.000, 1.500.000, 3,5, 10.30);
# a word keeps letters only, so "Jong-un" and "G - 8" give the same parts.
#: A word or a number as written (what ``word_forms`` finds).
WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
# Thousands grouped by dots, maybe with decimals: "11.000", "1.500.000", "2.500,75". A reader
# types "11000" as often as "11.000"; both are the token "11000". "10.30" (a time) is no group.
_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")

#: What the tokens stored in an index were made by. Raise it whenever ``tokenize`` changes the
#: token of some text: an index holding older tokens is then tokenised again on its next build
#: (``index.storage.versions`` records the number; nothing is embedded again).
#: 1: numbers as written. 2: thousands dots dropped ("11.000" -> "11000").
TOKENS_VERSION = 2

#: Words that carry no topic: function words and the question words themselves.
STOPWORDS = frozenset(
    """
    ada adalah agar akan akankah aku anda antara apa apakah atas atau bagaimana bagaimanakah bagi
    bahwa baik bapak beberapa belum berapa berapakah bisa bukan dalam dan dapat dari daripada di
    dia dengan demikian dimana dimanakah dirinya engkau hal hanya hingga ia ialah ini itu jadi
    jika juga kah kalau kami kamu kapan kapankah karena ke kemana kenapa kepada ketika kita lah
    lain lalu maka mana manakah masih mengapa mereka meski namun nya oleh pada para pun saat
    saja sajakah sampai sang saya se sebagai sebuah sedang sehingga sejak selain seorang
    serta seperti siapa siapakah sudah supaya tak telah tentang tersebut tetapi tidak untuk
    yaitu yakni yang
    """.split()
)


@lru_cache(maxsize=1)
def root_words() -> frozenset[str]:
    """The Indonesian root words PySastrawi knows (about 30,000): "nasi", "resep", "tentara"."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return frozenset(word.strip() for word in StemmerFactory().get_words() if word.strip())


@lru_cache(maxsize=1)
def _stemmer() -> object:
    """PySastrawi's stemmer over ``root_words`` (``stem`` caches its results itself)."""
    from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary
    from Sastrawi.Stemmer.Stemmer import Stemmer

    return Stemmer(ArrayDictionary(root_words()))


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """Indonesian stem of one lower-case word ("mengirimkan" -> "kirim"); short words stay."""
    if len(word) <= 3 or not word.isalpha():
        return word
    stemmed: str = _stemmer().stem(word)  # type: ignore[attr-defined]
    return stemmed or word


def word_forms(text: str) -> list[str]:
    """Word and number tokens as written (case kept), in order."""
    return WORD.findall(text)


def words(text: str) -> list[str]:
    """Lower-case word and number tokens, unstemmed, in order; "11.000" is "11000"."""
    return [_plain_number(form.lower()) for form in word_forms(text)]


def _plain_number(form: str) -> str:
    return form.replace(".", "") if _GROUPED.fullmatch(form) else form


def tokenize(text: str) -> list[str]:
    """Stemmed lexical tokens of a text, stopwords removed: what BM25 indexes and matches."""
    return [stem(word) for word in words(text) if word not in STOPWORDS]
