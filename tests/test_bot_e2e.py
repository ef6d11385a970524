"""End to end: users talk to the real Application through the Bot API stand-in over HTTP."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from bot.context import BotApplication
from config.settings import Settings
from index.encoders.embedder import Embedder
from index.search.searcher import Searcher
from index.storage.builder import build_index
from tests.conftest import (
    MISSION_ANSWER,
    MISSION_QUESTION,
    SEED,
    TEST_ARTICLES,
    USER,
    api_settings,
    ask,
    broken_searcher,
    running_bot,
)
from tests.telegram_api import BOT_USERNAME, BotApiServer, SentMessage

NOT_FOUND_ID = "Maaf, artikel yang saya punya tidak menjawab pertanyaan itu."
NO_WORDS_ID = "Tulis pertanyaan Anda dengan kata-kata"
TEXT_ONLY_ID = "Saya hanya bisa membaca pertanyaan berupa teks"


def article_blocks(reply: SentMessage) -> list[tuple[list[tuple[str, int]], list[str]]]:
    """Each article of a reply as readers see it: its quotes with the line under each, then
    its source (the title line and the file, date, publisher line)."""
    blocks = []
    for block in reply.plain_text.split("\n\n"):
        lines = block.split("\n")
        title_at = next(i for i, line in enumerate(lines) if line.startswith("📰 "))
        quotes, body = [], lines[:title_at]
        while body:
            text, line, *body = body
            assert line.startswith("baris "), block
            quotes.append((text, int(line.removeprefix("baris "))))
            while body and body[0].startswith("Kalimat yang sama juga di: "):
                body = body[1:]
        blocks.append((quotes, lines[title_at:]))
    return blocks


async def no_reply_to(api: BotApiServer, chat_id: int, *, then_ask: str = MISSION_QUESTION) -> None:
    """The bot sent nothing for what came before: the next question's answer is its only reply."""
    before = len([m for m in api.sent_messages if m.chat_id == chat_id])
    reply = await ask(api, then_ask, chat_id=chat_id, user_id=USER)
    await asyncio.sleep(0.2)  # give a wrongly answered earlier update time to show up
    sent = [m for m in api.sent_messages if m.chat_id == chat_id]
    assert len(sent) == before + 1, [m.plain_text for m in sent[before:]]
    assert MISSION_ANSWER in reply.plain_text


async def test_mission_question_is_answered_with_line_13(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    reply = await ask(api, MISSION_QUESTION)
    assert reply.parse_mode == "HTML"
    first_quote, its_line = reply.plain_text.split("\n")[:2]
    assert first_quote == MISSION_ANSWER
    assert its_line == "baris 13"
    assert "000_30e2f8887a133a25.txt · Sumber: Korea JongAng Daily" in reply.plain_text.split("\n")
    assert reply.text.startswith("<blockquote>")


async def test_quotes_of_one_article_stand_above_its_source_shown_once(
    api: BotApiServer, bot: BotApplication, corpus_root: Path
) -> None:
    api.private_chat(USER)
    reply = await ask(api, MISSION_QUESTION)
    blocks = article_blocks(reply)
    assert reply.text.count("📰") == len(blocks) == len({tuple(src) for _, src in blocks})
    [(quotes, source)] = [block for block in blocks if block[1][1].startswith(SEED.name)]
    assert len(quotes) >= 2  # several quotes, one source
    assert quotes[0] == (MISSION_ANSWER, 13)
    assert source[0].startswith("📰 Presiden Rusia Vladimir Putin mengirim ucapan selamat")
    assert source[1] == f"{SEED.name} · Sumber: Korea JongAng Daily"
    assert reply.plain_text.count(SEED.name) == 1
    seed_lines = SEED.read_text(encoding="utf-8").splitlines()
    for text, line in quotes:  # each line shown is the one the quote stands on
        assert text in seed_lines[line - 1], (text, line)
    # The seeds folder is an absolute path here: the reply shows only the file under it.
    assert corpus_root.is_absolute() and str(corpus_root) not in reply.text
    assert "seeds/" not in reply.text


NEWS = {
    "id": "cabai-2024-12-30",
    "title": "Harga <cabai> rawit naik & pasokan turun",
    "text": (
        "Harga cabai rawit di Pasar Induk Kramat Jati naik menjadi Rp 80.000 per kilogram pada "
        "Senin.\nPedagang menyebut pasokan cabai rawit dari Jawa Tengah berkurang karena hujan "
        "deras sepanjang pekan."
    ),
    "date": "2024-12-30",
    "source": "Kompas.com",
    "url": "https://contoh.id/cabai?hari=senin&kota=jakarta",
}


async def test_an_absolute_articles_folder_never_reaches_a_reader(
    api: BotApiServer, embedder: Embedder, tmp_path: Path
) -> None:
    seeds = (tmp_path / "srv" / "tanya" / "seeds").resolve()
    (seeds / "arsip").mkdir(parents=True)
    shutil.copy(SEED, seeds)
    shutil.copy(TEST_ARTICLES / "pasar_saham.txt", seeds / "arsip")
    (seeds / "berita.jsonl").write_text(json.dumps(NEWS) + "\n", encoding="utf-8")
    settings = api_settings(tmp_path, api, seeds_dir=seeds)
    build_index(settings, embedder=embedder)
    api.private_chat(USER)
    async with running_bot(settings, Searcher.open(settings, embedder=embedder)):
        cabai = await ask(api, "berapa harga cabai rawit di Kramat Jati?")
        [(quotes, source), *_] = article_blocks(cabai)
        assert quotes[0] == (NEWS["text"].split("\n")[0], 1)  # a .jsonl record's line
        assert source == [
            f"📰 {NEWS['title']}",
            "berita.jsonl · 30 Desember 2024 · Kompas.com",
        ]
        assert (
            cabai.text.count('<a href="https://contoh.id/cabai?hari=senin&amp;kota=jakarta">') == 1
        )
        saham = await ask(api, "berapa persen saham Maju & Jaya naik?")
        assert article_blocks(saham)[0][1][1].startswith("arsip/pasar_saham.txt")
        replies = [cabai, saham, await ask(api, MISSION_QUESTION), await ask(api, "/ringkasan")]
        replies += [await ask(api, "/help"), await ask(api, "siapa juara Liga Champions?")]
    assert api.sent_messages and all(m.chat_id == USER for m in api.sent_messages)
    for message in api.sent_messages:
        for folder in (str(tmp_path), str(seeds), "srv/tanya"):
            assert folder not in message.text and folder not in message.plain_text
    assert SEED.name in replies[2].plain_text and SEED.name in replies[3].plain_text


async def test_a_question_in_chat_spelling_gets_the_same_answer(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    reply = await ask(api, "brp tentara korea utara yg dikirim?")  # typed as in a group chat
    assert reply.plain_text.split("\n")[:2] == [MISSION_ANSWER, "baris 13"]
    assert "000_30e2f8887a133a25.txt · Sumber: Korea JongAng Daily" in reply.plain_text.split("\n")


async def test_question_no_article_answers_gets_not_found(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    reply = await ask(api, "siapa juara Liga Champions musim lalu?")
    assert reply.plain_text == NOT_FOUND_ID


async def test_english_user_gets_english_replies(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER, language_code="en")
    assert (await ask(api, "/start")).plain_text.startswith("Hello! I am Tanya Berita")
    assert (
        await ask(api, "resep rendang padang")
    ).plain_text == "Sorry, none of my articles answers that question."


async def test_start_and_help_in_indonesian(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    assert (await ask(api, "/start")).plain_text.startswith("Halo! Saya Tanya Berita")
    help_text = (await ask(api, "/help")).plain_text
    assert "Cara bertanya" in help_text
    assert f"@{BOT_USERNAME}" in help_text
    assert "👍" in help_text and "ada berita apa hari ini?" in help_text
    # Inline mode is off for this bot (BotFather's /setinline): /help does not offer it.
    assert f"@{BOT_USERNAME} pertanyaan" not in help_text


async def test_article_html_is_escaped(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    reply = await ask(api, "berapa persen saham Maju & Jaya naik?")
    assert "<Maju & Jaya>" in reply.plain_text
    assert "&lt;Maju &amp; Jaya&gt;" in reply.text
    assert "naik 7,5 persen" in reply.plain_text.split("\n")[0]


async def test_the_number_that_answers_berapa_is_bold_and_the_quote_unchanged(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    reply = await ask(api, MISSION_QUESTION)
    assert reply.text.startswith(
        "<blockquote>Kim Jong-un dituduh menempatkan <b>11.000 tentara</b> Korea Utara untuk"
    )
    assert reply.plain_text.split("\n")[0] == MISSION_ANSWER  # the quote, word for word
    start = MISSION_ANSWER.index("11.000 tentara")
    bold = {"type": "bold", "offset": start, "length": len("11.000 tentara")}
    assert bold in reply.message["entities"]
    # Only the answer is marked: the other quotes hold no number of soldiers.
    assert reply.text.count("<b>") == 1 + reply.text.count("📰 <b>")


async def test_a_marked_answer_beside_escaped_article_html_stays_valid(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    reply = await ask(api, "berapa persen saham Maju & Jaya naik?")
    first = reply.plain_text.split("\n")[0]
    assert first == (
        "Saham PT <Maju & Jaya> Tbk naik 7,5 persen pada perdagangan Senin (6/1/2025) di Bursa "
        "Efek Indonesia."
    )
    assert reply.text.startswith(
        "<blockquote>Saham PT &lt;Maju &amp; Jaya&gt; Tbk naik <b>7,5 persen</b> pada"
    )
    bold = {"type": "bold", "offset": first.index("7,5 persen"), "length": len("7,5 persen")}
    assert bold in reply.message["entities"]  # the stand-in parsed it: valid Telegram HTML


async def test_html_in_question_is_harmless(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    reply = await ask(api, 'berapa tentara <Korea Utara> & "dikirim"?')
    assert MISSION_ANSWER in reply.plain_text
    # Markup words are words too; whatever the reply, the stand-in checked it is valid HTML.
    reply = await ask(api, "<b>siapa</b> <script>alert('x')</script> &amp; </i>")
    assert reply.plain_text in (NOT_FOUND_ID,) or reply.plain_text.startswith(NO_WORDS_ID)


async def test_long_question_then_bot_keeps_answering(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    long_question = ("berapa tentara Korea Utara dikirim ke Rusia " * 100)[:4000]
    reply = await ask(api, long_question)
    assert len(reply.plain_text) <= 4096
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


async def test_whitespace_and_emoji_get_a_hint(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    assert (await ask(api, "   ")).plain_text.startswith(NO_WORDS_ID)
    assert (await ask(api, "😀🎉🔥")).plain_text.startswith(NO_WORDS_ID)
    assert (await ask(api, "?!...")).plain_text.startswith(NO_WORDS_ID)
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


async def test_sticker_and_photo_without_caption_ask_for_text(
    api: BotApiServer, bot: BotApplication
) -> None:
    api.private_chat(USER)
    api.send_sticker(USER)
    assert (await api.wait_for_messages(1, chat_id=USER))[-1].plain_text.startswith(TEXT_ONLY_ID)
    api.send_photo(USER)
    assert (await api.wait_for_messages(2, chat_id=USER))[-1].plain_text.startswith(TEXT_ONLY_ID)
    assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


async def test_photo_caption_is_the_question(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    api.send_photo(USER, caption=MISSION_QUESTION)
    reply = (await api.wait_for_messages(1, chat_id=USER))[-1]
    assert reply.plain_text.split("\n")[0] == MISSION_ANSWER


async def test_unknown_command_is_explained(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    assert "tidak saya kenal" in (await ask(api, "/hapus_semua sekarang")).plain_text


async def test_group_answers_only_when_addressed(api: BotApiServer, bot: BotApplication) -> None:
    group = -100200
    api.group_chat(group, creator_id=USER)
    api.send_text(group, MISSION_QUESTION, user_id=USER)  # not addressed: ignored on purpose
    reply = await ask(api, f"@{BOT_USERNAME} {MISSION_QUESTION}", chat_id=group, user_id=USER)
    assert reply.plain_text.split("\n")[0] == MISSION_ANSWER
    assert reply.reply_parameters is not None  # quotes the asker in a busy group
    assert len([m for m in api.sent_messages if m.chat_id == group]) == 1

    by_command = await ask(api, f"/tanya {MISSION_QUESTION}", chat_id=group, user_id=USER)
    assert by_command.plain_text.split("\n")[0] == MISSION_ANSWER
    usage = await ask(api, "/tanya", chat_id=group, user_id=USER)
    assert "/tanya siapa presiden Rusia?" in usage.plain_text

    by_reply = await ask(
        api, MISSION_QUESTION, chat_id=group, user_id=USER, reply_to_message_id=reply.message_id
    )
    assert by_reply.plain_text.split("\n")[0] == MISSION_ANSWER


async def test_edits_and_channel_posts_are_ignored(api: BotApiServer, bot: BotApplication) -> None:
    api.private_chat(USER)
    question = api.send_text(USER, "siapa presiden Rusia?")
    await api.wait_for_messages(1, chat_id=USER)
    api.send_edited_text(USER, question["message_id"], MISSION_QUESTION)
    await no_reply_to(api, USER)
    channel = -100300
    api.channel_chat(channel)
    api.send_channel_post(channel, MISSION_QUESTION)
    await asyncio.sleep(0.3)
    assert [m for m in api.sent_messages if m.chat_id == channel] == []


async def test_error_is_reported_without_details_and_bot_recovers(
    api: BotApiServer, searcher: Searcher, corpus_root: Path, tmp_path: Path
) -> None:
    # A searcher whose database has no tables: every question fails inside the index.
    broken = broken_searcher(searcher, tmp_path)
    settings: Settings = api_settings(corpus_root, api)
    api.private_chat(USER)
    async with running_bot(settings, broken) as application:
        reply = await ask(api, MISSION_QUESTION)
        assert (
            reply.plain_text
            == "Maaf, terjadi kesalahan saat menjawab. Silakan coba lagi sebentar lagi."
        )
        assert "Traceback" not in reply.plain_text and "sqlite" not in reply.plain_text.lower()
        application.bot_data.index.searcher = searcher  # the fault is mended
        assert MISSION_ANSWER in (await ask(api, MISSION_QUESTION)).plain_text


async def test_concurrent_questions_are_all_answered_once(
    api: BotApiServer, bot: BotApplication
) -> None:
    users = range(2001, 2021)
    for user in users:
        api.private_chat(user)
        api.send_text(user, MISSION_QUESTION)
    replies = await api.wait_for_messages(len(users), timeout=30)
    assert sorted(m.chat_id for m in replies) == list(users)
    await asyncio.sleep(0.2)
    assert len(api.sent_messages) == len(users)
    assert all(MISSION_ANSWER in m.plain_text for m in replies)
