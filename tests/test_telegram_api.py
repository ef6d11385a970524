"""Tests of the Bot API stand-in, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import Bot, MessageEntity, ReplyParameters, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.http_server import LocalHttpServer, Served
from tests.telegram_api import BOT_USERNAME, BotApiServer
from tests.telegram_spec import ApiError, detect_entities, parse_html

USER = 42
GROUP = -1001234567890
CHANNEL = -1009876543210
CREATOR, ADMIN, MEMBER = 7, 8, 9


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as server:
        server.private_chat(USER, "Ani")
        server.group_chat(GROUP, "Diskusi", creator_id=CREATOR, admin_ids=[ADMIN])
        server.user(MEMBER, "Citra")
        server.channel_chat(CHANNEL, username="beritakanal")
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def call(
    client: httpx.AsyncClient,
    api: BotApiServer,
    method: str,
    data: dict[str, Any] | None = None,
    *,
    as_json: bool = False,
    token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Calls the stand-in like PTB does: form fields, non-strings JSON-encoded."""
    url = f"{api.base_url}{token or api.token}/{method}"
    if as_json:
        response = await client.post(url, json=data or {})
    else:
        form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (data or {}).items()}
        response = await client.post(url, data=form)
    return response.status_code, response.json()


def assert_error(result: tuple[int, dict[str, Any]], status: int, *needles: str) -> None:
    code, body = result
    assert code == status, body
    assert body["ok"] is False
    assert body["error_code"] == status
    for needle in needles:
        assert needle in body["description"], body["description"]


# --- Rejections ---------------------------------------------------------------------------


async def test_unknown_method_is_not_found(api: BotApiServer, client: httpx.AsyncClient) -> None:
    result = await call(client, api, "sendMesage", {"chat_id": USER, "text": "x"})
    assert result == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert [call.method for call in api.rejected] == ["sendMesage"]


async def test_wrong_token_is_unauthorized(api: BotApiServer, client: httpx.AsyncClient) -> None:
    result = await call(client, api, "getMe", token="123456:WRONG")
    assert result == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_method_names_ignore_case(api: BotApiServer, client: httpx.AsyncClient) -> None:
    status, body = await call(client, api, "SENDMESSAGE", {"chat_id": USER, "text": "hai"})
    assert status == 200 and body["result"]["text"] == "hai"
    assert api.sent_messages[0].text == "hai"


@pytest.mark.parametrize(
    ("method", "data", "field"),
    [
        ("sendMessage", {"text": "x"}, "chat_id is empty"),
        ("sendChatAction", {"chat_id": USER}, "action is empty"),
        ("getChatMember", {"chat_id": GROUP}, "user_id is empty"),
        ("sendMessage", {"chat_id": USER}, "message text is empty"),
    ],
)
async def test_missing_required_field(
    api: BotApiServer, client: httpx.AsyncClient, method: str, data: dict[str, Any], field: str
) -> None:
    assert_error(await call(client, api, method, data), 400, "Bad Request: ", field)


async def test_unknown_field(api: BotApiServer, client: httpx.AsyncClient) -> None:
    data = {"chat_id": USER, "text": "x", "reply_to_message": 5}
    assert_error(await call(client, api, "sendMessage", data), 400, '"reply_to_message"')
    assert_error(await call(client, api, "getMe", {"x": 1}), 400, '"x"')


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"message_thread_id": "abc"}, '"message_thread_id" must be of type Integer'),
        ({"message_thread_id": "1.5"}, '"message_thread_id"'),
        ({"disable_notification": "yes"}, '"disable_notification" must be of type Boolean'),
        ({"reply_parameters": "abc"}, '"reply_parameters" must be of type ReplyParameters'),
        ({"reply_parameters": 5}, '"reply_parameters" must be of type ReplyParameters'),
        ({"reply_parameters": [1]}, '"reply_parameters"'),
        ({"reply_parameters": {"message_id": 1, "quoted": "x"}}, '"reply_parameters.quoted"'),
        ({"reply_parameters": {"message_id": "one"}}, '"reply_parameters.message_id"'),
        ({"reply_parameters": {"quote": "x"}}, "reply_parameters.message_id is empty"),
        ({"entities": {"type": "bold"}}, '"entities" must be of type Array of MessageEntity'),
        ({"entities": [{"type": "bold", "offset": 0}]}, "entities[0].length is empty"),
        ({"link_preview_options": {"is_disabled": "yes"}}, "link_preview_options.is_disabled"),
        (
            {"reply_markup": {"inline_keyboard": [[{"text": "a", "callback": "b"}]]}},
            '"reply_markup.inline_keyboard[0][0].callback"',
        ),
        ({"reply_markup": {"keyboard": "no"}}, '"reply_markup.keyboard"'),
        ({"reply_markup": "[]"}, '"reply_markup" must be of type InlineKeyboardMarkup or'),
    ],
)
async def test_wrong_type(
    api: BotApiServer, client: httpx.AsyncClient, extra: dict[str, Any], needle: str
) -> None:
    data = {"chat_id": USER, "text": "x", **extra}
    assert_error(await call(client, api, "sendMessage", data), 400, "Bad Request: ", needle)
    assert_error(await call(client, api, "sendMessage", data, as_json=True), 400, needle)
    assert api.sent_messages == []
    assert len(api.rejected) == 2


async def test_discriminator_of_union_types(api: BotApiServer, client: httpx.AsyncClient) -> None:
    commands = [{"command": "start", "description": "Mulai"}]
    bad_scope = {"commands": commands, "scope": {"type": "chat"}}
    assert_error(await call(client, api, "setMyCommands", bad_scope), 400, "scope.chat_id is empty")
    bad_scope["scope"] = {"type": "everyone"}
    assert_error(await call(client, api, "setMyCommands", bad_scope), 400, '"scope"')
    good = {"commands": commands, "scope": {"type": "chat", "chat_id": GROUP}}
    assert (await call(client, api, "setMyCommands", good))[0] == 200


async def test_text_length_counts_visible_text(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    too_long = {"chat_id": USER, "text": "x" * 4097}
    assert_error(await call(client, api, "sendMessage", too_long), 400, "message is too long")
    longest = {"chat_id": USER, "text": "é" * 4096}
    assert (await call(client, api, "sendMessage", longest))[0] == 200
    html = {"chat_id": USER, "text": f"<b>{'&lt;' * 4096}</b>", "parse_mode": "HTML"}
    assert (await call(client, api, "sendMessage", html))[0] == 200
    html["text"] = f"<b>{'&lt;' * 4097}</b>"
    assert_error(await call(client, api, "sendMessage", html), 400, "message is too long")
    edit = {"chat_id": USER, "message_id": 1, "text": "y" * 4097}
    assert_error(await call(client, api, "editMessageText", edit), 400, "message is too long")


@pytest.mark.parametrize("text", ["", "   ", "\n"])
async def test_empty_text(api: BotApiServer, client: httpx.AsyncClient, text: str) -> None:
    data = {"chat_id": USER, "text": text}
    assert_error(await call(client, api, "sendMessage", data), 400, "message text is empty")


async def test_empty_text_after_html_parsing(api: BotApiServer, client: httpx.AsyncClient) -> None:
    data = {"chat_id": USER, "text": "<b> </b>", "parse_mode": "HTML"}
    assert_error(await call(client, api, "sendMessage", data), 400, "message text is empty")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("line<br>break", 'unsupported start tag "br" at byte offset 4'),
        ("<b>bold", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", 'unexpected end tag "</b>"'),
        ("harga < 5", 'unsupported start tag ""'),
        ("AT&T", 'bare "&"'),
        ("&nbsp;", 'bare "&"'),
        ("<span>x</span>", 'tag "span" must have class "tg-spoiler"'),
        ("<div>x</div>", 'unsupported start tag "div"'),
        ("<b x", 'unclosed start tag "b"'),
        ("é<p>", "at byte offset 2"),
    ],
)
async def test_invalid_html_is_rejected(
    api: BotApiServer, client: httpx.AsyncClient, text: str, needle: str
) -> None:
    data = {"chat_id": USER, "text": text, "parse_mode": "HTML"}
    assert_error(
        await call(client, api, "sendMessage", data),
        400,
        "Bad Request: can't parse entities:",
        needle,
    )


@pytest.mark.parametrize(
    ("text", "visible", "entities"),
    [
        ("<b>x</b> &lt;", "x <", [("bold", 0, 1)]),
        ("<B>Besar</B>", "Besar", [("bold", 0, 5)]),
        ('<a href="https://x.id/?a=1&amp;b=2">tautan</a>', "tautan", [("text_link", 0, 6)]),
        ("<tg-spoiler>s</tg-spoiler>", "s", [("spoiler", 0, 1)]),
        ('<span class="tg-spoiler">s</span>', "s", [("spoiler", 0, 1)]),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ("&#128512;&#x1F600; &quot;&amp;&gt;", '😀😀 "&>', []),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ("😀 <i>a<u>b</u></i>", "😀 ab", [("italic", 3, 2), ("underline", 4, 1)]),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", [("custom_emoji", 0, 2)]),
    ],
)
async def test_valid_html_is_parsed(
    api: BotApiServer,
    client: httpx.AsyncClient,
    text: str,
    visible: str,
    entities: list[tuple[str, int, int]],
) -> None:
    data = {"chat_id": USER, "text": text, "parse_mode": "HTML"}
    status, body = await call(client, api, "sendMessage", data)
    assert status == 200, body
    message = body["result"]
    assert message["text"] == visible
    found = [(e["type"], e["offset"], e["length"]) for e in message.get("entities", [])]
    assert found == entities
    api.spec.validate("Message", message)
    assert api.sent_messages[-1].plain_text == visible
    assert api.sent_messages[-1].text == text


async def test_unsupported_parse_mode(api: BotApiServer, client: httpx.AsyncClient) -> None:
    data = {"chat_id": USER, "text": "x", "parse_mode": "html5"}
    assert_error(await call(client, api, "sendMessage", data), 400, "unsupported parse_mode")


async def test_unknown_chat(api: BotApiServer, client: httpx.AsyncClient) -> None:
    for chat_id in (43, "@nobody", "abc"):
        data = {"chat_id": chat_id, "text": "x"}
        assert_error(
            await call(client, api, "sendMessage", data), 400, "Bad Request: chat not found"
        )
    status, body = await call(client, api, "sendMessage", {"chat_id": "@BeritaKanal", "text": "x"})
    assert status == 200 and body["result"]["chat"]["id"] == CHANNEL


async def test_reply_to_unknown_message(api: BotApiServer, client: httpx.AsyncClient) -> None:
    data = {"chat_id": USER, "text": "x", "reply_parameters": {"message_id": 99}}
    assert_error(
        await call(client, api, "sendMessage", data), 400, "message to be replied not found"
    )
    data["reply_parameters"] = {"message_id": 99, "allow_sending_without_reply": True}
    status, body = await call(client, api, "sendMessage", data)
    assert status == 200 and "reply_to_message" not in body["result"]


# --- Ways of passing parameters -----------------------------------------------------------


async def test_parameters_in_query_json_and_multipart(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    url = f"{api.base_url}{api.token}"
    query = await client.get(f"{url}/sendMessage", params={"chat_id": USER, "text": "lewat GET"})
    assert query.status_code == 200 and query.json()["result"]["text"] == "lewat GET"

    body = {"chat_id": USER, "text": "lewat JSON", "reply_parameters": {"message_id": 1}}
    as_json = await client.post(f"{url}/sendMessage", json=body)
    assert as_json.status_code == 200
    assert as_json.json()["result"]["reply_to_message"]["text"] == "lewat GET"

    files = {"photo": ("foto.jpg", b"\xff\xd8\xff", "image/jpeg")}
    data = {"chat_id": str(USER), "caption": "<i>foto</i>", "parse_mode": "HTML"}
    upload = await client.post(f"{url}/sendPhoto", data=data, files=files)
    assert upload.status_code == 200, upload.json()
    assert upload.json()["result"]["caption"] == "foto"
    [photo_call] = api.calls_to("sendPhoto")
    assert photo_call.params["photo"].data == b"\xff\xd8\xff"
    assert photo_call.params["photo"].filename == "foto.jpg"

    files = {"stray": ("x.bin", b"x", "application/octet-stream")}
    stray = await client.post(f"{url}/sendPhoto", data={"chat_id": str(USER)}, files=files)
    assert stray.status_code == 400 and '"stray"' in stray.json()["description"]

    bad_json = await client.post(
        f"{url}/sendMessage", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400


async def test_attach_uri_refers_to_a_file_part(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    url = f"{api.base_url}{api.token}/sendDocument"
    files = {"berkas": ("a.txt", b"isi", "text/plain")}
    data = {"chat_id": str(USER), "document": "attach://berkas"}
    response = await client.post(url, data=data, files=files)
    assert response.status_code == 200, response.json()
    assert api.calls_to("sendDocument")[0].params["document"].data == b"isi"


# --- A real python-telegram-bot client ----------------------------------------------------


async def test_real_bot_calls(api: BotApiServer) -> None:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        me = await bot.get_me()
        assert me.username == BOT_USERNAME and me.is_bot and me.id == 123456

        sent = await bot.send_message(USER, "<b>x</b> &lt;", parse_mode="HTML")
        assert sent.text == "x <"
        assert sent.entities == (MessageEntity(MessageEntity.BOLD, 0, 1),)
        assert sent.from_user is not None and sent.from_user.id == me.id

        asked = api.send_text(USER, "/tanya apa kabar @TanyaBeritaBot?")
        reply = await bot.send_message(
            USER,
            "Jawaban",
            reply_parameters=ReplyParameters(asked["message_id"]),
            disable_notification=True,
        )
        assert reply.reply_to_message is not None
        assert reply.reply_to_message.text == asked["text"]
        record = api.sent_messages[-1]
        assert record.reply_parameters == {"message_id": asked["message_id"]}
        assert record.params["disable_notification"] is True
        assert record.chat_id == USER

        [update] = await bot.get_updates(timeout=1)
        assert isinstance(update, Update)
        assert update.message is not None and update.message.text == asked["text"]
        assert update.message.from_user is not None
        assert update.message.from_user.language_code == "id"
        entities = update.message.parse_entities()
        assert list(entities.values()) == ["/tanya", "@TanyaBeritaBot"]
        assert [e.type for e in entities] == [MessageEntity.BOT_COMMAND, MessageEntity.MENTION]

        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(404, "x")
        assert await bot.send_chat_action(USER, "typing") is True
    assert [call.method for call in api.rejected] == ["sendMessage"]


async def test_application_polling_answers_a_command(api: BotApiServer) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html("<b>Halo!</b> Tanyakan berita apa saja.")

    application = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
    application.add_handler(CommandHandler("start", start))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1, poll_interval=0)
        api.send_text(USER, "/start")
        [reply] = await api.wait_for_messages(1, chat_id=USER, timeout=5)
        await application.updater.stop()
        await application.stop()
    assert reply.plain_text == "Halo! Tanyakan berita apa saja."
    assert reply.parse_mode == "HTML"
    assert api.rejected == []
    assert api.pending_updates == []


# --- getUpdates ---------------------------------------------------------------------------


async def test_long_poll_returns_when_an_update_arrives(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(call(client, api, "getUpdates", {"timeout": 2}))
    await asyncio.sleep(0.2)
    assert not poll.done()
    api.send_text(USER, "halo")
    status, body = await poll
    elapsed = time.monotonic() - started
    assert status == 200 and [u["message"]["text"] for u in body["result"]] == ["halo"]
    assert 0.2 <= elapsed < 1.0


async def test_long_poll_waits_for_the_timeout(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    status, body = await call(client, api, "getUpdates", {"timeout": 1})
    elapsed = time.monotonic() - started
    assert (status, body) == (200, {"ok": True, "result": []})
    assert 0.9 <= elapsed < 1.5


async def test_offset_confirms_earlier_updates(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    first, second, third = (api.send_text(USER, text) for text in ("satu", "dua", "tiga"))
    del first, second, third
    _, body = await call(client, api, "getUpdates")
    ids = [u["update_id"] for u in body["result"]]
    assert len(ids) == 3 and ids == sorted(ids)
    _, body = await call(client, api, "getUpdates", {"limit": 1})
    assert [u["update_id"] for u in body["result"]] == ids[:1]
    _, body = await call(client, api, "getUpdates", {"offset": ids[1]})
    assert [u["message"]["text"] for u in body["result"]] == ["dua", "tiga"]
    _, body = await call(client, api, "getUpdates", {"offset": -1})
    assert [u["update_id"] for u in body["result"]] == ids[2:]
    _, body = await call(client, api, "getUpdates", {"offset": ids[2] + 1})
    assert body["result"] == [] and api.pending_updates == []


async def test_allowed_updates_filter(api: BotApiServer, client: httpx.AsyncClient) -> None:
    api.send_text(USER, "pesan")
    api.send_channel_post(CHANNEL, "pos")
    _, body = await call(client, api, "getUpdates", {"allowed_updates": ["channel_post"]})
    assert [next(k for k in u if k != "update_id") for u in body["result"]] == ["channel_post"]


async def test_newer_poll_terminates_older_one(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    older = asyncio.create_task(call(client, api, "getUpdates", {"timeout": 2}))
    await asyncio.sleep(0.1)
    newer = await call(client, api, "getUpdates", {"timeout": 0})
    assert newer == (200, {"ok": True, "result": []})
    assert_error(await older, 409, "Conflict: terminated by other getUpdates request")
    assert api.rejected == []


async def test_webhook_blocks_get_updates(api: BotApiServer, client: httpx.AsyncClient) -> None:
    api.send_text(USER, "halo")
    assert (await call(client, api, "setWebhook", {"url": "https://x.id/hook"}))[0] == 200
    assert_error(await call(client, api, "getUpdates"), 409, "webhook is active")
    _, info = await call(client, api, "getWebhookInfo")
    assert info["result"]["url"] == "https://x.id/hook"
    assert info["result"]["pending_update_count"] == 1
    api.spec.validate("WebhookInfo", info["result"])
    await call(client, api, "deleteWebhook", {"drop_pending_updates": True})
    assert await call(client, api, "getUpdates") == (200, {"ok": True, "result": []})


class WebhookReceiver(Served):
    """A webhook on 127.0.0.1 that records each request and answers with the next status."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        app = web.Application()
        app.router.add_post("/hook", self.receive)
        self.server = LocalHttpServer(app, access_log=None)
        self.url = ""

    async def start(self) -> None:
        await self.server.start()
        self.url = self.server.url("/hook")

    async def stop(self) -> None:
        await self.server.stop()

    async def receive(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.json()))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status)


async def test_webhook_gets_each_update_with_the_secret_and_failures_are_retried(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    api.webhook_retry_seconds = 0.05
    async with WebhookReceiver([500]) as hook:
        params = {"url": hook.url, "secret_token": "s3cret_-X", "allowed_updates": ["message"]}
        assert (await call(client, api, "setWebhook", params))[0] == 200
        sent = api.send_text(USER, "halo")
        deadline = time.monotonic() + 5
        while api.pending_updates and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert api.pending_updates == []
        assert [r[1]["message"]["text"] for r in hook.requests] == ["halo", "halo"]
        for headers, body in hook.requests:
            assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret_-X"
            assert headers["Content-Type"] == "application/json"
            assert body["message"]["message_id"] == sent["message_id"]
        assert [(d.status, d.error is None) for d in api.webhook_deliveries] == [
            (500, False),
            (200, True),
        ]
        _, info = await call(client, api, "getWebhookInfo")
        assert info["result"]["pending_update_count"] == 0
        assert "500" in info["result"]["last_error_message"]
        api.spec.validate("WebhookInfo", info["result"])
        # Without the webhook, updates wait for getUpdates again.
        await call(client, api, "deleteWebhook")
        api.send_text(USER, "lagi")
        _, polled = await call(client, api, "getUpdates")
        assert [u["message"]["text"] for u in polled["result"]] == ["lagi"]
        assert len(hook.requests) == 2
    assert api.rejected == []


async def test_webhook_secret_must_be_what_telegram_accepts(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    params = {"url": "http://127.0.0.1:9/hook", "secret_token": "geheim mit Leerzeichen"}
    assert_error(await call(client, api, "setWebhook", params), 400, "secret token")
    assert api.webhook_url == ""


# --- Other methods ------------------------------------------------------------------------


async def test_edit_message_text(api: BotApiServer, client: httpx.AsyncClient) -> None:
    _, sent = await call(client, api, "sendMessage", {"chat_id": USER, "text": "Mencari..."})
    message_id = sent["result"]["message_id"]
    edit = {
        "chat_id": USER,
        "message_id": message_id,
        "text": "<b>Ketemu</b>",
        "parse_mode": "HTML",
    }
    status, body = await call(client, api, "editMessageText", edit)
    assert status == 200 and body["result"]["text"] == "Ketemu" and "edit_date" in body["result"]
    assert api.message(USER, message_id)["text"] == "Ketemu"
    assert_error(await call(client, api, "editMessageText", edit), 400, "message is not modified")
    edit["message_id"] = 999
    assert_error(await call(client, api, "editMessageText", edit), 400, "message to edit not found")
    edit["message_id"] = api.send_text(USER, "dari pengguna")["message_id"]
    assert_error(await call(client, api, "editMessageText", edit), 400, "message can't be edited")


async def test_chat_members(api: BotApiServer, client: httpx.AsyncClient) -> None:
    statuses = {}
    for user_id in (CREATOR, ADMIN, MEMBER, api.bot_user["id"]):
        status, body = await call(
            client, api, "getChatMember", {"chat_id": GROUP, "user_id": user_id}
        )
        assert status == 200
        api.spec.validate("ChatMember", body["result"])
        statuses[user_id] = body["result"]["status"]
    assert list(statuses.values()) == ["creator", "administrator", "member", "member"]
    _, admins = await call(client, api, "getChatAdministrators", {"chat_id": GROUP})
    assert [m["user"]["id"] for m in admins["result"]] == [CREATOR, ADMIN]
    api.set_admins(GROUP, [MEMBER])
    _, admins = await call(client, api, "getChatAdministrators", {"chat_id": GROUP})
    assert [m["user"]["id"] for m in admins["result"]] == [CREATOR, MEMBER]
    private = await call(client, api, "getChatAdministrators", {"chat_id": USER})
    assert_error(private, 400, "no administrators in the private chat")


async def test_commands(api: BotApiServer, client: httpx.AsyncClient) -> None:
    commands = [{"command": "tanya", "description": "Tanya soal berita"}]
    assert (await call(client, api, "setMyCommands", {"commands": commands}))[0] == 200
    assert (await call(client, api, "getMyCommands"))[1]["result"] == commands
    id_only = {"language_code": "id"}
    assert (await call(client, api, "getMyCommands", id_only))[1]["result"] == []
    bad = [{"command": "Tanya Berita", "description": "x"}]
    assert_error(
        await call(client, api, "setMyCommands", {"commands": bad}), 400, "BOT_COMMAND_INVALID"
    )


async def test_callback_query_is_answered_once(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    markup = {"inline_keyboard": [[{"text": "Lagi", "callback_data": "more"}]]}
    _, sent = await call(
        client, api, "sendMessage", {"chat_id": USER, "text": "x", "reply_markup": markup}
    )
    assert sent["result"]["reply_markup"] == markup
    query = api.send_callback_query(USER, sent["result"]["message_id"], "more")
    assert api.unanswered_callback_queries == {query["id"]}
    too_long = {"callback_query_id": query["id"], "text": "x" * 201}
    assert_error(await call(client, api, "answerCallbackQuery", too_long), 400, "MESSAGE_TOO_LONG")
    answer = {"callback_query_id": query["id"], "text": "Oke"}
    assert (await call(client, api, "answerCallbackQuery", answer))[0] == 200
    assert_error(await call(client, api, "answerCallbackQuery", answer), 400, "query is too old")
    [answered] = api.callback_answers
    assert (answered.query_id, answered.text, answered.show_alert) == (query["id"], "Oke", False)
    assert (await api.wait_for_callback_answer(query)) is answered
    assert api.unanswered_callback_queries == set()


async def test_callback_data_must_be_1_to_64_bytes(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    for data in ("", "é" * 33):  # 0 bytes, 66 bytes
        markup = {"inline_keyboard": [[{"text": "Lagi", "callback_data": data}]]}
        params = {"chat_id": USER, "text": "x", "reply_markup": markup}
        assert_error(await call(client, api, "sendMessage", params), 400, "BUTTON_DATA_INVALID")
    markup = {"inline_keyboard": [[{"text": "Lagi", "callback_data": "é" * 32}]]}  # 64 bytes
    params = {"chat_id": USER, "text": "x", "reply_markup": markup}
    assert (await call(client, api, "sendMessage", params))[0] == 200


async def test_chat_action_must_be_known(api: BotApiServer, client: httpx.AsyncClient) -> None:
    data = {"chat_id": USER, "action": "thinking"}
    assert_error(await call(client, api, "sendChatAction", data), 400, "wrong parameter action")


async def test_other_valid_calls_answer_true(api: BotApiServer, client: httpx.AsyncClient) -> None:
    data = {"chat_id": GROUP, "message_id": 1}
    assert await call(client, api, "deleteMessage", data) == (200, {"ok": True, "result": True})


# --- Fault injection and records ----------------------------------------------------------


async def test_fail_next_with_retry_after(
    api: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, PTB 22 warns (PTBDeprecationWarning) when it builds a RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    api.fail_next("sendMessage", 429, retry_after=3)
    async with Bot(api.token, base_url=api.base_url) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(USER, "x")
        assert caught.value.retry_after == dt.timedelta(seconds=3)
        assert (await bot.send_message(USER, "y")).text == "y"
    failed = api.calls_to("sendMessage")[0]
    assert failed.status == 429 and failed.injected and not failed.rejected
    assert failed.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert [m.text for m in api.sent_messages] == ["y"]
    assert api.rejected == []


@pytest.mark.parametrize(
    ("status", "error", "description"),
    [
        (403, Forbidden, "Forbidden: bot was blocked by the user"),
        (500, NetworkError, "Internal Server Error"),
        (502, NetworkError, "Bad Gateway"),
    ],
)
async def test_fail_next_statuses(
    api: BotApiServer, status: int, error: type[Exception], description: str
) -> None:
    api.fail_next("sendmessage", status, count=2)
    async with Bot(api.token, base_url=api.base_url) as bot:
        for _ in range(2):
            with pytest.raises(error, match=description):
                await bot.send_message(USER, "x")
        assert (await bot.send_message(USER, "y")).text == "y"
    assert [c.status for c in api.calls_to("sendMessage")] == [status, status, 200]


async def test_faults_apply_to_valid_calls_only(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    api.fail_next("sendMessage", 500, "Internal Server Error: boom")
    assert_error(await call(client, api, "sendMessage", {"chat_id": USER}), 400)
    assert_error(
        await call(client, api, "sendMessage", {"chat_id": USER, "text": "x"}), 500, "boom"
    )
    with pytest.raises(ValueError, match="unknown Bot API method"):
        api.fail_next("sendMesage", 500)


async def test_delay_next(api: BotApiServer, client: httpx.AsyncClient) -> None:
    api.delay_next("getMe", 0.3)
    started = time.monotonic()
    assert (await call(client, api, "getMe"))[0] == 200
    assert time.monotonic() - started >= 0.3


async def test_conflict_reaches_ptb(api: BotApiServer) -> None:
    api.fail_next("getUpdates", 409, "Conflict: terminated by other getUpdates request")
    async with Bot(api.token, base_url=api.base_url) as bot:
        with pytest.raises(Conflict):
            await bot.get_updates()


async def test_wait_for_messages(api: BotApiServer, client: httpx.AsyncClient) -> None:
    async def send_later() -> None:
        await asyncio.sleep(0.1)
        await call(client, api, "sendMessage", {"chat_id": GROUP, "text": "ke grup"})
        await call(client, api, "sendMessage", {"chat_id": USER, "text": "satu"})
        await call(client, api, "sendMessage", {"chat_id": USER, "text": "dua"})

    task = asyncio.create_task(send_later())
    messages = await api.wait_for_messages(2, chat_id=USER, timeout=2)
    await task
    assert [m.text for m in messages] == ["satu", "dua"]
    assert [m.chat_id for m in await api.wait_for_messages(1)] == [GROUP]
    [action], _ = await asyncio.gather(
        api.wait_for_calls("sendChatAction", timeout=2),
        call(client, api, "sendChatAction", {"chat_id": USER, "action": "typing"}),
    )
    assert action.params == {"chat_id": USER, "action": "typing"}


async def test_wait_for_messages_timeout_lists_calls(
    api: BotApiServer, client: httpx.AsyncClient
) -> None:
    await call(client, api, "sendMessage", {"chat_id": USER, "text": "cuma satu"})
    await call(client, api, "sendMessage", {"chat_id": USER, "text": "<b>", "parse_mode": "HTML"})
    with pytest.raises(TimeoutError) as caught:
        await api.wait_for_messages(2, chat_id=USER, timeout=0.2)
    report = str(caught.value)
    assert "expected 2 message(s) to chat 42" in report and "got 1" in report
    assert "cuma satu" in report and "can't parse entities" in report


# --- Updates built by the helpers match the spec ------------------------------------------


def test_update_helpers_match_the_spec() -> None:
    api = BotApiServer()
    api.private_chat(USER, "Ani", username="ani_id")
    api.group_chat(GROUP, "Diskusi", creator_id=CREATOR)
    api.channel_chat(CHANNEL)
    asked = api.send_text(USER, "/start")
    api.send_text(USER, "balasan", reply_to_message_id=asked["message_id"], language_code="en")
    api.send_text(GROUP, f"@{BOT_USERNAME} apa kabar?", user_id=MEMBER)
    api.send_text(
        GROUP, "tebal", user_id=CREATOR, entities=[{"type": "bold", "offset": 0, "length": 5}]
    )
    api.send_sticker(USER)
    api.send_photo(USER, caption="lihat https://kompas.id")
    api.send_photo(GROUP, user_id=CREATOR)
    api.send_edited_text(USER, asked["message_id"], "/start lagi")
    api.send_channel_post(CHANNEL, "Berita terkini")
    api.send_forwarded_text(USER, "diteruskan")
    api.send_forwarded_text(USER, "diteruskan juga", origin_user_id=MEMBER)
    api.send_callback_query(USER, asked["message_id"], "data")
    api.enqueue_update(
        {"message": {"message_id": 99, "date": 0, "chat": {"id": 1, "type": "private"}}}
    )
    kinds = set()
    for update in api.pending_updates:
        api.spec.validate("Update", update)
        kinds.add(next(k for k in update if k != "update_id"))
    assert kinds == {"message", "edited_message", "channel_post", "callback_query"}
    ids = [u["update_id"] for u in api.pending_updates]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    for update in api.pending_updates:
        assert Update.de_json(update, None) is not None
    with pytest.raises(ValueError, match="user_id is needed"):
        api.send_text(GROUP, "siapa?")


@pytest.mark.parametrize(
    ("update", "needle"),
    [
        ({"message": {"message_id": 1, "date": 0}}, "Update.message.chat is empty"),
        ({"update_id": "1"}, '"Update.update_id" must be of type Integer'),
        ({"update_id": 1, "mesage": {}}, 'unknown field "Update.mesage"'),
        (
            {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1}}},
            "Update.message.chat.type is empty",
        ),
        (
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 1, "type": "private"},
                    "forward_origin": {"type": "user", "date": 0},
                },
            },
            "forward_origin.sender_user is empty",
        ),
    ],
)
def test_spec_validation_catches_bad_updates(update: dict[str, Any], needle: str) -> None:
    with pytest.raises(ApiError) as caught:
        BotApiServer().spec.validate("Update", {"update_id": 1, **update})
    assert needle in caught.value.description


def test_entities_use_utf16_offsets() -> None:
    text = "😀 /cari@TanyaBeritaBot banjir @budi_s https://detik.com/x."
    found = [(e["type"], e["offset"], e["length"]) for e in detect_entities(text)]
    assert found == [("bot_command", 3, 20), ("mention", 31, 7), ("url", 39, 19)]
    assert detect_entities("a/b email@x.com /") == []
    assert parse_html("😀<b>x</b>")[1] == [{"type": "bold", "offset": 2, "length": 1}]
