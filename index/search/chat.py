"""How readers write a question in a chat, and the question as an article would write it.

"brp tentara yg dikirim?" is "berapa tentara yang dikirim?": the fixed chat spellings
(``CHAT_WORDS``) are written out and the particles a chat sentence carries for its tone
(``CHAT_PARTICLES``) left out, before anything else reads the question. Regular colloquial
patterns ("nyebar", "umumin") are read against the index's words in ``colloquial``.
"""

from __future__ import annotations

import re

from index.search.tokens import root_words, stem

#: How readers spell common words in a chat ("brp tentara yg dikirim?"), written out: words
#: that stand for nothing else in a question. Left as they are, no article has them, and such
#: a word counts against every sentence. (A quote in an article may say "nggak" too; the
#: written-out question then misses that word, a small loss beside the other.)
CHAT_WORDS = {
    **dict.fromkeys(("brp", "brapa", "brpa"), "berapa"),
    "sapa": "siapa",
    **dict.fromkeys(("kpn", "kapn"), "kapan"),
    **dict.fromkeys(("dmn", "dmana", "dimn"), "dimana"),
    **dict.fromkeys(("gmn", "gmna", "gmana", "gimana", "bgmn", "bgmna"), "bagaimana"),
    **dict.fromkeys(("knp", "napa", "knapa"), "kenapa"),
    **dict.fromkeys(("yg", "yng"), "yang"),
    **dict.fromkeys(("dgn", "dg", "dngn"), "dengan"),
    **dict.fromkeys(("utk", "untk"), "untuk"),
    **dict.fromkeys(
        ("tdk", "gak", "ga", "gk", "nggak", "ngga", "enggak", "engga", "ndak"), "tidak"
    ),
    **dict.fromkeys(("krn", "karna", "krna"), "karena"),
    **dict.fromkeys(("sdh", "udh", "udah", "dah"), "sudah"),
    **dict.fromkeys(("blm", "blum"), "belum"),
    **dict.fromkeys(("kalo", "klo", "klau"), "kalau"),
    **dict.fromkeys(("aja", "sj"), "saja"),
    **dict.fromkeys(("skrg", "skr", "skrng"), "sekarang"),
    **dict.fromkeys(("kyk", "kayak"), "seperti"),
    "jg": "juga",
    "dlm": "dalam",
    "tsb": "tersebut",
    "sbg": "sebagai",
    "spt": "seperti",
    "tp": "tetapi",
    "lg": "lagi",
    "bbrp": "beberapa",
    "sblm": "sebelum",
    "stlh": "setelah",
    "sampe": "sampai",
    "ketemu": "bertemu",
    "dpt": "dapat",
    "hrs": "harus",
    "org": "orang",
    "thn": "tahun",
    "bln": "bulan",
    "tgl": "tanggal",
    "jt": "juta",
    "rb": "ribu",
    **dict.fromkeys(("jd", "jdi"), "jadi"),
    **dict.fromkeys(("bs", "bsa"), "bisa"),
    **dict.fromkeys(("bnyk", "byk", "bnyak"), "banyak"),
    **dict.fromkeys(("sbnrnya", "sbenarnya", "sebenernya"), "sebenarnya"),
    **dict.fromkeys(("emg", "emang", "mmg"), "memang"),
    **dict.fromkeys(("pny", "pnya"), "punya"),
    "sm": "sama",
    "msh": "masih",
    "trs": "terus",
    "tau": "tahu",
    "td": "tadi",
    "mnrt": "menurut",
    "ttg": "tentang",
    "bkn": "bukan",
    "kpd": "kepada",
    "sgt": "sangat",
    "trhdp": "terhadap",
    "spy": "supaya",
    "sdg": "sedang",
    "lbh": "lebih",
    "krg": "kurang",
    "sy": "saya",
    "gitu": "begitu",
    "gini": "begini",
    "sblmnya": "sebelumnya",
    **dict.fromkeys(("dr", "dri"), "dari"),
    "taun": "tahun",
}
#: Jakarta slang with one plain word for it, the word articles write outside quotes. Written
#: out as ``CHAT_WORDS`` are, but not a chat spelling of that word (``chat_spelling``).
SLANG_WORDS = {
    "bikin": "membuat",
    "dibikin": "dibuat",
    "duit": "uang",
    **dict.fromkeys(("pengen", "pingin", "pengin"), "ingin"),
    **dict.fromkeys(("cuma", "cuman"), "hanya"),
    "bareng": "bersama",
    "abis": "habis",
    "ngomong": "berbicara",
    "bakal": "akan",
    "gede": "besar",
    "gampang": "mudah",
    "doang": "saja",
    "banget": "sangat",
    "kelar": "selesai",
}
#: Chat spellings that are also a title ("dr Tirta", "Dr Tirta": a doctor), written out only in
#: lower case and before a word in lower case.
_ALSO_TITLES = frozenset({"dr"})
_NEXT_WORD = re.compile(r"\W*(\w)")
_LATIN_WORD = re.compile(r"\b[A-Za-z]+\b")


#: Each written-out word's first chat spelling (the inverse of ``CHAT_WORDS``), plus the -kah
#: forms formal questions use: how a reader in a chat would type a formal question.
CHAT_SPELLING: dict[str, str] = {}
for _chat, _written in CHAT_WORDS.items():
    CHAT_SPELLING.setdefault(_written, _chat)
for _written in ("berapa", "siapa", "kapan", "dimana", "bagaimana"):
    CHAT_SPELLING[f"{_written}kah"] = CHAT_SPELLING[_written]
_WORD = re.compile(r"\w+")


def chat_spelling(question: str) -> str:
    """``question`` in lower case, in chat spelling ("Berapakah yang ..." -> "brp yg ...")."""
    return _WORD.sub(lambda m: CHAT_SPELLING.get(m.group(0), m.group(0)), question.lower())


#: Particles a chat sentence carries for its tone alone ("kok", "sih", "dong"): no article
#: writes them about its subject, so a question loses nothing without them.
CHAT_PARTICLES = frozenset({"kok", "sih", "dong", "deh", "nih", "tuh", "lho", "loh", "yah", "toh"})
_PARTICLE = re.compile(
    r"\s*\b(?:" + "|".join(sorted(CHAT_PARTICLES)) + r")\b(?=\s|[?!.,]|$)", re.IGNORECASE
)


#: A word repeated by a "2" ("gara2", "anak2", "org2"): chat's way to write "gara-gara".
_REPEATED = re.compile(r"\b([A-Za-z]{2,})2\b")


def _repeated(match: re.Match[str]) -> str:
    """The word written twice: "gara2" as "gara-gara", "sehari2" as "sehari-hari"; not "FP2"."""
    base = match.group(1)
    if not base[1:].islower():
        return match.group(0)
    word = CHAT_WORDS.get(base.lower(), base.lower())
    root = stem(word)
    if f"{word}-{word}" in root_words() or word in root_words():
        repeated = word
    elif root in root_words() and word.endswith(root):  # "sehari2": "sehari-hari"
        repeated = root
    else:
        return match.group(0)
    return f"{word.capitalize() if base[0].isupper() else word}-{repeated}"


def formal_question(question: str) -> str:
    """``question`` with its chat spellings written out ("brp" -> "berapa", "yg" -> "yang").

    Slang too ("duit" -> "uang", ``SLANG_WORDS``), and a word repeated by a "2" ("gara2" ->
    "gara-gara"). An all-capital word ("GA", "PD") is a name and stays as it is. Chat
    particles (``CHAT_PARTICLES``) are left out, unless they are all the question has.
    """
    text = _REPEATED.sub(_repeated, question)

    def written_out(match: re.Match[str]) -> str:
        word = match.group(0)
        full = CHAT_WORDS.get(word.lower()) or SLANG_WORDS.get(word.lower())
        if full is None or not word[1:].islower():
            return word
        if "-" in (text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]):
            return word  # part of a word with a hyphen: "cuma-cuma" (free) is no "cuma" (only)
        if word.lower() in _ALSO_TITLES:
            after = _NEXT_WORD.match(text, match.end())
            if not word.islower() or (after is not None and after.group(1).isupper()):
                return word
        return full.capitalize() if word[0].isupper() else full

    def particle(match: re.Match[str]) -> str:
        word = match.group(0).strip()
        return match.group(0) if word.isupper() and len(word) > 1 else ""

    written = _LATIN_WORD.sub(written_out, text)
    plain = _PARTICLE.sub(particle, written).lstrip(" ,").strip()
    return plain if plain else written
