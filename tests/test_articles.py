"""Reading article files and cleaning Indonesian news."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from index.articles.cleaning import derive_title, strip_dateline
from index.articles.files import read_file, read_folder
from index.articles.reports import (
    ParsedArticle,
    ReadReport,
    ReadWarning,
    SkippedFile,
    SkipReason,
    SourceSentence,
    WarningKind,
)
from index.articles.text import parse_text_article
from index.cli import skip_text, warning_text

ROOT = Path(__file__).resolve().parents[1]
SEED_NAME = "000_30e2f8887a133a25.txt"
SEED = ROOT / "seeds" / SEED_NAME


def skipped(report: ReadReport) -> list[tuple[str, str]]:
    """Each skipped file and why, in the shell's words."""
    return [(item.path, skip_text(item)) for item in report.skipped]


def warned(report: ReadReport) -> list[str]:
    """The warnings, in the shell's words."""
    return [warning_text(warning) for warning in report.warnings]


def parse(text: str, **kwargs: object) -> ParsedArticle | None:
    """Parse text the way a .txt file is parsed."""
    options: dict[str, object] = {"key": "k", "path": "p", "content_hash": "h"}
    options.update(kwargs)
    return parse_text_article(text, **options)  # type: ignore[arg-type]


def body(text: str, **kwargs: object) -> list[str]:
    """The sentences of a .jsonl-style article (no title detection)."""
    article = parse(text, single_line=1, detect_title=False, **kwargs)
    return [] if article is None else [s.text for s in article.sentences]


# ---------------------------------------------------------------------------- the seed article


@pytest.fixture
def seed(monkeypatch: pytest.MonkeyPatch) -> ParsedArticle:
    monkeypatch.chdir(ROOT)
    report = read_file(Path("seeds") / SEED_NAME, folder=Path("seeds"))
    assert report.skipped == [] and report.warnings == []
    [article] = report.articles
    return article


def test_seed_identity(seed: ParsedArticle) -> None:
    assert seed.key == SEED_NAME
    assert seed.path == f"seeds/{SEED_NAME}"
    assert seed.line == 1
    assert seed.content_hash == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert seed.date is None and seed.source is None and seed.url is None


def test_seed_line_13(seed: ParsedArticle) -> None:
    [sentence] = [s for s in seed.sentences if s.line == 13]
    assert sentence == SourceSentence(
        "Kim Jong-un dituduh menempatkan 11.000 tentara Korea Utara untuk mendukung perang "
        "Rusia melawan Ukraina.",
        13,
    )


def test_seed_related_links_source_and_footer_are_not_sentences(seed: ParsedArticle) -> None:
    lines = {s.line for s in seed.sentences}
    assert lines.isdisjoint({6, 14, 19, 20})
    assert lines == set(range(1, 19)) - {6, 14}
    assert not any("Baca Juga" in s.text or "WhatsApp" in s.text for s in seed.sentences)
    assert seed.attribution == "Korea JongAng Daily"


def test_seed_dateline(seed: ParsedArticle) -> None:
    assert seed.place == "PYONGYANG"
    assert seed.sentences[0] == SourceSentence(
        "Presiden Rusia Vladimir Putin mengirim ucapan selamat tahun baru kepada pemimpin "
        "Korea Utara, Kim Jong-un.",
        1,
    )


def test_seed_quotation_stays_one_sentence(seed: ParsedArticle) -> None:
    line_8 = SEED.read_text(encoding="utf-8").splitlines()[7]
    assert [s.text for s in seed.sentences if s.line == 8] == [line_8]


def test_seed_sentences_are_the_lines_verbatim(seed: ParsedArticle) -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    for sentence in seed.sentences[1:]:
        assert sentence.text == lines[sentence.line - 1]
    assert [s.line for s in seed.sentences] == sorted(s.line for s in seed.sentences)


def test_seed_title_is_derived_from_the_first_sentence(seed: ParsedArticle) -> None:
    assert seed.title == (
        "Presiden Rusia Vladimir Putin mengirim ucapan selamat tahun baru kepada pemimpin Korea…"
    )


def test_seed_read_from_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / SEED_NAME).write_bytes(SEED.read_bytes())
    report = read_folder(folder)
    [article] = report.articles
    assert article.path == (folder / SEED_NAME).as_posix()
    assert article.key == SEED_NAME
    assert len(article.sentences) == 16


# ------------------------------------------------------------------- related-article links


@pytest.mark.parametrize(
    "link",
    [
        "Baca Juga: Zelenskyy Akui Tentara Korea Utara yang Ditangkap Tewas",
        "Baca juga: Harga Cabai Naik Lagi",
        "BACA JUGA: Harga Cabai Naik Lagi",
        "Baca Juga : Harga Cabai Naik Lagi",
        "Lihat Juga: Harga Cabai Naik Lagi",
        "Simak Juga: Harga Cabai Naik Lagi",
        "SIMAK JUGA - Persib Pastikan Incar Cole",
        "Baca juga: Liverpool: Lini Depan Oke, Bagaimana dengan Lini Belakang? Cek di Sini",
        "Baca Juga:",
        "[ Baca juga: Harga Cabai Naik Lagi ]",
        "(Baca Juga: Kevin Komentari Hasil Undian (Lagi))",
    ],
)
def test_related_link_lines_are_dropped(link: str) -> None:
    assert body(f"Harga bawang turun.\n{link}\nPedagang lega.") == [
        "Harga bawang turun.",
        "Pedagang lega.",
    ]


def test_related_link_glued_to_a_paragraph_is_cut() -> None:
    text = (
        "Petani panen raya. Harga gabah stabil. Baca juga: Bulog Serap Gabah Petani\n"
        "Spesifikasinya baterai 4.000 mAh non removable Baca juga: 8 April, Duo Galaxy Dipesan\n"
        "Dia menang [ Baca juga: Sang Juara Bertahan ] dengan mudah."
    )
    assert body(text) == [
        "Petani panen raya.",
        "Harga gabah stabil.",
        "Spesifikasinya baterai 4.000 mAh non removable",
        "Dia menang dengan mudah.",
    ]


def test_related_link_that_lost_its_headline_keeps_the_sentence() -> None:
    # Scraped pages lose the link text: what follows the marker is the article's own sentence.
    text = (
        "Baca juga Meski begitu, pelatih tetap optimistis.\n"
        "Baca_Juga Namun, Yon tak lagi bisa memforsir tenaganya.\n"
        "Baca Juga: Almarhum wafat karena sakit jantung yang dideritanya.\n"
        "Baca Juga: Baca Juga: Sebelumnya, jaksa mendakwa terdakwa.\n"
        "Lihat juga: Jokowi Minta Menteri Kerja Keras Setelah itu, rapat ditutup."
    )
    assert body(text) == [
        "Meski begitu, pelatih tetap optimistis.",
        "Namun, Yon tak lagi bisa memforsir tenaganya.",
        "Almarhum wafat karena sakit jantung yang dideritanya.",
        "Sebelumnya, jaksa mendakwa terdakwa.",
    ]


def test_ordinary_words_baca_lihat_juga_are_kept() -> None:
    text = (
        "“Lihat juga kemasannya yang indah,” tulisnya.\n"
        "Tadi kami lihat juga saat latihan.\n"
        "Naskah ini bisa dibaca juga di tabloid."
    )
    assert body(text) == [
        "“Lihat juga kemasannya yang indah,” tulisnya.",
        "Tadi kami lihat juga saat latihan.",
        "Naskah ini bisa dibaca juga di tabloid.",
    ]


# ----------------------------------------------------------------------- footers and bylines


@pytest.mark.parametrize(
    "footer",
    [
        "Gabung ke Channel WhatsApp KompasTV untuk update berita terbaru dan terpercaya.",
        'Artikel ini telah tayang di Kompas.com dengan judul "Harga Naik". Klik untuk baca.',
        "Simak breaking news dan berita pilihan kami langsung di ponselmu. Pilih saluran.",
        "Dapatkan update berita pilihan dan breaking news setiap hari dari Kompas.com.",
        "Ikuti kami di Google News untuk berita terbaru.",
        "Download aplikasi Kompas.com untuk akses berita lebih mudah.",
        "Editor: Budi Santoso",
        "Penulis: Annesa K. Ramadhany",
        "Reporter: Fair Cholis",
        "Pewarta: Ahmad Wijaya",
        "Laporan wartawan Tribunnews.com, Danang Triatmojo",
        "Copyright © 2024 Kompas.com. All rights reserved.",
        "ADVERTISEMENT",
        "SCROLL TO CONTINUE WITH CONTENT",
        "#GrowFearless with FIMELA",
        "(ard)",
        "(res / res)",
        "[ rhm ]",
        "ANTARA",
        "PRIBADI WICAKSONO",
        "Foto: ANTARA/Budi",
        "_x000D_",
        ".",
    ],
)
def test_footers_and_bylines_are_dropped(footer: str) -> None:
    assert body(f"Harga bawang turun.\n{footer}") == ["Harga bawang turun."]


def test_footer_glued_as_last_sentence_is_dropped() -> None:
    text = (
        "Polisi menangkap pelaku. Gabung ke Channel WhatsApp KompasTV untuk update berita.\n"
        'Warga lega," kata Budi. (rsa / rsa)'
    )
    assert body(text) == ["Polisi menangkap pelaku.", 'Warga lega," kata Budi.']


@pytest.mark.parametrize(
    "sentence",
    [
        "Pewarta dari media lainnya, Yasir juga melihat kejadian tersebut.",
        "Editor senior itu mengundurkan diri.",
        "Laporan wartawan Kompas.com menyebutkan banjir sudah surut.",
        "Gabungan parpol koalisi punya 50 kursi.",
        "Sumber dana proyek itu berasal dari APBN.",
        "Foto itu langsung viral di media sosial.",
        "Video berdurasi empat menit itu ditonton jutaan kali.",
        "Artikel ini akan membahas strategi toko daring.",
        "Hak cipta lagu itu dipegang label rekaman.",
        "KPK MENAHAN 3 TERSANGKA.",
        "7. UEA",
    ],
)
def test_ordinary_sentences_that_look_like_footers_are_kept(sentence: str) -> None:
    assert body(f"Harga bawang turun.\n{sentence}") == ["Harga bawang turun.", sentence]


def test_sumber_lines_become_the_attribution() -> None:
    article = parse(
        "Harga bawang turun.\nSumber : Korea JongAng Daily\nPedagang lega.\n(Sumber: Reuters)",
        single_line=1,
        detect_title=False,
    )
    assert article is not None
    assert [s.text for s in article.sentences] == ["Harga bawang turun.", "Pedagang lega."]
    assert article.attribution == "Korea JongAng Daily; Reuters"


def test_sumber_variants() -> None:
    for line, expected in [
        ("Sumber: Google.", "Google"),
        ("Sumber:The Verge", "The Verge"),
        ("Sumber berita Phandroid.", "Phandroid"),
    ]:
        article = parse(f"Isi berita.\n{line}", single_line=1, detect_title=False)
        assert article is not None and article.attribution == expected, line


def test_no_attribution_without_a_sumber_line() -> None:
    article = parse("Isi berita.", single_line=1, detect_title=False)
    assert article is not None and article.attribution is None and article.place is None


# --------------------------------------------------------------------------------- datelines


@pytest.mark.parametrize(
    ("first", "place"),
    [
        ("PYONGYANG, KOMPAS.TV - ", "PYONGYANG"),
        ("JAKARTA, KOMPAS.com - ", "JAKARTA"),
        ("Jakarta, Kompas - ", "Jakarta"),
        ("jakarta, kompas - ", "jakarta"),
        ("JAKARTA (Reuters) - ", "JAKARTA"),
        ("Wamena (ANTARA News) - ", "Wamena"),
        ("JAKARTA (Pos Kota) – ", "JAKARTA"),
        ("Samarinda, Kalimantan Timur (ANTARA News) - ", "Samarinda, Kalimantan Timur"),
        ("Liputan6.com, Jakarta - ", "Jakarta"),
        ("TEMPO.CO, Jakarta - ", "Jakarta"),
        ("Jakarta, CNN Indonesia -- ", "Jakarta"),
        ("Jakarta, CNN Indonesia - - ", "Jakarta"),
        ("Bisnis.com, JAKARTA — ", "JAKARTA"),
        ("JUARA.NET, TOKYO - ", "TOKYO"),
        ("GOLD COAST, JUARA.net - ", "GOLD COAST"),
        ("KOMPAS.com - ", None),
        ("Suara.com – ", None),
        ("Rimanews - ", None),
        ("Sichuan, Kompas - ", "Sichuan"),
        ("Baghdad, Rabu - ", "Baghdad"),
        ("JAKARTA - ", "JAKARTA"),
        ("KOREA SELATAN – ", "KOREA SELATAN"),
        ("MEDAN | ", "MEDAN"),
        ("OPINI - ", None),
    ],
)
def test_datelines_are_stripped(first: str, place: str | None) -> None:
    text = f"{first}Presiden meresmikan jalan tol baru. Warga menyambut gembira."
    article = parse(text, single_line=1, detect_title=False)
    assert article is not None
    assert article.place == place
    assert [s.text for s in article.sentences] == [
        "Presiden meresmikan jalan tol baru.",
        "Warga menyambut gembira.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Kota Bandung, yang sejuk - kata warga - makin ramai.",
        "Sementara itu, Presiden Jokowi - yang baru tiba - menyapa warga.",
        "GO - JEK tumbuh pesat tahun ini.",
        "Baru - baru ini warga mengeluh.",
        "Hasil akhir 2 - 1 untuk tuan rumah.",
        "Bisnis - bisnis kecil tumbuh di desa.",
        "Suara - suara warga terdengar dari jauh.",
        "TNI - AD menggelar latihan.",
    ],
)
def test_ordinary_sentences_are_not_datelines(text: str) -> None:
    assert strip_dateline(text) is None
    assert body(text) == [text]


def test_capital_dateline_before_an_acronym() -> None:
    assert strip_dateline("JAKARTA - KPK menahan tiga tersangka.") == (
        "JAKARTA",
        "KPK menahan tiga tersangka.",
    )


def test_dateline_only_in_the_first_paragraph() -> None:
    article = parse(
        "JAKARTA - Hujan deras.\nJAKARTA - Nama kota ini disebut dua kali.",
        single_line=1,
        detect_title=False,
    )
    assert article is not None and article.place == "JAKARTA"
    assert [s.text for s in article.sentences] == [
        "Hujan deras.",
        "JAKARTA - Nama kota ini disebut dua kali.",
    ]


def test_dateline_alone_on_the_first_line() -> None:
    article = parse("Suara.com -\nCerita sekuel terbaru bocor.", single_line=1, detect_title=False)
    assert article is not None and article.place is None
    assert [s.text for s in article.sentences] == ["Cerita sekuel terbaru bocor."]


# ------------------------------------------------------------------------------------ titles


def test_short_first_line_of_a_txt_is_the_title() -> None:
    article = parse("Putin Kirim Ucapan Tahun Baru ke Kim Jong-un\n\nPutin mengirim ucapan.")
    assert article is not None
    assert article.title == "Putin Kirim Ucapan Tahun Baru ke Kim Jong-un"
    assert article.sentences == (SourceSentence("Putin mengirim ucapan.", 3),)


def test_judul_line_is_the_title() -> None:
    article = parse("Judul: Harga Cabai Naik.\nHarga cabai naik lagi.")
    assert article is not None and article.title == "Harga Cabai Naik."
    assert article.sentences == (SourceSentence("Harga cabai naik lagi.", 2),)
    article = parse("Title: Chili Prices\nHarga cabai naik lagi.")
    assert article is not None and article.title == "Chili Prices"


@pytest.mark.parametrize(
    "text",
    [
        "Harga cabai naik lagi.\nPedagang mengeluh.",  # ends with a full stop
        "Harga cabai naik lagi",  # nothing follows
        "JAKARTA, KOMPAS.com - Harga cabai naik\nPedagang mengeluh.",  # a dateline
        "Berikut daftarnya:\nSatu. Dua.",  # a colon
    ],
)
def test_lines_that_are_not_titles(text: str) -> None:
    article = parse(text)
    assert article is not None
    assert article.sentences[0].line == 1


def test_title_derived_from_a_short_first_sentence() -> None:
    article = parse("Harga cabai naik lagi.\nPedagang mengeluh.")
    assert article is not None and article.title == "Harga cabai naik lagi."


def test_derive_title() -> None:
    assert derive_title("Harga cabai naik.") == "Harga cabai naik."
    fourteen = " ".join(f"kata{i}" for i in range(14))
    assert derive_title(fourteen) == fourteen
    long = "Satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas dua-belas, "
    long += "tiga belas empat belas lima belas."
    assert derive_title(long) == (
        "Satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas dua-belas…"
    )


def test_markdown_title_and_structure(tmp_path: Path) -> None:
    (tmp_path / "berita.md").write_text(
        "# Putin Kirim Ucapan\n"
        "\n"
        "JAKARTA, KOMPAS.com - Presiden **Rusia** mengirim [ucapan](https://x.example/a) "
        "selamat.\n"
        "Kalimat ini dibungkus\n"
        "ke baris berikutnya.\n"
        "\n"
        "## Reaksi Korea\n"
        "\n"
        "- Butir *pertama*.\n"
        "- Butir `kedua`.\n"
        "\n"
        "> Kutipan panjang.\n"
        "\n"
        "```\n"
        "kode. Tidak dibaca.\n"
        "```\n"
        "![foto](foto.jpg)\n"
        "Baca juga: Judul Lain yang Menarik\n"
        "\n"
        "Editor: Budi\n",
        encoding="utf-8",
    )
    [article] = read_folder(tmp_path).articles
    assert article.title == "Putin Kirim Ucapan"
    assert article.place == "JAKARTA"
    assert [(s.line, s.text) for s in article.sentences] == [
        (3, "Presiden Rusia mengirim ucapan selamat."),
        (4, "Kalimat ini dibungkus ke baris berikutnya."),
        (7, "Reaksi Korea"),
        (9, "Butir pertama."),
        (10, "Butir kedua."),
        (12, "Kutipan panjang."),
    ]


def test_markdown_setext_title() -> None:
    article = parse("Harga Cabai\n===========\n\nHarga naik.", markdown=True)
    assert article is not None and article.title == "Harga Cabai"
    assert article.sentences == (SourceSentence("Harga naik.", 4),)


def test_markdown_without_body_has_no_article(tmp_path: Path) -> None:
    (tmp_path / "kosong.md").write_text("# Hanya Judul\n", encoding="utf-8")
    report = read_folder(tmp_path)
    assert report.articles == []
    assert report.skipped == [
        SkippedFile((tmp_path / "kosong.md").as_posix(), SkipReason.NO_SENTENCES)
    ]
    assert skipped(report) == [
        ((tmp_path / "kosong.md").as_posix(), "no sentences left after cleaning")
    ]


# ------------------------------------------------------------------------ text faithfulness


def test_text_is_kept_faithfully() -> None:
    text = (
        "“Harga naik 3,5 persen menjadi Rp 1.500.000,” kata Dr. Budi di Jl. Merdeka (27/12/2024)."
    )
    assert body(text) == [text]


def test_wikipedia_residue_is_removed() -> None:
    text = (
        "Jakarta adalah ibu kota[1] Indonesia.[2] Kota ini padat[butuh rujukan].\n"
        "jmpl|ka|200px|Monas dibangun pada 1961 di [[Gambir|Kecamatan Gambir]]."
    )
    assert body(text) == [
        "Jakarta adalah ibu kota Indonesia.",
        "Kota ini padat.",
        "Monas dibangun pada 1961 di Kecamatan Gambir.",
    ]


def test_invisible_characters_and_nbsp() -> None:
    assert body("Layanan e-comme\u200b\u200brce\u00a0tumbuh\u202fpesat.\ufeff") == [
        "Layanan e-commerce tumbuh pesat."
    ]


def test_click_id_comma_debris_between_sentences() -> None:
    text = (
        'Batas usia menjadi 19 tahun., "Hasil rapat disepakati," kata Totok.\n'
        "Ia dirawat sejak Selasa (10/9/2019)., Thareq mengatakan ayahnya kelelahan.\n"
        "Ia pernah ke Washington, D.C., Boston, dan New York.\n"
        "Menurut dr. Damar, SpOG(K)., hingga kini datanya belum ada."
    )
    assert body(text) == [
        "Batas usia menjadi 19 tahun.",
        '"Hasil rapat disepakati," kata Totok.',
        "Ia dirawat sejak Selasa (10/9/2019).",
        "Thareq mengatakan ayahnya kelelahan.",
        "Ia pernah ke Washington, D.C., Boston, dan New York.",
        "Menurut dr. Damar, SpOG(K)., hingga kini datanya belum ada.",
    ]


# ---------------------------------------------------------------------------- line numbers


def test_line_numbers_with_blank_and_wrapped_lines() -> None:
    text = "Harga Cabai Naik\n\nKalimat satu. Kalimat\ndua berlanjut.\n\nKalimat tiga."
    article = parse(text)
    assert article is not None
    assert [(s.line, s.text) for s in article.sentences] == [
        (3, "Kalimat satu."),
        (3, "Kalimat dua berlanjut."),
        (6, "Kalimat tiga."),
    ]


def test_line_numbers_with_crlf_and_offset() -> None:
    article = parse("Satu.\r\nDua.\r\n\r\nTiga.", line_offset=10)
    assert article is not None
    assert article.line == 11
    assert [(s.line, s.text) for s in article.sentences] == [
        (11, "Satu."),
        (12, "Dua."),
        (14, "Tiga."),
    ]


def test_plain_text_lines_are_not_joined_after_a_full_stop() -> None:
    article = parse("Satu kalimat.\nlalu huruf kecil di baris baru.")
    assert article is not None
    assert [(s.line, s.text) for s in article.sentences] == [
        (1, "Satu kalimat."),
        (2, "lalu huruf kecil di baris baru."),
    ]


# --------------------------------------------------------------------------------- folders


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def test_read_folder_reads_sorted_recursive_and_skips_hidden(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "Berita kedua.")
    write(tmp_path / "a" / "z.md", "Berita dalam folder.")
    write(tmp_path / "A.TXT", "Berita huruf besar.")
    write(tmp_path / ".rahasia.txt", "Tersembunyi.")
    write(tmp_path / ".git" / "c.txt", "Tersembunyi juga.")
    write(tmp_path / "catatan.pdf", b"%PDF-1.4")
    write(tmp_path / "foto.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    report = read_folder(tmp_path)
    assert [a.key for a in report.articles] == ["A.TXT", "a/z.md", "b.txt"]
    assert [a.path for a in report.articles] == [
        (tmp_path / key).as_posix() for key in ["A.TXT", "a/z.md", "b.txt"]
    ]
    assert report.skipped == [] and report.warnings == []


def test_relative_folder_gives_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "seeds" / "sub" / "x.txt", "Isi berita.")
    monkeypatch.chdir(tmp_path)
    [article] = read_folder(Path("seeds")).articles
    assert article.path == "seeds/sub/x.txt"
    assert article.key == "sub/x.txt"


def test_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    good = write(tmp_path / "baik.txt", "Harga cabai naik.")
    write(tmp_path / "biner.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path / "kosong.txt", b"")
    write(tmp_path / "spasi.txt", "  \n\t\n \u00a0\n")
    write(tmp_path / "rusak.txt", b"Harga \x81\x8d\x90 naik \xff.")
    write(tmp_path / "besar.txt", "Harga naik. " * 200)
    write(tmp_path / "iklan.txt", "Baca juga: Harga Naik\nEditor: Budi\nADVERTISEMENT\n")
    report = read_folder(tmp_path, max_bytes=1000)
    assert [a.path for a in report.articles] == [good.as_posix()]
    reasons = {Path(path).name: reason for path, reason in skipped(report)}
    assert reasons == {
        "besar.txt": "larger than 1 KB (2.4 KB)",
        "biner.txt": "binary file",
        "iklan.txt": "no sentences left after cleaning",
        "kosong.txt": "empty file",
        "rusak.txt": "not UTF-8 and not cp1252",
        "spasi.txt": "empty file",
    }
    assert report.warnings == []


def test_cp1252_file_is_read_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "“Kafe ini menjual café au lait seharga Rp 25.000,” kata pemiliknya."
    write(tmp_path / "seeds" / "lama.txt", text.encode("cp1252"))
    monkeypatch.chdir(tmp_path)
    report = read_folder(Path("seeds"))
    assert report.warnings == [ReadWarning("seeds/lama.txt", WarningKind.READ_AS_CP1252)]
    assert warned(report) == ["seeds/lama.txt: not UTF-8, read as cp1252"]
    [article] = report.articles
    assert article.sentences == (SourceSentence(text, 1),)


def test_utf16_and_utf8_bom_files(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "\ufeffHarga naik.".encode())
    write(tmp_path / "b.txt", "Harga turun.".encode("utf-16"))
    report = read_folder(tmp_path)
    assert [a.sentences[0].text for a in report.articles] == ["Harga naik.", "Harga turun."]
    assert report.skipped == []


def test_size_limit_message_in_megabytes(tmp_path: Path) -> None:
    write(tmp_path / "besar.txt", "a" * 7_200_000)
    report = read_folder(tmp_path)
    [big] = report.skipped
    assert (big.reason, big.detail, big.limit) == (SkipReason.TOO_LARGE, "7.2 MB", "5 MB")
    assert skipped(report) == [((tmp_path / "besar.txt").as_posix(), "larger than 5 MB (7.2 MB)")]


def test_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_folder(tmp_path / "tidak-ada")


def test_read_file_with_another_suffix_or_a_folder(tmp_path: Path) -> None:
    pdf = write(tmp_path / "x.pdf", b"%PDF")
    report = read_file(pdf, folder=tmp_path)
    assert report.skipped == [SkippedFile(pdf.as_posix(), SkipReason.NOT_ARTICLE_FILE, ".pdf")]
    assert skipped(report) == [(pdf.as_posix(), "not an article file (.pdf)")]
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    report = read_file(folder, folder=tmp_path)
    assert report.articles == []
    assert report.skipped[0].reason is SkipReason.CANNOT_READ
    assert skip_text(report.skipped[0]).startswith("cannot read")


def test_report_extend() -> None:
    a = ReadWarning("a", WarningKind.BAD_DATE, "'kemarin'")
    b = ReadWarning("b", WarningKind.READ_AS_CP1252)
    one = ReadReport(warnings=[a])
    two = ReadReport(skipped=[SkippedFile("x", SkipReason.EMPTY)], warnings=[b])
    one.extend(two)
    assert one.warnings == [a, b] and one.skipped == [SkippedFile("x", SkipReason.EMPTY)]
    assert one.articles == []


# ----------------------------------------------------------------------------------- jsonl


def jsonl(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def test_jsonl_records_become_articles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = {
        "id": "berita-1",
        "title": "Harga Cabai Naik",
        "date": "2019-09-16",
        "source": "Kompas.com",
        "url": "https://kompas.example/1",
        "text": "JAKARTA, KOMPAS.com - Harga cabai naik. Pedagang mengeluh.\n"
        "Baca juga: Harga Bawang Turun\n“Kami rugi. Pembeli sepi,” kata Siti.",
    }
    write(
        tmp_path / "data" / "berita.jsonl",
        jsonl(
            good,
            "",
            "{bukan json",
            [1, 2],
            {"id": "x", "title": "Tanpa teks"},
            {"id": "y", "text": "   "},
            {"title": None, "date": "16-09-2019", "text": "Banjir surut. Warga kembali."},
            {"id": "berita-1", "text": "Id kembar."},
            {"id": 7, "text": "Baca juga: Cuma Tautan\nEditor: Budi"},
            {"passage_id": "facqa-1", "text": "Sichuan, Kompas - Minyak ditemukan."},
        ),
    )
    monkeypatch.chdir(tmp_path)
    report = read_folder(Path("data"))

    first = report.articles[0]
    assert first.key == "berita.jsonl#berita-1"
    assert first.path == "data/berita.jsonl"
    assert first.line == 1
    assert first.title == "Harga Cabai Naik"
    assert first.date == dt.date(2019, 9, 16)
    assert first.source == "Kompas.com" and first.url == "https://kompas.example/1"
    assert first.place == "JAKARTA"
    assert [s.text for s in first.sentences] == [
        "Harga cabai naik.",
        "Pedagang mengeluh.",
        "“Kami rugi. Pembeli sepi,” kata Siti.",
    ]
    assert {s.line for s in first.sentences} == {1}

    assert [(a.key, a.line) for a in report.articles[1:]] == [
        ("berita.jsonl#line7", 7),
        ("berita.jsonl#line8", 8),
        ("berita.jsonl#facqa-1", 10),
    ]
    no_title = report.articles[1]
    assert no_title.title == "Banjir surut."
    assert no_title.date is None
    assert [s.line for s in no_title.sentences] == [7, 7]
    assert report.articles[3].place == "Sichuan"

    assert skipped(report) == [
        ("data/berita.jsonl:3", "line 3: not valid JSON"),
        ("data/berita.jsonl:4", "line 4: not a JSON object"),
        ("data/berita.jsonl:5", "line 5: no 'text'"),
        ("data/berita.jsonl:6", "line 6: no 'text'"),
        ("data/berita.jsonl:9", "line 9: no sentences left after cleaning"),
    ]
    assert [(item.reason, item.line) for item in report.skipped] == [
        (SkipReason.NOT_JSON, 3),
        (SkipReason.NOT_JSON_OBJECT, 4),
        (SkipReason.NO_TEXT, 5),
        (SkipReason.NO_TEXT, 6),
        (SkipReason.NO_SENTENCES, 9),
    ]
    assert warned(report) == [
        "data/berita.jsonl:7: bad date '16-09-2019' ignored",
        "data/berita.jsonl:8: duplicate id 'berita-1', keyed by its line instead",
    ]


def test_jsonl_content_hash_covers_the_fields(tmp_path: Path) -> None:
    record = {
        "id": "a",
        "title": "T",
        "date": "2020-01-02",
        "source": "S",
        "url": "u",
        "text": "Isi.",
    }
    path = write(tmp_path / "x.jsonl", jsonl(record, {**record, "id": "b", "url": "v"}))
    first, second = read_file(path, folder=tmp_path).articles
    expected = hashlib.sha256(
        json.dumps(
            ["T", "Isi.", "2020-01-02", "S", "u"], ensure_ascii=False, separators=(",", ":")
        ).encode()
    ).hexdigest()
    assert first.content_hash == expected
    assert second.content_hash != first.content_hash
    # Reading again gives the same identity and hash.
    again = read_file(path, folder=tmp_path).articles[0]
    assert (again.key, again.content_hash) == (first.key, first.content_hash)


def test_jsonl_bad_files(tmp_path: Path) -> None:
    write(tmp_path / "kosong.jsonl", "\n\n  \n")
    write(tmp_path / "biner.jsonl", b'{"text": "a"}\n\x00\x01\x02')
    big = json.dumps({"id": "besar", "text": "Harga naik. " * 200})
    write(tmp_path / "campur.jsonl", jsonl(big, {"id": "kecil", "text": "Harga turun."}))
    write(
        tmp_path / "lama.jsonl",
        b'{"id": "c", "text": "Caf\xe9 itu ramai."}\n' + b'{"id": "d", "text": "Sepi."}\n',
    )
    report = read_folder(tmp_path, max_bytes=1000)
    assert [(a.key, [s.text for s in a.sentences]) for a in report.articles] == [
        ("campur.jsonl#kecil", ["Harga turun."]),
        ("lama.jsonl#c", ["Café itu ramai."]),
        ("lama.jsonl#d", ["Sepi."]),
    ]
    assert [(Path(path).name, reason) for path, reason in skipped(report)] == [
        ("biner.jsonl", "binary file"),
        ("campur.jsonl:1", "line 1: larger than 1 KB (2.4 KB)"),
        ("kosong.jsonl", "empty file"),
    ]
    assert warned(report) == [
        f"{(tmp_path / 'lama.jsonl').as_posix()}: not UTF-8, read as cp1252 (lines 1)"
    ]


def test_jsonl_paragraph_title_line_is_not_a_title(tmp_path: Path) -> None:
    # In .jsonl only the "title" field is a title; a short first paragraph is text.
    path = write(tmp_path / "x.jsonl", jsonl({"text": "Susunan Pemain\nPersib menang."}))
    [article] = read_file(path, folder=tmp_path).articles
    assert [s.text for s in article.sentences] == ["Susunan Pemain", "Persib menang."]
    assert article.title == "Susunan Pemain"


# ------------------------------------------------------------------------------- structure


def test_dataclasses_are_frozen() -> None:
    sentence = SourceSentence("Isi.", 1)
    with pytest.raises(AttributeError):
        sentence.text = "lain"  # type: ignore[misc]
    assert not hasattr(sentence, "__dict__")


def test_index_modules_do_not_import_telegram() -> None:
    code = (
        "import sys, index.articles.files, index.articles.sentences, index.cli; "
        "sys.exit(any(m == 'telegram' or m.startswith('telegram.') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False)
    assert result.returncode == 0


def test_known_unchanged_articles_are_listed_not_parsed(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    records = [
        {"id": "a", "text": "Harga cabai naik di Pasar Senen pekan ini."},
        {"id": "b", "text": "Banjir merendam 300 rumah di Kampung Melayu."},
    ]
    path = folder / "berita.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (folder / "catatan.txt").write_text("Kereta cepat mengangkut 18.000 penumpang.\n")
    first = read_folder(folder)
    hashes = {article.key: article.content_hash for article in first.articles}
    assert first.unchanged == []

    records[1]["text"] = "Banjir merendam 310 rumah di Kampung Melayu."
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    again = read_folder(folder, known=hashes)

    assert sorted(again.unchanged) == ["berita.jsonl#a", "catatan.txt"]
    assert [a.key for a in again.articles] == ["berita.jsonl#b"]
    assert again.articles[0].content_hash != hashes["berita.jsonl#b"]
