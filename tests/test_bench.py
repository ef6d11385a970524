"""``python -m bench`` end to end on a small corpus: every figure printed, the add really adds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.indexing import write_corpus
from tests.conftest import SEED, TEST_ARTICLES


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
