"""``python -m index eval | tune``: judging answers on question sets, and fitting the weights.

``index.cli`` adds these commands to ``python -m index``; what they read from their options is
in ``index.lab.inputs``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
from pathlib import Path

from config.settings import Settings
from index.encoders.embedder import KnownVectors, settings_embedder
from index.lab import inputs
from index.lab.evaluate import evaluate, format_table, read_questions
from index.lab.trainsets import PARAGRAPHS
from index.progress import ProgressBar
from index.search.ranker import CROSS_RANKER_FILE, RANKER_FILE, Ranker

__all__ = ["add_lab_commands", "check_lab_arguments"]


def add_lab_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``eval`` and ``tune`` to ``python -m index``'s subcommands."""
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
        help="keep the asked questions' candidates in FILE (and the cross-encoder's, with "
        "--cross-encoder-limit, in a second file beside it) and read them back on a run with "
        "the same files and options (delete them after changing how candidates are found)",
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
        help="first fit the cross-encoder's adapter instead of reading it (0.3-0.5 s a lesson on "
        "2 cores: 65-95 minutes for the 11,800 lessons of docs/quality.md's command)",
    )
    tu.add_argument(
        "--cross-encoder-context",
        action="store_true",
        help="with --train-cross-encoder: the adapter reads each sentence with its article's "
        "title and the sentence before it (inputs of up to 160 tokens, not 96: slower to fit "
        "and to read); the adapter file records it, and the bot reads as it was fitted",
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
        "--cross-encoder-checkpoint",
        type=Path,
        metavar="FILE",
        help="with --train-cross-encoder: write the adapter's fit to FILE every 5 minutes, and "
        "go on from it when run again with the same files and options (a fit longer than one "
        "sitting); give --asked-cache too, so that the questions are not asked again",
    )
    tu.add_argument(
        "--cross-encoder-from",
        type=Path,
        metavar="ADAPTER",
        help="with --train-cross-encoder and --news-lessons: fit a second adapter on top of "
        "ADAPTER, on the lessons of the --news-questions and --cross-encoder-others of the "
        "others' (one pass at --cross-encoder-epochs 1: about a fifth of a fresh fit's "
        "lessons); the file written holds both",
    )
    tu.add_argument(
        "--cross-encoder-others",
        type=int,
        default=600,
        metavar="N",
        help="with --cross-encoder-from: lessons of the other sets mixed in, so that the "
        "adapter keeps what it knew of them (default 600)",
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


def check_lab_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Stop with a usage error for options no command of the lab can run with."""
    if args.run is _tune and not (args.set or args.contexts):
        parser.error("tune needs train questions: --set or --contexts")
    if args.run is _tune and args.cross_encoder_checkpoint and not args.train_cross_encoder:
        parser.error("--cross-encoder-checkpoint is for --train-cross-encoder: give both")
    if args.run is _tune and args.cross_encoder_context and not args.train_cross_encoder:
        parser.error("--cross-encoder-context is for --train-cross-encoder: give both")
    if args.run is _tune and args.cross_encoder_from:
        if not (args.train_cross_encoder and args.news_questions and args.news_lessons):
            parser.error(
                "--cross-encoder-from fits on the --news-questions' lessons: give "
                "--train-cross-encoder, --news-questions and --news-lessons"
            )
        if args.cross_encoder_context or args.cross_encoder_limit is not None:
            parser.error(
                "--cross-encoder-from reads as the adapter below does, on the --limit sample: "
                "leave out --cross-encoder-context and --cross-encoder-limit"
            )


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
    known = inputs.known_vectors(settings, args, embedder.name)
    run = functools.partial(
        evaluate,
        settings,
        embedder=embedder,
        ranker=Ranker.load(args.ranker) if args.ranker else None,
        cross_encoder=inputs.adapter(args.cross_encoder) if args.cross_encoder else None,
        questions=questions,
        unanswerable=unanswerable,
        distractors=args.distractors,
        predictions=args.predictions,
        known_vectors=known,
        progress=ProgressBar("questions"),
    )
    result = (
        inputs.on_articles(run, args, questions) if args.articles else run(passages=args.passages)
    )
    print(json.dumps(result.as_dict(), ensure_ascii=False) if args.json else format_table(result))
    return 0


def _tune(settings: Settings, args: argparse.Namespace) -> int:
    from index.encoders.crossencoder import ADAPTER_FILE, CrossEncoder, reading_dtype
    from index.lab.asking import ask_all, source_name, split_thirds
    from index.lab.lessons import fit_reader, further_lessons, reading_pairs
    from index.lab.tune import (
        cross_validate,
        decide_after_reading,
        fit,
        format_held_out,
        weigh_cross_encoder,
    )

    embedder = settings_embedder(settings)
    sets = inputs.question_sets(settings, args, limit=args.limit)
    known = inputs.known_vectors(settings, args, embedder.name)
    # Chunks the other index holds (a large --news archive) are not embedded again.
    building = KnownVectors(embedder, known) if known else embedder
    with inputs.stage("asking the train questions"):
        asked = inputs.asked(
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
        with inputs.stage("cross-validating the ranking"):
            print(format_held_out(cross_validate(asked, folds=args.folds), folds=args.folds))
    with inputs.stage("fitting the ranking"):
        ranker = fit(asked)
    ranker.save(args.output)
    print(json.dumps({"output": str(args.output), **ranker.fitted}, ensure_ascii=False))

    # The cross-encoder: fitted on two thirds (by passage), weighed on the third it never read.
    adapter = args.cross_encoder or ADAPTER_FILE
    read, judged = split_thirds(asked)
    if args.cross_encoder_from:
        reader = inputs.adapter(args.cross_encoder_from)
        news = sets[-1]  # --news-questions come after every other set
        sources = {source_name(news, q) for q in [*news.questions, *news.unanswerable]}
        pairs = further_lessons(
            read, ranker, reader, sources=sources, others=args.cross_encoder_others
        )
    elif args.train_cross_encoder:
        reader = CrossEncoder(dtype=reading_dtype(), context=args.cross_encoder_context)
        lessons = read
        wider = args.cross_encoder_limit is not None
        if wider and (args.cross_encoder_limit or None) != (args.limit or None):
            # A larger sample of answerable questions for the adapter alone; parts go by
            # passage, so its two thirds share no passage with the third judged above.
            wider_sets = inputs.question_sets(
                settings, args, limit=args.cross_encoder_limit, unanswerable=False
            )
            with inputs.stage("asking the cross-encoder's questions"):
                more_asked = inputs.asked(
                    inputs.beside(args.asked_cache, "cross-encoder"),
                    wider_sets,
                    lambda: ask_all(
                        settings,
                        embedder=embedder,
                        sets=wider_sets,
                        elsewhere=0,
                        progress=ProgressBar("questions for the cross-encoder"),
                    ),
                    embedder.name,
                )
            lessons, _ = split_thirds(more_asked)
            # ... with the unanswerable questions of the same two thirds.
            lessons += [item for item in read if not item.answerable]
        pairs = reading_pairs(lessons, ranker, reader)
    else:
        reader = CrossEncoder(adapter=adapter, dtype=reading_dtype())
    if args.train_cross_encoder:
        with inputs.stage(f"fitting the cross-encoder ({reader.dtype})"):
            learned = fit_reader(
                reader,
                pairs,
                epochs=args.cross_encoder_epochs,
                checkpoint=args.cross_encoder_checkpoint,
                on_top=args.cross_encoder_from is not None,
            )
        reader.save_adapter(adapter)
        print(json.dumps({"cross_encoder": str(adapter), **learned}))
    if args.folds:
        with inputs.stage("judging the held-out third"):
            for name, with_reader in (("ranking alone", None), ("with the cross-encoder", reader)):
                figures = cross_validate(
                    judged, folds=args.folds, reader=with_reader, also_ranked=read
                )
                title = f"the third the cross-encoder was not fitted on, {name}"
                print(format_held_out(figures, folds=args.folds, of=title))
    with inputs.stage("weighing the cross-encoder"):
        crossed = weigh_cross_encoder(ranker, judged, reader)
    with inputs.stage("fitting the decision after reading"):
        honest = [*judged, *(item for item in read if item.elsewhere)]
        crossed = decide_after_reading(crossed, honest, reader)
    crossed.save(args.cross_output)
    print(json.dumps({"output": str(args.cross_output), **crossed.fitted}, ensure_ascii=False))
    return 0
