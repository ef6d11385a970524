"""What kind of answer a question asks for, and whether a sentence holds one."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from functools import lru_cache
from typing import NamedTuple

from index.search.tokens import STOPWORDS, stem, word_forms, words


class AnswerKind(enum.StrEnum):
    """The kind of thing a question word asks for."""

    QUANTITY = "quantity"  # berapa
    TIME = "time"  # kapan, tahun berapa, tanggal berapa
    PERSON = "person"  # siapa
    PLACE = "place"  # di mana, ke mana, dari mana, di negara manakah
    REASON = "reason"  # mengapa, kenapa, apa penyebab
    MANNER = "manner"  # bagaimana
    NAME = "name"  # apa nama, perusahaan apakah, kepanjangan dari
    DEFINITION = "definition"  # apa itu, apa yang dimaksud dengan, pengertian
    OTHER = "other"  # apa, or no question word


_PLACE_NOUNS = (
    "negara|provinsi|propinsi|kota|kabupaten|daerah|pulau|wilayah|desa|kecamatan|benua|"
    "bandara|pelabuhan|sungai|gunung|danau|lokasi|tempat|kawasan|teluk|laut|selat|stasiun"
)
_TIME_NOUNS = "tahun|tanggal|tgl|bulan|hari|pukul|jam|abad|dekade|musim|masa|periode"
_ASK = r"(?:apa|apakah|mana|manakah|berapa|berapakah)"
# Nouns that ask for a cause, before "apa" ("apa penyebab") or after it ("penyebabnya apa").
_CAUSE_NOUNS = "alasan|penyebab|sebab"

# Rewrites into one marker word per kind, FacQA's and chat forms alike: "di mana", "dimana",
# "Dimanakah", "di negara manakah", "tahun berapa", "apa yang dimaksud dengan" ...
_NORMALISE = (
    (re.compile(r"\b(?:" + _TIME_NOUNS + r")\s+" + _ASK + r"\b"), " kapan "),
    (re.compile(r"\b(?:sejak|sampai|hingga)\s+kapan(?:kah)?\b"), " kapan "),
    (re.compile(r"\b(?:di|ke|dari)\s+(?:\w+\s+){0,2}?mana(?:kah)?\b"), " dimana "),
    (re.compile(r"\b(?:di|ke|dari)mana(?:kah)?\b"), " dimana "),
    (re.compile(r"\b(?:" + _PLACE_NOUNS + r")\s+(?:apa|apakah|mana|manakah)\b"), " dimana "),
    (
        re.compile(
            r"\b(?:apa|apakah)\s+(?:yang\s+)?(?:" + _CAUSE_NOUNS + r"|menyebabkan|membuat)\b"
        ),
        " mengapa ",
    ),
    # ... and in a chat's order, the noun first: "penyebabnya apa", "alasannya apa aja".
    (re.compile(r"\b(?:" + _CAUSE_NOUNS + r")(?:nya)?\s+(?:apa|apakah)\b"), " mengapa "),
    (re.compile(r"\b(?:arti|maksud)nya\s+(?:apa|apakah)\b"), " apaitu "),
    (
        re.compile(
            r"\b(?:apa|apakah)\s+(?:itu|yang\s+dimaksud|maksud|arti|pengertian|definisi)\b"
            r"|\byang\s+dimaksud\s+dengan\b|\b(?:pengertian|definisi)\b"
        ),
        " apaitu ",
    ),
    (
        re.compile(
            r"\b(?:apa|apakah)\s+nama\b|\b(?:(?:apa|apakah)\s+)?(?:kepanjangan|singkatan)\b"
        ),
        " apanama ",
    ),
)
# "perusahaan apakah", "partai apa": a noun, then the question word, asks for that thing's name.
_NOUN_ASK = re.compile(r"\b(\w+)\s+(?:apa|apakah|mana|manakah)\b")

_KIND_BY_WORD = {
    "berapa": AnswerKind.QUANTITY,
    "berapakah": AnswerKind.QUANTITY,
    "keberapa": AnswerKind.QUANTITY,  # "the how-many-th": answered by "ketiga", "ke-3"
    "keberapakah": AnswerKind.QUANTITY,
    "kapan": AnswerKind.TIME,
    "kapankah": AnswerKind.TIME,
    "bilamana": AnswerKind.TIME,
    "siapa": AnswerKind.PERSON,
    "siapakah": AnswerKind.PERSON,
    "dimana": AnswerKind.PLACE,
    "mengapa": AnswerKind.REASON,
    "mengapakah": AnswerKind.REASON,
    "kenapa": AnswerKind.REASON,
    "bagaimana": AnswerKind.MANNER,
    "bagaimanakah": AnswerKind.MANNER,
    "apanama": AnswerKind.NAME,
    "apaitu": AnswerKind.DEFINITION,
    "apa": AnswerKind.OTHER,
    "apakah": AnswerKind.OTHER,
}


def _noun_ask(match: re.Match[str]) -> str:
    noun = match.group(1)
    if noun in STOPWORDS or noun in _KIND_BY_WORD:
        return match.group(0)
    return f"{noun} apanama"


def answer_kind(question: str) -> AnswerKind:
    """The kind of answer the first question word in ``question`` asks for."""
    text = " ".join(words(question))
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    text = _NOUN_ASK.sub(_noun_ask, text)
    for word in text.split():
        kind = _KIND_BY_WORD.get(word)
        if kind is not None:
            return kind
    return AnswerKind.OTHER


_MONTHS = (
    "januari februari maret april mei juni juli agustus september oktober november desember "
    "jan feb mar apr jun jul agu agt sep okt nov des"
)
_DAYS = "senin selasa rabu kamis jumat jum'at sabtu minggu ahad"
_DATE = re.compile(
    r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
    r"|\b\d{1,2}\s+(?:" + _MONTHS.replace(" ", "|") + r")\b"
    r"|\b(?:" + _MONTHS.replace(" ", "|") + r")\s+\d{4}\b"
    r"|\b(?:" + _DAYS.replace(" ", "|") + r")\b"
    r"|\b(?:1[5-9]|20)\d{2}\b"
    r"|\bpukul\s+\d|\b\d{1,2}[.:]\d{2}\s*(?:wib|wita|wit)\b"
    r"|\babad\b|\b(?:kemarin|lusa|besok|tadi)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas belas puluh ratus "
    "ribu juta miliar milyar triliun seratus seribu sejuta setengah separuh puluhan ratusan "
    "ribuan jutaan belasan"
)
_FULL_MONTHS = "|".join(_MONTHS.split()[:12])
_NUMBERS = _NUMBER_WORDS.replace(" ", "|")
#: What else answers "kapan" besides a date: a month alone ("September lalu", "pada April"), the
#: edge of a period ("akhir bulan ini", "awal Agustus"), a period counted from now ("pekan
#: depan", "tiga tahun lalu", "dua pekan ke depan"), a quarter, a season, a feast ("Lebaran",
#: "H-7"), a clock time or a century with its number ("pukul 17.00", "jam delapan", "abad 16").
#: Tried before the dates, so that "pukul 17.00" is read whole. Only for a question for a time:
#: a count's rule still reads "tiga tahun" as a number.
_TIME = re.compile(
    r"\b(?:" + _FULL_MONTHS + r")\b"
    r"|\b(?:awal|akhir|pertengahan|penghujung)\s+"
    r"(?:bulan|tahun|pekan|minggu|musim|abad|dekade|" + _FULL_MONTHS + r")\b"
    r"|\b(?:pekan|minggu|bulan|tahun|musim|kuartal|triwulan|semester|dekade)\s+"
    r"(?:lalu|depan|ini|mendatang|silam|kemarin|berikutnya|sebelumnya)\b"
    r"|\b(?:\d+|" + _NUMBERS + r"|beberapa)\s+(?:detik|menit|jam|hari|pekan|minggu|bulan"
    r"|tahun|dekade|abad)\s+(?:lalu|silam|terakhir|ke\s?depan|kedepan|mendatang|lagi"
    r"|kemudian|sebelumnya)\b"
    r"|\b(?:kuartal|triwulan|semester)\s+(?:pertama|kedua|ketiga|keempat|[IV]+|\d)\b"
    r"|\bmusim\s+(?:panas|gugur|dingin|semi|hujan|kemarau)\b"
    r"|\b(?:lebaran|idul\s+fitri|idul\s+adha|natal|ramadan|ramadhan|imlek|tahun\s+baru)\b"
    r"|\bH\s*[-+]\s*\d+"
    r"|\bpukul\s+\d[\d.:]*|\bjam\s+(?:\d[\d.:]*|" + _NUMBERS + r")\b"
    r"|\babad\s+(?:ke\s*-?\s*)?(?:\d+|[IVXL]+)\b|" + _DATE.pattern,
    re.IGNORECASE,
)
#: Ordinals written out, "kedua" to "keseratus": "kekalahan ketiga" answers "kalah berapa kali".
_ORDINALS = "ke(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|seratus)"
_QUANTITY = re.compile(
    r"\b\d+(?:[.,]\d+)*\b|\b(?:" + _NUMBERS + "|" + _ORDINALS + r")\b",
    re.I,
)
# "salah satu" (one of), "satu-satunya" (the only): a number word that counts nothing.
_NOT_A_COUNT = re.compile(r"\bsalah\s+satu(?:nya)?\b|\bsatu-satunya\b", re.IGNORECASE)
_REASON = re.compile(
    r"\b(?:karena|sebab|disebabkan|akibat|lantaran|oleh karena|sehingga|agar|supaya|demi|untuk"
    r"|gara-gara|dipicu|memicu|penyebab(?:nya)?|alasan(?:nya)?|faktor|berkat|imbas(?:nya)?)\b",
    re.IGNORECASE,
)
_MANNER = re.compile(r"\b(?:dengan|melalui|cara|secara|lewat)\b", re.IGNORECASE)
#: A place: after a word that leads to one ("di", "dari", "asal", "kota"), perhaps past one
#: lower-case word ("di kawasan Kemang", "di tepi Jalan Pawiyatan"), a name of one or more
#: capitalised words ("di Stadion Manahan", "asal Swedia"): all of them, so that "di Hotel Mulia"
#: answers "di hotel mana" though the question has "hotel".
_PLACE = re.compile(
    r"\b(?:di|ke|dari|dekat|asal|wilayah|kota|kabupaten|provinsi|desa|kecamatan|pulau|jalan|jl)"
    r"\s+(?:[a-z]+\s+)?[A-Z][\w-]*(?:\s+(?:(?:dan|de|del|van|von|al|bin)\s+)?[A-Z][\w-]*)*",
)
_ACRONYM = re.compile(r"\b[A-Z]{2,}[\w-]*")
_DEFINITION = re.compile(
    r"\b(?:adalah|merupakan|ialah|yaitu|yakni|disebut|berarti|didefinisikan|dikenal sebagai)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[- ][A-Z][\w-]*)*")


def _outside_question(matches: list[str], question_words: set[str]) -> bool:
    """Whether some match brings words the question does not already have."""
    return any(set(words(match)) - question_words for match in matches)


#: A question for a match's score ("skor juve vs spurs brp", "gmn skornya") is answered by a
#: score, "2 - 1" or "21-14", not by any number ("menit ke - 63").
_SCORE_WORDS = frozenset({"skor", "skornya"})
_SCORE_KINDS = frozenset({AnswerKind.QUANTITY, AnswerKind.MANNER})
#: Two numbers of up to three digits with a dash between: not a formation ("3 - 4 - 2 - 1"), a
#: date ("17-12-2024"), nor a span of clock times or decimals ("pukul 16.00-17.00", "1,5-2").
_SCORE = re.compile(r"(?<![\d.,:-])(?<![\d-]\s)\b\d{1,3}\s?-\s?\d{1,3}\b(?!\s?-\s?\d)(?![.,:]\d)")


def holds_answer_kind(sentence: str, kind: AnswerKind, question_words: set[str]) -> bool:
    """Whether ``sentence`` has a phrase of the asked kind that is not just the question's words."""
    if kind in _SCORE_KINDS and _SCORE_WORDS & question_words:
        return bool(_SCORE.search(sentence))
    if kind is AnswerKind.QUANTITY:
        without_dates = _NOT_A_COUNT.sub(" ", _DATE.sub(" ", sentence))
        return _outside_question(_QUANTITY.findall(without_dates), question_words)
    if kind is AnswerKind.TIME:
        return _outside_question(_TIME.findall(sentence), question_words)
    if kind is AnswerKind.PERSON:
        return _outside_question(_NAME.findall(sentence), question_words)
    if kind is AnswerKind.PLACE:
        return _outside_question(_PLACE.findall(sentence), question_words)
    if kind is AnswerKind.REASON:
        return bool(_REASON.search(sentence))
    if kind is AnswerKind.MANNER:
        return bool(_MANNER.search(sentence))
    if kind is AnswerKind.NAME:
        return _outside_question(
            _NAME.findall(sentence) + _ACRONYM.findall(sentence), question_words
        )
    if kind is AnswerKind.DEFINITION:
        return bool(_DEFINITION.search(sentence))
    return True


class Focus(NamedTuple):
    """The thing a question asks about: "berapa *penumpang*", "*desa* apakah"."""

    noun: str  # its stem
    counted: bool  # True: a number stands before it in an answer; False: a name after it


_COUNT_ASK = frozenset({"berapa", "berapakah"})
_NAME_ASK = frozenset({"apa", "apakah", "mana", "manakah"})


@lru_cache(maxsize=1)
def _stopword_stems() -> frozenset[str]:
    return frozenset(stem(word) for word in STOPWORDS)


def question_focus(question: str) -> Focus | None:
    """The noun after the first "berapa", or before the first "apa"/"manakah", if any."""
    found = words(question)
    for i, word in enumerate(found):
        if word in _COUNT_ASK and i + 1 < len(found):
            noun = found[i + 1]
            if noun not in STOPWORDS and not noun[0].isdigit():
                return Focus(stem(noun), counted=True)
        if word in _NAME_ASK and i > 0:
            noun = found[i - 1]
            if noun not in STOPWORDS and not noun[0].isdigit():
                return Focus(stem(noun), counted=False)
    return None


def focus_in(
    sentence: str, focus: Focus, tokens: Collection[str] | None = None
) -> tuple[bool, bool]:
    """Whether ``sentence`` names the focus, and whether it stands where an answer would.

    "berapa penumpang" is answered by "120 penumpang" (a number up to three words before the
    noun), "desa apakah" by "Desa Sukamaju" (a capitalised word right after it). ``tokens``,
    the sentence's stored tokens (``tokenize``), if given, spare stemming its words when the
    focus is not among them: they hold the stem of every word but the stopwords.
    """
    if tokens is not None and focus.noun not in tokens and focus.noun not in _stopword_stems():
        return False, False
    forms = word_forms(sentence)
    named = by_answer = False
    for i, form in enumerate(forms):
        if stem(form.lower()) != focus.noun:
            continue
        named = True
        if focus.counted:
            before = forms[max(0, i - 3) : i]
            by_answer |= any(_QUANTITY.fullmatch(w) for w in before)
        else:
            by_answer |= i + 1 < len(forms) and forms[i + 1][0].isupper()
    return named, by_answer
