"""What /status tells of the bot itself: since when it runs, and today's questions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(slots=True)
class Activity:
    """Since when the bot runs, and the questions it answered today (local day).

    With the cross-encoder, also how many of them it read again, and how many waited too long
    and were answered by the ranking alone (``Answer.reread``).
    """

    zone: dt.tzinfo
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    day: dt.date | None = None
    questions: int = 0
    answered: int = 0
    reread: int = 0
    skipped_reading: int = 0

    def count_question(
        self, *, answered: bool, reread: bool | None = None, now: dt.datetime | None = None
    ) -> None:
        """Count one question the bot replied to; the count starts again each local day."""
        self._roll(now)
        self.questions += 1
        self.answered += answered
        if reread is not None:
            self.reread += reread
            self.skipped_reading += not reread

    def today(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """(questions, answered) today."""
        self._roll(now)
        return self.questions, self.answered

    def rereading_today(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """(read again by the cross-encoder, skipped it because they waited too long) today."""
        self._roll(now)
        return self.reread, self.skipped_reading

    def _roll(self, now: dt.datetime | None) -> None:
        day = (now or dt.datetime.now(dt.UTC)).astimezone(self.zone).date()
        if day != self.day:
            self.day, self.questions, self.answered = day, 0, 0
            self.reread = self.skipped_reading = 0
