"""Sentence splitting and chunking."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.articles.sentences import chunk_spans, sentence_spans, split_sentences

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_30e2f8887a133a25.txt"

# --------------------------------------------------------------------------- basic splitting


def test_splits_on_full_stop_question_and_exclamation_marks() -> None:
    text = "Hujan turun sejak pagi. Apakah banjir datang? Warga mengungsi! Sekolah diliburkan."
    assert split_sentences(text) == [
        "Hujan turun sejak pagi.",
        "Apakah banjir datang?",
        "Warga mengungsi!",
        "Sekolah diliburkan.",
    ]


def test_single_sentence_and_text_without_final_punctuation() -> None:
    assert split_sentences("Presiden tiba di Bandung.") == ["Presiden tiba di Bandung."]
    assert split_sentences("Susunan pemain kedua tim") == ["Susunan pemain kedua tim"]


def test_empty_and_blank_text_give_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\t ") == []
    assert sentence_spans("") == []


def test_whitespace_is_collapsed_and_invisible_characters_removed() -> None:
    text = "  Harga\u00a0cabai   naik.\n\nPedagang\u200b mengeluh\u200b.  "
    assert split_sentences(text) == ["Harga cabai naik.", "Pedagang mengeluh."]


def test_no_split_without_whitespace_or_before_lower_case() -> None:
    # "detik.com" and a lower-case continuation are not sentence starts.
    assert split_sentences("Dikutip dari detik.com pada Senin. kata dia lagi.") == [
        "Dikutip dari detik.com pada Senin. kata dia lagi."
    ]


def test_sentence_may_start_with_digit_quote_or_bracket() -> None:
    text = (
        'Polisi datang. 20 orang ditangkap. "Kami tegas," kata Kapolres. (Foto menyusul) Selesai.'
    )
    assert split_sentences(text) == [
        "Polisi datang.",
        "20 orang ditangkap.",
        '"Kami tegas," kata Kapolres.',
        "(Foto menyusul) Selesai.",
    ]


# -------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "text",
    [
        "Kim Jong-un dituduh menempatkan 11.000 tentara Korea Utara.",
        "Rapat dimulai pukul 10.30 WIB di Balai Kota.",
        "Harganya Rp 1.500.000 per unit.",
        "Inflasi naik 3,5 persen pada 27/12/2024 lalu.",
        "Skor akhir 2.1 untuk tim tamu.",
        "Versi 3.0.1 dirilis kemarin.",
    ],
)
def test_numbers_are_never_split(text: str) -> None:
    assert split_sentences(text) == [text]


def test_sentence_ending_in_a_number_or_time_still_splits() -> None:
    text = (
        "Jumlahnya mencapai 11.000. Rapat selesai pukul 10.30 WIB. Harga Rp 1.500.000. Itu mahal."
    )
    assert split_sentences(text) == [
        "Jumlahnya mencapai 11.000.",
        "Rapat selesai pukul 10.30 WIB.",
        "Harga Rp 1.500.000.",
        "Itu mahal.",
    ]


# -------------------------------------------------------------------------- abbreviations


@pytest.mark.parametrize(
    "text",
    [
        "Jend. Sudirman memimpin gerilya.",
        "Kantornya di Jl. Merdeka No. 5 Kec. Menteng, Kab. Bogor, Prov. Jawa Barat.",
        "Prof. Dr. Budi Santoso, S.H., M.Hum. membuka acara.",
        "Acara dibuka Ir. H. Joko Widodo dan Hj. Iriana.",
        "Pasien ditangani dr. Sari dan drs. Tono serta Drs. Amir.",
        "Guru itu, Siti Aminah, S.Pd., M.Si. menerima penghargaan.",
        "Surat ditujukan kepada Yth. Bpk. Ahmad dan Sdr. Rudi.",
        "Penelitian Santoso dkk. menunjukkan hal itu.",
        "Dana dikirim a.n. Budi u.p. bagian keuangan.",
        "Laga Persija vs. Persib berakhir imbang.",
        "Mr. Smith dan Mrs. Smith bertemu Ms. Lee.",
        "Harganya Rp. 5.000 per kg. saja menurut pedagang.",
        "Lihat hlm. 12 dalam buku itu.",
        "Saham PT Astra International Tbk. (ASII) menguat.",
        "Ia pindah ke St. Petersburg tahun lalu.",
    ],
)
def test_abbreviations_do_not_end_sentences(text: str) -> None:
    assert split_sentences(text) == [text]


def test_initials_in_names_do_not_end_sentences() -> None:
    text = "Presiden B. J. Habibie wafat pada 2019. Jenazahnya dimakamkan di Kalibata."
    assert split_sentences(text) == [
        "Presiden B. J. Habibie wafat pada 2019.",
        "Jenazahnya dimakamkan di Kalibata.",
    ]
    assert split_sentences("Jalan A. Yani ditutup. Polisi berjaga.") == [
        "Jalan A. Yani ditutup.",
        "Polisi berjaga.",
    ]


def test_a_capital_letter_after_a_label_word_is_not_an_initial() -> None:
    text = (
        "Indonesia berada di Grup A. Tim lain menunggu undian. "
        "Ia kekurangan vitamin C. Dokter khawatir."
    )
    assert split_sentences(text) == [
        "Indonesia berada di Grup A.",
        "Tim lain menunggu undian.",
        "Ia kekurangan vitamin C.",
        "Dokter khawatir.",
    ]


def test_words_like_dll_end_a_sentence_only_before_a_capital() -> None:
    assert split_sentences("Ada apel, jeruk, dll. Semuanya segar.") == [
        "Ada apel, jeruk, dll.",
        "Semuanya segar.",
    ]
    assert split_sentences("Ada apel, jeruk, dll. yang dijual murah.") == [
        "Ada apel, jeruk, dll. yang dijual murah."
    ]


def test_a_web_address_at_the_end_of_a_sentence_splits() -> None:
    assert split_sentences("Dikutip dari bola.net. Pelatih itu mundur.") == [
        "Dikutip dari bola.net.",
        "Pelatih itu mundur.",
    ]


def test_abbreviations_are_case_aware() -> None:
    # A capital initial continues the sentence; a lower-case list letter does not.
    assert split_sentences("Surat itu ditandatangani B. Semua setuju.") == [
        "Surat itu ditandatangani B. Semua setuju."
    ]
    assert split_sentences("Ia memilih opsi b. Semua setuju.") == [
        "Ia memilih opsi b.",
        "Semua setuju.",
    ]
    # Both spellings of the doctor's title, and capitalised address forms.
    assert split_sentences("Ia ditangani dr. Sari dan Dr. Tono di JL. Merdeka.") == [
        "Ia ditangani dr. Sari dan Dr. Tono di JL. Merdeka."
    ]
    # An ordinary word before a full stop is not an abbreviation.
    assert split_sentences("Ia tinggal di Jakarta. No. 5 rumahnya.") == [
        "Ia tinggal di Jakarta.",
        "No. 5 rumahnya.",
    ]


def test_list_markers_stay_with_their_item() -> None:
    assert split_sentences("1. Siapkan bahan. 2. Aduk rata.") == [
        "1. Siapkan bahan.",
        "2. Aduk rata.",
    ]


# ------------------------------------------------------------------------------ quotations


def test_quotation_with_several_sentences_is_one_sentence() -> None:
    text = "“Kami siap. Semua sudah disiapkan,” kata Budi. Dia lalu pergi."
    assert split_sentences(text) == [
        "“Kami siap. Semua sudah disiapkan,” kata Budi.",
        "Dia lalu pergi.",
    ]


def test_straight_quotes_work_like_curly_quotes() -> None:
    text = '"Kami siap. Semua sudah disiapkan," kata Budi. Dia lalu pergi.'
    assert split_sentences(text) == [
        '"Kami siap. Semua sudah disiapkan," kata Budi.',
        "Dia lalu pergi.",
    ]


def test_sentence_ends_after_a_closing_quote() -> None:
    assert split_sentences("“Kami siap. Semua sudah disiapkan.” Budi lalu pergi.") == [
        "“Kami siap. Semua sudah disiapkan.”",
        "Budi lalu pergi.",
    ]
    assert split_sentences("“Siapa dia?” tanya Budi. Dia diam.") == [
        "“Siapa dia?” tanya Budi.",
        "Dia diam.",
    ]


def test_unclosed_curly_quote_is_ignored() -> None:
    text = "“Kami siap. Semua sudah disiapkan. Budi lalu pergi."
    assert split_sentences(text) == [
        "“Kami siap.",
        "Semua sudah disiapkan.",
        "Budi lalu pergi.",
    ]


def test_odd_straight_quote_is_ignored() -> None:
    # The last quote opens a quotation that continues in the next paragraph.
    text = 'Ia berkata, "Kami siap." Lalu ia pergi. "Besok kami datang. Semua ikut.'
    assert split_sentences(text) == [
        'Ia berkata, "Kami siap."',
        "Lalu ia pergi.",
        '"Besok kami datang.',
        "Semua ikut.",
    ]


def test_stray_closing_quote_does_not_glue_the_paragraph() -> None:
    text = "Dia pergi.” Polisi datang. Warga lega."
    assert split_sentences(text) == ["Dia pergi.”", "Polisi datang.", "Warga lega."]


def test_single_quotes_inside_double_quotes() -> None:
    text = "“Dia bilang ‘siap. Ayo’ lalu pergi. Kami ikut,” kata Budi. Selesai."
    assert split_sentences(text) == [
        "“Dia bilang ‘siap. Ayo’ lalu pergi. Kami ikut,” kata Budi.",
        "Selesai.",
    ]


# ------------------------------------------------------------------ ellipsis and runs of marks


def test_ellipsis_and_mark_runs_stay_with_their_sentence() -> None:
    text = "Benarkah?! Ya... Tentu saja… Dia pergi!!! Lalu?? Hening."
    assert split_sentences(text) == [
        "Benarkah?!",
        "Ya...",
        "Tentu saja…",
        "Dia pergi!!!",
        "Lalu??",
        "Hening.",
    ]


def test_ellipsis_before_lower_case_does_not_split() -> None:
    assert split_sentences("Dia menunggu... dan menunggu. Lalu pergi.") == [
        "Dia menunggu... dan menunggu.",
        "Lalu pergi.",
    ]


def test_leading_ellipsis_is_not_a_sentence() -> None:
    assert split_sentences("... Lalu dia pergi. Hujan.") == ["... Lalu dia pergi.", "Hujan."]


# ------------------------------------------------------------------------- tokenised text


def test_tokenised_facqa_like_text() -> None:
    text = 'Negara G - 8 bertemu sejak 1980 - an . " Kami siap , " kata dia . Lalu rapat ditutup .'
    assert split_sentences(text) == [
        "Negara G - 8 bertemu sejak 1980 - an .",
        '" Kami siap , " kata dia .',
        "Lalu rapat ditutup .",
    ]


def test_tokenised_closing_quote_after_spaced_full_stop() -> None:
    text = '" Kami siap . Semua ikut . " Budi lalu pergi .'
    assert split_sentences(text) == ['" Kami siap . Semua ikut . "', "Budi lalu pergi ."]


def test_tokenised_quote_glued_to_the_next_word() -> None:
    # IndoSum style: the closing quote has a space before it and none after.
    text = '"Tidak hanya tarif. Dipanggil keduanya, "ucap Zulkifli di DPR. Lalu dia pergi.'
    assert split_sentences(text) == [
        '"Tidak hanya tarif. Dipanggil keduanya, "ucap Zulkifli di DPR.',
        "Lalu dia pergi.",
    ]


@pytest.mark.parametrize(
    "text", ['"', "“", "”", "...", ". . .", "?!", '" . "', "( .", "A.", "a. b. c.", ". Budi"]
)
def test_odd_inputs_do_not_crash(text: str) -> None:
    sentences = split_sentences(text)
    assert all(sentences)
    assert " ".join(sentences) == " ".join(text.split())


# ------------------------------------------------------------------------------ invariants


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Budi",
                "pergi",
                "Jl.",
                "B.",
                "11.000",
                "S.H.,",
                "dll.",
                "kata",
                "dia.",
                "“Kami",
                "siap.”",
                '"',
                "…",
                "?!",
                "(AS)",
                "Rp",
                "1.",
                ".",
                "\n",
                "\u00a0",
            ]
        ),
        max_size=40,
    )
)
def test_sentences_cover_the_text_exactly(words: list[str]) -> None:
    text = " ".join(words)
    sentences = split_sentences(text)
    assert all(s and s == s.strip() and "  " not in s for s in sentences)
    assert " ".join(sentences) == " ".join(text.split())


def test_spans_point_into_the_text() -> None:
    text = "“Kami siap. Ayo,” kata Budi. Dia pergi."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["“Kami siap. Ayo,” kata Budi.", "Dia pergi."]


# ------------------------------------------------------------------------------ real text


def test_seed_article_lines_are_single_sentences() -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    assert split_sentences(lines[7]) == [lines[7]]  # the long KCNA quotation, line 8
    assert split_sentences(lines[12]) == [
        "Kim Jong-un dituduh menempatkan 11.000 tentara Korea Utara untuk mendukung perang "
        "Rusia melawan Ukraina."
    ]
    # Dates in brackets do not split: "Jumat (27/12/2024)."
    assert len(split_sentences(lines[2])) == 1


def test_seed_paragraph_joined_splits_back_into_its_lines() -> None:
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.endswith(".")]
    assert split_sentences(" ".join(lines)) == lines


def test_split_is_fast() -> None:
    import time

    paragraph = (
        "“Kami siap. Semua sudah disiapkan,” kata Jend. Budi di Jl. Merdeka No. 5, Senin "
        "(27/12/2024) pukul 10.30 WIB. Harga naik 3,5 persen menjadi Rp 1.500.000. Dia pergi... "
        "Benarkah?! "
    ) * 5
    started = time.perf_counter()
    for _ in range(2000):
        split_sentences(paragraph)
    # 2,000 paragraphs of 25 sentences: 50,000 sentences, far under a second on any machine.
    assert time.perf_counter() - started < 5


def test_one_huge_paragraph_with_many_quotes_is_linear() -> None:
    import time

    paragraph = "“Kami siap. Ayo,” kata Budi. Dia pergi. " * 20_000
    started = time.perf_counter()
    sentences = split_sentences(paragraph)
    assert time.perf_counter() - started < 5
    assert len(sentences) == 40_000
    assert sentences[:2] == ["“Kami siap. Ayo,” kata Budi.", "Dia pergi."]


# -------------------------------------------------------------------------------- chunking


def test_chunks_close_at_max_sentences() -> None:
    sentences = [f"Kalimat {i}." for i in range(12)]
    assert chunk_spans(sentences, max_words=80, max_sentences=5) == [
        range(0, 5),
        range(5, 10),
        range(10, 12),
    ]


def test_chunks_close_before_exceeding_max_words() -> None:
    sentences = ["satu dua tiga", "empat lima", "enam tujuh delapan sembilan", "sepuluh"]
    # 3 + 2 = 5 words fit; adding 4 more would make 9 > 6.
    assert chunk_spans(sentences, max_words=6, max_sentences=10) == [range(0, 2), range(2, 4)]


def test_chunk_may_reach_max_words_exactly() -> None:
    sentences = ["a b c", "d e f", "g"]
    assert chunk_spans(sentences, max_words=6, max_sentences=10) == [range(0, 2), range(2, 3)]


def test_long_sentence_is_its_own_chunk() -> None:
    long = " ".join(["kata"] * 100)
    sentences = ["Pendek sekali.", long, "Pendek lagi.", "Dan lagi."]
    assert chunk_spans(sentences, max_words=80, max_sentences=5) == [
        range(0, 1),
        range(1, 2),
        range(2, 4),
    ]


def test_chunks_of_nothing() -> None:
    assert chunk_spans([]) == []


def test_chunk_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        chunk_spans(["a"], max_words=0)
    with pytest.raises(ValueError, match="at least 1"):
        chunk_spans(["a"], max_sentences=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=120), max_size=40),
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=1, max_value=8),
)
def test_chunks_cover_all_sentences_in_order(
    lengths: list[int], max_words: int, max_sentences: int
) -> None:
    sentences = [" ".join(["w"] * n) for n in lengths]
    chunks = chunk_spans(sentences, max_words=max_words, max_sentences=max_sentences)
    assert [i for chunk in chunks for i in chunk] == list(range(len(sentences)))
    for chunk in chunks:
        assert chunk.step == 1 and len(chunk) >= 1
        assert len(chunk) <= max_sentences
        words = sum(lengths[i] for i in chunk)
        assert words <= max_words or len(chunk) == 1
    # Greedy: a chunk is closed only because the next sentence would not fit.
    for chunk, following in itertools.pairwise(chunks):
        nxt = following.start
        grown = sum(lengths[i] for i in chunk) + lengths[nxt]
        assert grown > max_words or len(chunk) == max_sentences


def test_module_has_no_heavy_imports() -> None:
    source = (ROOT / "index" / "articles" / "sentences.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(?:import|from)\s+(?:telegram|numpy|torch)", source, re.M)
