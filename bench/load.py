"""The bot under load: simulated users talk to a real bot process through the Bot API stand-in.

The bot runs as ``python -m bot`` in its own process, exactly as deployed, pointed at the
stand-in by ``TANYA_TELEGRAM_API_URL``. Each user sends a question, waits for the reply, then
sends the next after a think time drawn uniformly from 0 to twice ``think`` seconds (a reader
reading the answer; 0 = at once, which measures the bot's capacity). All users ask their first
question together. Latency is from the update being queued to the bot's ``sendMessage``.

The per-user rate limit is off for the test (``TANYA_USER_RATE_LIMIT=0``): it would rightly
silence a simulated user asking 20 questions a minute, and those would count as lost.
"""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.indexing import Percentiles, hwm_mib
from tests.telegram_api import BotApiServer, SentMessage

FIRST_USER = 500_000


ADMIN = FIRST_USER - 1  # asks /status at the end; not one of the users
_REREAD = re.compile(r"([\d.,]+) dibaca ulang · ([\d.,]+) dilewati")


@dataclass(slots=True)
class LoadResult:
    """What the load test saw."""

    users: int
    questions_per_user: int
    think_seconds: float
    answers: int
    lost: int
    duplicates: int
    seconds: float
    answers_per_second: float
    latency: Percentiles
    startup_to_first_answer_seconds: float
    bot_peak_rss_mib: float
    rejected_calls: int
    #: With the cross-encoder on, questions it read again and those that skipped it (waited
    #: too long), as the bot's /status counts them; None when it is off.
    reread: int | None = None
    skipped_cross_encoder: int | None = None


async def run_load(
    env: dict[str, str],
    questions: Sequence[str],
    *,
    users: int,
    per_user: int,
    think: float,
    log: Path,
    timeout: float = 30.0,
) -> LoadResult:
    """Start the bot, let ``users`` users ask ``per_user`` questions each, and measure."""
    # Telegram never repeats a bot's update ids or a chat's message ids, and the bot claims
    # each update in its database for two days: runs on one workdir (a load test, then the
    # capacity run, or ``--reuse``) must not repeat them either, so each starts at random ids.
    first = random.SystemRandom().randrange(1, 2**31 - 2**20)
    async with BotApiServer(first_update_id=first, first_message_id=first) as api:
        arrivals: dict[int, asyncio.Queue[float]] = {}
        api.sent_listeners.append(lambda sent: _arrived(arrivals, sent))
        chats = [FIRST_USER + n for n in range(users)]
        api.private_chat(ADMIN)
        arrivals[ADMIN] = asyncio.Queue()
        for chat in chats:
            api.private_chat(chat)
            arrivals[chat] = asyncio.Queue()
        bot_env = {
            **env,
            "TANYA_TELEGRAM_TOKEN": api.token,
            "TANYA_TELEGRAM_API_URL": api.base_url,
            "TANYA_USER_RATE_LIMIT": "0",
            "TANYA_ADMIN_IDS": str(ADMIN),
        }
        spawned = time.perf_counter()
        with log.open("w", encoding="utf-8") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot"], env=bot_env, stdout=log_file, stderr=log_file
            )
        try:
            api.send_text(chats[0], questions[0])
            await asyncio.wait_for(arrivals[chats[0]].get(), timeout=120)
            startup = time.perf_counter() - spawned
            started = time.perf_counter()
            results = await asyncio.gather(
                *(
                    _user(api, chat, arrivals[chat], questions, n, per_user, think, timeout)
                    for n, chat in enumerate(chats)
                )
            )
            seconds = time.perf_counter() - started
            await asyncio.sleep(1.0)  # late duplicates would arrive now
            peak = hwm_mib(process.pid)
            api.send_text(ADMIN, "/status")
            await asyncio.wait_for(arrivals[ADMIN].get(), timeout=60)
            status = [m.text for m in api.sent_messages if m.chat_id == ADMIN][-1]
        finally:
            process.terminate()
            process.wait(timeout=30)
        per_chat = Counter(m.chat_id for m in api.sent_messages)
        expected = {
            chat: per_user + (chat == chats[0]) for chat in chats
        }  # + the start-up question
        latencies = [s for user in results for s in user]
        return LoadResult(
            users=users,
            questions_per_user=per_user,
            think_seconds=think,
            answers=len(latencies),
            lost=sum(max(0, want - per_chat[chat]) for chat, want in expected.items()),
            duplicates=sum(max(0, per_chat[chat] - want) for chat, want in expected.items()),
            seconds=round(seconds, 2),
            answers_per_second=round(len(latencies) / seconds, 1),
            latency=Percentiles.of(latencies),
            startup_to_first_answer_seconds=round(startup, 2),
            bot_peak_rss_mib=round(peak, 1),
            rejected_calls=len(api.rejected),
            **_rereading(status),
        )


def _rereading(status: str) -> dict[str, int]:
    """The cross-encoder's counts in a /status reply (nothing when it is off)."""
    found = _REREAD.search(status)
    if found is None:
        return {}
    read, skipped = (int(re.sub(r"\D", "", number)) for number in found.groups())
    return {"reread": read, "skipped_cross_encoder": skipped}


def _arrived(arrivals: dict[int, asyncio.Queue[float]], sent: SentMessage) -> None:
    queue = arrivals.get(sent.chat_id)
    if queue is not None:
        queue.put_nowait(time.perf_counter())


async def _user(
    api: BotApiServer,
    chat: int,
    replies: asyncio.Queue[float],
    questions: Sequence[str],
    offset: int,
    count: int,
    think: float,
    timeout: float,
) -> list[float]:
    latencies = []
    pause = random.Random(chat)
    for n in range(count):
        if n and think:
            await asyncio.sleep(pause.uniform(0, 2 * think))
        asked = time.perf_counter()
        api.send_text(chat, questions[(offset * count + n) % len(questions)])
        try:
            arrived = await asyncio.wait_for(replies.get(), timeout)
        except TimeoutError:
            continue  # counted as lost
        latencies.append(arrived - asked)
    return latencies
