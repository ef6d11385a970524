"""``python -m bench CORPUS.jsonl [--articles N] [--questions Q.jsonl] [--json OUT]``.

Measures, in one run on the first N articles of a news corpus: the embedding model's own
encode throughput on the chunks (the floor) under every engine the machine offers, side by
side, a full build against the chosen engine's floor, adding 10 articles, answer latency next
to query-embedding time, index size, start-up time and peak memory of a serving process, and
the bot under load through the Bot API stand-in. It first shows the processor (model and the
flags that decide the model's speed) and the engine chosen for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from bench.indexing import (
    ADDED_FILE,
    TOKENS_COUNTED_BY,
    answer_latency,
    chunk_texts,
    copies_to_add,
    e5_tokens,
    engine_floors,
    engine_of,
    floor_sample,
    own_peak_rss_mib,
    read_questions,
    serving_bytes,
    serving_figures,
    settings_env,
    timed_build,
    write_corpus,
)
from bench.load import run_load
from config.settings import Settings, get_settings
from index.encoders.embedder import Embedder, settings_embedder
from index.encoders.engine import ENGINE_SETTINGS
from index.encoders.hardware import this_cpu
from index.serving import ServingIndex


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the figures (and write them as JSON with ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "corpus", type=Path, help="articles .jsonl, e.g. ../shared/eval/news/articles.jsonl"
    )
    parser.add_argument("--articles", type=int, default=20_000, help="use the first N articles")
    parser.add_argument("--questions", type=Path, help="question .jsonl (default: article titles)")
    parser.add_argument("--latency-questions", type=int, default=300)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument(
        "--think",
        type=float,
        default=1.5,
        help="mean seconds a user reads an answer before the next question",
    )
    parser.add_argument(
        "--encode-sample", type=int, default=2000, help="chunks for the bare-model figure"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINE_SETTINGS,
        help="engine of the bundled model (default: TANYA_ENGINE, else auto); every engine's "
        "floor is measured whichever runs the rest",
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep the corpus and index here (default: a temp dir)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the index an earlier run left in --workdir: no encode or full-build figures",
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.reuse and args.workdir is None:
        parser.error("--reuse needs the --workdir of an earlier run")
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("PTB_TIMEDELTA", "1")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tanya-bench-"))
    seeds = workdir / "seeds"
    engine = {"engine": args.engine} if args.engine else {}
    settings = get_settings(seeds_dir=seeds, data_dir=workdir / "data", _env_file=None, **engine)
    embedder = settings_embedder(settings)
    figures: dict[str, object] = {}
    say = _printer(figures)
    say(
        "machine",
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    )
    cpu = this_cpu()
    say(
        "cpu",
        {
            "model": cpu.model,
            "cores": cpu.cores,
            "flags": list(cpu.shown_flags),
            "native_bf16": cpu.native_bf16,
        },
    )
    say("engine", asdict(engine_of(embedder)))
    say("articles", args.articles)
    say("model", embedder.name)
    if args.reuse:
        say("reused_index", str(settings.data_dir))
        name, extra = copies_to_add(seeds, count=10)
        _add_figures(settings, embedder, say, name=name, extra=extra)
    else:
        _build_figures(args, settings, embedder, say)

    questions = read_questions(args.questions, seeds, args.latency_questions)
    # Opens the built index; a reused one with tokens of an older tokenizer is tokenised again.
    searcher = ServingIndex(settings, embedder=embedder).open()
    whole, embedding = answer_latency(searcher, questions)
    say("answer_latency_ms", asdict(whole))
    say("query_embedding_ms", asdict(embedding))
    say("answer_minus_embedding_p95_ms", round(whole.p95 - embedding.p95, 2))

    env = settings_env(settings)
    serving = serving_figures(env, questions)
    say("serving_startup_to_first_answer_seconds", round(serving["startup_seconds"], 2))
    say("serving_peak_rss_mib", round(serving["peak_rss_mib"], 1))

    for name, think in (("load_test", args.think), ("load_capacity", 0.0)):
        load = asyncio.run(
            run_load(
                env,
                questions,
                users=args.users,
                per_user=args.per_user,
                think=think,
                log=workdir / f"{name}.log",
            )
        )
        say(name, asdict(load))

    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


def _build_figures(
    args: argparse.Namespace,
    settings: Settings,
    embedder: Embedder,
    say: Callable[[str, object], None],
) -> None:
    """The floor, a full build, and adding 10 articles to it."""
    seeds = settings.seeds_dir
    extra = write_corpus(args.corpus, seeds, articles=args.articles, extra=10)
    texts = chunk_texts(seeds)
    say("chunks", len(texts))
    sample = floor_sample(texts, args.encode_sample)
    chosen = engine_of(embedder)
    tokens = e5_tokens(sample)
    floors = engine_floors(
        settings_env(settings),
        chosen,
        sample,
        tokens=tokens,
        batch=settings.embedding_batch_size,
    )
    say(
        "encode_floor_sample",
        {"chunks": len(sample), "tokens": tokens, "tokens_counted_by": TOKENS_COUNTED_BY},
    )
    say("encode_floor", {engine: asdict(floor) for engine, floor in floors.items()})
    floor = floors[chosen.engine].chunks_per_second

    seconds, embedded = timed_build(settings, embedder)
    say("full_build_seconds", round(seconds, 1))
    say("full_build_chunks_per_second", round(embedded / seconds, 1))
    say("full_build_vs_chosen_engine_floor", round(embedded / seconds / floor, 3))

    _add_figures(settings, embedder, say, name=ADDED_FILE, extra=extra)


def _add_figures(
    settings: Settings,
    embedder: Embedder,
    say: Callable[[str, object], None],
    *,
    name: str,
    extra: list[str],
) -> None:
    """Adding articles to the built index: time, chunks embedded, size, memory."""
    (settings.seeds_dir / name).write_text("".join(extra), encoding="utf-8")
    seconds, embedded = timed_build(settings, embedder)
    say("add_10_articles_seconds", round(seconds, 2))
    say("add_10_articles_chunks_embedded", embedded)
    say("index_bytes_on_disk", serving_bytes(settings))
    say("bench_process_peak_rss_mib", round(own_peak_rss_mib(), 1))


def _printer(figures: dict[str, object]):  # type: ignore[no-untyped-def]
    def say(name: str, value: object) -> None:
        figures[name] = value
        print(f"{name}: {json.dumps(value)}", flush=True)

    return say


if __name__ == "__main__":
    sys.exit(main())
