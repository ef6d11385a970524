"""The words of a quoted sentence that answer the question word, when only one phrase can.

*berapa* is answered by a number with what it counts ("11.000 tentara", "Rp 5 juta"), *kapan*
by a date ("Jumat (12/1)", "12 Januari 2018"), *siapa* by a name ("Rina Hartono"), *di mana* by
a place after di/ke/dari ("di Jakarta Timur"). A reply shows those words in bold, so a finder
here must be sure: the span is given only when the sentence has exactly one phrase of the
kind that the question does not already hold, and nothing that merely might be one (a second
number, a year no word marks as one, "pekan lalu", a capitalised first word that may be a
name or just the first word). Everything is pure: text in, character offsets out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import NamedTuple

from index.search.questions import AnswerKind
from index.search.spans import Found, Span, held, matches, merged, overlaps
from index.search.tokens import STOPWORDS, root_words, stem, words


def answer_span(sentence: str, kind: AnswerKind, question_words: Collection[str]) -> Span | None:
    """The one phrase of ``sentence`` that answers a question of ``kind``, or None if unsure.

    Args:
        sentence: the quoted sentence, as it is shown.
        kind: what the question word asks for; only quantity, time, person and place are
            marked.
        question_words: the question's words as :func:`~index.search.tokens.words` gives them: a
            phrase made of them is the question's, not its answer.
    """
    finder = _FINDERS.get(kind)
    if finder is None:
        return None
    found = finder(sentence, frozenset(question_words) - STOPWORDS)
    if len(found.spans) == 1 and found.doubtful == 0:
        return found.spans[0]
    return None


_MONTH_NAMES = (
    "Januari|Februari|Pebruari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|"
    "Nopember|Desember"
)
_MONTH = rf"(?i:{_MONTH_NAMES}|Jan|Feb|Mar|Apr|Jun|Jul|Agu|Agt|Ags|Sep|Sept|Okt|Nov|Des)\b"
_MONTH_WORD = rf"\b(?:{_MONTH_NAMES})\b"  # a bare month name, capitalised as news writes it
_YEAR = r"(?<![\w.,/])(?:1[5-9]|20)\d{2}(?![\w/]|[.,]\d)"
_NUMERIC_DATE = r"(?<![\w/.,])\d{1,2}/\d{1,2}(?:/\d{2,4})?(?![\w/])"
_DAY_MONTH = rf"(?<![\w.,/])\d{{1,2}}\s+{_MONTH}(?:\s+{_YEAR})?"
# "Minggu lalu" is last week, not last Sunday; "salat Jumat" is a prayer.
_DAY = (
    r"(?<![\w-])(?<!salat )(?<!shalat )(?<!sholat )"
    r"(?:Minggu(?!\s+(?i:lalu|depan|ini|kemarin|mendatang)\b)|Senin|Selasa|Rabu|Kamis|Jumat|"
    r"Jum'at|Sabtu|Ahad)(?![\w-])"
)
_TIME_WORDS = "pada|sejak|hingga|sampai|awal|akhir|pertengahan|medio|periode|musim|era|selama"
_DATES = tuple(
    re.compile(pattern)
    for pattern in (
        rf"{_DAY}(?:\s*\({_NUMERIC_DATE}\)|,?\s+{_DAY_MONTH})?"
        r"(?:\s+(?i:pagi|siang|sore|malam|dini\s+hari|lalu|kemarin)\b)?",
        _DAY_MONTH,
        rf"\b(?:{_MONTH_NAMES})\s+{_YEAR}",
        rf"\({_NUMERIC_DATE}\)|{_NUMERIC_DATE}",
        rf"(?i:\b(?:awal|akhir|pertengahan|medio|bulan)\s+)+{_MONTH_WORD}",
        rf"{_MONTH_WORD}\s+(?i:lalu|ini|mendatang|depan|silam|kemarin)\b",
        r"(?i:\bpukul\s+\d{1,2}(?:[.:]\d{2})?(?:\s*(?:WIB|WITA|WIT)\b)?)",
        r"(?<![\w.,])\d{1,2}[.:]\d{2}\s*(?:WIB|WITA|WIT)\b",
        rf"(?i:\btahun\s+){_YEAR}",
        rf"(?i:\b(?:{_TIME_WORDS})\s+)(?P<t>{_YEAR})",
        rf"(?P<t>{_YEAR})(?=\s+(?i:lalu|silam|mendatang)\b)",
        r"(?i:\babad\s+(?:ke-?\s?\d+|[XVI]+\b))",
    )
)
# Times a sentence gives that are no date: an answer beside them is not sure to be the one.
_RELATIVE = re.compile(
    r"(?i:\b(?:kemarin|besok|lusa|semalam|tadi)\b"
    r"|\b(?:hari|pekan|minggu|bulan|tahun|malam|pagi|siang|sore)\s+"
    r"(?:ini|lalu|depan|kemarin|mendatang|silam)\b"
    r"|\bbaru-baru\s+ini\b|\bbeberapa\s+(?:hari|pekan|minggu|bulan|tahun)\s+(?:lalu|terakhir)\b)"
)
_BARE_YEAR = re.compile(_YEAR)
_BARE_MONTH = re.compile(_MONTH_WORD)


def _date_spans(sentence: str) -> list[Span]:
    """Every date of ``sentence``, neighbours joined ("Jumat (12/1) pukul 10.00 WIB")."""
    return merged(list(matches(_DATES, sentence)), sentence)


def dates(sentence: str, question_words: frozenset[str]) -> Found:
    """Dates: a day, a day of a month, a month with its year, a year a word marks, a time.

    Doubtful: a year or a month standing alone, and times that are no date ("pekan lalu").
    """
    found = _date_spans(sentence)
    doubtful = [
        span
        for pattern in (_RELATIVE, _BARE_YEAR, _BARE_MONTH)
        for span in matches((pattern,), sentence)
        if not overlaps(span, found)
    ]
    spans = [span for span in found if not held(sentence[slice(*span)], question_words)]
    return Found(spans, len(doubtful))


_NUMBER_WORDS = (
    "satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|belas|puluh|ratus|"
    "ribu|juta|miliar|milyar|triliun|seratus|seribu|sejuta|setengah|separuh|puluhan|ratusan|"
    "ribuan|jutaan|belasan|miliaran"
)
_DIGITS = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
_SPELLED = re.compile(rf"(?i:(?<![\w-])(?:{_NUMBER_WORDS})(?:\s+(?:{_NUMBER_WORDS}))*(?![\w-]))")
# "salah satu" (one of), "satu sama lain" (each other): number words that count nothing.
_NO_COUNT = re.compile(
    r"(?i:\bsalah\s+satu(?:nya)?\b|\bsatu\s+sama\s+lain\b|\bsatu\s+per\s+satu\b)"
)
_CURRENCY_BEFORE = re.compile(r"(?:\bRp\.?|\bUS\$|\bUSD|\bS\$|\$|€|£)\s?\Z")
# A number that names rather than counts: "Pasal 27", "nomor 5", "RT 05".
_IDENTIFIER_BEFORE = re.compile(
    r"(?i:\b(?:pasal|ayat|nomor|nomer|no\.?|rt|rw|kode|tipe|seri|versi|halaman|hal\.|lantai|"
    r"pintu|jalur|peron|km)\s*\Z)"
)
_SCALE_AFTER = re.compile(
    r"(?:\s+(?i:ribu|juta|miliar|milyar|triliun|ratus|puluh|rb|jt)\b)+|\s*%|\s+persen\b"
)
_NOUN_AFTER = re.compile(r"\s+([^\W\d_][\w-]*)")
_NOT_NOUNS = STOPWORDS | {"per", "lebih", "kurang", "lagi", "lalu", "silam", "an", "sebesar"}


def _counted_noun(sentence: str, end: int) -> int:
    """Where the phrase of a number ending at ``end`` ends: after its noun, if one follows."""
    match = _NOUN_AFTER.match(sentence, end)
    if match is None:
        return end
    noun = match.group(1)
    acronym = noun.isupper() and len(noun) > 1 and noun not in {"WIB", "WITA", "WIT"}
    if noun.lower() in _NOT_NOUNS or not (noun[0].islower() or acronym):
        return end
    return match.end()


def _count_phrase(sentence: str, start: int, end: int) -> Span:
    """The phrase of a number at ``start:end``: with its currency, scale and noun."""
    currency = _CURRENCY_BEFORE.search(sentence, 0, start)
    if currency is not None:
        start = currency.start()
    scale = _SCALE_AFTER.match(sentence, end)
    if scale is not None:
        end = scale.end()
        if "%" in scale.group(0) or scale.group(0).strip() == "persen":
            return start, end
    if currency is not None:
        return start, end
    return start, _counted_noun(sentence, end)


def quantities(sentence: str, question_words: frozenset[str]) -> Found:
    """Numbers with what they count: "11.000 tentara", "Rp 5 juta", "7,5 persen", "tiga orang".

    Dates and times are no count; a number that names ("Pasal 27", "Covid-19") is skipped.
    Doubtful: a year-like number no word marks as a year ("1998"), ranges ("10-12"), numbers
    stuck to letters or slashes.
    """
    dated = _date_spans(sentence)
    spans: list[Span] = []
    doubtful = 0
    taken: list[Span] = [*dated, *matches((_NO_COUNT,), sentence)]
    for match in _DIGITS.finditer(sentence):
        start, end = match.span()
        if overlaps((start, end), taken):
            continue
        before, after = sentence[max(0, start - 2) : start], sentence[end : end + 1]
        if (before.endswith("-") and before[:1].isalpha()) or _IDENTIFIER_BEFORE.search(
            sentence, 0, start
        ):
            continue  # "Covid-19", "ke-3", "Pasal 27": a name or a rank, not a count
        if before.endswith(("-", "/")) or after in {"-", "/"} or after.isalnum():
            doubtful += 1
            continue
        if _BARE_YEAR.fullmatch(match.group(0)):
            doubtful += 1
            continue
        spans.append(_count_phrase(sentence, start, end))
        taken.append(spans[-1])
    for match in _SPELLED.finditer(sentence):
        if not overlaps(match.span(), taken):
            spans.append((match.start(), _counted_noun(sentence, match.end())))
            taken.append(spans[-1])
    kept = [
        (start, end)
        for start, end in spans
        if not held(_number_part(sentence[start:end]), question_words)
    ]
    return Found(sorted(kept), doubtful)


def _number_part(phrase: str) -> str:
    """The number of a count phrase, without its currency and noun ("5 juta" of "Rp 5 juta")."""
    found = words(phrase)
    numeric = [w for w in found if w[0].isdigit() or re.fullmatch(_NUMBER_WORDS, w)]
    return " ".join(numeric)


_WORD = re.compile(r"[^\W\d_][\w'’-]*|&")
# Words inside a name that are not capitalised: "Ali bin Abi", "Maju & Jaya".
_CONNECTORS = frozenset({"&", "bin", "binti", "van", "von", "der", "de", "al"})
# Capitalised words that are no name: days, months, money, time zones.
_NOT_NAMES = frozenset(
    {
        *(m.lower() for m in _MONTH_NAMES.split("|")),
        *"senin selasa rabu kamis jumat jum'at sabtu minggu ahad rp wib wita wit".split(),
    }
)
# A company's legal form, standing apart from its name only when something came between.
_LEGAL_FORMS = frozenset({"tbk", "persero", "ltd", "inc", "corp", "plc", "llc", "gmbh"})
#: Offices and ranks: what follows may be the office's place or body before the name
#: ("Menteri Keuangan Sri Mulyani"), so a name after one is sure only when the question
#: holds those words.
ROLES = frozenset(
    """
    presiden wakil wapres menteri menko wamen gubernur wagub bupati wabup wali walikota wawali
    ketua ketum kepala direktur dirut dirjen utama umum eksekutif sekretaris sekjen sekda
    panglima kapolri wakapolri kapolda kapolres kapolsek kabareskrim kadiv humas jaksa agung
    hakim juru bicara jubir komisaris manajer pelatih kapten komandan pemimpin pendiri anggota
    camat lurah kades rektor dekan dubes duta besar perdana raja ratu pangeran paus kanselir
    senator ceo plt pj pjs kadis kabag kasat kabid koordinator staf khusus bendahara jenderal
    brigjen mayjen letjen irjen kombes akbp akp kompol iptu ipda aiptu aipda bripka brigadir
    bripda kolonel letkol mayor laksamana marsekal laksda marsda laksma marsma pol tni purn
    """.split()
)
#: Forms of address: a name follows at once.
HONORIFICS = frozenset(
    """
    pak bu bapak ibu dr drg prof ir h hj kh kiai kyai ustaz ustadz ustad habib gus syekh mr mrs
    ms tuan nyonya saudara sdr sdri almarhum almarhumah alm mbak mas bang
    """.split()
)
# Words a sentence or a quotation opens with, capitalised only for standing first.
_OPENERS = STOPWORDS | frozenset(
    """
    menurut setelah sebelum selama usai seusai sementara sedangkan adapun bahkan kemudian
    selanjutnya akhirnya padahal meskipun walaupun walau meski bila apabila terkait soal
    mengenai berdasarkan sebelumnya sesudah sebab akibat selain belum begitu lantas kini kala
    terhadap tanpa melalui lewat pihak sekitar beliau sebanyak sejumlah seluruh semua setiap
    tiap banyak sebagian sekarang
    """.split()
)
_CLAUSE_START = re.compile(r"(?:\A|[:;]|[“‘\"'])[\s“‘\"']*\Z")
_PLACE_NOUNS = (
    "kota|kabupaten|provinsi|desa|kelurahan|kecamatan|pulau|kawasan|wilayah|daerah|negara|"
    "kampung|jalan|gedung|sekitar|dekat|depan|dalam|luar|perairan|pantai|gunung|sungai|pasar|"
    "bandara|stasiun|pelabuhan|markas|kantor|rumah\\s+sakit"
)
_PLACE_BEFORE = re.compile(rf"(?i:\b(?P<prep>di|ke|dari)\s+(?:(?:{_PLACE_NOUNS})\s+)?)\Z")
_ACRONYM_AFTER = re.compile(r"\s\(([A-Z][A-Z0-9-]+)\)")
_CLAUSE_END = re.compile(r"\s*(?:[.,;:!?)”\"]|\Z)")


class _Run(NamedTuple):
    """Capitalised words that stand together in a sentence: one name, or a title and a name."""

    words: list[re.Match[str]]
    end: int  # where the run ends: after a "(KCNA)" that follows it


def _is_capitalised(word: str) -> bool:
    return word[0].isupper() and word.lower() not in _NOT_NAMES


def _runs(sentence: str) -> list[_Run]:
    """Runs of capitalised words joined by single spaces, "Korea Utara" or "Maju & Jaya"."""
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    for match in _WORD.finditer(sentence):
        word = match.group(0)
        joined = bool(current) and sentence[current[-1].end() : match.start()] == " "
        if joined and (_is_capitalised(word) or word.lower() in _CONNECTORS):
            current.append(match)
            continue
        if current:
            runs.append(current)
        current = [match] if _is_capitalised(word) else []
    if current:
        runs.append(current)
    found: list[_Run] = []
    for run in runs:
        while run[-1].group(0).lower() in _CONNECTORS:
            run = run[:-1]
        if found and run[0].start() < found[-1].end:
            continue  # the "(KCNA)" of the run before
        acronym = _ACRONYM_AFTER.match(sentence, run[-1].end())
        found.append(_Run(run, acronym.end() if acronym else run[-1].end()))
    return found


def _common(word: str) -> bool:
    """Whether a lower-case word is an Indonesian word, not only a name ("polisi", "pedagang")."""
    return word in STOPWORDS or word in root_words() or stem(word) != word


def names(sentence: str, question_words: frozenset[str]) -> Found:
    """Names of people and bodies: "Rina Hartono", "Kantor Berita Korea Utara (KCNA)".

    Offices and forms of address before a name are left out ("Presiden Rusia Vladimir Putin"
    gives "Vladimir Putin" when the question asks for the president of Rusia). A place after
    di/ke is no name. Doubtful: a name after an office the question does not name, a name after
    "dari" (a person or a place), and a capitalised first word that is also an Indonesian word
    ("Polisi", "Kim"): the first word is capitalised whatever it is.
    """
    spans: list[Span] = []
    doubtful = 0
    for run in _runs(sentence):
        taken = list(run.words)
        if all(word.group(0).lower() in _LEGAL_FORMS for word in taken):
            continue  # the "Tbk" of "PT <Maju & Jaya> Tbk"
        before = sentence[: taken[0].start()]
        place = _PLACE_BEFORE.search(before)
        if place is not None and place.group("prep").lower() in {"di", "ke"}:
            continue
        first = taken[0].group(0).lower()
        unsure = place is not None
        if _CLAUSE_START.search(before) and first not in ROLES | HONORIFICS:
            if first in _OPENERS:
                taken = taken[1:]
            elif _common(first):
                if len(taken) == 1 and stem(first) != first:
                    continue  # "Pedagang menyebut ...": a word, first in its sentence
                unsure = True
        after_office = False
        while taken:
            word = taken[0].group(0).lower()
            if word in ROLES:
                after_office = True
            elif word in HONORIFICS or word in question_words:
                after_office = after_office and word not in question_words
            else:
                break
            taken = taken[1:]
        if not taken:
            continue
        span = (taken[0].start(), run.end if run.words[-1] is taken[-1] else taken[-1].end())
        if set(words(sentence[slice(*span)])) & question_words:
            continue  # the question names it: not its answer
        if unsure or after_office:
            doubtful += 1
        else:
            spans.append(span)
    return Found(spans, doubtful)


def places(sentence: str, question_words: frozenset[str]) -> Found:
    """Places after di/ke/dari: "di Jakarta Timur", "ke Rusia", "di Kursk, Rusia".

    The span holds the preposition. A place followed by ", Name" at the end of a clause takes
    it along ("di Kursk, Rusia").
    """
    spans: list[Span] = []
    runs = _runs(sentence)
    for i, run in enumerate(runs):
        place = _PLACE_BEFORE.search(sentence, 0, run.words[0].start())
        if place is None:
            continue
        end = run.end
        if i + 1 < len(runs):
            following = runs[i + 1]
            gap = sentence[end : following.words[0].start()]
            if gap == ", " and _CLAUSE_END.match(sentence, following.end):
                end = following.end
        span = (place.start(), end)
        if not held(sentence[run.words[0].start() : end], question_words):
            spans.append(span)
    return Found(spans, 0)


_FINDERS: dict[AnswerKind, Callable[[str, frozenset[str]], Found]] = {
    AnswerKind.QUANTITY: quantities,
    AnswerKind.TIME: dates,
    AnswerKind.PERSON: names,
    AnswerKind.PLACE: places,
}
