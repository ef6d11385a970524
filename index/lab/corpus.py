"""Eval passages and full articles written as an index's articles, cached by their content.

A question set's passages (or the full articles its questions name, with others beside them)
become one articles file in a cache folder named by the file and model; building it is then an
ordinary index build.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import Settings

if TYPE_CHECKING:  # the cross-encoder imports torch
    pass


PASSAGES_FILE = "passages.jsonl"


def write_article_passages(
    articles: Path, named: Iterable[str], target: Path, *, distractors: int = 0
) -> list[str]:
    """Write the named articles of an articles .jsonl, plus ``distractors`` others, as passages.

    The distractors are spread evenly over the file's other articles, in file order, so the
    same file and count give the same corpus. Returns the ids written; an id the file lacks is
    an error.
    """
    wanted = set(named)
    records = {}
    others = []
    with articles.open(encoding="utf-8") as source:
        for line in source:
            if line.strip():
                record = json.loads(line)
                key = str(record["id"])
                if key in wanted:
                    records[key] = record
                else:
                    others.append(line)
    if missing := sorted(wanted - records.keys()):
        raise ValueError(f"{len(missing)} article ids not in {articles.name}, e.g. {missing[:3]}")
    step = len(others) / distractors if distractors else 0.0
    for index in range(min(distractors, len(others))):
        record = json.loads(others[int(index * step)])
        records[str(record["id"])] = record
    with target.open("w", encoding="utf-8") as out:
        for key, record in records.items():
            passage = {"passage_id": key, "title": record.get("title"), "text": record["text"]}
            # The date orders answers as the bot does (the most recent of those alike first).
            passage.update({k: record[k] for k in ("date", "source") if record.get(k)})
            out.write(json.dumps(passage, ensure_ascii=False) + "\n")
    return list(records)


def prepare_corpus(
    settings: Settings, *, passages: Path, distractors: Path | None, model: str
) -> Settings:
    """Write the passages (and distractors) as articles into a cache folder named by content."""
    digest = hashlib.sha256(model.encode())
    for path in (passages, distractors):
        if path is not None:
            digest.update(path.read_bytes())
    cache = settings.data_dir / "eval-cache" / digest.hexdigest()[:16]
    articles = cache / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    target = articles / PASSAGES_FILE
    if not target.exists():
        with passages.open(encoding="utf-8") as source, target.open("w", encoding="utf-8") as out:
            for line in source:
                if line.strip():
                    record = json.loads(line)
                    article = {
                        "id": record["passage_id"],
                        "title": record.get("title"),
                        "text": record["text"],
                        **{k: record[k] for k in ("date", "source") if record.get(k)},
                    }
                    out.write(json.dumps(article, ensure_ascii=False) + "\n")
    if distractors is not None and not (articles / "distractors.jsonl").exists():
        (articles / "distractors.jsonl").write_bytes(distractors.read_bytes())
    # A first build publishes a version every ``build_publish_every`` articles: a run stopped
    # while embedding a large corpus (20,000 articles take hours on a CPU without bfloat16)
    # goes on from the last one the next time.
    return settings.model_copy(
        update={"seeds_dir": articles, "data_dir": cache, "database_url": None}
    )
