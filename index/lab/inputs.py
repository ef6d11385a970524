"""What ``python -m index eval`` and ``tune`` read from their options.

The question sets (``--set``, ``--contexts``, ``--news``, ``--news-questions``), the chunk
vectors of another index to reuse (``--vectors-from``), the cache of asked questions
(``--asked-cache``), the cross-encoder's adapter to judge, and the full articles the questions
name (``--articles``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import pickle
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import Settings
from index.lab.corpus import write_article_passages
from index.lab.evaluate import EvalResult, Question, read_questions
from index.storage.builder import chunk_vectors

if TYPE_CHECKING:  # index.lab.tune imports torch: only for the command that needs it
    import numpy as np

    from index.encoders.crossencoder import CrossEncoder
    from index.lab.asking import Asked, QuestionSet

__all__ = ["adapter", "asked", "known_vectors", "on_articles", "question_sets", "stage"]


def adapter(path: Path) -> CrossEncoder:
    """The cross-encoder with the adapter in ``path`` (torch is imported here)."""
    from index.encoders.crossencoder import CrossEncoder, reading_dtype

    return CrossEncoder(adapter=path, dtype=reading_dtype())


def on_articles(
    run: functools.partial[EvalResult], args: argparse.Namespace, questions: list[Question]
) -> EvalResult:
    """Evaluate on the full articles the questions name (``article_id``), plus distractors."""
    with tempfile.TemporaryDirectory() as folder:
        passages = Path(folder) / "articles.jsonl"
        named = dict.fromkeys(q.passage_id for q in questions if q.passage_id)
        write_article_passages(args.articles, named, passages, distractors=args.distractor_articles)
        return run(passages=passages)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Say on stderr how long a stage of a long command took."""
    started = time.perf_counter()
    yield
    print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)


def known_vectors(
    settings: Settings, args: argparse.Namespace, model: str
) -> dict[str, np.ndarray] | None:
    """The chunk vectors of ``--vectors-from``'s index, or None without it."""
    if args.vectors_from is None:
        return None
    source = settings.model_copy(update={"data_dir": args.vectors_from, "database_url": None})
    known = chunk_vectors(source, model=model)
    print(f"{len(known)} chunk vectors to reuse from {args.vectors_from}", file=sys.stderr)
    return known


def asked(
    cache: Path | None, sets: list[QuestionSet], ask: Callable[[], list[Asked]], model: str
) -> list[Asked]:
    """``ask()``, or what it returned for the same sets and model, kept in ``cache``.

    The file is keyed by every question and passage file's content: it goes stale only when
    the code that finds and describes candidates changes (delete it then).
    """
    digest = hashlib.sha256(model.encode())
    for item in sets:
        digest.update(item.passages.read_bytes())
        # Asked questions carry their set's weight and part (``Asked.weight``, ``held_out``).
        digest.update(repr((item.weight, item.held_out)).encode())
        for question in [*item.questions, *item.unanswerable]:
            digest.update(repr(question).encode())
    key = digest.hexdigest()
    if cache is not None and cache.is_file():
        with cache.open("rb") as handle:
            kept_key, kept = pickle.load(handle)
        if kept_key == key:
            print(f"{len(kept)} asked questions read from {cache}", file=sys.stderr)
            return list(kept)
        print(f"{cache} holds other questions: asking again", file=sys.stderr)
    asked = ask()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("wb") as handle:
            pickle.dump((key, asked), handle, protocol=pickle.HIGHEST_PROTOCOL)
    return asked


def beside(cache: Path | None, part: str) -> Path | None:
    """A second cache file next to ``cache`` (``asked.pkl`` -> ``asked.cross-encoder.pkl``)."""
    return cache.with_name(f"{cache.stem}.{part}{cache.suffix}") if cache else None


def question_sets(
    settings: Settings, args: argparse.Namespace, *, limit: int | None, unanswerable: bool = True
) -> list[QuestionSet]:
    """The ``--set`` and ``--contexts`` files read, at most ``limit`` questions of each file.

    Without ``unanswerable``, only the answerable questions; ``--chat-typed`` adds its share of
    chat-typed copies to every file's sample.
    """
    from index.lab.asking import QuestionSet
    from index.lab.trainsets import context_set, news_passages, with_chat_typed

    def sample(questions: list[Question]) -> list[Question]:
        return with_chat_typed(_sample(questions, limit=limit), args.chat_typed)

    sets = [
        QuestionSet(
            passages=Path(passages),
            questions=sample(read_questions(Path(questions))),
            unanswerable=[q for u in others for q in sample(read_questions(Path(u)))]
            if unanswerable
            else [],
        )
        for passages, questions, *others in args.set or ()
    ]
    for path in args.contexts or ():
        found = context_set(
            path, folder=settings.data_dir / "tune-sets", paragraphs=args.paragraphs
        )
        sets.append(
            QuestionSet(
                passages=found.passages,
                questions=sample(found.answerable),
                unanswerable=sample(found.unanswerable) if unanswerable else [],
            )
        )
    if args.news is not None and unanswerable:
        passages = news_passages(
            args.news, folder=settings.data_dir / "tune-sets", count=args.news_articles
        )
        sets.append(QuestionSet(passages=passages, questions=[]))
    if args.news_questions:
        sets.append(_news_question_set(settings, args, others=sets, unanswerable=unanswerable))
    return sets


def _news_question_set(
    settings: Settings, args: argparse.Namespace, *, others: list[QuestionSet], unanswerable: bool
) -> QuestionSet:
    """``--news-questions``: asked of their whole articles, weighed as an average other file.

    The weight counts in the ranking's fit and, with ``--news-lessons``, in the cross-encoder's
    lessons (``QuestionSet.weight``); without it they are never its lessons.

    It comes after every other set, so the others' questions keep their places, and with them
    their parts (``tune.passage_parts`` places a question without a hit by its position).
    """
    from index.lab.asking import QuestionSet
    from index.lab.trainsets import article_passages

    if args.news is None:
        raise SystemExit("--news-questions needs --news (the articles its questions name)")
    questions_file, *unanswerable_files = args.news_questions
    questions = read_questions(questions_file)
    sizes = [len(item.questions) for item in others if item.questions]
    weight = max(1.0, sum(sizes) / len(sizes) / len(questions)) if sizes and questions else 1.0
    print(
        f"{questions_file.name}: {len(questions)} questions on full articles, "
        f"each counted {weight:.2f} times",
        file=sys.stderr,
    )
    return QuestionSet(
        passages=article_passages(
            args.news, questions, source=questions_file, folder=settings.data_dir / "tune-sets"
        ),
        questions=questions,
        unanswerable=[q for path in unanswerable_files for q in read_questions(path)]
        if unanswerable
        else [],
        weight=weight,
        held_out=not args.news_lessons,
    )


def _sample(questions: list[Question], *, limit: int | None) -> list[Question]:
    """At most ``limit`` questions, drawn the same way every run."""
    if not limit or len(questions) <= limit:
        return questions
    return random.Random(0).sample(questions, limit)
