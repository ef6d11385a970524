"""Score a predictions file of ``python -m index eval`` on its own, as shared/eval/README.md says.

Written apart from ``index/lab/evaluate.py`` and importing nothing from the project, so that the
figures the eval command prints can be checked by a second reading of the rules:

    python tests/score_predictions.py PREDICTIONS.jsonl QUESTIONS.jsonl [MORE_QUESTIONS.jsonl ...]

Each question file is a .jsonl of ``{"id", "question", "answers", "passage_id"}`` (or
``article_id`` in place of ``passage_id``, for questions about full articles); the
predictions file has one ``{"id", "answered", "sentences": [{"text", "passage_id", "score"}]}``
per question. A question with gold answers is a hit at rank k when the k-th sentence comes from
its ``passage_id`` (article id) and contains one of its answers, ignoring case; a declined question
(``answered`` false) scores nothing. A question without answers should be declined.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _records(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def first_hit_rank(prediction: dict, gold: dict, depth: int = 10) -> int | None:
    """1-based rank of the first correct sentence within ``depth``, or None."""
    if not prediction.get("answered"):
        return None
    answers = [answer.casefold() for answer in gold["answers"]]
    gold_source = gold.get("passage_id") or gold.get("article_id")
    for rank, sentence in enumerate(prediction["sentences"][:depth], start=1):
        same_passage = sentence["passage_id"] == gold_source
        if same_passage and any(answer in sentence["text"].casefold() for answer in answers):
            return rank
    return None


def score(predictions: list[dict], questions: list[dict]) -> dict[str, float | int]:
    """hit@1, hit@3, hit@5, MRR@10 and answered share over the answerable questions; declined share
    over the unanswerable ones."""
    by_id = {p["id"]: p for p in predictions}
    answerable = [q for q in questions if q["answers"]]
    unanswerable = [q for q in questions if not q["answers"]]
    missing = [q["id"] for q in questions if q["id"] not in by_id]
    if missing:
        raise SystemExit(f"{len(missing)} questions have no prediction, e.g. {missing[:3]}")
    ranks = [first_hit_rank(by_id[q["id"]], q) for q in answerable]
    n = len(answerable) or 1
    result: dict[str, float | int] = {
        "answerable": len(answerable),
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@3": sum(r is not None and r <= 3 for r in ranks) / n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr@10": sum(1 / r for r in ranks if r is not None) / n,
        "answered": sum(bool(by_id[q["id"]]["answered"]) for q in answerable) / n,
        "unanswerable": len(unanswerable),
    }
    if unanswerable:
        declined = sum(not by_id[q["id"]]["answered"] for q in unanswerable)
        result["declined"] = declined / len(unanswerable)
    return result


def main(argv: list[str]) -> int:
    """Print the scores of a predictions file against one or more question files."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    predictions = _records(Path(argv[0]))
    questions = [record for path in argv[1:] for record in _records(Path(path))]
    for key, value in score(predictions, questions).items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
