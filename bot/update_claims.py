"""Updates claimed in the database, so that each message is answered once across workers.

Telegram delivers an update again when it did not get its confirmation, and with several
webhook workers behind one URL the copy may reach another worker. Before answering, a worker
inserts a row unique per update id and per chat and message id; the insert that loses (the
database's unique constraint, on SQLite and PostgreSQL alike) means another delivery of the
same message was taken on already. Claims older than :data:`KEEP` are pruned.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.tables import UpdateClaim
from index import UNWRITABLE, database_unavailable

#: How long a claim is kept: Telegram stops delivering an update again within a day.
KEEP = dt.timedelta(days=2)


class UpdateClaims:
    """Claims of updates in the database shared by every worker. Thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(
        self,
        *,
        update_id: int,
        chat_id: int | None = None,
        message_id: int | None = None,
        now: dt.datetime,
    ) -> bool:
        """Take on an update; False if it, or the same message, was claimed already.

        ``chat_id`` and ``message_id`` name the message a new message update carries (None for
        other updates: they are known by their update id alone).

        Raises:
            DatabaseUnavailableError: The database cannot take the claim (read-only, locked,
                unreachable).
        """
        with Session(self.engine) as session:
            session.add(
                UpdateClaim(
                    update_id=update_id, chat_id=chat_id, message_id=message_id, claimed_at=now
                )
            )
            try:
                session.commit()
            except IntegrityError:
                return False
            except UNWRITABLE as error:
                raise database_unavailable(error) from error
        return True

    def prune(self, *, now: dt.datetime, keep: dt.timedelta = KEEP) -> int:
        """Forget the claims older than ``keep``; returns how many were deleted."""
        with Session(self.engine) as session:
            result = session.exec(  # type: ignore[call-overload]
                delete(UpdateClaim).where(col(UpdateClaim.claimed_at) < now - keep)
            )
            session.commit()
        return int(result.rowcount or 0)
