"""Indonesian-aware sentence splitting and grouping of sentences into chunks.

Pure Python and regular expressions: it has to split a few hundred thousand sentences quickly.

A boundary is a run of ``.``, ``!``, ``?`` or ``…`` (optionally followed by closing quotes or
brackets), then whitespace, then something that can start a sentence: an upper-case letter, a
digit, an opening quote or an opening bracket. A boundary is *not* taken:

* after an abbreviation (``Jl.``, ``Prof.``, ``S.H.``, ``No.``, single initials as in
  ``B. J. Habibie`` …);
* after a word such as ``dll.`` or ``Tbk.`` unless the next word starts with an upper-case letter;
* inside a quotation: ``“Kami siap. Semua sudah disiapkan,” kata Budi.`` is one sentence. A quote
  that never closes in the paragraph is ignored, so one stray quote cannot glue a whole paragraph;
* after a bare list marker such as ``1.`` or ``a.``.

Numbers never contain a boundary because a boundary needs whitespace after the punctuation
(``11.000``, ``10.30``, ``Rp 1.500.000``, ``3,5``, ``27/12/2024``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from index.articles.cleaning import INVISIBLE

__all__ = ["chunk_spans", "sentence_spans", "split_sentences"]

#: Abbreviations after which a sentence never ends (case-sensitive, without the final dot).
#: Dotted forms such as ``S.H.``, ``M.Hum.``, ``a.n.``, ``Ph.D.`` are recognised by shape.
NEVER_FINAL_ABBREVIATIONS: frozenset[str] = frozenset(
    {
        # titles and forms of address
        "Dr", "dr", "DR", "Drs", "drs", "DRS", "Dra", "dra", "drg", "Drg", "Prof", "PROF", "prof",
        "Ir", "IR", "Hj", "HJ", "KH", "Kh", "Sdr", "Sdri", "Bpk", "Bp", "Yth", "yth", "Ny", "Nn",
        "Tn", "Mr", "MR", "Mrs", "Ms", "Mme", "Jr", "Sr", "St", "Ust", "Pdt", "Rm", "Moh", "Muh",
        "Mhd", "Abd", "Jend", "JEND", "Kol", "Brig", "Kapt", "Pol", "Inf", "Kav",
        # addresses and administrative areas
        "Jl", "JL", "jl", "Jln", "JLN", "jln", "Gg", "Kab", "KAB", "kab", "Kec", "KEC", "kec",
        "Kel", "KEL", "kel", "Prov", "PROV", "prov", "Ds", "Dsn", "Kp", "Kepl", "Gn", "Mt",
        "RT", "RW", "Blk",
        # numbers, references, money, companies
        "No", "NO", "no", "Nr", "Vol", "vol", "hlm", "Hlm", "Rp", "RP", "rp", "PT", "Pt", "CV",
        "Tel", "Telp", "telp", "Fax", "Ext", "ext", "Tgl", "tgl", "Ket", "ket", "vs", "Vs", "VS",
        "cf", "Fig", "fig",
        # months
        "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Agu", "Agt", "Ags", "Aug", "Sep", "Sept",
        "Okt", "Oct", "Nov", "Des", "Dec",
    }
)  # fmt: skip

#: Words often written with a dot that *can* end a sentence: a boundary is taken after them only
#: when the next word starts with an upper-case letter (not a digit, quote or bracket).
MAYBE_FINAL_ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "dll", "Dll", "dsb", "Dsb", "dst", "Dst", "dkk", "Dkk", "tsb", "Tsb", "etc",
        "Tbk", "TBK", "tbk", "Inc", "Ltd", "Co", "Corp", "Bhd", "kg", "km", "cm", "mm", "ml",
        "gr", "ha", "pk", "sda",
    }
)  # fmt: skip

#: Words after which a single capital letter is a label, not an initial: "Grup A. Tim ...".
LETTER_LABEL_WORDS: frozenset[str] = frozenset(
    {
        "grup", "group", "vitamin", "hepatitis", "golongan", "serie", "blok", "kelas", "tipe",
        "type", "seri", "jilid", "formula", "berinisial", "inisial", "kategori", "opsi",
        "pilihan", "plan", "rencana", "huruf", "zona", "nomor", "gedung", "pintu", "tribun",
        "tribune", "sektor", "ruang", "lantai", "level", "kode", "versi", "bagian", "lampiran",
        "paket", "kelompok", "pool", "divisi", "liga", "skenario", "model", "ukuran", "nilai",
        "peringkat", "kluster", "klaster", "wilayah", "rayon", "regu", "tim", "poin", "titik",
    }
)  # fmt: skip

_OPEN_QUOTES = "“\"‘'«"
_OPEN_BRACKETS = "(["
_QUOTE_CHARS = '“”"'

_WS = re.compile(r"\s+")
#: Terminal punctuation, optional closers, whitespace. Group 1: the punctuation run.
_CANDIDATE = re.compile(r"([.!?…]+)[\"”’'»)\]]*(\s+)")
#: A dotted abbreviation such as S.H, M.Hum, a.n, Ph.D, U.S (the final dot is not included).
_DOTTED = re.compile(r"^[A-Za-z]{1,3}\.(?:[A-Za-z]{1,4}\.)*[A-Za-z]{1,4}$")
#: ...but not a web address at the end of a sentence ("dikutip dari bola.net.").
_DOMAIN_ENDINGS = frozenset({"com", "net", "org", "id", "co", "tv", "info", "io", "go", "ac"})
_HAS_ALNUM = re.compile(r"[^\W_]")
#: A paragraph-initial list marker: "1." "12." "a." "(3)" "IV."
_LIST_MARKER = re.compile(r"^(?:\(?\d{1,3}[.)]|[A-Za-z][.)]|[IVXivx]{1,5}\.)$")
_CURLY_QUOTE = re.compile("[“”]")
_STRAIGHT_QUOTE = re.compile('"')
#: How far a quotation may reach: a longer "quote" is most likely a mismatched pair.
_MAX_QUOTE_CHARS = 3000


def _normalize(text: str) -> str:
    return _WS.sub(" ", text.translate(INVISIBLE)).strip()


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Closed quotations as (index of opening quote, index of closing quote), sorted.

    Curly quotes pair an opening ``“`` with the next ``”``; an opening quote followed by another
    opening quote before any closing one never closed and is ignored. Straight ``"`` quotes have
    no direction, so they pair in order; an odd last one is ignored (in news it usually opens a
    quotation that continues into the next paragraph). Overlong spans are ignored.
    """
    spans: list[tuple[int, int]] = []
    if "“" in text or "”" in text:
        opened = -1
        for m in _CURLY_QUOTE.finditer(text):
            if m.group() == "“":
                opened = m.start()
            elif opened >= 0:
                spans.append((opened, m.start()))
                opened = -1
    if '"' in text:
        positions = [m.start() for m in _STRAIGHT_QUOTE.finditer(text)]
        for k in range(0, len(positions) - 1, 2):
            spans.append((positions[k], positions[k + 1]))
    if len(spans) > 1:
        spans.sort()
    return [(a, b) for a, b in spans if b - a <= _MAX_QUOTE_CHARS]


def _is_abbreviation(text: str, punct_start: int, next_char: str) -> bool:
    """Whether the single dot at ``punct_start`` closes an abbreviation rather than a sentence."""
    start = text.rfind(" ", 0, punct_start) + 1
    word = text[start:punct_start].lstrip("\"“‘'([")
    if not word:
        return False
    if word in NEVER_FINAL_ABBREVIATIONS:
        return True
    if word in MAYBE_FINAL_ABBREVIATIONS:
        return not next_char.isupper()
    if len(word) == 1:
        # An initial ("B. J. Habibie", "A. Yani"), unless a label ("Grup A.", "vitamin C.").
        if not word.isupper():
            return False
        before_end = max(start - 1, 0)
        before = text[text.rfind(" ", 0, before_end) + 1 : before_end].rstrip(",:;")
        return before.lower() not in LETTER_LABEL_WORDS
    if "." not in word or _DOTTED.match(word) is None:
        return False
    return word.rsplit(".", 1)[1] not in _DOMAIN_ENDINGS


def _can_start(ch: str) -> bool:
    return ch.isupper() or ch.isdigit() or ch in _OPEN_QUOTES or ch in _OPEN_BRACKETS


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of sorted quotation spans as disjoint, sorted spans (quotes may nest)."""
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _inside_quote(merged: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    """Whether ``pos`` lies inside a quotation: after its opening, up to its closing quote."""
    k = bisect.bisect_left(starts, pos) - 1
    return k >= 0 and merged[k][1] >= pos


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split an already normalised paragraph into sentences, as character spans.

    Args:
        text: One paragraph with whitespace collapsed to single spaces and no leading or
            trailing whitespace (see :func:`split_sentences` for a version that normalises).

    Returns:
        ``(start, end)`` pairs such that ``text[start:end]`` is a sentence without surrounding
        whitespace, in order, covering every non-space character of ``text``.
    """
    if not text:
        return []
    spans = _quote_spans(text) if ('"' in text or "“" in text) else []
    quote_ends = {b for _, b in spans}
    merged = _merge(spans)
    starts = [a for a, _ in merged]
    n = len(text)
    result: list[tuple[int, int]] = []
    sentence_start = 0
    for m in _CANDIDATE.finditer(text):
        end = m.start(2)  # the sentence ends before the whitespace
        nxt = m.end()
        if nxt >= n:
            break
        # Tokenised text puts a space before a closing quote: `kata dia . " Lalu`.
        if text[nxt] in _QUOTE_CHARS and nxt in quote_ends:
            after = nxt + 1
            while after < n and text[after] == " ":
                after += 1
            if after >= n:
                break
            end, nxt = nxt + 1, after
        if not _can_start(text[nxt]):
            continue
        punct = m.group(1)
        if punct == "." and _is_abbreviation(text, m.start(1), text[nxt]):
            continue
        if merged and _inside_quote(merged, starts, end):
            continue
        so_far = text[sentence_start:end]
        if _LIST_MARKER.match(so_far) or not _HAS_ALNUM.search(so_far):
            continue
        result.append((sentence_start, end))
        sentence_start = nxt
    if sentence_start < n:
        result.append((sentence_start, n))
    return result


def split_sentences(text: str) -> list[str]:
    """Split one paragraph of Indonesian text into sentences.

    Args:
        text: A paragraph; whitespace (including newlines) is collapsed and zero-width characters
            are removed first.

    Returns:
        The sentences, stripped, with internal whitespace collapsed; never an empty string.

    Examples:
        >>> split_sentences("Harga naik 3,5 persen. Jl. Sudirman macet.")
        ['Harga naik 3,5 persen.', 'Jl. Sudirman macet.']
        >>> split_sentences("“Kami siap. Semua sudah disiapkan,” kata Budi. Dia pergi.")
        ['“Kami siap. Semua sudah disiapkan,” kata Budi.', 'Dia pergi.']
    """
    normal = _normalize(text)
    return [normal[a:b] for a, b in sentence_spans(normal)]


def chunk_spans(
    sentences: Sequence[str], *, max_words: int = 80, max_sentences: int = 5
) -> list[range]:
    """Group neighbouring sentences into consecutive, non-overlapping chunks.

    A chunk is closed when adding the next sentence would exceed ``max_words`` words or
    ``max_sentences`` sentences. A sentence longer than ``max_words`` is a chunk of its own.

    Args:
        sentences: The sentences, in order.
        max_words: Most words in a chunk (whitespace-separated), unless one sentence has more.
        max_sentences: Most sentences in a chunk.

    Returns:
        Ranges of sentence indexes that together cover ``range(len(sentences))`` in order.

    Raises:
        ValueError: If ``max_words`` or ``max_sentences`` is less than 1.
    """
    if max_words < 1 or max_sentences < 1:
        raise ValueError("max_words and max_sentences must be at least 1")
    chunks: list[range] = []
    start = 0
    words = 0
    for i, sentence in enumerate(sentences):
        count = len(sentence.split())
        if i > start and (words + count > max_words or i - start >= max_sentences):
            chunks.append(range(start, i))
            start, words = i, 0
        words += count
    if start < len(sentences):
        chunks.append(range(start, len(sentences)))
    return chunks
