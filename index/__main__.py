"""``python -m index build | stats | eval | tune | feedback``: the index from the shell."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import pickle
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import Settings, get_settings
from index.encoders.embedder import KnownVectors, settings_embedder
from index.feedback import export_votes
from index.lab.corpus import write_article_passages
from index.lab.evaluate import EvalResult, Question, evaluate, format_table, read_questions
from index.lab.trainsets import PARAGRAPHS
from index.reload import collect_garbage, reload_index, report_lines
from index.search.ranker import CROSS_RANKER_FILE, RANKER_FILE, Ranker
from index.storage.builder import chunk_vectors
from index.storage.stats import index_stats
from index.storage.store import make_engine
from index.storage.versions import BuildBusyError

if TYPE_CHECKING:  # index.lab.tune imports torch: only for the command that needs it
    import numpy as np

    from index.encoders.crossencoder import CrossEncoder
    from index.lab.asking import Asked, QuestionSet


class ProgressBar:
    """A one-line progress bar on stderr (a line per 10% when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        if total <= 0:
            return
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"{self.label}: {done}/{total} ({100 * done / total:.0f}%, {rate:.0f}/s)"
        if sys.stderr.isatty():
            sys.stderr.write("\r" + line + ("\n" if done >= total else ""))
        elif (tenth := 10 * done // total) != self._last_tenth:
            self._last_tenth = tenth
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _build(settings: Settings, args: argparse.Namespace) -> int:
    embedder = settings_embedder(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        result = reload_index(
            settings,
            embedder=embedder,
            full=args.full,
            progress=ProgressBar("embedding"),
            engine=engine,
            open_searcher=False,
        )
    except BuildBusyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # A bot on this data dir may still serve the previous version: it is kept.
    collect_garbage(settings.index_dir, engine)
    engine.dispose()
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        print("\n".join(report_lines(result)))
    return 0


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    stats = index_stats(settings)
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, default=str))
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def _feedback(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.sqlalchemy_url)
    counts = export_votes(engine, helpful=args.export, wrong=args.wrong)
    engine.dispose()
    wrong = (
        f"written to {args.wrong}"
        if args.wrong
        else "left out (--wrong FILE writes them, to be labelled)"
    )
    print(
        f"{counts.helpful} voted answers with more 👍 than 👎 written to {args.export} "
        f"(score them with: python -m index eval --questions {args.export} ...); "
        f"{counts.wrong} with as many 👎 or more {wrong}"
    )
    return 0


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    embedder = settings_embedder(settings)
    questions = read_questions(args.questions)
    unanswerable = [
        question
        for path in args.unanswerable or []
        for question in read_questions(path)[: args.limit or None]
    ]
    if args.limit:
        questions = questions[: args.limit]
    if args.lower_case:
        questions, unanswerable = (
            [dataclasses.replace(q, question=q.question.lower()) for q in asked]
            for asked in (questions, unanswerable)
        )
    known = _known_vectors(settings, args, embedder.name)
    run = functools.partial(
        evaluate,
        settings,
        embedder=embedder,
        ranker=Ranker.load(args.ranker) if args.ranker else None,
        cross_encoder=_adapter(args.cross_encoder) if args.cross_encoder else None,
        questions=questions,
        unanswerable=unanswerable,
        distractors=args.distractors,
        predictions=args.predictions,
        known_vectors=known,
        progress=ProgressBar("questions"),
    )
    result = _on_articles(run, args, questions) if args.articles else run(passages=args.passages)
    print(json.dumps(result.as_dict(), ensure_ascii=False) if args.json else format_table(result))
    return 0


def _adapter(path: Path) -> CrossEncoder:
    """The cross-encoder with the adapter in ``path`` (torch is imported here)."""
    from index.encoders.crossencoder import CrossEncoder, reading_dtype

    return CrossEncoder(adapter=path, dtype=reading_dtype())


def _on_articles(
    run: functools.partial[EvalResult], args: argparse.Namespace, questions: list[Question]
) -> EvalResult:
    """Evaluate on the full articles the questions name (``article_id``), plus distractors."""
    with tempfile.TemporaryDirectory() as folder:
        passages = Path(folder) / "articles.jsonl"
        named = dict.fromkeys(q.passage_id for q in questions if q.passage_id)
        write_article_passages(args.articles, named, passages, distractors=args.distractor_articles)
        return run(passages=passages)


@contextlib.contextmanager
def _stage(name: str) -> Iterator[None]:
    """Say on stderr how long a stage of a long command took."""
    started = time.perf_counter()
    yield
    print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)


def _known_vectors(
    settings: Settings, args: argparse.Namespace, model: str
) -> dict[str, np.ndarray] | None:
    """The chunk vectors of ``--vectors-from``'s index, or None without it."""
    if args.vectors_from is None:
        return None
    source = settings.model_copy(update={"data_dir": args.vectors_from, "database_url": None})
    known = chunk_vectors(source, model=model)
    print(f"{len(known)} chunk vectors to reuse from {args.vectors_from}", file=sys.stderr)
    return known


def _tune(settings: Settings, args: argparse.Namespace) -> int:
    from index.encoders.crossencoder import ADAPTER_FILE, CrossEncoder, reading_dtype
    from index.lab.asking import ask_all, split_thirds
    from index.lab.tune import (
        cross_validate,
        decide_after_reading,
        fit,
        format_held_out,
        reading_pairs,
        weigh_cross_encoder,
    )

    embedder = settings_embedder(settings)
    sets = _question_sets(settings, args, limit=args.limit)
    known = _known_vectors(settings, args, embedder.name)
    # Chunks the other index holds (a large --news archive) are not embedded again.
    building = KnownVectors(embedder, known) if known else embedder
    with _stage("asking the train questions"):
        asked = _asked(
            args.asked_cache,
            sets,
            lambda: ask_all(
                settings, embedder=building, sets=sets, progress=ProgressBar("questions")
            ),
            embedder.name,
        )
    if isinstance(building, KnownVectors):
        print(f"{building.embedded} chunks embedded, {building.reused} reused", file=sys.stderr)
    if args.folds:
        with _stage("cross-validating the ranking"):
            print(format_held_out(cross_validate(asked, folds=args.folds), folds=args.folds))
    with _stage("fitting the ranking"):
        ranker = fit(asked)
    ranker.save(args.output)
    print(json.dumps({"output": str(args.output), **ranker.fitted}, ensure_ascii=False))

    # The cross-encoder: fitted on two thirds (by passage), weighed on the third it never read.
    adapter = args.cross_encoder or ADAPTER_FILE
    read, judged = split_thirds(asked)
    if args.train_cross_encoder:
        reader = CrossEncoder(dtype=reading_dtype())
        lessons = read
        wider = args.cross_encoder_limit is not None
        if wider and (args.cross_encoder_limit or None) != (args.limit or None):
            # A larger sample of answerable questions for the adapter alone; parts go by
            # passage, so its two thirds share no passage with the third judged above.
            with _stage("asking the cross-encoder's questions"):
                more_asked = ask_all(
                    settings,
                    embedder=embedder,
                    sets=_question_sets(
                        settings, args, limit=args.cross_encoder_limit, unanswerable=False
                    ),
                    elsewhere=0,
                    progress=ProgressBar("questions for the cross-encoder"),
                )
            lessons, _ = split_thirds(more_asked)
            # ... with the unanswerable questions of the same two thirds.
            lessons += [item for item in read if not item.answerable]
        pairs = reading_pairs(lessons, ranker)
        bar = ProgressBar("cross-encoder steps")
        with _stage(f"fitting the cross-encoder ({reader.dtype})"):
            reader.fit(
                pairs,
                epochs=args.cross_encoder_epochs,
                progress=lambda step, steps, _loss: bar(step, steps),
            )
        reader.save_adapter(adapter)
        distinct = {id(pair): pair for pair in pairs}.values()
        declining = sum(not any(pair.correct) for pair in distinct)
        learned = {
            "questions": len(distinct) - declining,
            "unanswerable": declining,
            "lessons": len(pairs),
        }
        print(json.dumps({"cross_encoder": str(adapter), **learned}))
    else:
        reader = CrossEncoder(adapter=adapter, dtype=reading_dtype())
    if args.folds:
        with _stage("judging the held-out third"):
            for name, with_reader in (("ranking alone", None), ("with the cross-encoder", reader)):
                figures = cross_validate(
                    judged, folds=args.folds, reader=with_reader, also_ranked=read
                )
                title = f"the third the cross-encoder was not fitted on, {name}"
                print(format_held_out(figures, folds=args.folds, of=title))
    with _stage("weighing the cross-encoder"):
        crossed = weigh_cross_encoder(ranker, judged, reader)
    with _stage("fitting the decision after reading"):
        honest = [*judged, *(item for item in read if item.elsewhere)]
        crossed = decide_after_reading(crossed, honest, reader)
    crossed.save(args.cross_output)
    print(json.dumps({"output": str(args.cross_output), **crossed.fitted}, ensure_ascii=False))
    return 0


def _asked(
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


def _question_sets(
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


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build", help="fetch the feeds, index new and changed articles (a new index version)"
    )
    build.add_argument("--full", action="store_true", help="re-embed every article")
    build.add_argument("--json", action="store_true", help="print the report as JSON")
    build.set_defaults(run=_build)
    stats = commands.add_parser(
        "stats", help="articles, sentences, chunks, model, size, last build"
    )
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(run=_stats)
    ev = commands.add_parser("eval", help="score answers on a question set (see shared/eval)")
    corpus = ev.add_mutually_exclusive_group(required=True)
    corpus.add_argument("--passages", type=Path, help="passages .jsonl to index")
    corpus.add_argument(
        "--articles",
        type=Path,
        help="articles .jsonl (shared/eval/news): index the full articles the questions name "
        "by article_id",
    )
    ev.add_argument(
        "--distractor-articles",
        type=int,
        default=0,
        metavar="N",
        help="with --articles: also index N other articles of the file, spread evenly over it",
    )
    ev.add_argument("--questions", type=Path, required=True, help="answerable questions .jsonl")
    ev.add_argument(
        "--unanswerable",
        type=Path,
        action="append",
        help="questions the passages do not answer .jsonl (repeatable; each reported apart)",
    )
    ev.add_argument("--distractors", type=Path, help="articles .jsonl indexed beside the passages")
    ev.add_argument("--predictions", type=Path, help="write one JSON line per question here")
    ev.add_argument(
        "--vectors-from",
        type=Path,
        metavar="DATA_DIR",
        help="reuse the vectors of the index in this data dir (same model): chunks it holds "
        "are not embedded again, e.g. the distractors after `python -m bench --workdir W` "
        "(DATA_DIR = W/data)",
    )
    ev.add_argument("--limit", type=int, help="only the first N questions of each file")
    ev.add_argument(
        "--lower-case",
        action="store_true",
        help="ask every question in lower case, as readers often type in a chat",
    )
    ev.add_argument(
        "--ranker",
        type=Path,
        help="weights to judge instead of the shipped ones (a file `tune` wrote; with a "
        "cross-encoder weight, as ranker-cross.json has, the cross-encoder reads again)",
    )
    ev.add_argument(
        "--cross-encoder",
        type=Path,
        help="the cross-encoder's adapter to judge instead of index/encoders/crossencoder.npz",
    )
    ev.add_argument("--json", action="store_true", help="print the scores as JSON")
    ev.set_defaults(run=_eval)
    tu = commands.add_parser(
        "tune", help="fit the ranking and 'not found' weights on train questions"
    )
    tu.add_argument(
        "--set",
        nargs="+",
        action="append",
        metavar="FILE",
        help="PASSAGES QUESTIONS [UNANSWERABLE ...] .jsonl train files (repeat for each set)",
    )
    tu.add_argument(
        "--contexts",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="train files of questions with their paragraph (shared/eval/extra), asked of "
        "articles of --paragraphs consecutive paragraphs",
    )
    tu.add_argument(
        "--paragraphs",
        type=int,
        default=PARAGRAPHS,
        help=f"paragraphs joined into one article for --contexts (default {PARAGRAPHS})",
    )
    tu.add_argument(
        "--asked-cache",
        type=Path,
        metavar="FILE",
        help="keep the asked questions' candidates in FILE and read them back on a run with the "
        "same files and options (delete it after changing how candidates are found)",
    )
    tu.add_argument(
        "--news",
        type=Path,
        metavar="ARTICLES",
        help="an articles .jsonl (shared/eval/news): --news-articles of it are indexed and the "
        "other sets' questions asked there, none of which it answers",
    )
    tu.add_argument(
        "--news-articles",
        type=int,
        default=2000,
        help="articles taken from --news, spread evenly over the file (default 2000)",
    )
    tu.add_argument(
        "--news-questions",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="QUESTIONS [UNANSWERABLE ...] .jsonl written on full articles of --news (their "
        "article_id): asked of those articles, weighed as an average other file in the "
        "ranking's fit, never lessons of the cross-encoder (unless --news-lessons)",
    )
    tu.add_argument(
        "--news-lessons",
        action="store_true",
        help="the --news-questions parted by article like the other sets' passages: two "
        "thirds are lessons of the cross-encoder (each counted as in the ranking's fit), one "
        "third judges it; give it also when reading an adapter fitted so",
    )
    tu.add_argument(
        "--vectors-from",
        type=Path,
        metavar="DATA_DIR",
        help="reuse the vectors of the index in this data dir (same model), e.g. a "
        "20,000-article bench's (DATA_DIR = W/data) for --news-articles 20000",
    )
    tu.add_argument(
        "--chat-typed",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="also ask this share of every file's questions in lower case and chat spelling",
    )
    tu.add_argument("--limit", type=int, help="at most N questions of each file (fixed sample)")
    tu.add_argument("--output", type=Path, default=RANKER_FILE, help="where to write the weights")
    tu.add_argument(
        "--cross-output",
        type=Path,
        default=CROSS_RANKER_FILE,
        help="where to write the weights used with the cross-encoder (TANYA_CROSS_ENCODER)",
    )
    tu.add_argument(
        "--train-cross-encoder",
        action="store_true",
        help="first fit the cross-encoder's adapter (about 20 minutes on 2 cores for --limit "
        "1500, 50 for all train questions) instead of reading it",
    )
    tu.add_argument(
        "--cross-encoder-limit",
        type=int,
        help="with --train-cross-encoder: the adapter learns from at most N answerable questions "
        "of each file, 0 for all (default: --limit); the rest is fitted on --limit's sample",
    )
    tu.add_argument(
        "--cross-encoder-epochs",
        type=float,
        default=2.0,
        help="with --train-cross-encoder: times the adapter reads its questions (default 2)",
    )
    tu.add_argument(
        "--cross-encoder",
        type=Path,
        help="the cross-encoder's adapter file, written with --train-cross-encoder "
        "(default: index/encoders/crossencoder.npz)",
    )
    tu.add_argument(
        "--folds",
        type=int,
        default=0,
        help="first print K-fold cross-validated figures of the train questions (e.g. 3): "
        "judge a change here, not on dev",
    )
    tu.set_defaults(run=_tune)
    fb = commands.add_parser(
        "feedback", help="export readers' 👍 / 👎 on answers as eval questions (a dev set)"
    )
    fb.add_argument(
        "--export",
        type=Path,
        required=True,
        metavar="FILE",
        help="write the answers with more 👍 than 👎 here, one eval question per line: "
        "answers = the first quoted sentence, article_id = its article",
    )
    fb.add_argument(
        "--wrong",
        type=Path,
        metavar="FILE",
        help="write the others here, in the same format with answers empty and wrong = the "
        "first quoted sentence readers voted down (for a person to label)",
    )
    fb.set_defaults(run=_feedback)
    args = parser.parse_args(argv)
    if args.run is _tune and not (args.set or args.contexts):
        parser.error("tune needs train questions: --set or --contexts")
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.run(settings, args))


if __name__ == "__main__":
    sys.exit(main())
