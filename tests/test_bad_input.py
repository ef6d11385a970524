"""Bad input: whatever a user sends, the reply is a sensible one (or none, on purpose), and the
bot keeps answering. The end-to-end cases add to those in ``test_bot_e2e.py``; the
property-based test runs the answer path directly over arbitrary question text."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.context import BotApplication
from bot.replies import answer_html, telegram_length
from bot.texts import text
from index.search.searcher import Searcher
from tests.conftest import MISSION_ANSWER, MISSION_QUESTION, USER, ask
from tests.telegram_api import BOT_USERNAME, BotApiServer
from tests.telegram_spec import parse_html
from tests.test_bot_e2e import NO_WORDS_ID, NOT_FOUND_ID, TEXT_ONLY_ID, no_reply_to

START_ID = "Halo! Saya Tanya Berita"


async def test_empty_text_asks_for_text(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    assert (await ask(api, "")).plain_text.startswith(TEXT_ONLY_ID)
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


async def test_question_of_4096_characters(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    question = (MISSION_QUESTION + " ") * 200
    question = question[:4096]
    assert len(question) == 4096
    reply = await ask(api, question)
    assert telegram_length(reply.plain_text) <= 4096
    # Cut to max_question_chars and searched; the ranking may decline a question repeated 8 times.
    assert MISSION_ANSWER in reply.plain_text or reply.plain_text == NOT_FOUND_ID
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


async def test_control_characters_and_direction_marks_are_separators(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    with_controls = "berapa\x00 tentara\x07 Korea\x1b Utara\x7f dikirim?\x0b"
    assert (await ask(api, with_controls)).plain_text.split("\n")[0] == MISSION_ANSWER
    right_to_left = "\u202bberapa\u200f tentara Korea\u200e Utara\u202c dikirim?\u200f"
    assert (await ask(api, right_to_left)).plain_text.split("\n")[0] == MISSION_ANSWER
    only_controls = "\x01\x02\u200f\u202e\x1f"
    assert (await ask(api, only_controls)).plain_text.startswith(NO_WORDS_ID)


def test_a_soft_hyphen_or_zero_width_space_inside_a_word_leaves_it_whole(
    searcher: Searcher,
) -> None:
    """As in articles: "ten\u00adtara" is "tentara", not "ten tara"."""
    hidden = "berapa ten\u00adtara Korea Utara di\u200bkir\u200dim?"
    assert searcher.candidates(hidden).query.text == MISSION_QUESTION
    assert searcher.answer(hidden).quotes[0].text == MISSION_ANSWER


async def test_mixed_scripts(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    # Words in other scripts count as words the articles do not cover: quoted or declined.
    for mixed in (
        "berapa tentara Korea Utara (북한) dikirim ke Россия? كم عدد الجنود",
        "北朝鮮 berapa tentara dikirim? ¿cuántos?",
    ):
        reply = (await ask(api, mixed)).plain_text
        assert reply == NOT_FOUND_ID or reply.split("\n")[0] == MISSION_ANSWER
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


async def test_markdown_metacharacters_are_plain_text(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    question = "*berapa* _tentara_ `Korea` [Utara]() ~dikirim~ ||?|| #\\"
    reply = await ask(api, question)
    assert reply.parse_mode == "HTML"  # never Markdown: these characters mean nothing
    assert reply.plain_text.split("\n")[0] == MISSION_ANSWER
    assert (await ask(api, "**__``[]()~~||>#+-=|{}.!")).plain_text.startswith(NO_WORDS_ID)


async def test_commands_with_junk_arguments(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    assert (await ask(api, "/start \x00<b>junk</b> &amp; ../../")).plain_text.startswith(START_ID)
    assert (await ask(api, f"/start@{BOT_USERNAME} a b c")).plain_text.startswith(START_ID)
    junk_hour = (await ask(api, "/langganan 99 <i>' OR 1=1")).plain_text
    assert "/langganan" in junk_hour  # the usage, not a subscription
    tanya = await ask(api, f"/tanya \x1b <> {MISSION_QUESTION} ### ;;")
    assert tanya.plain_text.split("\n")[0] == MISSION_ANSWER


async def test_forwarded_message_is_a_question(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    api.send_forwarded_text(USER, MISSION_QUESTION, origin_name="Budi")
    reply = (await api.wait_for_messages(1, chat_id=USER))[-1]
    assert reply.plain_text.split("\n")[0] == MISSION_ANSWER
    api.send_forwarded_text(USER, MISSION_QUESTION, origin_user_id=3003)
    assert MISSION_ANSWER in (await api.wait_for_messages(2, chat_id=USER))[-1].plain_text


async def test_voice_asks_for_text(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    api.send_voice(USER)
    assert (await api.wait_for_messages(1, chat_id=USER))[-1].plain_text.startswith(TEXT_ONLY_ID)
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


async def test_stickers_and_voice_in_a_group_are_ignored(
    api: BotApiServer, bot: BotApplication
) -> None:
    group = -100400
    api.private_chat(USER)
    api.group_chat(group, creator_id=USER)
    api.send_sticker(group, user_id=USER)
    api.send_voice(group, user_id=USER)
    api.send_photo(group, user_id=USER, caption="hanya foto liburan")
    await asyncio.sleep(0.1)
    await no_reply_to(api, USER)
    assert [m for m in api.sent_messages if m.chat_id == group] == []


_REPLIES_WITHOUT_QUOTES = {text("not_found", "id"), text("no_words", "id")}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    question=st.one_of(
        st.text(max_size=300),
        st.text(min_size=1, max_size=40).map(lambda part: (part * 5000)[:4096]),  # long
        st.lists(
            st.sampled_from(
                [
                    "berapa",
                    "tentara",
                    "Korea",
                    "Utara",
                    "<b>",
                    "&amp;",
                    "*",
                    "_",
                    "`",
                    "\u200f",
                    "\x00",
                    "😀",
                    "11.000",
                    "Rusia",
                    "siapa",
                    "</i>",
                    "&",
                    "'",
                    "--",
                    "\n",
                ]
            ),
            max_size=40,
        ).map(" ".join),
    )
)
def test_any_question_gets_valid_html_under_the_limit(searcher: Searcher, question: str) -> None:
    answer = searcher.answer(question, limit=3)
    reply = answer_html(answer)
    if not answer.answered:
        assert reply in _REPLIES_WITHOUT_QUOTES
        return
    visible, _ = parse_html(reply)  # raises as Telegram would on invalid HTML
    assert visible.strip()
    assert telegram_length(visible) <= 4096
