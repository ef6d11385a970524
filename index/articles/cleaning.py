"""Cleaning Indonesian news text line by line: what is not part of the article goes.

Related-article links, promotional footers, bylines, credit lines, datelines and Wikipedia
residue are removed; everything else is kept exactly as written, because sentences are quoted.
Used by :mod:`index.articles.files`, which reads the files and keeps every sentence's line.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "BOILERPLATE_PATTERNS",
    "HAS_ALNUM",
    "INVISIBLE",
    "LINE_BREAK",
    "RELATED",
    "TITLE_LINE",
    "WHITESPACE",
    "attribution_of",
    "clean_line",
    "cut_related",
    "derive_title",
    "ends_sentence",
    "is_article_line",
    "is_boilerplate",
    "is_credit_line",
    "looks_like_title",
    "strip_dateline",
]

# --------------------------------------------------------------------------- character level

LINE_BREAK = re.compile(r"\r\n|\r|\n")
WHITESPACE = re.compile(r"\s+")
#: Zero-width characters, the soft hyphen and stray BOMs: deleted, never replaced by a space.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
#: Control characters that are not whitespace: a space (PostgreSQL stores no NUL in text).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
HAS_ALNUM = re.compile(r"[^\W_]")

#: Applied to every line, in order: (triggers, pattern, replacement). A substitution runs only
#: if one of its trigger strings occurs in the line (a cheap test that keeps reading fast).
_LINE_SUBSTITUTIONS: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    # A carriage return escaped by spreadsheet exports.
    (("_x", "_X"), re.compile(r"_x000D_", re.IGNORECASE), " "),
    # Wikipedia residue: footnote marks, maintenance tags, image markup, links.
    (
        ("[",),
        re.compile(
            r"\[(?:\d{1,3}|[a-z]|butuh rujukan|rujukan\?|perlu rujukan|citation needed|siapa\?|"
            r"kapan\?|di mana\?|klarifikasi diperlukan|pranala nonaktif|verifikasi gagal|"
            r"halaman diperlukan)\]",
            re.IGNORECASE,
        ),
        "",
    ),
    (("|",), re.compile(r"\b(?:Berkas|File|Gambar|Image):[^\s|\]]+\|"), ""),
    (
        ("|",),
        re.compile(r"\b(?:jmpl|thumb|thumbnail|miniatur|mini|bingkai|frame)\|(?:[^|\s]*\|)*"),
        "",
    ),
    (("[[",), re.compile(r"\[\[(?:[^\]|]*\|)?([^\]|]*)\]\]"), r"\1"),
    # Related-article links that lost their headline, or kept it in brackets.
    (("acajuga", "ACAJUGA"), re.compile(r"\[bacajuga:[^\]]*\]\([^)]*\)", re.IGNORECASE), " "),
    (("_J", "_j"), re.compile(r"\bBaca_Juga\b", re.IGNORECASE), " "),
    (("aca ", "ACA "), re.compile(r"\b(?:Baca juga|Baca Juga|BACA JUGA)\s+(?=[A-Z“\"])"), ""),
    (
        ("uga", "UGA"),
        re.compile(
            r"[\[(]\s*(?:baca|lihat|simak)[\s_]+juga\s*[:\-–—]"
            r"[^\[\]()]*(?:\([^()]*\)[^\[\]()]*)*[\])]",
            re.IGNORECASE,
        ),
        " ",
    ),
    # CLICK-ID scraper debris: a sentence end glued to the next by a comma ("tahun., Dia"),
    # also after a date in brackets ("Selasa (10/9/2019)., Thareq"). Not after a capital
    # ("D.C., Boston") or another bracket ("SpOG(K)., hingga").
    (
        (".,",),
        re.compile(r"(?:(?<=[^\W_])(?<![A-Z])|(?<=\d\)))\.,+(?=\s+[A-Z“\"])"),
        ".",
    ),
)


def visible(text: str) -> str:
    """``text`` as a reader sees it, for questions.

    ``INVISIBLE`` characters are deleted (a soft hyphen or a zero-width space inside a word
    leaves the word whole, as in articles); every other control or format character (NUL, bell,
    direction marks) becomes a space. For questions: the embedding and the cross-encoder read the question's text itself, so a
    mark left in would be read as part of the word beside it.
    """
    return "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf") else c for c in text.translate(INVISIBLE)
    )


def visible_line(text: str) -> str:
    """:func:`visible` on one line, each run of white space one space: a question as searched."""
    return " ".join(visible(text).split())


def clean_line(text: str) -> str:
    """Normalise one line: invisible characters, residue, and whitespace collapsed.

    Args:
        text: A raw line (or paragraph) of article text.

    Returns:
        The line without zero-width characters, Wikipedia residue and link debris, with control
        characters and all whitespace (including NBSP) collapsed to single spaces and stripped.
    """
    text = _CONTROL.sub(" ", text.translate(INVISIBLE))
    for triggers, pattern, replacement in _LINE_SUBSTITUTIONS:
        if any(trigger in text for trigger in triggers):
            text = pattern.sub(replacement, text)
    return WHITESPACE.sub(" ", text).strip()


# ------------------------------------------------------------------------------ boilerplate

#: Lines (and sentences) that start like this are not part of the article. Case-insensitive,
#: matched at the start of the stripped line or sentence.
BOILERPLATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # promotion
        r"gabung (?:ke|di|dengan|bersama) (?:\S+ ){0,2}(?:channel|saluran|grup|group|komunitas)",
        r"artikel ini (?:telah|sudah) (?:tayang|terbit|dimuat|diterbitkan|tayang)",
        r"simak (?:breaking news|berita (?:pilihan|terbaru|menarik) )",
        r"dapatkan (?:update|informasi|berita|notifikasi)\b.{0,80}"
        r"(?:setiap hari|ponsel|whatsapp|telegram|google news|aplikasi|kompas\.com|notifikasi)",
        r"ikuti (?:\S+ ){0,5}(?:di|lewat|melalui|via) (?:google news|instagram|twitter|x|"
        r"facebook|tiktok|youtube|whatsapp|telegram|media sosial|channel)",
        r"(?:download|unduh) (?:aplikasi|apps?)\b",
        r"advertisement\s*$",
        r"scroll to (?:continue|resume)",
        r"(?:iklan|sponsored|advertorial)\s*$",
        r"(?:share|bagikan)\s*:?\s*$",
        r"(?:berita|artikel|baca) (?:terkait|lainnya)\s*:?\s*$",
        r"klik (?:di sini|disini|link|tautan|untuk|ke halaman)",
        r"dailysocial\.id adalah portal berita",
        r"fimela ingin mengajakmu",
        r"(?:#\w+\s*)+(?:with \w+\s*)?$",
        r"(?:copyright\b|©|\(c\)\s*\d{4}|hak cipta dilindungi)",
        # bylines and credits
        r"(?:editor|penulis|reporter|pewarta|penyunting|redaktur|kontributor|fotografer|"
        r"videografer|wartawan|koresponden)\s*:\s*\S.{0,60}$",
        r"(?:editor|penulis|reporter|pewarta|penyunting|redaktur)\s*:?\s*$",
        r"laporan (?:wartawan|reporter|koresponden|kontributor)\b.{0,100}(?<![.!?])$",
        r"(?:foto|video|infografis|grafis|ilustrasi)\s*:",
        r"sumber (?:gambar|foto|video|ilustrasi)\b.{0,60}$",
        # a reporter's initials or a source alone in brackets: "(ard)", "[ rhm ]", "(res / res)"
        r"[(\[]\s*[\w.,/ -]{1,30}\s*[)\]]$",
    )
)

#: A "Sumber: X" (or "(Sumber: X)", "Sumber berita X.") line: the attribution, not a sentence.
_ATTRIBUTION = re.compile(
    r"^\(?\s*sumber(?:\s*:|\s+berita\s*:?)\s*(?P<source>[^()]{1,150}?)[\s.]*\)?$", re.I
)
#: A related-article link: "Baca Juga: ...", "SIMAK JUGA - ...", "Lihat juga: ...".
RELATED = re.compile(r"(?:^|(?<=\s))(?:baca|lihat|simak)[\s_]+juga\s*(?::|[-–—]\s|$)", re.I)
#: The same, case-aware, inside a sentence (so that "lihat juga" as ordinary words survives).
_RELATED_INLINE = re.compile(
    r"(?:^|(?<=\s))(?:Baca|BACA|Lihat|LIHAT|Simak|SIMAK)[\s_]+(?:[Jj]uga|JUGA)\s*(?::|[-–—]\s|$)"
)
#: A related-article line longer than this is article text with a glued link, not just a link.
RELATED_LINE_MAX_WORDS = 25


#: All of BOILERPLATE_PATTERNS in one expression: one match per line instead of twenty.
_BOILERPLATE = re.compile(
    "|".join(f"(?:{pattern.pattern})" for pattern in BOILERPLATE_PATTERNS), re.IGNORECASE
)


def is_boilerplate(text: str) -> bool:
    """Whether a line is a promotional footer or site notice (see ``BOILERPLATE_PATTERNS``)."""
    return _BOILERPLATE.match(text) is not None


def is_credit_line(text: str) -> bool:
    """A photo credit or section label in capitals: "ANTARA", "PRIBADI WICAKSONO"."""
    return (
        text.isupper()
        and not any(ch.isdigit() for ch in text)
        and len(text.split()) <= 4
        and text[-1] not in ".!?…"
        and HAS_ALNUM.search(text) is not None
    )


def attribution_of(text: str) -> str | None:
    """The source a "Sumber: X" line names ("" when it names none), or None for other lines."""
    if len(text.split()) > 16:
        return None
    m = _ATTRIBUTION.match(text)
    return m.group("source").strip() if m else None


#: Words written in lower case inside Indonesian headlines ("Jokowi Minta Menteri di Kabinet").
_HEADLINE_SMALL_WORDS = frozenset(
    {
        "di", "ke", "dari", "dan", "yang", "untuk", "pada", "dengan", "atau", "oleh", "dalam",
        "bagi", "hingga", "kepada", "tentang", "soal", "vs", "per", "ala", "sebagai", "&", "-",
        "–", "—",
    }
)  # fmt: skip
#: A related link followed by this many capitalised words is a glued headline.
_HEADLINE_MIN_WORDS = 5


def _headline_run(text: str) -> int:
    """How many capitalised words ``text`` starts with, headline-style."""
    count = 0
    for word in text.split():
        bare = word.lstrip("\"“‘'([")
        if not bare:
            continue
        if bare[0].isupper() or bare[0].isdigit():
            count += 1
        elif bare.rstrip(",:;").lower() not in _HEADLINE_SMALL_WORDS:
            break
    return count


def ends_sentence(text: str) -> bool:
    """Whether a line ends with a full stop (closing quotes and brackets aside)."""
    return text.rstrip("\"”’')]").endswith(".")


def cut_related(sentence: str) -> str:
    """The sentence without a related-article link ("Baca juga: Judul") in it.

    Text before the link is kept. After the link comes either a headline (dropped) or, when the
    scraper lost the headline, the article's own sentence ("Baca juga: Dia lalu pergi."), which
    is kept. A headline glued to a sentence ("Lihat juga: Jokowi Minta Menteri Kerja Keras
    Setelah itu, ...") cannot be separated reliably and is dropped whole.
    """
    m = _RELATED_INLINE.search(sentence)
    if m is None:
        return sentence
    prefix = sentence[: m.start()].rstrip()
    if HAS_ALNUM.search(prefix):
        return prefix
    rest = sentence[m.end() :].strip()
    while (again := _RELATED_INLINE.match(rest)) is not None:
        rest = rest[again.end() :].strip()
    if ends_sentence(rest) and _headline_run(rest) < _HEADLINE_MIN_WORDS:
        return rest
    return ""


def is_article_line(text: str, attributions: list[str]) -> bool:
    """Whether a cleaned line is article text; records a "Sumber:" line in ``attributions``."""
    if not text:
        return False
    source = attribution_of(text)
    if source is not None:
        if source and source not in attributions:
            attributions.append(source)
        return False
    if (
        RELATED.match(text)
        and len(text.split()) <= RELATED_LINE_MAX_WORDS
        and not ends_sentence(text)
    ):
        return False
    return not (is_boilerplate(text) or is_credit_line(text))


# --------------------------------------------------------------------------------- datelines

_DASH = r"(?:-\s?-|—|–|-|\|)"
_DOMAIN = r"[A-Za-z][\w-]*(?:\.[A-Za-z]{2,6}){1,2}"
_MEDIA = (
    r"(?:(?i:cnn\s+indonesia|antara(?:\s+news)?|kompas(?:\s?tv)?|pos\s+kota|tempo|republika|"
    r"okezone|tribun(?:news)?|detik(?:com)?|kumparan|rimanews|suara|merdeka|bisnis|kontan|"
    r"jawa\s+pos|jpnn|sindonews|viva|liputan6|beritasatu|medcom|inews|metro\s?tv)"
    r"|Reuters|REUTERS|AFP|AP|Xinhua|XINHUA|Bernama|BERNAMA|RRI)"
)
_WEEKDAY = r"(?i:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad)"
_PLACE = r"[A-Za-z][\w'’.]*(?:[ -][A-Za-z][\w'’.]*){0,3}"
_DATELINES: tuple[re.Pattern[str], ...] = (
    # PYONGYANG, KOMPAS.TV -   Jakarta, CNN Indonesia --   Sichuan, Kompas -   Baghdad, Rabu -
    re.compile(rf"^(?P<place>{_PLACE})\s*,\s*(?:{_MEDIA}|{_DOMAIN}|{_WEEKDAY})\s*{_DASH}\s*"),
    # TEMPO.CO, Jakarta -   Liputan6.com, Jakarta -   Bisnis.com, JAKARTA —
    re.compile(rf"^(?:{_MEDIA}|{_DOMAIN})\s*,\s*(?P<place>{_PLACE})\s*{_DASH}\s*"),
    # JAKARTA (Reuters) -   Wamena (ANTARA News) -   Samarinda, Kalimantan Timur (ANTARA News) -
    re.compile(
        rf"^(?P<place>{_PLACE}(?:\s*,\s*{_PLACE})?)\s*,?\s*"
        rf"\((?:{_MEDIA}|{_DOMAIN}|(?i:antara)\s+\w+)\)\s*{_DASH}\s*"
    ),
    # KOMPAS.com -   Suara.com -   Rimanews -
    re.compile(rf"^(?:{_MEDIA}|{_DOMAIN})\s*{_DASH}\s*"),
    # JAKARTA -   KOREA SELATAN –   MEDAN |
    re.compile(rf"^(?P<place>[A-Z][A-Z'’.]*[A-Z](?:\s+[A-Z][A-Z'’.]*)*?)\s*{_DASH}\s*"),
)
#: Rubric labels that look like an upper-case dateline but name no place.
_RUBRICS = frozenset({"ANALISIS", "OPINI", "KOLOM", "EDITORIAL", "TAJUK", "RESENSI", "ULASAN"})


def strip_dateline(text: str) -> tuple[str | None, str] | None:
    """Split a news dateline off the start of a paragraph.

    Args:
        text: The article's first paragraph, normalised.

    Returns:
        ``(place, rest)`` if the paragraph starts with a dateline (``place`` is None when the
        dateline names only the medium, as in ``"KOMPAS.com - "``), else None.

    Examples:
        >>> strip_dateline("PYONGYANG, KOMPAS.TV - Presiden Rusia mengirim ucapan.")
        ('PYONGYANG', 'Presiden Rusia mengirim ucapan.')
    """
    for pattern in _DATELINES:
        m = pattern.match(text)
        if m is None:
            continue
        rest = text[m.end() :]
        if rest[:1] in ("-", "–", "—"):
            continue
        weak = pattern is _DATELINES[-1] or pattern is _DATELINES[-2]
        if weak and rest[:1].islower():
            # "Bisnis - bisnis kecil", "Suara - suara warga": tokenised reduplication.
            continue
        place: str | None = m.groupdict().get("place")
        if pattern is _DATELINES[-1]:
            caps = place or ""
            if sum(ch.isalpha() for ch in caps) < 4 or len(caps.split()) > 4:
                continue
            first_word = rest.split(" ", 1)[0].strip(",.")
            if len(caps) <= 5 and first_word.isupper() and len(first_word) > 1:
                # "TNI - AD", "PSSI - PT LIB": an acronym compound, not a dateline.
                continue
            if place in _RUBRICS:
                place = None
        return (place.strip() if place else None), rest
    return None


# ------------------------------------------------------------------------------------ titles

TITLE_LINE = re.compile(r"^(?:judul|title)\s*:\s*(?P<title>.+)$", re.IGNORECASE)
_TITLE_MAX_WORDS = 16
_DERIVED_TITLE_MAX_WORDS = 14
_DERIVED_TITLE_WORDS = 12


def derive_title(sentence: str) -> str:
    """A title made from an article's first sentence.

    Args:
        sentence: The first sentence (dateline already stripped).

    Returns:
        The sentence itself if it has at most 14 words, else its first 12 words and "…".
    """
    words = sentence.split()
    if len(words) <= _DERIVED_TITLE_MAX_WORDS:
        return sentence
    return " ".join(words[:_DERIVED_TITLE_WORDS]).rstrip(",;:–—-") + "…"


def looks_like_title(text: str) -> bool:
    """Whether a first line reads as a headline rather than as article text."""
    words = text.split()
    return (
        0 < len(words) <= _TITLE_MAX_WORDS
        and text[-1] not in ".!?…:;,"
        and not (text[-1] in "\"”’'" and len(text) > 1 and text[-2] in ".!?…")
        and strip_dateline(text) is None
        and not is_boilerplate(text)
        and attribution_of(text) is None
        and RELATED.match(text) is None
    )
