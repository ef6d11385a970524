"""Question words decide the kind of sentence that answers."""

import json
from pathlib import Path

import pytest

from bench.typed import main as typed_main
from index.search.chat import chat_spelling, formal_question
from index.search.questions import (
    AnswerKind,
    Focus,
    answer_kind,
    focus_in,
    holds_answer_kind,
    question_focus,
)
from index.search.tokens import tokenize, words


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("berapa tentara Korea Utara dikirim?", AnswerKind.QUANTITY),
        ("Berapakah jumlah korban", AnswerKind.QUANTITY),
        # "The how-many-th" asks for a count too, answered by an ordinal ("ketiga", "ke-3").
        ("pertemuan keberapa ini bagi Kim dan Putin?", AnswerKind.QUANTITY),
        ("Keberapakah kunjungan itu", AnswerKind.QUANTITY),
        ("Tahun berapa pakta itu ditandatangani?", AnswerKind.TIME),
        ("kapan Putin mengirim ucapan?", AnswerKind.TIME),
        ("Siapakah presiden Rusia?", AnswerKind.PERSON),
        ("Di mana pertempuran terjadi?", AnswerKind.PLACE),
        ("Dimanakah pertempuran terjadi", AnswerKind.PLACE),
        ("di manakah pertempuran itu", AnswerKind.PLACE),
        ("Mengapa Korea Utara mengirim tentara?", AnswerKind.REASON),
        ("bagaimana hubungan kedua negara?", AnswerKind.MANNER),
        ("Apa nama kantor berita Korea Utara?", AnswerKind.NAME),
        ("Pakta apakah yang ditandatangani Kim dan Putin?", AnswerKind.NAME),
        ("Apakah kepanjangan dari KCNA?", AnswerKind.NAME),
        ("Di negara manakah tentara itu bertempur?", AnswerKind.PLACE),
        ("Dari kota mana ucapan itu dikirim", AnswerKind.PLACE),
        ("Pada tanggal berapakah pesan dikirim?", AnswerKind.TIME),
        ("apakah penyebab perang itu?", AnswerKind.REASON),
        # A chat's order, the noun first, asks the same as the formal order.
        ("kebakarannya penyebabnya apa", AnswerKind.REASON),
        ("putin mundur alasannya apa aja", AnswerKind.REASON),
        ("dengan alasan apa putin mundur?", AnswerKind.REASON),
        ("kata itu artinya apa", AnswerKind.DEFINITION),
        ("Apa yang dimaksud dengan pakta kerja sama strategis?", AnswerKind.DEFINITION),
        ("Apakah Putin mengirim ucapan?", AnswerKind.OTHER),
        ("tentara Korea Utara", AnswerKind.OTHER),
    ],
)
def test_answer_kind(question: str, kind: AnswerKind) -> None:
    assert answer_kind(question) is kind


def _holds(sentence: str, kind: AnswerKind, question: str) -> bool:
    return holds_answer_kind(sentence, kind, set(words(question)))


def test_quantity_needs_a_number_that_is_not_a_date() -> None:
    question = "berapa tentara Korea Utara dikirim?"
    assert _holds(
        "Kim Jong-un dituduh menempatkan 11.000 tentara Korea Utara.", AnswerKind.QUANTITY, question
    )
    assert not _holds(
        "Pada Jumat (27/12/2024), Zelenskyy berbicara.", AnswerKind.QUANTITY, question
    )
    assert not _holds(
        "Dia tidak mengungkapkan berapa jumlah tentara.", AnswerKind.QUANTITY, question
    )
    assert _holds("Ratusan tentara tewas.", AnswerKind.QUANTITY, question)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("skor persik vs persebaya brp", AnswerKind.QUANTITY),
        ("Berapa skor akhir laga Persik melawan Persebaya?", AnswerKind.QUANTITY),
        ("babak pertama persik lawan persebaya gmn skornya", AnswerKind.MANNER),
    ],
)
def test_a_question_for_a_score_needs_a_score(question: str, kind: AnswerKind) -> None:
    assert answer_kind(formal_question(question)) is kind
    assert _holds("Persik menang 2 - 1 atas Persebaya.", kind, question)
    assert _holds("Laga berakhir imbang 0-0.", kind, question)
    assert _holds("Ganda putri menang 21-14, 19-21, 21-13.", kind, question)
    # Any other number is no score: a minute, a formation, a date, a season.
    assert not _holds("Persik mencetak gol pada menit ke - 63.", kind, question)
    assert not _holds("Persik (4 - 3 - 3): Dimas; Andi, Budi.", kind, question)
    assert not _holds("Laga digelar Senin (17-12-2024).", kind, question)
    assert not _holds("Persik juara musim 2016 - 2017 dengan 3 gol.", kind, question)
    assert not _holds("Latihan terbuka digelar pukul 16.00-17.00 WIB.", kind, question)
    assert not _holds("Tiket naik 1,5 - 2 kali lipat.", kind, question)
    assert _holds("Persik menang 3-1.", kind, question)


def test_a_question_about_an_equaliser_is_no_question_for_a_score() -> None:
    question = "Pada menit berapa Persebaya menyamakan kedudukan?"
    assert _holds(
        "Persebaya menyamakan kedudukan pada menit ke - 63.", AnswerKind.QUANTITY, question
    )


def test_an_ordinal_written_out_is_a_count() -> None:
    question = "kim udh brp kali ketemu putin"
    assert _holds("Ini pertemuan ketiga Kim dan Putin.", AnswerKind.QUANTITY, question)
    assert _holds("Kim bertemu Putin untuk kesebelas kalinya.", AnswerKind.QUANTITY, question)
    assert not _holds("Ini pertemuan Kim dan Putin.", AnswerKind.QUANTITY, question)
    assert not _holds("Kim bertemu Putin di Rusia.", AnswerKind.QUANTITY, question)


def test_time_needs_a_date_the_question_does_not_have() -> None:
    assert _holds("Pesan itu dikirim Senin (17/12/2024).", AnswerKind.TIME, "kapan pesan dikirim?")
    assert not _holds("Pesan itu dikirim Putin.", AnswerKind.TIME, "kapan pesan dikirim?")


@pytest.mark.parametrize(
    "sentence",
    [
        "Pakta itu diteken September lalu.",
        "Pakta itu akan diteken pada April.",
        "Pakta itu diteken akhir bulan ini.",
        "Pakta itu diteken tiga tahun lalu.",
        "Pakta itu diteken dalam dua pekan ke depan.",
        "Pakta itu diteken pada kuartal pertama.",
        "Pakta itu diteken musim gugur mendatang.",
        "Pakta itu diteken menjelang Lebaran.",
        "Pakta itu diteken pukul 17.00.",
        "Pakta itu diteken jam delapan.",
    ],
)
def test_time_is_also_a_month_a_period_a_season_a_feast_or_a_clock(sentence: str) -> None:
    assert _holds(sentence, AnswerKind.TIME, "kapan pakta itu diteken")


def test_a_time_phrase_the_question_already_has_is_no_answer() -> None:
    question = "Pakta apa yang diteken pukul 17.00 tiga tahun lalu?"
    assert not _holds("Pakta itu diteken tiga tahun lalu.", AnswerKind.TIME, question)
    assert not _holds("Pakta itu diteken pukul 17.00.", AnswerKind.TIME, question)
    assert not _holds("Pakta itu diteken di akhir perundingan.", AnswerKind.TIME, question)
    # A count's rule still reads "tiga tahun" as a number: "berapa tahun" is answered by it.
    assert _holds("Pakta itu berlaku tiga tahun lalu.", AnswerKind.QUANTITY, "berapa tahun")


def test_person_needs_a_name_beyond_the_question() -> None:
    question = "siapa yang menangkap tentara Korea Utara?"
    assert _holds(
        "Militer Ukraina menangkap tentara Korea Utara, kata Zelenskyy.",
        AnswerKind.PERSON,
        question,
    )
    assert not _holds("mereka menangkap tentara Korea Utara.", AnswerKind.PERSON, question)


def test_place_needs_a_place_phrase() -> None:
    question = "di mana pertempuran terjadi?"
    assert _holds("Pertempuran terjadi di Kursk, Rusia.", AnswerKind.PLACE, question)
    assert not _holds("Pertempuran terjadi kemarin.", AnswerKind.PLACE, question)


def test_a_place_is_its_whole_name_after_one_lower_case_word_at_most() -> None:
    question = "di stadion mana final digelar?"
    # The question has "stadion": the name after it is the answer.
    assert _holds("Final digelar di Stadion Gelora Bung Karno.", AnswerKind.PLACE, question)
    assert _holds("Final digelar di kawasan Senayan, Jakarta.", AnswerKind.PLACE, question)
    assert _holds("Klub asal Swedia itu juara.", AnswerKind.PLACE, "klub itu dari negara mana")
    assert not _holds("Final digelar di Stadion.", AnswerKind.PLACE, question)
    assert not _holds("Final digelar di stadion utama.", AnswerKind.PLACE, question)
    # A joining word counts only between two capitalised words.
    assert not _holds("Final digelar di Stadion dan ditonton.", AnswerKind.PLACE, question)


def test_name_needs_a_name_or_acronym_beyond_the_question() -> None:
    question = "Apa nama kantor berita Korea Utara?"
    assert _holds("Kantor berita KCNA melaporkan pesan itu.", AnswerKind.NAME, question)
    assert not _holds(
        "kantor berita itu melaporkan pesan dari Korea Utara.", AnswerKind.NAME, question
    )


def test_reason_needs_a_word_that_gives_a_cause() -> None:
    question = "mengapa pasar itu terbakar?"
    for sentence in (
        "Pasar itu terbakar karena korsleting listrik.",
        "Kebakaran dipicu korsleting listrik di lantai dua.",
        "Penyebabnya korsleting listrik di lantai dua.",
        "Polisi menyebut faktor cuaca dan kabel tua.",
        "Pasar itu terbakar gara-gara puntung rokok.",
    ):
        assert _holds(sentence, AnswerKind.REASON, question), sentence
    assert not _holds("Pasar itu terbakar Senin malam.", AnswerKind.REASON, question)


def test_definition_needs_a_defining_verb() -> None:
    question = "Apa yang dimaksud dengan pakta strategis?"
    assert _holds(
        "Pakta strategis adalah perjanjian bantuan militer.", AnswerKind.DEFINITION, question
    )
    assert not _holds("Pakta strategis ditandatangani Juni.", AnswerKind.DEFINITION, question)


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("berapa tentara Korea Utara dikirim?", Focus("tentara", counted=True)),
        ("Berapakah korban tewas?", Focus("korban", counted=True)),
        ("Kantor berita apakah yang melaporkannya?", Focus("berita", counted=False)),
        ("Di negara manakah mereka bertempur?", Focus("negara", counted=False)),
        # Stemmed like the sentence's words, so "rumahnya" meets "rumah".
        ("Berapa rumahnya yang rusak?", Focus("rumah", counted=True)),
        ("Siapa presiden Rusia?", None),  # no noun is asked about
        ("Berapa 11.000 dikurangi 1.000?", None),  # a number is no noun
        ("Di mana pertempuran terjadi?", None),  # "di mana" asks for a place, not a noun
    ],
)
def test_question_focus(question: str, focus: Focus | None) -> None:
    assert question_focus(question) == focus


def test_a_counted_focus_stands_after_a_number() -> None:
    focus = Focus("tentara", counted=True)
    assert focus_in("Korea Utara mengirim 11.000 tentara ke Rusia.", focus) == (True, True)
    assert focus_in("Ribuan tentara dikirim.", focus) == (True, True)
    assert focus_in("Tentara Korea Utara dikirim pada 2024.", focus) == (True, False)
    assert focus_in("Korea Utara mengirim 11.000 pekerja.", focus) == (False, False)
    assert focus_in("Gempa merusak 120 rumahnya.", Focus("rumah", counted=True)) == (True, True)


def test_a_named_focus_stands_before_a_name() -> None:
    focus = Focus("berita", counted=False)
    assert focus_in("Kantor berita KCNA melaporkan pesan itu.", focus) == (True, True)
    assert focus_in("Kantor berita itu melaporkan pesan dari Korea.", focus) == (True, False)


def test_chat_spellings_are_written_out() -> None:
    assert formal_question("brp tentara yg dikirim?") == "berapa tentara yang dikirim?"
    assert formal_question("Gmn cara dpt KTP? gak tau") == "Bagaimana cara dapat KTP? tidak tahu"
    assert (
        formal_question("jd brp org yg msh ditahan td")
        == "jadi berapa orang yang masih ditahan tadi"
    )
    assert formal_question("kpn GA terbang ke Jeddah") == "kapan GA terbang ke Jeddah"  # a name
    assert formal_question("Siapa yang membuat 11.000 unit?") == "Siapa yang membuat 11.000 unit?"


def test_dari_and_tahun_in_chat_spelling() -> None:
    # "dr mana" asks for a place, as "dari mana" does; alone, "mana" asks for a name.
    assert answer_kind("rombongan itu datang dr mana") is AnswerKind.NAME
    assert formal_question("rombongan itu datang dr mana") == "rombongan itu datang dari mana"
    assert answer_kind(formal_question("rombongan itu datang dr mana")) is AnswerKind.PLACE
    assert answer_kind(formal_question("taun brp jembatan itu dibangun")) is AnswerKind.TIME
    # "Dr", or "dr" before a name, is a doctor's title, not "dari".
    assert formal_question("Dr Boyke bilang apa") == "Dr Boyke bilang apa"
    assert formal_question("DR Boyke bilang apa") == "DR Boyke bilang apa"
    assert formal_question("Apa kata dr Boyke?") == "Apa kata dr Boyke?"
    assert formal_question("kiriman dr jakarta") == "kiriman dari jakarta"


def test_slang_is_written_as_articles_write_it() -> None:
    assert formal_question("duit bantuan cuma brp") == "uang bantuan hanya berapa"
    assert formal_question("Bikin jembatan kelar kpn") == "Membuat jembatan selesai kapan"
    assert formal_question("DUIT") == "DUIT"  # all capitals: a name
    assert formal_question("dibagikan cuma-cuma") == "dibagikan cuma-cuma"  # "free", one word
    # Slang is read, not typed: a formal question's chat spelling keeps the plain word.
    assert chat_spelling("Berapa uang yang dibuat?") == "brp uang yg dibuat?"


def test_a_word_repeated_by_a_2_is_written_out() -> None:
    assert formal_question("banjir gara2 apa") == "banjir gara-gara apa"
    assert (
        formal_question("Anak2 sekolah libur sampe kpn") == "Anak-anak sekolah libur sampai kapan"
    )
    assert formal_question("org2 yg ditangkap") == "orang-orang yang ditangkap"  # a chat spelling
    assert formal_question("kerja sehari2 apa") == "kerja sehari-hari apa"  # the root repeated
    assert formal_question("menang berturut2") == "menang berturut-turut"
    # Not an Indonesian word, or not in lower case: a name such as a practice session's.
    assert formal_question("fp2 mulai jam brp") == "fp2 mulai jam berapa"
    assert formal_question("hasil FP2 gmn") == "hasil FP2 bagaimana"
    assert formal_question("Tahun 2") == "Tahun 2"


def test_chat_particles_are_left_out() -> None:
    assert (
        formal_question("kok bisa brp org yg ditangkap sih?") == "bisa berapa orang yang ditangkap?"
    )
    assert formal_question("deh, siapa pelakunya dong") == "siapa pelakunya"
    assert formal_question("sih") == "sih"  # nothing else to ask: kept
    assert formal_question("nihil tuhan") == "nihil tuhan"  # words that begin like one stay


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("brp tentara korea utara yg dikirim", AnswerKind.QUANTITY),
        ("dmn gempa terjadi", AnswerKind.PLACE),
        ("knp harga cabai naik", AnswerKind.REASON),
        ("sapa presiden skrg", AnswerKind.PERSON),
    ],
)
def test_chat_spellings_ask_the_same_kind(question: str, kind: AnswerKind) -> None:
    assert answer_kind(question) is AnswerKind.OTHER  # the chat spelling alone is missed
    assert answer_kind(formal_question(question)) is kind


def test_the_bench_chat_spelling_is_read_back_by_formal_question(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    question = "Berapakah penumpang yang turut dalam penerbangan tersebut?"
    typed = chat_spelling(question)
    assert typed == "brp penumpang yg turut dlm penerbangan tsb?"
    assert formal_question(typed) == "berapa penumpang yang turut dalam penerbangan tersebut?"
    source = tmp_path / "questions.jsonl"
    source.write_text(json.dumps({"id": "q1", "question": question, "answers": ["84"]}) + "\n")
    assert typed_main(["chat", str(source)]) == 0
    assert json.loads(capsys.readouterr().out) == {"id": "q1", "question": typed, "answers": ["84"]}


def test_the_bench_slips_change_one_letter_of_one_content_word_the_same_way_each_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    question = "Berapa tentara Korea Utara dikirim ke Rusia?"
    source = tmp_path / "questions.jsonl"
    source.write_text(json.dumps({"id": "q1", "question": question}) + "\n" * 2)
    typed = []
    for _ in range(2):
        assert typed_main(["slips", str(source)]) == 0
        typed.append(json.loads(capsys.readouterr().out)["question"])
    assert typed[0] == typed[1] != question
    changed = [(a, b) for a, b in zip(question.split(), typed[0].split(), strict=True) if a != b]
    assert len(changed) == 1
    word, slipped = changed[0]
    assert word in {"tentara", "Korea", "Utara", "dikirim"}  # "Rusia?" is not all letters
    assert word[0] == slipped[0] and word[-1] == slipped[-1]
    assert abs(len(word) - len(slipped)) <= 1


def test_the_focus_is_looked_for_in_the_stored_tokens_first() -> None:
    focus = question_focus("berapa tentara dikirim?")
    assert focus is not None
    for sentence in [
        "Korea Utara mengirim 11.000 tentara ke Rusia.",
        "Tentara Korea Utara dikirim pada 2024.",
        "Korea Utara mengirim 11.000 pekerja.",
    ]:
        # The same answer with the sentence's stored tokens as without them.
        assert focus_in(sentence, focus, set(tokenize(sentence))) == focus_in(sentence, focus)
    # Without the focus among the tokens, the words are not looked at: "tentara" written in
    # the sentence but absent from the tokens given is not found.
    assert focus_in("Ribuan tentara dikirim.", focus, {"ribu", "kirim"}) == (False, False)
