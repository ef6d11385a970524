"""SQLModel tables of the chats: subscriptions, the summary's sent log, claimed updates.

They live in the one database beside the index's tables (``SQLModel.metadata`` is shared):
``index.storage.store.create_schema`` creates them once this module is imported, which every
bot module that reads or writes them does.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from index import AwareDateTime, utc_now


class Subscription(SQLModel, table=True):
    """A chat that gets the daily summary; ``hour`` is its own send hour (None: the default)."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_type: str
    language: str = "id"
    hour: int | None = None
    subscribed_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    subscribed_at: dt.datetime = Field(
        default_factory=utc_now, sa_column=Column(AwareDateTime(), nullable=False)
    )


class SummaryDelivery(SQLModel, table=True):
    """The sent log: one row per chat and local day, claimed before sending, so never twice."""

    __table_args__ = (UniqueConstraint("chat_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    day: dt.date
    status: str  # "sending" while the message is on its way, then "sent"
    message_id: int | None = None
    claimed_at: dt.datetime = Field(
        default_factory=utc_now, sa_column=Column(AwareDateTime(), nullable=False)
    )
    sent_at: dt.datetime | None = Field(
        default=None, sa_column=Column(AwareDateTime(), nullable=True)
    )


class UpdateClaim(SQLModel, table=True):
    """A Telegram update one worker took on, so that a copy delivered again is answered once.

    Unique per update id, and per chat and message id (a message may come again under a new
    update id); rows are pruned once Telegram would no longer deliver the update again.
    """

    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    claimed_at: dt.datetime = Field(
        default_factory=utc_now, sa_column=Column(AwareDateTime(), nullable=False, index=True)
    )
