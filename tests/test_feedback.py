"""Readers' votes on answers: kept answers, one vote per reader and answer, the figures, the
export as eval questions (on SQLite and PostgreSQL); then 👍 / 👎 pressed in Telegram through the
Bot API stand-in, and ``/status`` and ``python -m index feedback`` on what was voted."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.__main__ import ALLOWED_UPDATES
from bot.feedback import PRUNE_EVERY
from config.settings import Settings
from index.lab.evaluate import read_questions
from index.search.answers import Quote
from index.search.searcher import Searcher
from index.storage.store import make_engine
from index.storage.tables import AnswerRecord, AnswerVote
from index.storage.votes import (
    KEEP_UNVOTED,
    FeedbackStore,
    Vote,
    VoteOutcome,
    export_votes,
)
from tests.conftest import MISSION_ANSWER, MISSION_QUESTION, SEED, api_settings, ask, running_bot
from tests.telegram_api import BotApiServer, SentMessage
from tests.test_cli import run

NOW = dt.datetime(2025, 3, 10, 7, 0, tzinfo=dt.UTC)
CHAT = 1001
GROUP = -1001234567890
NOT_FOUND_ID = "Maaf, artikel yang saya punya tidak menjawab pertanyaan itu."


def quote(text: str, key: str = "arsip.jsonl#berita-7", line: int = 3) -> Quote:
    return Quote(
        text=text, title="Judul", path="seeds/arsip.jsonl", line=line, score=1.0, article_key=key
    )


FIRST = quote("Harga cabai naik menjadi Rp 80.000 per kilogram.")
SECOND = quote("Pedagang menyebut pasokan berkurang.", key="pasar.txt", line=5)


@pytest.fixture
def store(database_engine: Engine) -> FeedbackStore:
    return FeedbackStore(database_engine)


def keep(store: FeedbackStore, question: str = "berapa harga cabai?", **kw: object) -> int:
    values: dict[str, object] = {
        "quotes": [FIRST, SECOND],
        "index_version": 4,
        "chat_id": CHAT,
        "asked_by": CHAT,
        "now": NOW,
    }
    values.update(kw)
    return store.keep_answer(question=question, **values)  # type: ignore[arg-type]


def cast(
    store: FeedbackStore, answer_id: int, vote: Vote, user_id: int = CHAT, **kw: object
) -> VoteOutcome:
    values: dict[str, object] = {"chat_id": CHAT, "message_id": 77, "now": NOW}
    values.update(kw)
    return store.vote(answer_id=answer_id, vote=vote, user_id=user_id, **values)  # type: ignore[arg-type]


def votes(store: FeedbackStore) -> list[tuple[int, int, int, int | None, str]]:
    with Session(store.engine) as session:
        rows = session.exec(select(AnswerVote).order_by(AnswerVote.id)).all()
    return [(r.answer_id, r.user_id, r.chat_id, r.message_id, r.vote) for r in rows]


def test_an_answer_is_kept_with_its_question_quotes_and_index_version(
    store: FeedbackStore,
) -> None:
    answer_id = keep(store)
    with Session(store.engine) as session:
        record = session.get(AnswerRecord, answer_id)
    assert record is not None
    assert (record.question, record.index_version) == ("berapa harga cabai?", 4)
    assert (record.chat_id, record.asked_by, record.answered_at) == (CHAT, CHAT, NOW)
    assert record.quotes == [
        {
            "text": FIRST.text,
            "article_key": "arsip.jsonl#berita-7",
            "path": "seeds/arsip.jsonl",
            "line": 3,
        },
        {"text": SECOND.text, "article_key": "pasar.txt", "path": "seeds/arsip.jsonl", "line": 5},
    ]
    assert keep(store) > answer_id  # every answer has an id of its own


def test_a_question_is_kept_as_the_bot_read_it_without_control_characters(
    store: FeedbackStore,
) -> None:
    # PostgreSQL takes no NUL in a text field; a reader's message may hold one.
    answer_id = keep(store, question="berapa\x00 harga\u200b cabai?\n")
    with Session(store.engine) as session:
        record = session.get(AnswerRecord, answer_id)
    assert record is not None and record.question == "berapa harga cabai?"


def test_one_vote_per_reader_and_answer_which_the_reader_may_change(
    store: FeedbackStore,
) -> None:
    answer_id = keep(store)
    assert cast(store, answer_id, Vote.UP) is VoteOutcome.RECORDED
    assert cast(store, answer_id, Vote.UP) is VoteOutcome.UNCHANGED
    later = NOW + dt.timedelta(minutes=2)
    assert cast(store, answer_id, Vote.DOWN, now=later) is VoteOutcome.CHANGED
    assert votes(store) == [(answer_id, CHAT, CHAT, 77, "down")]
    with Session(store.engine) as session:
        [row] = session.exec(select(AnswerVote)).all()
    assert row.voted_at == later


def test_two_readers_votes_are_two_rows(store: FeedbackStore) -> None:
    answer_id = keep(store, chat_id=GROUP, asked_by=5)
    assert cast(store, answer_id, Vote.UP, user_id=5, chat_id=GROUP) is VoteOutcome.RECORDED
    assert cast(store, answer_id, Vote.DOWN, user_id=6, chat_id=GROUP) is VoteOutcome.RECORDED
    assert votes(store) == [(answer_id, 5, GROUP, 77, "up"), (answer_id, 6, GROUP, 77, "down")]


def test_an_unknown_answer_or_one_of_another_chat_takes_no_vote(store: FeedbackStore) -> None:
    answer_id = keep(store)
    assert cast(store, answer_id + 1000, Vote.UP) is VoteOutcome.UNKNOWN_ANSWER
    assert cast(store, answer_id, Vote.UP, chat_id=GROUP) is VoteOutcome.UNKNOWN_ANSWER
    assert cast(store, answer_id, Vote.UP, chat_id=None) is VoteOutcome.UNKNOWN_ANSWER
    assert votes(store) == []


def test_racing_presses_of_one_reader_leave_one_row(store: FeedbackStore) -> None:
    answer_id = keep(store)
    start = threading.Barrier(6)
    outcomes: list[VoteOutcome] = []

    def press() -> None:
        start.wait()
        outcomes.append(cast(store, answer_id, Vote.DOWN))

    threads = [threading.Thread(target=press) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.value for o in outcomes) == ["recorded"] + ["unchanged"] * 5
    assert votes(store) == [(answer_id, CHAT, CHAT, 77, "down")]


def test_figures_count_the_votes_and_list_the_latest_down_votes(store: FeedbackStore) -> None:
    assert store.figures().votes == 0 and store.figures().up_share is None
    answers = [keep(store, f"pertanyaan {n}") for n in range(5)]
    cast(store, answers[0], Vote.UP)
    cast(store, answers[0], Vote.UP, user_id=2)
    for n, answer_id in enumerate(answers[1:], start=1):
        cast(store, answer_id, Vote.DOWN, now=NOW + dt.timedelta(minutes=n))
    cast(store, answers[4], Vote.UP, now=NOW + dt.timedelta(minutes=9))  # changed its mind
    figures = store.figures()
    assert (figures.up, figures.down, figures.up_share) == (3, 3, 0.5)
    assert [down.question for down in figures.latest_down] == [
        "pertanyaan 3",
        "pertanyaan 2",
        "pertanyaan 1",
    ]
    assert {down.first_quote for down in figures.latest_down} == {FIRST.text}


def test_answers_nobody_voted_on_are_pruned_the_voted_ones_kept(store: FeedbackStore) -> None:
    old = NOW - KEEP_UNVOTED - dt.timedelta(hours=1)
    forgotten = keep(store, now=old)
    voted = keep(store, now=old)
    recent = keep(store, now=NOW - dt.timedelta(hours=1))
    cast(store, voted, Vote.DOWN)
    assert store.prune(now=NOW) == 1
    assert store.prune(now=NOW) == 0
    with Session(store.engine) as session:
        assert sorted(r.id for r in session.exec(select(AnswerRecord))) == [voted, recent]
    assert cast(store, forgotten, Vote.UP) is VoteOutcome.UNKNOWN_ANSWER  # expired
    assert keep(store) > recent  # an id is never given again


def test_the_export_is_read_by_the_eval_reader(store: FeedbackStore, tmp_path: Path) -> None:
    liked = keep(store, "berapa harga cabai?")
    disliked = keep(store, "siapa pedagang itu?", quotes=[SECOND, FIRST])
    split = keep(store, "di mana pasarnya?")
    keep(store, "tidak ada yang memilih")  # no votes: not exported
    cast(store, liked, Vote.UP)
    cast(store, liked, Vote.UP, user_id=2)
    cast(store, liked, Vote.DOWN, user_id=3)
    cast(store, disliked, Vote.DOWN)
    cast(store, split, Vote.UP)
    cast(store, split, Vote.DOWN, user_id=2)
    helpful, wrong = tmp_path / "feedback.jsonl", tmp_path / "wrong.jsonl"
    counts = export_votes(store.engine, helpful=helpful, wrong=wrong)
    assert (counts.helpful, counts.wrong) == (1, 2)

    [question] = read_questions(helpful)
    assert question.id == f"feedback-{liked}"
    assert question.question == "berapa harga cabai?"
    assert question.answers == (FIRST.text,)
    assert question.passage_id == "berita-7"  # the record's id in its .jsonl, as eval --articles
    [line] = [json.loads(text) for text in helpful.read_text(encoding="utf-8").splitlines()]
    assert line["votes"] == {"up": 2, "down": 1} and line["index_version"] == 4
    assert line["quotes"] == [
        {"text": FIRST.text, "article_id": "berita-7", "line": 3},
        {"text": SECOND.text, "article_id": "pasar.txt", "line": 5},
    ]
    assert "wrong" not in line

    read_wrong = read_questions(wrong)
    assert [q.id for q in read_wrong] == [f"feedback-{disliked}", f"feedback-{split}"]
    assert all(q.answers == () for q in read_wrong)
    assert read_wrong[0].passage_id == "pasar.txt"  # a .txt article is known by its file
    lines = [json.loads(text) for text in wrong.read_text(encoding="utf-8").splitlines()]
    assert [entry["wrong"] for entry in lines] == [[SECOND.text], [FIRST.text]]
    assert [entry["votes"] for entry in lines] == [{"up": 0, "down": 1}, {"up": 1, "down": 1}]

    # Without a file for them, the 👎 answers are counted and left out.
    assert export_votes(store.engine, helpful=tmp_path / "only.jsonl").wrong == 2
    assert [q.id for q in read_questions(tmp_path / "only.jsonl")] == [f"feedback-{liked}"]


# --- In Telegram, through the Bot API stand-in ---------------------------------------------

USER = 2101
OTHER = 2102
ADMIN = 2103
OFF_TOPIC = "siapa juara Liga Champions musim lalu?"


def feedback_settings(root: Path, api: BotApiServer, database_url: str, **kw: object) -> Settings:
    return api_settings(root, api, database_url=database_url, **kw)


async def press(
    api: BotApiServer, reply: SentMessage, button: int, *, user_id: int | None = None
) -> str | None:
    """A reader presses the reply's 👍 (0) or 👎 (1); the note the bot answered with."""
    data = reply.reply_markup["inline_keyboard"][0][button]["callback_data"]  # type: ignore[index]
    query = api.send_callback_query(reply.chat_id, reply.message_id, data, user_id=user_id)
    return (await api.wait_for_callback_answer(query)).text


def answer_id_of(reply: SentMessage) -> int:
    data = reply.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
    return int(data.split(":")[1])


def test_polling_and_webhook_ask_telegram_for_button_presses() -> None:
    assert "callback_query" in ALLOWED_UPDATES


async def test_an_answer_carries_the_two_buttons_and_a_declined_one_none(
    api: BotApiServer, corpus_root: Path, searcher: Searcher, database_url: str
) -> None:
    api.private_chat(USER)
    settings = feedback_settings(corpus_root, api, database_url)
    async with running_bot(settings, searcher) as application:
        reply = await ask(api, MISSION_QUESTION, chat_id=USER, timeout=30)
        declined = await ask(api, OFF_TOPIC, chat_id=USER, timeout=30)
        assert application.job_queue is not None
        [job] = application.job_queue.get_jobs_by_name("prune answers")
        assert job.job.trigger.interval == PRUNE_EVERY  # type: ignore[attr-defined]
    assert reply.plain_text.split("\n")[0] == MISSION_ANSWER
    answer_id = answer_id_of(reply)
    assert reply.reply_markup == {
        "inline_keyboard": [
            [
                {"text": "👍", "callback_data": f"v:{answer_id}:up"},
                {"text": "👎", "callback_data": f"v:{answer_id}:down"},
            ]
        ]
    }
    assert api.message(USER, reply.message_id)["reply_markup"] == reply.reply_markup
    assert declined.plain_text == NOT_FOUND_ID and declined.reply_markup is None
    engine = make_engine(database_url)
    with Session(engine) as session:
        [record] = session.exec(select(AnswerRecord)).all()  # the declined one is not kept
    engine.dispose()
    assert record.id == answer_id
    assert (record.question, record.chat_id, record.asked_by) == (MISSION_QUESTION, USER, USER)
    assert record.index_version == searcher.version
    first = record.quotes[0]
    assert (first["text"], first["article_key"], first["line"]) == (MISSION_ANSWER, SEED.name, 13)
    assert 1 <= len(record.quotes) <= 3


async def test_votes_are_stored_one_per_reader_and_changed_when_pressed_again(
    api: BotApiServer, corpus_root: Path, searcher: Searcher, database_url: str
) -> None:
    api.private_chat(USER)
    api.group_chat(GROUP, creator_id=USER, admin_ids=[OTHER])
    api.user(OTHER, language_code="en")
    settings = feedback_settings(corpus_root, api, database_url)
    async with running_bot(settings, searcher) as application:
        reply = await ask(api, MISSION_QUESTION, chat_id=USER, timeout=30)
        assert await press(api, reply, 0) == "Terima kasih, suara Anda tercatat."
        assert await press(api, reply, 1) == "Terima kasih, suara Anda diubah menjadi 👎."
        assert await press(api, reply, 1) == "Suara Anda (👎) sudah tercatat."
        in_group = await ask(
            api, f"/tanya {MISSION_QUESTION}", chat_id=GROUP, user_id=USER, timeout=30
        )
        assert await press(api, in_group, 0, user_id=USER) == "Terima kasih, suara Anda tercatat."
        assert await press(api, in_group, 1, user_id=OTHER) == "Thank you, your vote is recorded."
        store = application.bot_data.feedback
        assert store is not None
        figures = store.figures()
    assert votes(store) == [
        (answer_id_of(reply), USER, USER, reply.message_id, "down"),
        (answer_id_of(in_group), USER, GROUP, in_group.message_id, "up"),
        (answer_id_of(in_group), OTHER, GROUP, in_group.message_id, "down"),
    ]
    assert (figures.up, figures.down) == (1, 2)
    assert api.unanswered_callback_queries == set()
    assert len(api.sent_messages) == 2  # a press sends no message


async def test_an_unknown_or_foreign_answer_id_gets_a_short_note(
    api: BotApiServer,
    corpus_root: Path,
    searcher: Searcher,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.private_chat(USER)
    api.private_chat(OTHER)
    settings = feedback_settings(corpus_root, api, database_url)
    unknown = "Jawaban ini sudah tidak tersimpan; suara tidak dapat dicatat."
    async with running_bot(settings, searcher):
        reply = await ask(api, MISSION_QUESTION, chat_id=USER, timeout=30)
        others = await ask(api, MISSION_QUESTION, chat_id=OTHER, timeout=30)
        for data in (
            f"v:{answer_id_of(reply) + 1000}:up",  # pruned, or never kept
            f"v:{answer_id_of(others)}:down",  # another chat's answer
            "v:1:sideways",
            "x" * 64,
        ):
            query = api.send_callback_query(USER, reply.message_id, data)
            assert (await api.wait_for_callback_answer(query)).text == unknown, data
        await asyncio.sleep(0.2)
        store = FeedbackStore(make_engine(database_url))
        assert votes(store) == []
        store.engine.dispose()
    assert len(api.sent_messages) == 2  # no error message in the chat
    assert api.unanswered_callback_queries == set()
    assert "error while handling an update" not in caplog.text


async def test_status_shows_the_share_of_up_votes_and_the_latest_down_votes(
    api: BotApiServer, corpus_root: Path, searcher: Searcher, database_url: str
) -> None:
    for user in (USER, OTHER, ADMIN):
        api.private_chat(user)
    settings = feedback_settings(corpus_root, api, database_url, admin_ids=[ADMIN])
    long_question = (
        "berapa persen saham Maju & Jaya naik menurut berita pasar modal yang saya baca "
        "pagi ini di grup keluarga?"
    )
    async with running_bot(settings, searcher):
        status = await ask(api, "/status", chat_id=ADMIN, timeout=30)
        assert status.plain_text.splitlines()[-1] == "Suara pembaca: belum ada"
        liked = await ask(api, MISSION_QUESTION, chat_id=USER, timeout=30)
        await press(api, liked, 0)
        await press(api, await ask(api, MISSION_QUESTION, chat_id=OTHER, timeout=30), 0)
        disliked = await ask(api, long_question, chat_id=USER, timeout=30)
        await press(api, disliked, 1)
        status = await ask(api, "/status", chat_id=ADMIN, timeout=30)
    lines = status.plain_text.splitlines()
    at = lines.index("Suara pembaca: 67% 👍 (2 dari 3 suara; 1 👎)")
    assert lines[at + 1] == "👎 terbaru:"
    question, quote = lines[at + 2].removeprefix("• ").split(" → ")
    assert question == long_question[:79].rstrip() + "…"  # cut at 80 characters
    first_quote = disliked.plain_text.split("\n")[0]
    assert quote.startswith("“") and quote.endswith("”")
    assert first_quote.startswith(quote.strip("“”").removesuffix("…"))
    assert "&amp;" not in status.plain_text  # escaped once: shown as written
    assert len(lines) == at + 3


async def test_the_cli_exports_what_readers_voted_as_eval_questions(
    api: BotApiServer, corpus_root: Path, searcher: Searcher, database_url: str, tmp_path: Path
) -> None:
    api.private_chat(USER)
    settings = feedback_settings(corpus_root, api, database_url)
    async with running_bot(settings, searcher):
        liked = await ask(api, MISSION_QUESTION, chat_id=USER, timeout=30)
        await press(api, liked, 0)
        disliked = await ask(api, "berapa persen saham Maju & Jaya naik?", chat_id=USER, timeout=30)
        await press(api, disliked, 1)
        # Nobody votes on this one: not exported.
        await ask(api, "siapa presiden Rusia?", chat_id=USER, timeout=30)
    export, wrong = tmp_path / "feedback.jsonl", tmp_path / "wrong.jsonl"
    result = run(
        ["index", "feedback", "--export", str(export), "--wrong", str(wrong)],
        tmp_path / "data",
        TANYA_DATABASE_URL=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"1 voted answers with more 👍 than 👎 written to {export}")
    assert f"1 with as many 👎 or more written to {wrong}" in result.stdout
    [question] = read_questions(export)
    assert (question.question, question.answers) == (MISSION_QUESTION, (MISSION_ANSWER,))
    assert question.passage_id == SEED.name
    assert question.id == f"feedback-{answer_id_of(liked)}"
    [down] = read_questions(wrong)
    assert down.answers == () and down.id == f"feedback-{answer_id_of(disliked)}"
    [line] = [json.loads(text) for text in wrong.read_text(encoding="utf-8").splitlines()]
    assert line["wrong"] == [disliked.plain_text.split("\n")[0]]
