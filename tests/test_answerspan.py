"""The answer's words in a quoted sentence: marked only when exactly one phrase can be it."""

from __future__ import annotations

import pytest

from index.search.answerspan import answer_span
from index.search.chat import formal_question
from index.search.questions import answer_kind
from index.search.searcher import Searcher
from index.search.tokens import words


def marked(question: str, sentence: str) -> str | None:
    """The words of ``sentence`` marked as the answer to ``question`` (as the searcher asks it)."""
    question = formal_question(question)
    span = answer_span(sentence, answer_kind(question), set(words(question)))
    if span is None:
        return None
    start, end = span
    assert 0 <= start < end <= len(sentence)
    return sentence[start:end]


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        (
            "berapa rumah terendam banjir?",
            "Banjir merendam 35 rumah warga di bantaran sungai.",
            "35 rumah",
        ),
        (
            "berapa bantuan untuk tiap keluarga?",
            "Pemerintah menyiapkan bantuan Rp 5 juta untuk setiap keluarga.",
            "Rp 5 juta",
        ),
        (
            "berapa tentara dikirim ke perbatasan?",
            "Sebanyak 11.000 tentara dikirim ke perbatasan pada Senin (8/1/2024).",
            "11.000 tentara",
        ),
        ("berapa kenaikan inflasi?", "Inflasi bulanan naik 2,8% dibanding Mei.", "2,8%"),
        ("brp korban tewas?", "Kecelakaan bus itu menewaskan tiga orang.", "tiga orang"),
        (
            "berapa pasien yang dirawat?",
            "Sebanyak 120 pasien Covid-19 dirawat di rumah sakit darurat.",
            "120 pasien",
        ),
        (
            "berapa atlet yang lolos?",
            "Dia salah satu dari 15 atlet yang lolos ke babak final.",
            "15 atlet",
        ),
        (
            "berapa nilai ekspor kopi tahun ini?",
            "Nilai ekspor kopi mencapai 1,5 juta dolar hingga Agustus 2023.",
            "1,5 juta dolar",
        ),
    ],
)
def test_a_number_with_what_it_counts_answers_berapa(
    question: str, sentence: str, answer: str
) -> None:
    assert marked(question, sentence) == answer


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        (
            "kapan gempa mengguncang Cianjur?",
            "Gempa mengguncang Cianjur pada Senin (21/11) siang.",
            "Senin (21/11) siang",
        ),
        ("kapan pemilu digelar?", "Pemungutan suara digelar 14 Februari 2024.", "14 Februari 2024"),
        ("Tahun berapa jembatan diresmikan?", "Jembatan itu diresmikan pada 2019.", "2019"),
        (
            "kapan banjir datang?",
            "Air mulai masuk ke rumah warga Jumat (12/1) pukul 10.00 WIB.",
            "Jumat (12/1) pukul 10.00 WIB",
        ),
        (
            "kapan pasar dibuka lagi?",
            "Pasar itu dibuka kembali pada Minggu, 5 Maret 2023.",
            "Minggu, 5 Maret 2023",
        ),
        (
            "kapan warga berkumpul?",
            "Warga berkumpul usai salat Jumat di masjid itu pada 12 Januari.",
            "12 Januari",
        ),
        (
            "kapan jembatan yang dibangun tahun 2015 diresmikan?",
            "Jembatan yang dibangun tahun 2015 itu diresmikan Rabu (3/5).",
            "Rabu (3/5)",
        ),
    ],
)
def test_a_date_answers_kapan(question: str, sentence: str, answer: str) -> None:
    assert marked(question, sentence) == answer


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        (
            "siapa pelaku pencurian itu?",
            "Menurut polisi, pelakunya adalah Andi Saputra.",
            "Andi Saputra",
        ),
        (
            "siapa menteri keuangan yang mengumumkan kenaikan pajak?",
            "Menteri Keuangan Sri Mulyani mengumumkan kenaikan pajak itu.",
            "Sri Mulyani",
        ),
        (
            "siapa yang mengirim beras?",
            "Pedagang menyebut beras itu dikirim oleh Budi Santoso.",
            "Budi Santoso",
        ),
        (
            "siapa yang ditemui Andi Saputra?",
            "Andi Saputra bertemu Budi Santoso di Bandung.",
            "Budi Santoso",
        ),
        (
            "siapa yang merilis laporan itu?",
            "Laporan itu dirilis Badan Pusat Statistik (BPS) kemarin.",
            "Badan Pusat Statistik (BPS)",
        ),
    ],
)
def test_a_name_answers_siapa(question: str, sentence: str, answer: str) -> None:
    assert marked(question, sentence) == answer


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        (
            "di mana banjir terjadi?",
            "Banjir merendam ratusan rumah di Jakarta Timur.",
            "di Jakarta Timur",
        ),
        (
            "di mana korban banjir di Jakarta dirawat?",
            "Korban banjir di Jakarta dirawat di RSUD Koja.",
            "di RSUD Koja",
        ),
        (
            "Dimanakah pertempuran itu terjadi?",
            "Pertempuran sengit terjadi di Kecamatan Cakung, Jakarta Timur.",
            "di Kecamatan Cakung, Jakarta Timur",
        ),
        (
            "ke mana kapal itu berlayar?",
            "Kapal itu berlayar ke Makassar, Senin (4/3).",
            "ke Makassar",
        ),
    ],
)
def test_a_place_after_di_ke_dari_answers_di_mana(
    question: str, sentence: str, answer: str
) -> None:
    assert marked(question, sentence) == answer


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # Two phrases of the kind: either may be the answer.
        ("berapa korban kecelakaan?", "Kecelakaan itu menewaskan 3 orang dan melukai 12 lainnya."),
        ("kapan pendaftaran dibuka?", "Pendaftaran dibuka 1 Maret dan ditutup 15 Maret."),
        ("siapa yang bertemu di Bandung?", "Andi Saputra bertemu Budi Santoso di Bandung."),
        ("ke mana rombongan pergi?", "Rombongan berangkat dari Surabaya ke Makassar."),
        # A number beside a year no word marks as one.
        ("berapa kendaraan lewat?", "Jembatan yang dibangun 1998 itu dilewati 500 kendaraan."),
        # A range is two numbers.
        ("berapa tamu yang datang?", "Tamu yang datang sekitar 10-12 orang."),
    ],
)
def test_nothing_is_marked_when_two_phrases_could_answer(question: str, sentence: str) -> None:
    assert marked(question, sentence) is None


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("berapa dari 40 penumpang yang turun?", "Kapal itu membawa 40 penumpang."),
        ("kapan yang terjadi pada 14 Februari 2024?", "Pemilu digelar 14 Februari 2024."),
        ("siapa Budi Santoso?", "Budi Santoso adalah pedagang beras di Cianjur."),
        ("di mana Cianjur?", "Gempa terjadi di Cianjur."),
    ],
)
def test_what_the_question_already_holds_is_not_its_answer(question: str, sentence: str) -> None:
    assert marked(question, sentence) is None


def test_a_number_in_the_question_leaves_the_other_one_as_the_answer() -> None:
    assert (
        marked("berapa dari 40 penumpang yang selamat?", "Dari 40 penumpang, 38 orang selamat.")
        == "38 orang"
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "Pasar itu terbakar pekan lalu.",
        "Minggu lalu harga beras naik.",
        "Rapat yang digelar pekan lalu memutuskan pemilu pada 14 Februari.",
        "Harga beras naik sejak kemarin, kata pedagang pada Senin.",
    ],
)
def test_a_time_that_is_no_date_is_not_marked_nor_lets_a_date_be(sentence: str) -> None:
    assert marked("kapan itu terjadi?", sentence) is None


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # The first word is capitalised whatever it is: "Polisi" or "Kim" may be a name.
        ("siapa yang ditangkap?", "Polisi menangkap Budi Santoso di rumahnya."),
        # An office the question does not name may be followed by its place, not the name.
        ("siapa yang mengumumkan kenaikan pajak?", "Menteri Keuangan Sri Mulyani mengumumkan."),
        # Only a month: no date.
        ("kapan harga naik?", "Harga beras naik sejak Maret."),
    ],
)
def test_a_doubtful_phrase_leaves_nothing_marked(question: str, sentence: str) -> None:
    assert marked(question, sentence) is None


@pytest.mark.parametrize(
    "question",
    ["apa yang dikirim ke perbatasan?", "mengapa tentara dikirim?", "bagaimana tentara dikirim?"],
)
def test_a_question_word_without_a_phrase_kind_marks_nothing(question: str) -> None:
    assert marked(question, "Sebanyak 11.000 tentara dikirim ke Jakarta pada Senin (8/1).") is None


def test_a_company_s_legal_form_alone_is_no_name() -> None:
    sentence = "Saham PT <Maju & Jaya> Tbk naik 7,5 persen di Bursa Efek Indonesia."
    assert marked("siapa yang sahamnya naik di PT Maju & Jaya?", sentence) is None


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("siapa direktur utama PT Maju & Jaya?", "Rina Hartono"),
        ("kapan KCNA mengungkap pesan Putin?", "Jumat (27/12/2024)"),
        ("di mana Putin bertemu Kim Jong-un?", "di Pyongyang"),
    ],
)
def test_the_searcher_marks_the_answer_in_its_quotes(
    searcher: Searcher, question: str, answer: str
) -> None:
    found = searcher.answer(question)
    assert found.answered
    shown = [quote.text[slice(*quote.mark)] for quote in found.quotes if quote.mark]
    assert answer in shown
