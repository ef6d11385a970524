"""``python -m bot [--webhook] [run [--webhook] | ask QUESTION [--json] | chat | summary ...]``.

``run`` (the default) starts the Telegram bot with long polling when ``TANYA_TELEGRAM_TOKEN``
is set, and otherwise says so in one line and opens the terminal chat on the same answer path.
``--webhook`` serves Telegram's webhook instead (``TANYA_WEBHOOK_URL``, ``TANYA_WEBHOOK_PORT``,
``TANYA_WEBHOOK_SECRET``): the way to run several workers behind one URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys

from pydantic import ValidationError

from bot.replies import answer_html, answer_plain
from bot.summary_replies import summary_html, summary_plain
from config.settings import Settings, get_settings
from index import (
    DatabaseUnavailableError,
    IndexMismatchError,
    RankerFileError,
    Searcher,
    ServingIndex,
    SourcedAnswer,
    Summarizer,
    Summary,
    answer_with_sources,
    asks_for_todays_news,
    day_window,
    last_24_hours,
)


def answer_json(cited: SourcedAnswer) -> dict[str, object]:
    """What ``ask --json`` prints: the question, the quotes and the Telegram reply."""
    answer = cited.answer
    return {
        "question": answer.question,
        "answered": answer.answered,
        "sentences": [
            {"text": q.text, "title": q.title, "path": q.path, "line": q.line, "score": q.score}
            for q in answer.quotes
        ],
        "reply": answer_html(answer, sources=cited.sources),
    }


def _open(settings: Settings) -> Searcher:
    try:
        return ServingIndex(settings).open()
    except (IndexMismatchError, RankerFileError, DatabaseUnavailableError) as error:
        sys.exit(f"error: {error}")


#: The updates the bot handles (messages, inline queries once inline mode is on with
#: BotFather, presses of the 👍 / 👎 buttons); Telegram sends no others (edits, channel posts ...
#: are left out).
ALLOWED_UPDATES = ["message", "inline_query", "callback_query"]


def webhook_problem(settings: Settings) -> str | None:
    """Why webhook mode cannot start with these settings, in words a person can act on."""
    if settings.telegram_token is None:
        return "webhook mode needs TANYA_TELEGRAM_TOKEN"
    if not settings.webhook_url:
        return (
            "webhook mode needs TANYA_WEBHOOK_URL: the public HTTPS URL Telegram posts updates "
            "to (e.g. https://bot.example.id/telegram)"
        )
    if settings.webhook_secret is None:
        return (
            "webhook mode needs TANYA_WEBHOOK_SECRET, checked on every request so that nobody "
            "else can post updates to the bot: 1-256 characters of A-Z, a-z, 0-9, _ and -, "
            "e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return None


def run_bot(settings: Settings, *, webhook: bool = False) -> int:
    """Long polling (or the webhook) until interrupted; without a token, the terminal chat."""
    if webhook and (problem := webhook_problem(settings)):
        sys.exit(f"error: {problem}")
    if settings.telegram_token is None:
        print("TANYA_TELEGRAM_TOKEN belum diatur: membuka obrolan terminal (Ctrl+D untuk keluar).")
        return chat(settings)
    from bot.app import build_application
    from bot.metrics import MetricsPortError

    # The index is loaded in post_init: a first build there serves its first published version
    # while the rest of it goes on in a thread.
    application = build_application(settings)
    try:
        if not webhook:
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
            return 0
        assert settings.webhook_url is not None and settings.webhook_secret is not None
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
    except (
        IndexMismatchError,
        RankerFileError,
        MetricsPortError,
        DatabaseUnavailableError,
    ) as error:
        sys.exit(f"error: {error}")
    return 0


def ask(settings: Settings, question: str, *, as_json: bool) -> int:
    """Print the reply a Telegram user would get for one question.

    "ada berita apa hari ini?" and the like get today's summary, as in Telegram.
    """
    searcher = _open(settings)
    if asks_for_todays_news(question):
        summary = _summary(settings, searcher)
        print(
            json.dumps(summary_json(summary), ensure_ascii=False, indent=2)
            if as_json
            else summary_plain(summary)
        )
        return 0
    cited = answer_with_sources(searcher, question, limit=settings.max_answer_sentences)
    if as_json:
        print(json.dumps(answer_json(cited), ensure_ascii=False, indent=2))
    else:
        print(answer_plain(cited.answer, sources=cited.sources))
    return 0


def chat(settings: Settings) -> int:
    """Ask questions in a loop until an empty line at end of input or Ctrl+D."""
    searcher = _open(settings)
    print("Tanya Berita — ketik pertanyaan, Ctrl+D untuk keluar.")
    while True:
        try:
            question = input("\n? ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if asks_for_todays_news(question):
            print(summary_plain(_summary(settings, searcher)))
        elif question.strip():
            cited = answer_with_sources(searcher, question, limit=settings.max_answer_sentences)
            print(answer_plain(cited.answer, sources=cited.sources))


def summary_json(summary: Summary) -> dict[str, object]:
    """What ``summary --json`` prints: the day, the quoted sentences and the Telegram message."""
    return {
        "date": summary.day.isoformat(),
        "fallback": summary.recent_fallback,
        "sentences": [
            {"text": q.text, "title": q.title, "path": q.path, "line": q.line}
            for q in summary.quotes
        ],
        "reply": summary_html(summary),
    }


def _summary(settings: Settings, searcher: Searcher, day: dt.date | None = None) -> Summary:
    """The summary of one local day, or of the last 24 hours (what ``/ringkasan`` sends)."""
    summarizer = Summarizer(engine=searcher.engine, embedder=searcher.embedder)
    zone = settings.zone
    window = day_window(day, zone) if day else last_24_hours(dt.datetime.now(zone))
    return summarizer.summarize(window, zone=zone)


def summarize(settings: Settings, *, day: dt.date | None, as_json: bool) -> int:
    """Print the summary of one local day, or of the last 24 hours (what ``/ringkasan`` sends)."""
    summary = _summary(settings, _open(settings), day)
    if as_json:
        print(json.dumps(summary_json(summary), ensure_ascii=False, indent=2))
    else:
        print(summary_plain(summary))
    return 0


def settings_problems(error: ValidationError) -> str:
    """The bad settings, by their variable names, in one line."""
    problems = []
    for problem in error.errors():
        name = "_".join(map(str, problem["loc"])).upper()
        name = name if name.startswith("TANYA_") else f"TANYA_{name}"
        problems.append(f"{name}: {problem['msg']}")
    return "; ".join(problems)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    webhook_help = "serve Telegram's webhook instead of long polling (see TANYA_WEBHOOK_*)"
    parser.add_argument("--webhook", action="store_true", help=webhook_help)
    commands = parser.add_subparsers(dest="command")
    run_parser = commands.add_parser("run", help="run the Telegram bot (default)")
    run_parser.add_argument(
        "--webhook", action="store_true", default=argparse.SUPPRESS, help=webhook_help
    )
    ask_parser = commands.add_parser("ask", help="answer one question, as the bot would")
    ask_parser.add_argument("question")
    ask_parser.add_argument("--json", action="store_true", help="print JSON")
    commands.add_parser("chat", help="interactive questions in the terminal")
    summary_parser = commands.add_parser("summary", help="the daily summary, as the bot sends it")
    summary_parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        help="YYYY-MM-DD: the news of that local day (default: the last 24 hours)",
    )
    summary_parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as error:  # one line per bad setting, no traceback
        sys.exit(f"error: {settings_problems(error)}")
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The job queue's scheduler logs every run of every job (the sync job runs every 30 s).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if args.command == "ask":
        return ask(settings, args.question, as_json=args.json)
    if args.command == "chat":
        return chat(settings)
    if args.command == "summary":
        return summarize(settings, day=args.date, as_json=args.json)
    return run_bot(settings, webhook=args.webhook)


if __name__ == "__main__":
    sys.exit(main())
