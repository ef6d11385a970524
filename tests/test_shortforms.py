"""Short forms: the definitions articles give in parentheses, the shipped list, and questions
that write one form where the article writes the other (real model, SQLite and FAISS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.encoders.embedder import Embedder
from index.search.features import FEATURES
from index.search.searcher import Searcher
from index.search.shortforms import (
    ShortForms,
    find_all_definitions,
    find_definitions,
    find_joined_names,
    is_definition,
    load_definitions,
    shipped,
    shipped_list,
)
from index.search.tokens import tokenize, words
from index.storage.builder import build_index
from index.storage.store import make_engine
from index.storage.versions import current_version, version_folder
from tests.conftest import make_settings

FIRE = """\
Gudang kayu di Kelurahan Sukamaju, Kota Bandar Lestari (KBL), terbakar pada Selasa malam.
Petugas Pemadam Kebakaran (Damkar) Kota Bandar Lestari menerima laporan warga sekitar pukul 21.00.
Sebanyak tujuh unit mobil Damkar dikerahkan ke lokasi untuk menjinakkan api.
Pemilik gudang, Agus Salim, mengatakan kerugian ditaksir mencapai Rp 2 miliar.
Polisi masih menyelidiki penyebab kebakaran tersebut.
"""
FLOOD = """\
Banjir merendam ratusan rumah di Kota Sungai Jernih sejak Rabu pagi.
Kepala Dinas Pemadam Kebakaran Kota Sungai Jernih, Rudi Hartono, mengatakan timnya membantu evakuasi warga.
Sebanyak 340 warga mengungsi ke gedung sekolah terdekat.
Hujan deras diperkirakan masih turun hingga akhir pekan.
"""
FOOTBALL = """\
Pelatih tim nasional U-22 Indonesia, Bambang Sugiarto, memanggil 30 pemain untuk pemusatan latihan di Yogyakarta.
Klub Persada Jaya melepas dua pemainnya untuk mengikuti seleksi tersebut.
Latihan dijadwalkan berlangsung selama tiga pekan di stadion kampus.
Para pemain diminta melapor paling lambat Senin depan.
"""
# A name written with a hyphen, spaced as some archives write it; readers type "gojek".
RIDES = """\
Ratusan pengemudi ojek daring berunjuk rasa di depan kantor gubernur pada Kamis siang.
Mereka menuntut tarif dasar dinaikkan menjadi Rp 2.500 per kilometer.
Jumlah mitra pengemudi GO - JEK di kota itu kini mencapai 41.000 orang.
Pemerintah daerah berjanji mempertemukan mereka dengan perusahaan aplikasi.
"""


def test_definitions_both_ways_round() -> None:
    assert find_definitions(
        "Penyidik Komisi Pemberantasan Korupsi (KPK) memeriksa tiga saksi pada Kamis."
    ) == [("KPK", "Komisi Pemberantasan Korupsi")]
    assert find_definitions("Gedung KPK (Komisi Pemberantasan Korupsi) dijaga ketat.") == [
        ("KPK", "Komisi Pemberantasan Korupsi")
    ]
    assert find_definitions("Mobil milik Pemadam Kebakaran (Damkar) tiba lebih dulu.") == [
        ("Damkar", "Pemadam Kebakaran")
    ]
    assert find_definitions("Anggaran Pemerintah Provinsi (Pemprov) naik tahun ini.") == [
        ("Pemprov", "Pemerintah Provinsi")
    ]
    assert find_definitions("Kantor Pemprov (Pemerintah Provinsi) pindah ke utara.") == [
        ("Pemprov", "Pemerintah Provinsi")
    ]
    assert find_definitions(
        "Data Badan Narkotika Nasional (BNN), Perserikatan Bangsa-Bangsa (PBB) juga."
    ) == [("BNN", "Badan Narkotika Nasional"), ("PBB", "Perserikatan Bangsa Bangsa")]


def test_random_parentheses_are_no_definitions() -> None:
    for sentence in (
        "Seorang pria bernama Joko Susilo (21) ditangkap di rumahnya.",
        "JAKARTA (Reuters) - Harga minyak dunia turun pada perdagangan Senin.",
        "Warga membersihkan lumpur di halaman rumah (foto: Antara).",
        "Rapat digelar Jumat (27/12/2024) di gedung utama.",
        "Ia tiba di Bandara Soekarno-Hatta (CGK) pagi tadi.",
        "Harga beras naik (sekitar lima persen) bulan ini.",
        "Tim SAR gabungan (tim) menyisir sungai.",
        "Ia bekerja di ProgramKPK (Komisi Pemberantasan Korupsi) sejak lama.",
    ):
        assert find_definitions(sentence) == [], sentence
    assert not is_definition("KPK", ["Komisi", "Pemilihan", "Umum"])
    assert not is_definition("Damkar", ["pemadam", "kebakaran"])  # lower case: no name
    assert find_all_definitions(["Tanpa kurung.", "Kota Bandar Lestari (KBL) maju."]) == [
        ("KBL", "Kota Bandar Lestari")
    ]


def test_shipped_list_is_read_both_ways() -> None:
    pairs = dict(shipped_list())
    assert pairs["timnas"] == "tim nasional" and pairs["KPK"] == "Komisi Pemberantasan Korupsi"
    assert shipped().alternatives(tokenize("siapa pelatih timnas?")) == {
        "timnas": frozenset({frozenset({"tim", "nasional"})})
    }
    assert shipped().alternatives(tokenize("juru bicara polda")) == {
        "juru": frozenset({frozenset({"jubir"})}),
        "bicara": frozenset({frozenset({"jubir"})}),
        "polda": frozenset({frozenset(tokenize("kepolisian daerah"))}),
    }
    # Readers type the internet's names short in a chat: "fb" finds "Facebook".
    assert shipped().alternatives(tokenize("akun fb itu diblokir"))["fb"] == {
        frozenset({"facebook"})
    }
    assert shipped().alternatives(tokenize("pengguna media sosial"))["sosial"] == {
        frozenset({"medsos"})
    }
    # The longest run wins: DPRD's long form holds DPR's.
    both = ShortForms.of([("DPR", "Dewan Perwakilan Rakyat"), ("DPRD", "DPR Daerah")])
    assert both.alternatives(tokenize("DPR Daerah"))["daerah"] == {frozenset({"dprd"})}


def test_a_short_form_is_read_as_each_sentence_writes_it() -> None:
    question = "siapa pelatih timnas u22"
    written_out = "Pelatih tim nasional U-22 Indonesia memanggil 30 pemain."
    assert shipped().worded_as(question, tokenize(written_out)) == "siapa pelatih tim nasional u22"
    # A sentence that writes the short form itself, or neither form, leaves it as typed.
    assert (
        shipped().worded_as(question, tokenize("Timnas U-22 berlatih di Yogyakarta.")) == question
    )
    assert shipped().worded_as(question, tokenize("Pelatih baru datang hari Senin.")) == question
    # Typed in capitals or not, the form the sentence writes; the rest of the question untouched.
    assert (
        shipped().worded_as(
            "KPK periksa brp saksi?", tokenize("Komisi Pemberantasan Korupsi memeriksa.")
        )
        == "Komisi Pemberantasan Korupsi periksa brp saksi?"
    )
    # Of a short form's long forms, the one the sentence writes.
    two = ShortForms.of([("BBM", "bahan bakar minyak"), ("BBM", "BlackBerry Messenger")])
    assert two.worded_as(
        "pengguna bbm brp", tokenize("BlackBerry Messenger punya 60 juta pengguna.")
    ) == ("pengguna BlackBerry Messenger brp")
    assert two.worded_as("harga bbm naik?", tokenize("Harga bahan bakar minyak naik.")) == (
        "harga bahan bakar minyak naik?"
    )
    # A long form is never shortened.
    assert shipped().worded_as("siapa pelatih tim nasional", tokenize("Pelatih timnas baru.")) == (
        "siapa pelatih tim nasional"
    )


def test_each_ministry_listed_gives_its_minister() -> None:
    pairs = dict(shipped_list())
    assert pairs["kemensos"] == "kementerian sosial"
    assert pairs["mensos"] == "menteri sosial"  # not in the file: made from the ministry
    assert pairs["menkeu"] == "menteri keuangan"  # in the file, kept as written
    assert [short for short, _ in shipped_list()].count("menkeu") == 1
    # A minister's short form is no typing slip of another word: "menag" is not "menang".
    assert shipped().alternatives(tokenize("menag siapa")) == {
        "menag": frozenset({frozenset({"menteri", "agama"})})
    }


def test_u22_is_one_way_of_writing() -> None:
    assert tokenize("u22") == tokenize("U-22") == tokenize("U - 22") == ["u", "22"]
    assert words("timnas u22") == ["timnas", "u", "22"]


def _coverage(searcher: Searcher, question: str, holding: str) -> tuple[float, float]:
    """The coverage of the candidate holding ``holding``, and the best of all candidates."""
    found = searcher.candidates(question)
    column = FEATURES.index("coverage")
    rows = [i for i, row in enumerate(found.rows) if holding in row.text]
    assert rows, f"no candidate holds {holding!r}"
    return float(found.features[rows[0], column]), float(found.features[:, column].max())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    root = tmp_path_factory.mktemp("shortforms")
    seeds = root / "seeds"
    seeds.mkdir()
    for name, text in (
        ("kebakaran", FIRE),
        ("banjir", FLOOD),
        ("timnas", FOOTBALL),
        ("ojol", RIDES),
    ):
        (seeds / f"{name}.txt").write_text(text, encoding="utf-8")
    build_index(make_settings(root), embedder=embedder)
    return root


def test_article_definition_finds_either_form(built: Path, embedder: Embedder) -> None:
    settings = make_settings(built)
    folder = version_folder(
        settings.index_dir, current_version(make_engine(settings.sqlalchemy_url))
    )
    definitions = load_definitions(folder)
    assert sorted(definitions) == [
        ("Damkar", "Pemadam Kebakaran"),
        ("KBL", "Kota Bandar Lestari"),
        ("gojek", "GO-JEK"),
    ]
    searcher = Searcher.open(settings, embedder=embedder)
    assert searcher.shortforms.equal[("kbl",)] == {("kota", "bandar", "lestari")}
    # The shipped list knows "damkar" too: here only what the articles define counts.
    searcher.shortforms = ShortForms.of(definitions)

    # The long form asked, the short form written: "mobil Damkar".
    question = "berapa unit mobil pemadam kebakaran yang dikerahkan?"
    assert searcher.rank(question).quotes[0].text.startswith("Sebanyak tujuh unit mobil Damkar")
    covered, best = _coverage(searcher, question, "tujuh unit mobil Damkar")
    assert covered == best == 1.0

    # The short form asked, the long form written in another article that never defines it.
    question = "siapa kepala dinas damkar kota sungai jernih?"
    assert "Rudi Hartono" in searcher.rank(question).quotes[0].text
    # The cross-encoder reads it beside that sentence as the sentence writes it.
    found = searcher.candidates(question)
    said = next(i for i, row in enumerate(found.rows) if "Rudi Hartono" in row.text)
    assert found.worded([said]) == ("siapa kepala dinas Pemadam Kebakaran kota sungai jernih?",)
    covered, best = _coverage(searcher, question, "Rudi Hartono")
    assert covered == best == 1.0


def test_hyphenated_name_found_as_one_word(built: Path, embedder: Embedder) -> None:
    assert find_joined_names("Jumlah mitra GO - JEK naik.") == [("gojek", "GO-JEK")]
    assert find_joined_names("Layanan Go-Jek dan e-KTP.") == [
        ("gojek", "Go-Jek"),
        ("ektp", "e-KTP"),
    ]
    # Word forms and a dateline's dash are no names.
    assert find_joined_names("Anak-anak bermain sehari-hari di kereta-api.") == []
    assert find_joined_names("JAKARTA - Presiden membuka rapat.") == []
    searcher = Searcher.open(make_settings(built), embedder=embedder)
    question = "driver gojek di kota itu ada brp"
    assert "41.000" in searcher.rank(question).quotes[0].text
    covered, best = _coverage(searcher, question, "41.000")
    assert covered == best
    assert "gojek" in searcher.candidates(question).query.known


def test_shipped_short_form_finds_long_form(built: Path, embedder: Embedder) -> None:
    searcher = Searcher.open(make_settings(built), embedder=embedder)
    question = "berapa pemain yang dipanggil pelatih timnas u22?"
    assert "Bambang Sugiarto" in searcher.rank(question).quotes[0].text
    covered, best = _coverage(searcher, question, "Bambang Sugiarto")
    assert covered == best == 1.0
    assert "timnas" in searcher.candidates(question).query.known


def test_definitions_follow_the_index_version(tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tmp_path)
    settings.seeds_dir.mkdir(parents=True)
    (settings.seeds_dir / "kebakaran.txt").write_text(FIRE, encoding="utf-8")
    build_index(settings, embedder=embedder)
    engine = make_engine(settings.sqlalchemy_url)
    # An update that embeds one more article keeps the first article's definition.
    (settings.seeds_dir / "banjir.txt").write_text(FLOOD, encoding="utf-8")
    build_index(settings, embedder=embedder)
    folder = version_folder(settings.index_dir, current_version(engine))
    assert sorted(load_definitions(folder)) == [
        ("Damkar", "Pemadam Kebakaran"),
        ("KBL", "Kota Bandar Lestari"),
    ]
    reopened = Searcher.open(settings, embedder=embedder)
    assert "Rudi Hartono" in reopened.rank("siapa kepala dinas damkar?").quotes[0].text
    # Once the article that defines it is gone, so is the definition.
    (settings.seeds_dir / "kebakaran.txt").unlink()
    build_index(settings, embedder=embedder)
    assert load_definitions(version_folder(settings.index_dir, current_version(engine))) == []
    assert Searcher.open(settings, embedder=embedder).shortforms.equal.get(("kbl",)) is None
