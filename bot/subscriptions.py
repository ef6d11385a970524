"""Subscriptions to the daily summary, and the sent log that keeps it to once a chat a day.

Each method is one transaction. A delivery is *claimed* (a row unique per chat and local day)
before the message goes out and *confirmed* after; a failure that Telegram reported releases the
claim so the message can be tried again. A claim left by a crash mid-send is never resent: a
missing morning message is better than a second one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.tables import Subscription, SummaryDelivery

SENDING = "sending"
SENT = "sent"


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscribed chat, as read from the database."""

    chat_id: int
    chat_type: str
    language: str
    hour: int | None  #: the chat's own send hour; None: the default send time
    subscribed_at: dt.datetime

    def send_time(self, default: dt.time) -> dt.time:
        """The local time of day this chat gets its summary."""
        return dt.time(self.hour) if self.hour is not None else default

    def slot(self, day: dt.date, *, default: dt.time, zone: ZoneInfo) -> dt.datetime:
        """When this chat's summary for ``day`` is due (aware, in ``zone``)."""
        return dt.datetime.combine(day, self.send_time(default), tzinfo=zone)


def _subscriber(row: Subscription) -> Subscriber:
    return Subscriber(
        chat_id=row.chat_id,
        chat_type=row.chat_type,
        language=row.language,
        hour=row.hour,
        subscribed_at=row.subscribed_at,
    )


class SubscriptionStore:
    """Subscriptions and the sent log in the database (the tables must exist)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def subscribe(
        self,
        *,
        chat_id: int,
        chat_type: str,
        language: str,
        hour: int | None,
        user_id: int | None,
        now: dt.datetime,
    ) -> bool:
        """Subscribe a chat, or change its hour and language; True if it was not subscribed."""
        if hour is not None and not 0 <= hour <= 23:
            raise ValueError(f"hour {hour} is not between 0 and 23")
        row = Subscription(
            chat_id=chat_id,
            chat_type=chat_type,
            language=language,
            hour=hour,
            subscribed_by=user_id,
            subscribed_at=now,
        )
        try:
            return self._subscribe(row)
        except IntegrityError:  # the same chat subscribed twice at once: the other one added it
            return self._subscribe(row)

    def _subscribe(self, wanted: Subscription) -> bool:
        with Session(self.engine) as session:
            row = session.get(Subscription, wanted.chat_id)
            created = row is None
            if row is None:
                row = Subscription(
                    chat_id=wanted.chat_id,
                    chat_type=wanted.chat_type,
                    subscribed_at=wanted.subscribed_at,
                )
            row.chat_type, row.language, row.hour = wanted.chat_type, wanted.language, wanted.hour
            row.subscribed_by = wanted.subscribed_by
            session.add(row)
            session.commit()
        return created

    def unsubscribe(self, *, chat_id: int) -> bool:
        """Unsubscribe a chat; True if it was subscribed (and this call removed it)."""
        with Session(self.engine) as session:
            removed = _delete_subscription(session, chat_id)
            session.commit()
        return removed

    def get(self, *, chat_id: int) -> Subscriber | None:
        """The chat's subscription, if any."""
        with Session(self.engine) as session:
            row = session.get(Subscription, chat_id)
            return _subscriber(row) if row else None

    def subscribers(self) -> list[Subscriber]:
        """Every subscribed chat, oldest subscription first."""
        statement = select(Subscription).order_by(
            col(Subscription.subscribed_at), col(Subscription.chat_id)
        )
        with Session(self.engine) as session:
            return [_subscriber(row) for row in session.exec(statement)]

    def hours(self) -> set[int]:
        """The send hours chats have chosen for themselves."""
        statement = select(Subscription.hour).where(col(Subscription.hour).is_not(None)).distinct()
        with Session(self.engine) as session:
            return {int(hour) for hour in session.exec(statement) if hour is not None}

    def migrate(self, *, old_chat_id: int, new_chat_id: int) -> bool:
        """A group became a supergroup: move its subscription and sent log to the new id.

        Returns True if the old id was subscribed. A subscription the new id already has wins.
        """
        try:
            return self._migrate(old_chat_id=old_chat_id, new_chat_id=new_chat_id)
        except IntegrityError:  # both migration messages came at once: the other one moved it
            return False

    def _migrate(self, *, old_chat_id: int, new_chat_id: int) -> bool:
        # Plain statements, not ORM deletes: both migration messages may run this at once, and
        # the one whose DELETE matches no row has lost the race and changes nothing.
        with Session(self.engine) as session:
            old = session.get(Subscription, old_chat_id)
            if old is None:
                return False
            if session.get(Subscription, new_chat_id) is None:
                session.add(
                    Subscription(
                        chat_id=new_chat_id,
                        chat_type="supergroup",
                        language=old.language,
                        hour=old.hour,
                        subscribed_by=old.subscribed_by,
                        subscribed_at=old.subscribed_at,
                    )
                )
                session.flush()
            session.expunge(old)
            if not _delete_subscription(session, old_chat_id):
                session.rollback()
                return False
            new_days = select(col(SummaryDelivery.day)).where(
                col(SummaryDelivery.chat_id) == new_chat_id
            )
            session.exec(  # type: ignore[call-overload]
                delete(SummaryDelivery).where(
                    col(SummaryDelivery.chat_id) == old_chat_id,
                    col(SummaryDelivery.day).in_(new_days.scalar_subquery()),
                )
            )
            session.exec(  # type: ignore[call-overload]
                update(SummaryDelivery)
                .where(col(SummaryDelivery.chat_id) == old_chat_id)
                .values(chat_id=new_chat_id)
            )
            session.commit()
        return True

    def claim(self, *, chat_id: int, day: dt.date, now: dt.datetime) -> bool:
        """Reserve today's delivery to a chat; False if it was sent (or is being sent) already."""
        with Session(self.engine) as session:
            session.add(SummaryDelivery(chat_id=chat_id, day=day, status=SENDING, claimed_at=now))
            try:
                session.commit()
            except IntegrityError:
                return False
        return True

    def confirm(self, *, chat_id: int, day: dt.date, message_id: int, now: dt.datetime) -> None:
        """Record that the claimed delivery went out."""
        with Session(self.engine) as session:
            delivery = self._delivery(session, chat_id, day)
            if delivery is None:
                raise LookupError(f"no claimed delivery for chat {chat_id} on {day}")
            delivery.status, delivery.message_id, delivery.sent_at = SENT, message_id, now
            session.add(delivery)
            session.commit()

    def release(self, *, chat_id: int, day: dt.date) -> None:
        """Drop a claim whose message did not go out, so that it can be tried again."""
        with Session(self.engine) as session:
            session.exec(  # type: ignore[call-overload]
                delete(SummaryDelivery)
                .where(col(SummaryDelivery.chat_id) == chat_id)
                .where(col(SummaryDelivery.day) == day)
                .where(col(SummaryDelivery.status) == SENDING)
            )
            session.commit()

    def delivered_chats(self, *, day: dt.date) -> set[int]:
        """Chats with a delivery for ``day``, sent or claimed."""
        statement = select(SummaryDelivery.chat_id).where(col(SummaryDelivery.day) == day)
        with Session(self.engine) as session:
            return {int(chat_id) for chat_id in session.exec(statement)}

    def delivery_status(self, *, chat_id: int, day: dt.date) -> str | None:
        """``"sent"``, ``"sending"`` or None."""
        with Session(self.engine) as session:
            delivery = self._delivery(session, chat_id, day)
            return delivery.status if delivery else None

    @staticmethod
    def _delivery(session: Session, chat_id: int, day: dt.date) -> SummaryDelivery | None:
        statement = (
            select(SummaryDelivery)
            .where(col(SummaryDelivery.chat_id) == chat_id)
            .where(col(SummaryDelivery.day) == day)
        )
        return session.exec(statement).first()


def _delete_subscription(session: Session, chat_id: int) -> bool:
    """Delete a chat's subscription in this transaction; True if a row was there to delete."""
    result = session.exec(  # type: ignore[call-overload]
        delete(Subscription).where(col(Subscription.chat_id) == chat_id)
    )
    return bool(result.rowcount)
