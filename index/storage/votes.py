"""Readers' 👍 and 👎 on answers: the answers kept, the votes, the figures, and a dev-set export.

Every answer the bot sends in a chat is kept (:class:`~index.storage.tables.AnswerRecord`: the question,
the quoted sentences with their article keys and lines, the index version) under an id the
vote buttons carry. A vote is one row per reader and answer (:class:`~index.storage.tables.AnswerVote`,
unique on both), so pressing 👎 after 👍 changes the row rather than adding one. Answers nobody
voted on are pruned after :data:`KEEP_UNVOTED`; a button under such an answer is then refused as
expired.

:func:`export_votes` turns the voted answers into the eval question format that
``index.lab.evaluate.read_questions`` reads, so readers' questions become a dev set.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, case, delete, exists, func, inspect
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from index.articles.cleaning import visible_line
from index.articles.records import passage_id
from index.search.answers import Quote
from index.storage.store import UNWRITABLE, database_unavailable
from index.storage.tables import AnswerRecord, AnswerVote

#: Answers nobody voted on are forgotten after this long; their buttons then say so.
KEEP_UNVOTED = dt.timedelta(days=14)
#: ``/status`` lists this many of the latest 👎.
LATEST_DOWN = 3


class Vote(enum.StrEnum):
    """A reader's verdict on an answer."""

    UP = "up"  #: 👍 the quotes answer the question
    DOWN = "down"  #: 👎 they do not


class VoteOutcome(enum.Enum):
    """What a press of a vote button did."""

    RECORDED = "recorded"  #: the reader's first vote on this answer
    CHANGED = "changed"  #: the reader changed their vote
    UNCHANGED = "unchanged"  #: the same vote again: kept as it was
    UNKNOWN_ANSWER = "unknown"  #: no such answer (pruned, or not of this chat)


@dataclass(frozen=True, slots=True)
class DownVote:
    """A 👎: the question and the first sentence the answer quoted."""

    question: str
    first_quote: str
    voted_at: dt.datetime


@dataclass(frozen=True, slots=True)
class FeedbackFigures:
    """Every reader's current vote counted, and the latest 👎."""

    up: int
    down: int
    latest_down: tuple[DownVote, ...] = ()

    @property
    def votes(self) -> int:
        """All votes."""
        return self.up + self.down

    @property
    def up_share(self) -> float | None:
        """The share of 👍 among the votes; None without votes."""
        return self.up / self.votes if self.votes else None


@dataclass(frozen=True, slots=True)
class ExportCounts:
    """How many voted answers an export wrote to each file."""

    helpful: int  #: more 👍 than 👎: written with the first quote as the answer
    wrong: int  #: at least as many 👎 as 👍


def quote_record(quote: Quote) -> dict[str, Any]:
    """What an :class:`AnswerRecord` keeps of a quoted sentence."""
    return {
        "text": quote.text,
        "article_key": quote.article_key,
        "path": quote.path,
        "line": quote.line,
    }


class FeedbackStore:
    """Answers kept for voting, and the votes, in the database every worker shares. Thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def keep_answer(
        self,
        *,
        question: str,
        quotes: Sequence[Quote],
        index_version: int,
        chat_id: int,
        asked_by: int | None,
        now: dt.datetime,
    ) -> int:
        """Keep an answer about to be sent to ``chat_id``; returns the id its buttons carry.

        Raises:
            DatabaseUnavailableError: The database cannot take the row (read-only, locked).
        """
        record = AnswerRecord(
            question=visible_line(question),  # as searched: no NUL, one line
            quotes=[quote_record(quote) for quote in quotes],
            index_version=index_version,
            chat_id=chat_id,
            asked_by=asked_by,
            answered_at=now,
        )
        with Session(self.engine) as session:
            session.add(record)
            try:
                session.commit()
            except UNWRITABLE as error:
                raise database_unavailable(error) from error
            assert record.id is not None
            return record.id

    def vote(
        self,
        *,
        answer_id: int,
        vote: Vote,
        user_id: int,
        chat_id: int | None,
        message_id: int | None,
        now: dt.datetime,
    ) -> VoteOutcome:
        """Record ``user_id``'s vote on an answer, or change it; one row per reader and answer.

        The vote must come from the chat the answer was sent to (``chat_id``, None for a message
        the bot cannot see): a button is never taken for another chat's answer.

        Raises:
            DatabaseUnavailableError: The database cannot take the vote.
        """
        for _ in range(2):  # a second press racing the first one's insert: update its row
            with Session(self.engine) as session:
                record = session.get(AnswerRecord, answer_id)
                if record is None or record.chat_id != chat_id:
                    return VoteOutcome.UNKNOWN_ANSWER
                mine = session.exec(
                    select(AnswerVote).where(
                        col(AnswerVote.answer_id) == answer_id, col(AnswerVote.user_id) == user_id
                    )
                ).first()
                if mine is not None and mine.vote == vote:
                    return VoteOutcome.UNCHANGED
                if mine is None:
                    session.add(
                        AnswerVote(
                            answer_id=answer_id,
                            user_id=user_id,
                            chat_id=chat_id,
                            message_id=message_id,
                            vote=vote.value,
                            voted_at=now,
                        )
                    )
                else:
                    mine.vote, mine.voted_at = vote.value, now
                    mine.message_id = message_id if message_id is not None else mine.message_id
                try:
                    session.commit()
                except IntegrityError:
                    continue
                except UNWRITABLE as error:
                    raise database_unavailable(error) from error
                return VoteOutcome.RECORDED if mine is None else VoteOutcome.CHANGED
        return VoteOutcome.UNCHANGED  # pragma: no cover - the other press's row won twice

    def figures(self, *, latest: int = LATEST_DOWN) -> FeedbackFigures:
        """The votes as they stand, and the ``latest`` 👎, newest first."""
        up_votes = func.sum(case((col(AnswerVote.vote) == Vote.UP.value, 1), else_=0))
        with Session(self.engine) as session:
            connection = session.connection()
            total, up = connection.execute(
                select_columns(func.count(), func.coalesce(up_votes, 0)).select_from(AnswerVote)
            ).one()
            rows = connection.execute(
                select_columns(
                    col(AnswerRecord.question), col(AnswerRecord.quotes), col(AnswerVote.voted_at)
                )
                .join(AnswerRecord, col(AnswerVote.answer_id) == col(AnswerRecord.id))
                .where(col(AnswerVote.vote) == Vote.DOWN.value)
                .order_by(col(AnswerVote.voted_at).desc(), col(AnswerVote.id).desc())
                .limit(latest)
            ).all()
        return FeedbackFigures(
            up=int(up),
            down=int(total) - int(up),
            latest_down=tuple(
                DownVote(question=question, first_quote=_first_text(quotes), voted_at=voted_at)
                for question, quotes, voted_at in rows
            ),
        )

    def prune(self, *, now: dt.datetime, keep: dt.timedelta = KEEP_UNVOTED) -> int:
        """Forget the answers older than ``keep`` that nobody voted on; returns how many."""
        voted = exists().where(col(AnswerVote.answer_id) == col(AnswerRecord.id))
        with Session(self.engine) as session:
            result = session.exec(  # type: ignore[call-overload]
                delete(AnswerRecord).where(and_(col(AnswerRecord.answered_at) < now - keep, ~voted))
            )
            session.commit()
        return int(result.rowcount or 0)


def _first_text(quotes: Sequence[dict[str, Any]]) -> str:
    return str(quotes[0]["text"]) if quotes else ""


def export_votes(engine: Engine, *, helpful: Path, wrong: Path | None = None) -> ExportCounts:
    """Write every voted answer as an eval question (``index.lab.evaluate.read_questions``' format).

    One JSON line per answer with votes: ``id`` (``feedback-<answer id>``), ``question``,
    ``article_id`` (the article of the first quote: a ``.jsonl`` record's id, else its file),
    ``index_version``, ``votes`` (``{"up", "down"}``) and ``quotes`` (every quoted sentence with
    its ``article_id`` and ``line``). An answer with more 👍 than 👎 goes to ``helpful`` with
    ``answers`` = [its first quoted sentence], so ``python -m index eval --questions`` scores
    it. The others go to ``wrong`` (left out without it) with ``answers`` empty and ``wrong`` =
    [the first quoted sentence readers voted down]: what the right answer is, a person decides.
    """
    up_votes = func.sum(case((col(AnswerVote.vote) == Vote.UP.value, 1), else_=0))
    statement = (
        select_columns(
            col(AnswerRecord.id),
            col(AnswerRecord.question),
            col(AnswerRecord.quotes),
            col(AnswerRecord.index_version),
            func.count(col(AnswerVote.id)),
            up_votes,
        )
        .join(AnswerVote, col(AnswerVote.answer_id) == col(AnswerRecord.id))
        .group_by(col(AnswerRecord.id))
        .order_by(col(AnswerRecord.id))
    )
    lines: dict[bool, list[str]] = {True: [], False: []}  # by "more 👍 than 👎"
    rows: Sequence[Sequence[Any]] = []
    if inspect(engine).has_table("answervote"):  # else no bot has run on this database yet
        with Session(engine) as session:
            rows = session.connection().execute(statement).all()
    for answer_id, question, quotes, version, votes, up in rows:
        if not quotes:
            continue
        up, down = int(up or 0), int(votes) - int(up or 0)
        first = quotes[0]
        line: dict[str, Any] = {
            "id": f"feedback-{answer_id}",
            "question": question,
            "answers": [first["text"]] if up > down else [],
            "article_id": passage_id(first["article_key"]),
            "index_version": version,
            "votes": {"up": up, "down": down},
            "quotes": [
                {
                    "text": quote["text"],
                    "article_id": passage_id(quote["article_key"]),
                    "line": quote["line"],
                }
                for quote in quotes
            ],
        }
        if up <= down:
            line["wrong"] = [first["text"]]
        lines[up > down].append(json.dumps(line, ensure_ascii=False) + "\n")
    helpful.write_text("".join(lines[True]), encoding="utf-8")
    if wrong is not None:
        wrong.write_text("".join(lines[False]), encoding="utf-8")
    return ExportCounts(helpful=len(lines[True]), wrong=len(lines[False]))
