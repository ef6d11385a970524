"""``python -m index build | stats | eval | tune | feedback``: the index from the shell.

The shell speaks English: the build report's words (skipped files, warnings, feeds) are made
here from the report's types; the bot words the same report in Indonesian
(``bot/admin_replies.py``). ``eval`` and ``tune`` are in ``index.lab.cli``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from config.settings import Settings, get_settings
from index.articles.feeds import FeedFailure, FeedResult
from index.articles.reports import ReadWarning, SkippedFile, SkipReason, WarningKind
from index.encoders.embedder import settings_embedder
from index.lab.cli import add_lab_commands, check_lab_arguments
from index.progress import ProgressBar
from index.serving import ServingIndex
from index.storage.builder import BuildReport
from index.storage.stats import index_stats
from index.storage.store import make_engine
from index.storage.versions import BuildBusyError
from index.storage.votes import export_votes

__all__ = ["main", "report_json", "report_lines", "skip_text", "warning_text"]

#: A skip reason in words; ``{detail}``, ``{limit}`` and ``{first_line}`` are the file's.
SKIP_TEXTS: dict[SkipReason, str] = {
    SkipReason.NOT_ARTICLE_FILE: "not an article file ({detail})",
    SkipReason.CANNOT_READ: "cannot read: {detail}",
    SkipReason.TOO_LARGE: "larger than {limit} ({detail})",
    SkipReason.BINARY: "binary file",
    SkipReason.EMPTY: "empty file",
    SkipReason.NOT_DECODABLE: "not UTF-8 and not cp1252",
    SkipReason.NOT_JSON: "not valid JSON",
    SkipReason.NOT_JSON_OBJECT: "not a JSON object",
    SkipReason.NO_TEXT: "no 'text'",
    SkipReason.NO_SENTENCES: "no sentences left after cleaning",
    SkipReason.DUPLICATE_ID: "duplicate article id {detail}, first seen on line {first_line}",
}
#: A warning in words, after its file's path; ``{detail}`` is the warning's.
WARNING_TEXTS: dict[WarningKind, str] = {
    WarningKind.READ_AS_CP1252: "not UTF-8, read as cp1252",
    WarningKind.DUPLICATE_ID: "duplicate id {detail}, keyed by its line instead",
    WarningKind.BAD_DATE: "bad date {detail} ignored",
    WarningKind.CANNOT_LIST_FOLDER: "cannot list folder: {detail}",
}


def skip_text(skipped: SkippedFile) -> str:
    """Why a file was skipped, e.g. "larger than 5 MB (7.2 MB)", "line 3: not valid JSON"."""
    detail = skipped.detail
    if skipped.reason is SkipReason.NOT_ARTICLE_FILE:
        detail = detail or "no suffix"
    text = SKIP_TEXTS[skipped.reason].format(
        detail=detail, limit=skipped.limit, first_line=skipped.first_line
    )
    return f"line {skipped.line}: {text}" if skipped.line is not None else text


def warning_text(warning: ReadWarning) -> str:
    """A warning with its file, e.g. "seeds/lama.txt: not UTF-8, read as cp1252"."""
    text = f"{warning.path}: {WARNING_TEXTS[warning.kind].format(detail=warning.detail)}"
    if warning.lines:
        shown = ", ".join(map(str, warning.lines)) + (", …" if warning.more else "")
        text += f" (lines {shown})"
    return text


FEED_FAILURES = {
    FeedFailure.UNREACHABLE: "cannot fetch: {}",
    FeedFailure.TIMEOUT: "no answer within {} s",
    FeedFailure.HTTP_STATUS: "HTTP {}",
    FeedFailure.NOT_A_FEED: "not an RSS or Atom feed: {}",
}


def feed_error_text(feed: FeedResult) -> str:
    """Why a feed could not be read, in English ("HTTP 404 Not Found"); "" if it was read."""
    return FEED_FAILURES[feed.failure].format(feed.detail) if feed.failure else ""


def report_lines(report: BuildReport) -> list[str]:
    """The build report for the shell: the counts, then one line per feed and problem."""
    lines = [
        f"+{report.added:,} new, {report.changed:,} changed, {report.removed:,} removed, "
        f"{report.unchanged:,} unchanged, {report.seconds:.1f} s"
    ]
    for feed in report.feeds:
        if feed.failure:
            lines.append(f"feed down: {feed.url}: {feed_error_text(feed)}")
        else:
            lines.append(
                f"feed: {feed.url}: {feed.added:,} new items, {feed.updated:,} updated, "
                f"{feed.items:,} in the feed"
            )
    lines += [f"skipped: {item.path}: {skip_text(item)}" for item in report.skipped]
    lines += [f"warning: {warning_text(warning)}" for warning in report.warnings]
    return lines


def report_json(report: BuildReport) -> dict[str, object]:
    """``build --json``: the counts, ``skipped`` as {path, reason}, ``warnings`` and ``feeds``."""
    return {
        "added": report.added,
        "changed": report.changed,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "chunks_embedded": report.chunks_embedded,
        "skipped": [{"path": item.path, "reason": skip_text(item)} for item in report.skipped],
        "warnings": [warning_text(warning) for warning in report.warnings],
        "seconds": round(report.seconds, 3),
        "version": report.version,
        "feeds": [
            {
                "url": feed.url,
                "file": feed.file,
                "items": feed.items,
                "added": feed.added,
                "updated": feed.updated,
                "error": feed_error_text(feed) if feed.failure else None,
            }
            for feed in report.feeds
        ],
    }


def _build(settings: Settings, args: argparse.Namespace) -> int:
    serving = ServingIndex(settings, embedder=settings_embedder(settings))
    try:
        report = serving.build(full=args.full, progress=ProgressBar("embedding"))
    except BuildBusyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        serving.close()
    if args.json:
        print(json.dumps(report_json(report), ensure_ascii=False))
    else:
        print("\n".join(report_lines(report)))
    return 0


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    stats = index_stats(settings).as_dict()
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


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__.split("\n\n")[0])
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
    add_lab_commands(commands)
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
    check_lab_arguments(parser, args)
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.run(settings, args))
