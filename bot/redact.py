"""Keep the bot token (and the webhook secret) out of every log record.

httpx logs each request URL, and the URL holds the token (``.../bot<token>/sendMessage``);
exceptions may quote it too. `redact_secrets` installs a log record factory, so every record
from every logger, to every handler, has the token replaced before anyone formats it.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

REPLACEMENT = "<token>"

_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    """``text`` with every registered secret replaced."""
    for secret in _secrets:
        text = text.replace(secret, REPLACEMENT)
    return text


def redact_secrets(*secrets: str) -> None:
    """From now on, log records never contain any of ``secrets`` (their message or traceback)."""
    global _installed
    _secrets.update(secret for secret in secrets if secret)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            _redact_record(record)
        return record

    logging.setLogRecordFactory(make_record)
    _installed = True


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave it to logging to report
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
