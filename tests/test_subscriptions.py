"""The subscription store on a real database (SQLite and PostgreSQL), including two callers
racing each other, as two workers sharing one database do."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import pytest
from sqlalchemy import Engine, inspect

from bot.subscriptions import SubscriptionStore
from index.storage.store import make_engine
from tests.conftest import REPO

T = TypeVar("T")
NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 24)


@pytest.fixture
def store(database_engine: Engine) -> SubscriptionStore:
    return SubscriptionStore(database_engine)


def subscribe(store: SubscriptionStore, chat_id: int, hour: int | None = None) -> bool:
    return store.subscribe(
        chat_id=chat_id, chat_type="group", language="id", hour=hour, user_id=7, now=NOW
    )


def race(call: Callable[[], T], times: int = 2) -> list[T]:
    """Run ``call`` on threads released at the same moment; every result, or the first error."""
    barrier = threading.Barrier(times)
    results: list[T | BaseException] = [RuntimeError("not run")] * times

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def test_migration_moves_subscription_hour_and_sent_log(store: SubscriptionStore) -> None:
    subscribe(store, -1, hour=6)
    assert store.claim(chat_id=-1, day=DAY, now=NOW)
    assert store.migrate(old_chat_id=-1, new_chat_id=-1001)
    assert store.get(chat_id=-1) is None
    moved = store.get(chat_id=-1001)
    assert moved is not None and moved.hour == 6 and moved.chat_type == "supergroup"
    assert store.delivered_chats(day=DAY) == {-1001}
    assert not store.claim(chat_id=-1001, day=DAY, now=NOW)  # already sent today, as the group
    assert not store.migrate(old_chat_id=-1, new_chat_id=-1001)  # the second message: nothing left


def test_migration_keeps_the_supergroups_own_subscription_and_log(
    store: SubscriptionStore,
) -> None:
    subscribe(store, -1, hour=6)
    subscribe(store, -1001, hour=9)
    assert store.claim(chat_id=-1, day=DAY, now=NOW)
    assert store.claim(chat_id=-1001, day=DAY, now=NOW)
    assert store.migrate(old_chat_id=-1, new_chat_id=-1001)
    kept = store.get(chat_id=-1001)
    assert kept is not None and kept.hour == 9
    assert store.delivered_chats(day=DAY) == {-1001}
    assert [s.chat_id for s in store.subscribers()] == [-1001]


@pytest.mark.parametrize("supergroup_subscribed", [False, True])
def test_both_migration_messages_at_once_move_it_exactly_once(
    store: SubscriptionStore, supergroup_subscribed: bool
) -> None:
    for round_ in range(15):
        old, new = -(round_ + 1), -(1000 + round_)
        subscribe(store, old)
        if supergroup_subscribed:
            subscribe(store, new)
        store.claim(chat_id=old, day=DAY, now=NOW)
        moved = race(partial(store.migrate, old_chat_id=old, new_chat_id=new))
        assert sorted(moved) == [False, True], round_
        assert store.get(chat_id=old) is None and store.get(chat_id=new) is not None
    assert len(store.subscribers()) == 15


def test_two_unsubscribes_at_once_report_one_removal(store: SubscriptionStore) -> None:
    for chat_id in range(1, 16):
        subscribe(store, chat_id)
        removed = race(partial(store.unsubscribe, chat_id=chat_id))
        assert sorted(removed) == [False, True], chat_id
    assert store.subscribers() == []


def test_two_subscribes_at_once_create_one_row(store: SubscriptionStore) -> None:
    for chat_id in range(1, 16):
        created = race(partial(subscribe, store, chat_id, hour=8))
        assert sorted(created) == [False, True], chat_id
    assert len(store.subscribers()) == 15


def test_two_claims_of_one_chat_and_day_at_once_let_one_send(store: SubscriptionStore) -> None:
    for chat_id in range(1, 16):
        subscribe(store, chat_id)
        claimed = race(partial(store.claim, chat_id=chat_id, day=DAY, now=NOW))
        assert sorted(claimed) == [False, True], chat_id
    assert store.delivered_chats(day=DAY) == set(range(1, 16))


def test_telegram_ids_beyond_32_bits_are_kept_exactly(store: SubscriptionStore) -> None:
    group, supergroup, user = -1001234567890, -1009876543210, 7_123_456_789
    assert store.subscribe(
        chat_id=group, chat_type="group", language="id", hour=None, user_id=user, now=NOW
    )
    assert store.claim(chat_id=group, day=DAY, now=NOW)
    store.confirm(chat_id=group, day=DAY, message_id=2**31 - 1, now=NOW)  # Telegram: 32 bits
    assert store.migrate(old_chat_id=group, new_chat_id=supergroup)
    [moved] = store.subscribers()
    assert moved.chat_id == supergroup
    assert store.delivered_chats(day=DAY) == {supergroup}
    assert store.delivery_status(chat_id=supergroup, day=DAY) == "sent"


def test_a_bot_process_creates_the_chats_tables_beside_the_index_tables(database_url: str) -> None:
    """The chats' tables are the bot's (``bot/tables.py``) and nothing in ``index`` names them:
    a fresh bot process must still create them when it creates the schema at start."""
    start = (
        "import sys; import bot.app; from index.storage.store import create_schema, make_engine; "
        "create_schema(make_engine(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", start, database_url], cwd=REPO, check=True, timeout=300)
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"subscription", "summarydelivery", "updateclaim", "article", "sentence"} <= tables
