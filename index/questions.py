"""What kind of answer a question asks for, and whether a sentence holds one."""

from __future__ import annotations

import enum
import re

from index.tokens import words


class AnswerKind(enum.StrEnum):
    """The kind of thing a question word asks for."""

    QUANTITY = "quantity"  # berapa
    TIME = "time"  # kapan, tahun berapa, tanggal berapa
    PERSON = "person"  # siapa
    PLACE = "place"  # di mana, ke mana, dari mana
    REASON = "reason"  # mengapa, kenapa
    MANNER = "manner"  # bagaimana
    OTHER = "other"  # apa, or no question word


# FacQA-style and chat-style text: "di mana", "dimana", "Dimanakah", "di manakah".
_NORMALISE = (
    (re.compile(r"\b(di|ke|dari)\s+mana(kah)?\b"), r"\1mana"),
    (
        re.compile(r"\b(tahun|tanggal|tgl|bulan|hari|pukul|jam|abad)\s+(berapa|apa)(kah)?\b"),
        "kapan",
    ),
    (re.compile(r"\b(sejak|sampai|hingga)\s+kapan(kah)?\b"), "kapan"),
)

_KIND_BY_WORD = {
    "berapa": AnswerKind.QUANTITY,
    "berapakah": AnswerKind.QUANTITY,
    "kapan": AnswerKind.TIME,
    "kapankah": AnswerKind.TIME,
    "bilamana": AnswerKind.TIME,
    "siapa": AnswerKind.PERSON,
    "siapakah": AnswerKind.PERSON,
    "dimana": AnswerKind.PLACE,
    "dimanakah": AnswerKind.PLACE,
    "kemana": AnswerKind.PLACE,
    "kemanakah": AnswerKind.PLACE,
    "darimana": AnswerKind.PLACE,
    "darimanakah": AnswerKind.PLACE,
    "mengapa": AnswerKind.REASON,
    "kenapa": AnswerKind.REASON,
    "bagaimana": AnswerKind.MANNER,
    "bagaimanakah": AnswerKind.MANNER,
    "apa": AnswerKind.OTHER,
    "apakah": AnswerKind.OTHER,
}


def answer_kind(question: str) -> AnswerKind:
    """The kind of answer the first question word in ``question`` asks for."""
    text = question.lower()
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    for word in words(text):
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
_QUANTITY = re.compile(
    r"\b\d+(?:[.,]\d+)*\b|\b(?:" + _NUMBER_WORDS.replace(" ", "|") + r")\b", re.I
)
_REASON = re.compile(
    r"\b(?:karena|sebab|disebabkan|akibat|lantaran|oleh karena|sehingga|agar|supaya|demi|untuk)\b",
    re.IGNORECASE,
)
_MANNER = re.compile(r"\b(?:dengan|melalui|cara|secara|lewat)\b", re.IGNORECASE)
_PLACE = re.compile(
    r"\b(?:di|ke|dari|dekat|wilayah|kota|kabupaten|provinsi|desa|kecamatan|pulau|jalan|jl)\s+"
    r"[A-Z][\w-]*",
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[- ][A-Z][\w-]*)*")


def _outside_question(matches: list[str], question_words: set[str]) -> bool:
    """Whether some match brings words the question does not already have."""
    return any(set(words(match)) - question_words for match in matches)


def holds_answer_kind(sentence: str, kind: AnswerKind, question_words: set[str]) -> bool:
    """Whether ``sentence`` has a phrase of the asked kind that is not just the question's words."""
    if kind is AnswerKind.QUANTITY:
        without_dates = _DATE.sub(" ", sentence)
        return _outside_question(_QUANTITY.findall(without_dates), question_words)
    if kind is AnswerKind.TIME:
        return _outside_question(_DATE.findall(sentence), question_words)
    if kind is AnswerKind.PERSON:
        return _outside_question(_NAME.findall(sentence), question_words)
    if kind is AnswerKind.PLACE:
        return _outside_question(_PLACE.findall(sentence), question_words)
    if kind is AnswerKind.REASON:
        return bool(_REASON.search(sentence))
    if kind is AnswerKind.MANNER:
        return bool(_MANNER.search(sentence))
    return True
