"""A local stand-in for the Telegram Bot API server, for tests.

`BotApiServer` serves ``/bot<token>/<method>`` on 127.0.0.1 with aiohttp. Every call is checked
against the Bot API spec (see `tests.telegram_spec`) and rejected the way Telegram rejects it;
a handful of methods behave like Telegram (getMe, getUpdates with long polling, sendMessage,
editMessageText, getChatMember, ...), every other valid call answers ``true``. Tests play the
users: they register chats, make users send messages (``send_text``), then read what the bot sent
(``sent_messages``, ``wait_for_messages``) and check that it never made an invalid call
(``rejected``). Once the bot calls ``setWebhook`` with a URL on a loopback address, updates are
POSTed to it as Telegram does (with the ``X-Telegram-Bot-Api-Secret-Token`` header, one at a
time, again after ``webhook_retry_seconds`` until the bot answers 2xx) instead of waiting for
``getUpdates``; ``webhook_deliveries`` records every attempt. ``fail_next``, ``delay_next`` and
``drop_next`` (no answer at all) inject faults, ``repeat_update`` delivers an update twice
(``deliver_again``: one the webhook answered already); ``block_bot`` and
``migrate_to_supergroup`` make a chat answer as a blocked or migrated one does.
``send_callback_query`` presses an inline button; ``wait_for_callback_answer`` returns what the
bot answered (answerCallbackQuery), and ``unanswered_callback_queries`` lists presses it left
unanswered (Telegram's client shows a spinner until the answer comes).

Example:
    async with BotApiServer() as api:
        api.private_chat(42)
        application = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        ...
        api.send_text(42, "/start")
        [reply] = await api.wait_for_messages(1, chat_id=42)
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

try:
    from .http_server import LocalHttpServer, Served
    from .telegram_spec import (
        ApiError,
        BotApiSpec,
        UploadedFile,
        bad_request,
        detect_entities,
        parse_html,
    )
except ImportError:  # imported as a top-level module, with tests/ on sys.path
    from http_server import LocalHttpServer, Served  # type: ignore[no-redef]
    from telegram_spec import (  # type: ignore[no-redef]
        ApiError,
        BotApiSpec,
        UploadedFile,
        bad_request,
        detect_entities,
        parse_html,
    )

DEFAULT_TOKEN = "123456:TEST-TOKEN"
BOT_NAME = "Tanya Berita"
BOT_USERNAME = "TanyaBeritaBot"

_SPEC: BotApiSpec | None = None
_TEXT_LIMITS = {"text": 4096, "caption": 1024}
_CHAT_ACTIONS = frozenset(
    {
        *("typing", "choose_sticker", "find_location", "upload_document"),
        *("upload_photo", "record_video", "upload_video", "record_voice", "upload_voice"),
        *("record_video_note", "upload_video_note"),
    }
)
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
Json = dict[str, Any]
Handler = Callable[[Json], Awaitable[Any]]


def load_spec() -> BotApiSpec:
    """Returns the Bot API spec, loaded once per test session."""
    global _SPEC
    if _SPEC is None:
        _SPEC = BotApiSpec()
    return _SPEC


@dataclass
class ApiCall:
    """One call the bot made.

    Attributes:
        method: The method, spelled as in the spec (as requested if it is unknown).
        params: The parameters, typed (ints, bools, dicts...) when they passed validation.
        status: The HTTP status of the answer.
        response: The JSON body of the answer.
        rejected: True if the stand-in refused the call as Telegram would (a bot bug).
        injected: True if the answer was a fault injected with `BotApiServer.fail_next`.
    """

    method: str
    params: Json
    status: int
    response: Json
    rejected: bool = False
    injected: bool = False


@dataclass
class SentMessage:
    """A message the bot sent with sendMessage.

    Attributes:
        chat_id: The chat it went to.
        message_id: Its message_id.
        text: The ``text`` parameter as sent (HTML source when ``parse_mode`` is HTML).
        parse_mode: The ``parse_mode`` parameter, if any.
        reply_parameters: The ``reply_parameters`` parameter, if any.
        reply_markup: The ``reply_markup`` parameter, if any.
        params: All parameters of the call.
        message: The Message object returned to the bot.
    """

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_parameters: Json | None
    reply_markup: Json | None
    params: Json
    message: Json

    @property
    def plain_text(self) -> str:
        """The text users see (entities parsed), as in the returned Message."""
        return str(self.message["text"])


@dataclass
class InlineAnswer:
    """The bot's answer to an inline query (answerInlineQuery).

    Attributes:
        query_id: The inline query answered.
        results: The ``results`` parameter: InlineQueryResult objects.
        cache_time: The ``cache_time`` parameter (Telegram's default 300 when left out).
        is_personal: The ``is_personal`` parameter (False when left out).
        params: All parameters of the call.
    """

    query_id: str
    results: list[Json]
    cache_time: int
    is_personal: bool
    params: Json

    @property
    def message_texts(self) -> list[str]:
        """The text each result would send, as users see it (entities parsed)."""
        texts = []
        for result in self.results:
            text, _ = _message_text(result["input_message_content"])
            texts.append(text)
        return texts


@dataclass
class CallbackAnswer:
    """The bot's answer to a callback query (answerCallbackQuery).

    Attributes:
        query_id: The callback query answered.
        text: The ``text`` parameter: the notification shown to the user (None: nothing).
        show_alert: The ``show_alert`` parameter (False when left out).
        params: All parameters of the call.
    """

    query_id: str
    text: str | None
    show_alert: bool
    params: Json


#: The bot's answer to a query: to a callback query or to an inline one.
_Answer = TypeVar("_Answer", CallbackAnswer, InlineAnswer)


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook.

    Attributes:
        update_id: The update delivered.
        status: The HTTP status the webhook answered (0: no answer, e.g. connection refused).
        error: Why it failed, as ``getWebhookInfo``'s ``last_error_message`` says it.
    """

    update_id: int
    status: int
    error: str | None = None


@dataclass
class _Fault:
    status: int | None  # None: only delay, then answer normally
    description: str
    retry_after: int | None
    count: int
    delay: float
    drop: bool = False  # close the connection without any answer


@dataclass
class _Chat:
    chat: Json
    creator_id: int | None = None
    admin_ids: set[int] = field(default_factory=set)
    messages: dict[int, Json] = field(default_factory=dict)
    message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class _Superseded(ApiError):
    """A long poll ended by a newer getUpdates, as Telegram does (not a rejected call)."""


class BotApiServer(Served):
    """A Telegram Bot API server on 127.0.0.1 for one bot token."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        spec: BotApiSpec | None = None,
        first_update_id: int = 1,
        first_message_id: int = 1,
    ) -> None:
        """Creates the server; `start` makes it listen.

        Args:
            token: The only token accepted; others get 401 Unauthorized.
            spec: The Bot API spec (default: ``tests/data/telegram/bot-api.json``).
            first_update_id: The update_id of the first update.
            first_message_id: The message_id of the first message in each chat. Telegram never
                repeats either for one bot: tests that share a bot's database across several
                stand-ins start each where the last one stopped.
        """
        self.token = token
        self.spec = spec or load_spec()
        bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 123456
        self.bot_user: Json = {
            "id": bot_id,
            "is_bot": True,
            "first_name": BOT_NAME,
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.users: dict[int, Json] = {}
        self.calls: list[ApiCall] = []
        # Methods of the requests as they arrive (``calls`` records them when answered).
        self.received: list[str] = []
        self.sent_messages: list[SentMessage] = []
        # Called with each message the bot sends, as it arrives (the benchmark times replies).
        self.sent_listeners: list[Callable[[SentMessage], None]] = []
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        # Telegram waits longer before it tries a failed webhook again; tests cannot.
        self.webhook_retry_seconds = 0.2
        self._webhook_max_connections: int | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._chats: dict[int, _Chat] = {}
        self._updates: list[Json] = []
        # Updates the webhook answered 2xx, by update_id: ``deliver_again`` posts one anew.
        self._delivered: dict[int, Json] = {}
        self._update_ids = itertools.count(first_update_id)
        self._first_message_id = first_message_id
        self._allowed_updates: list[str] | None = None
        # Callback queries not answered yet, and the answers the bot gave.
        self._callback_queries: set[str] = set()
        self.callback_answers: list[CallbackAnswer] = []
        # Inline queries not answered yet, and the answers the bot gave.
        self._inline_queries: set[str] = set()
        self.inline_answers: list[InlineAnswer] = []
        self._query_ids = itertools.count(4_100_000_000_000_000_001)
        self._faults: dict[str, list[_Fault]] = {}
        # Chats that answer every call about them with an error (blocked bot, migrated group).
        self._chat_errors: dict[int, ApiError] = {}
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._http: LocalHttpServer | None = None
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
        }

    # --- Lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Starts listening on a free port of 127.0.0.1."""
        self._closing = False
        app = web.Application()
        for http_method in ("GET", "POST"):
            app.router.add_route(http_method, "/bot{token}/{method}", self._handle)
        self._http = LocalHttpServer(app, access_log=None, shutdown_timeout=2.0)
        await self._http.start()

    async def stop(self) -> None:
        """Ends pending long polls and webhook deliveries, and stops the server."""
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        if self._http is not None:
            await self._http.stop()

    @property
    def port(self) -> int:
        """The port it listens on (0 before `start`)."""
        return 0 if self._http is None else self._http.port

    @property
    def base_url(self) -> str:
        """The URL to give PTB as ``base_url``; it appends ``<token>/<method>``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """The URL to give PTB as ``base_file_url`` (files are not served)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def _bot_sender(self) -> Json:
        """The bot as the ``from`` of its messages (Telegram leaves out the capabilities)."""
        return {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")}

    # --- HTTP ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        requested = request.match_info["method"]
        method = self.spec.method_name(requested) or requested
        self.received.append(method)
        self._notify()
        params: Json = {}
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if method not in self.spec.methods:
                raise ApiError(404, "Not Found")
            params = await _read_params(request)
            params = self.spec.parse_params(method, params)
            self._check_rules(method, params)
        except ApiError as error:
            return self._answer(method, params, error.status, error.payload(), rejected=True)
        chat_error = self._chat_errors.get(params["chat_id"]) if "chat_id" in params else None
        if chat_error is not None:
            return self._answer(
                method, params, chat_error.status, chat_error.payload(), injected=True
            )
        faults = self._faults.get(method)
        if faults:
            fault = faults[0]
            fault.count -= 1
            if fault.count <= 0:
                faults.pop(0)
            await asyncio.sleep(fault.delay)
            if fault.drop:
                return self._drop(request, method, params)
            if fault.status is not None:
                parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
                body = ApiError(fault.status, fault.description, parameters).payload()
                return self._answer(method, params, fault.status, body, injected=True)
        handler = self._handlers.get(method, self._default_handler(method))
        try:
            result = await handler(params)
        except ApiError as error:
            rejected = not isinstance(error, _Superseded)
            return self._answer(method, params, error.status, error.payload(), rejected=rejected)
        return self._answer(method, params, 200, {"ok": True, "result": result})

    def _drop(self, request: web.Request, method: str, params: Json) -> web.Response:
        """Closes the connection without an answer (recorded with status 0)."""
        self.calls.append(ApiCall(method, params, 0, {}, injected=True))
        self._notify()
        assert request.transport is not None
        request.transport.abort()
        raise ConnectionResetError("dropped on purpose by BotApiServer.drop_next")

    def _answer(
        self, method: str, params: Json, status: int, body: Json, **flags: bool
    ) -> web.Response:
        self.calls.append(ApiCall(method, params, status, body, **flags))
        self._notify()
        return web.json_response(body, status=status)

    def _check_rules(self, method: str, params: Json) -> None:
        """The checks beyond the spec: known chats, text length and formatting, button data."""
        for key in ("chat_id", "from_chat_id"):
            if key in params:
                self._chat(params[key])
        for row in params.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if (
                    "callback_data" in button
                    and not 1 <= len(button["callback_data"].encode()) <= 64
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
        if "parse_mode" in self.spec.fields(method):
            for key, limit in _TEXT_LIMITS.items():
                if key in params:
                    text, _ = self._formatted(params, key)
                    if key == "text" and not text.strip():
                        raise bad_request("message text is empty")
                    if len(text) > limit:
                        raise bad_request(
                            f"message {'caption ' if key != 'text' else ''}is too long"
                        )

    @staticmethod
    def _formatted(params: Json, key: str) -> tuple[str, list[Json]]:
        """Returns the visible text and entities of the ``text`` or ``caption`` parameter."""
        entities = params.get("entities" if key == "text" else f"{key}_entities")
        mode = str(params.get("parse_mode", "")).lower()
        if entities is not None:
            return params[key], entities
        if mode == "html":
            return parse_html(params[key])
        if mode in ("", "markdown", "markdownv2"):
            return params[key], []
        raise bad_request(f"unsupported parse_mode {params['parse_mode']!r}")

    # --- Methods -------------------------------------------------------------------------

    def _default_handler(self, method: str) -> Handler:
        async def handle(params: Json) -> Any:
            if self.spec.methods[method]["returns"] != ["Message"] or "chat_id" not in params:
                return True
            content: Json = {}
            if "caption" in params:
                content["caption"], content["caption_entities"] = self._formatted(params, "caption")
            return self._new_message(self._chat(params["chat_id"]), self._bot_sender, content)

        return handle

    async def _get_me(self, params: Json) -> Json:
        return self.bot_user

    async def _get_updates(self, params: Json) -> list[Json]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # ends an older poll
        offset = params.get("offset")
        if offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        elif offset is not None:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"] or None
        await self._wait_until(
            lambda: (
                bool(self._deliverable()) or self._closing or self._poll_generation != generation
            ),
            max(params.get("timeout", 0), 0),
        )
        if self._poll_generation != generation and not self._closing:
            raise _Superseded(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return self._deliverable()[: min(max(params.get("limit", 100), 1), 100)]

    def _deliverable(self) -> list[Json]:
        """Drops the queued updates the bot did not ask for and returns the rest."""
        allowed = self._allowed_updates
        self._updates = [
            update
            for update in self._updates
            if (
                _update_kind(update) in allowed
                if allowed
                else _update_kind(update) not in _NOT_DEFAULT_UPDATES
            )
        ]
        return self._updates

    async def _set_webhook(self, params: Json) -> bool:
        url, secret = params["url"], params.get("secret_token")
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if secret is not None and not _WEBHOOK_SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.get("max_connections")
        if max_connections is not None and not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        self.webhook_url, self.webhook_secret = url, secret if url else None
        self._webhook_max_connections = max_connections if url else None
        self._webhook_error = None
        self._allowed_updates = params.get("allowed_updates", self._allowed_updates)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        self._notify()
        return True

    async def _delete_webhook(self, params: Json) -> bool:
        self.webhook_url, self.webhook_secret = "", None
        self._webhook_error = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    async def _get_webhook_info(self, params: Json) -> Json:
        info: Json = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._deliverable()),
        }
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        if self._webhook_max_connections is not None:
            info["max_connections"] = self._webhook_max_connections
        if self._allowed_updates:
            info["allowed_updates"] = self._allowed_updates
        return info

    async def _deliver_to_webhook(self) -> None:
        """POST the queued updates to the webhook, oldest first, until it is deleted."""
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self._closing and self.webhook_url:
                url = self.webhook_url
                pending = self._deliverable()
                if not pending or not _is_loopback(url):
                    if pending:  # tests never send traffic off this machine
                        self._webhook_error = (int(time.time()), "not a loopback address")
                    await self._wait_for_webhook_change(url, len(pending))
                    continue
                update = pending[0]
                status, error = await self._post_update(session, url, update)
                self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status, error))
                if error is None:
                    self._delivered[update["update_id"]] = update
                    if update in self._updates:
                        self._updates.remove(update)
                else:
                    self._webhook_error = (int(time.time()), error)
                    await asyncio.sleep(self.webhook_retry_seconds)
                self._notify()

    async def _wait_for_webhook_change(self, url: str, pending: int) -> None:
        """Wait until the webhook changes, the queue grows or shrinks, or the server stops."""

        def changed() -> bool:
            return self._closing or self.webhook_url != url or len(self._deliverable()) != pending

        await self._wait_until(changed, 3600)

    async def _post_update(
        self, session: aiohttp.ClientSession, url: str, update: Json
    ) -> tuple[int, str | None]:
        """POST one update as Telegram does; (HTTP status, None) or (status, the error)."""
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        try:
            async with session.post(url, data=json.dumps(update), headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return response.status, None
                reason = response.reason or ""
                return (
                    response.status,
                    f"Wrong response from the webhook: {response.status} {reason}",
                )
        except (aiohttp.ClientError, TimeoutError) as error:
            return 0, f"Connection failed: {type(error).__name__}"

    async def _send_message(self, params: Json) -> Json:
        chat = self._chat(params["chat_id"])
        text, entities = self._formatted(params, "text")
        content: Json = {"text": text, "entities": entities}
        reply = params.get("reply_parameters")
        if reply is not None:
            replied = chat.messages.get(reply["message_id"]) if "chat_id" not in reply else None
            if (
                replied is None
                and "chat_id" not in reply
                and not reply.get("allow_sending_without_reply")
            ):
                raise bad_request("message to be replied not found")
            if replied is not None:
                content["reply_to_message"] = {
                    k: v for k, v in replied.items() if k != "reply_to_message"
                }
        if "inline_keyboard" in params.get("reply_markup", {}):
            content["reply_markup"] = params["reply_markup"]
        message = self._new_message(chat, self._bot_sender, content)
        sent = SentMessage(
            chat_id=chat.chat["id"],
            message_id=message["message_id"],
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_parameters=reply,
            reply_markup=params.get("reply_markup"),
            params=params,
            message=message,
        )
        self.sent_messages.append(sent)
        for listener in self.sent_listeners:
            listener(sent)
        return message

    async def _edit_message_text(self, params: Json) -> Json | bool:
        if "text" not in params and "rich_message" not in params:
            raise bad_request("message text is empty")
        if "inline_message_id" in params:
            return True
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat = self._chat(params["chat_id"])
        old = chat.messages.get(params["message_id"])
        if old is None:
            raise bad_request("message to edit not found")
        if old.get("from", {}).get("id") != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        new = copy.deepcopy(old)
        if "text" in params:
            new["text"], new["entities"] = self._formatted(params, "text")
        new["reply_markup"] = params.get("reply_markup")
        new = {k: v for k, v in new.items() if v not in (None, [])}
        if {**new, "edit_date": None} == {**old, "edit_date": None}:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        new["edit_date"] = int(time.time())
        chat.messages[new["message_id"]] = new
        return new

    async def _send_chat_action(self, params: Json) -> bool:
        if params["action"] not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: Json) -> tuple[str, str]:
        scope = params.get("scope", {"type": "default"})
        return json.dumps(scope, sort_keys=True), params.get("language_code", "")

    async def _set_my_commands(self, params: Json) -> bool:
        for command in params["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = params["commands"]
        return True

    async def _get_my_commands(self, params: Json) -> list[Json]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: Json) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _answer_callback_query(self, params: Json) -> bool:
        if params["callback_query_id"] not in self._callback_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(params.get("text", "")) > 200:  # the spec: 0-200 characters
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_queries.discard(params["callback_query_id"])
        self.callback_answers.append(
            CallbackAnswer(
                query_id=params["callback_query_id"],
                text=params.get("text"),
                show_alert=params.get("show_alert", False),
                params=params,
            )
        )
        return True

    async def _answer_inline_query(self, params: Json) -> bool:
        if params["inline_query_id"] not in self._inline_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params["results"]
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [result["id"] for result in results]
        if any(not 1 <= len(id_.encode()) <= 64 for id_ in ids):
            raise bad_request("RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        for result in results:
            content = result.get("input_message_content")
            if content is not None and "message_text" in content:
                text, _ = _message_text(content)
                if not text.strip():
                    raise bad_request("MESSAGE_EMPTY")
                if len(text) > 4096:
                    raise bad_request("MESSAGE_TOO_LONG")
        self._inline_queries.discard(params["inline_query_id"])
        self.inline_answers.append(
            InlineAnswer(
                query_id=params["inline_query_id"],
                results=results,
                cache_time=params.get("cache_time", 300),
                is_personal=params.get("is_personal", False),
                params=params,
            )
        )
        return True

    def _member(self, chat: _Chat, user_id: int) -> Json:
        user = self.bot_user if user_id == self.bot_user["id"] else self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if user_id == chat.creator_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admin_ids:
            rights = (
                "is_anonymous can_manage_chat can_delete_messages can_manage_video_chats "
                "can_restrict_members can_promote_members can_change_info can_invite_users "
                "can_post_stories can_edit_stories can_delete_stories"
            )
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                **{right: right != "is_anonymous" for right in rights.split()},
            }
        return {"status": "member", "user": user}

    async def _get_chat_member(self, params: Json) -> Json:
        return self._member(self._chat(params["chat_id"]), params["user_id"])

    async def _get_chat_administrators(self, params: Json) -> list[Json]:
        chat = self._chat(params["chat_id"])
        if chat.chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        ids = ([chat.creator_id] if chat.creator_id is not None else []) + sorted(chat.admin_ids)
        return [self._member(chat, user_id) for user_id in ids]

    # --- Chats and users -----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Ani",
        *,
        language_code: str | None = "id",
        username: str | None = None,
    ) -> Json:
        """Registers (or replaces) a user and returns its User object."""
        user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def private_chat(
        self,
        user_id: int,
        first_name: str = "Ani",
        *,
        language_code: str | None = "id",
        username: str | None = None,
    ) -> Json:
        """Registers a user and their private chat with the bot; returns the Chat object."""
        self.user(user_id, first_name, language_code=language_code, username=username)
        chat: Json = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        self._chats[user_id] = _Chat(chat, message_ids=itertools.count(self._first_message_id))
        return chat

    def group_chat(
        self,
        chat_id: int,
        title: str = "Grup Berita",
        *,
        supergroup: bool = True,
        creator_id: int | None = None,
        admin_ids: Iterable[int] = (),
        username: str | None = None,
    ) -> Json:
        """Registers a group the bot is in; returns the Chat object.

        Args:
            chat_id: The chat's id (negative, like ``-1001234567890``, in Telegram).
            title: The title.
            supergroup: A supergroup rather than a basic group.
            creator_id: The user who created it ("creator" for getChatMember); registered as a
                user if unknown.
            admin_ids: Users who are administrators.
            username: The public @username, if any.
        """
        chat: Json = {"id": chat_id, "type": "supergroup" if supergroup else "group"}
        chat["title"] = title
        if username:
            chat["username"] = username
        for user_id in [creator_id, *admin_ids]:
            if user_id is not None and user_id not in self.users and user_id != self.bot_user["id"]:
                self.user(user_id, f"User {user_id}")
        self._chats[chat_id] = _Chat(
            chat, creator_id, set(admin_ids), message_ids=itertools.count(self._first_message_id)
        )
        return chat

    def channel_chat(
        self, chat_id: int, title: str = "Kanal Berita", *, username: str | None = None
    ) -> Json:
        """Registers a channel the bot is in; returns the Chat object."""
        chat: Json = {"id": chat_id, "type": "channel", "title": title}
        if username:
            chat["username"] = username
        self._chats[chat_id] = _Chat(chat, message_ids=itertools.count(self._first_message_id))
        return chat

    def block_bot(self, chat_id: int, description: str | None = None) -> None:
        """The chat no longer accepts the bot, as when a user blocks it or a group removes it.

        Every later call about the chat answers 403 as Telegram does (an injected fault, not a
        rejected call).

        Args:
            chat_id: A registered chat.
            description: The description (default: Telegram's for the chat's type).
        """
        chat = self._chat(chat_id)
        if description is None:
            description = (
                "Forbidden: bot was blocked by the user"
                if chat.chat["type"] == "private"
                else f"Forbidden: bot was kicked from the {chat.chat['type']} chat"
            )
        self._chat_errors[chat_id] = ApiError(403, description)

    def migrate_to_supergroup(
        self, chat_id: int, new_chat_id: int, *, notify: bool = False
    ) -> Json:
        """A basic group becomes a supergroup with a new id, as in Telegram.

        The supergroup is registered with the group's title, creator and admins; every later call
        about the old id answers 400 with ``parameters.migrate_to_chat_id``. With ``notify``, the
        service messages Telegram sends are queued as updates: ``migrate_to_chat_id`` in the old
        group and ``migrate_from_chat_id`` in the supergroup.

        Returns:
            The supergroup's Chat object.
        """
        old = self._chat(chat_id)
        if old.chat["type"] != "group":
            raise ValueError(f"chat {chat_id} is not a basic group")
        new = self.group_chat(
            new_chat_id,
            old.chat.get("title", ""),
            supergroup=True,
            creator_id=old.creator_id,
            admin_ids=old.admin_ids,
        )
        if notify:
            sender = self.users.get(old.creator_id) if old.creator_id is not None else None
            for chat, content in (
                (old, {"migrate_to_chat_id": new_chat_id}),
                (self._chats[new_chat_id], {"migrate_from_chat_id": chat_id}),
            ):
                self.enqueue_update({"message": self._new_message(chat, sender, content)})
        self._chat_errors[chat_id] = ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )
        return new

    def set_admins(self, chat_id: int, admin_ids: Iterable[int]) -> None:
        """Sets who the administrators of a group are (besides its creator)."""
        self._chat(chat_id).admin_ids = set(admin_ids)

    def message(self, chat_id: int, message_id: int) -> Json:
        """Returns the current state of a message (the bot's or a user's) in a chat."""
        return self._chat(chat_id).messages[message_id]

    def _chat(self, chat_id: int | str) -> _Chat:
        """Finds a chat by id or @username; raises "chat not found" like Telegram."""
        if isinstance(chat_id, str):
            for chat in self._chats.values():
                if f"@{chat.chat.get('username', '')}".lower() == chat_id.lower():
                    return chat
        elif chat_id in self._chats:
            return self._chats[chat_id]
        raise bad_request("chat not found")

    # --- Updates from users --------------------------------------------------------------

    def enqueue_update(self, update: Json) -> Json:
        """Queues an update for getUpdates, giving it the next update_id unless it has one."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._notify()
        return update

    def _new_message(self, chat: _Chat, sender: Json | None, content: Json) -> Json:
        message: Json = {"message_id": next(chat.message_ids), "date": int(time.time())}
        if sender is not None:
            message["from"] = sender
        message["chat"] = chat.chat
        message.update({k: v for k, v in content.items() if v not in (None, [])})
        chat.messages[message["message_id"]] = message
        return message

    def _sender(self, chat: _Chat, user_id: int | None, language_code: str | None = None) -> Json:
        if user_id is None:
            if chat.chat["type"] != "private":
                raise ValueError("user_id is needed for a message in a group")
            user_id = chat.chat["id"]
        user = self.users.get(user_id) or self.user(user_id, f"User {user_id}")
        return {**user, "language_code": language_code} if language_code else user

    def _user_message(self, chat_id: int, user_id: int | None, content: Json, **kw: Any) -> Json:
        chat = self._chat(chat_id)
        reply_to = kw.pop("reply_to_message_id", None)
        if reply_to is not None:
            replied = chat.messages[reply_to]
            content["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        message = self._new_message(chat, self._sender(chat, user_id, **kw), content)
        self.enqueue_update({"message": message})
        return message

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[Json] | None = None,
    ) -> Json:
        """A user sends a text message; queues the update and returns the Message.

        Args:
            chat_id: A registered chat.
            text: The text; bot commands, @mentions and URLs get their entities as in Telegram.
            user_id: The sender (default: the user of a private chat).
            language_code: Overrides the sender's ``language_code`` for this message.
            reply_to_message_id: A message of the chat this one replies to.
            entities: Entities to use instead of the detected ones.
        """
        content = {
            "text": text,
            "entities": detect_entities(text) if entities is None else entities,
        }
        return self._user_message(
            chat_id,
            user_id,
            content,
            language_code=language_code,
            reply_to_message_id=reply_to_message_id,
        )

    def send_sticker(self, chat_id: int, *, user_id: int | None = None, emoji: str = "👍") -> Json:
        """A user sends a sticker; queues the update and returns the Message."""
        sticker = {**_file("sticker", 512, 512), "type": "regular", "is_animated": False}
        sticker.update(is_video=False, emoji=emoji)
        return self._user_message(chat_id, user_id, {"sticker": sticker})

    def send_photo(
        self, chat_id: int, *, caption: str | None = None, user_id: int | None = None
    ) -> Json:
        """A user sends a photo, with an optional caption; returns the Message."""
        content: Json = {"photo": [_file("photo", 90, 60), _file("photo", 1280, 853)]}
        if caption is not None:
            content.update(caption=caption, caption_entities=detect_entities(caption))
        return self._user_message(chat_id, user_id, content)

    def send_voice(self, chat_id: int, *, user_id: int | None = None, duration: int = 3) -> Json:
        """A user sends a voice message; queues the update and returns the Message."""
        voice = {k: v for k, v in _file("voice", 0, 0).items() if k.startswith("file")}
        voice.update(duration=duration, mime_type="audio/ogg", file_size=4096)
        return self._user_message(chat_id, user_id, {"voice": voice})

    def repeat_update(self, update_id: int | None = None) -> Json:
        """Queues an already queued update again, same update_id, as Telegram redelivers one
        whose confirmation got lost (default: the last update queued)."""
        queued = [u for u in self._updates if update_id is None or u["update_id"] == update_id]
        if not queued:
            raise ValueError(f"update {update_id} is not queued (the bot confirmed it already)")
        update = copy.deepcopy(queued[-1])
        self._updates.append(update)
        self._notify()
        return update

    def deliver_again(self, update_id: int) -> Json:
        """Posts an update the webhook already answered once more, same update_id, as Telegram
        does when the answer did not reach it (a proxy dropped it, a worker answered late)."""
        if update_id not in self._delivered:
            raise ValueError(f"update {update_id} was not delivered to the webhook")
        update = copy.deepcopy(self._delivered[update_id])
        self._updates.append(update)
        self._notify()
        return update

    def send_forwarded_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        origin_user_id: int | None = None,
        origin_name: str = "Budi",
    ) -> Json:
        """A user forwards a text message, originally from `origin_user_id` or a hidden user."""
        date = int(time.time()) - 3600
        if origin_user_id is None:
            origin = {"type": "hidden_user", "date": date, "sender_user_name": origin_name}
        else:
            sender = self.users.get(origin_user_id) or self.user(origin_user_id, origin_name)
            origin = {"type": "user", "date": date, "sender_user": sender}
        content = {"text": text, "entities": detect_entities(text), "forward_origin": origin}
        return self._user_message(chat_id, user_id, content)

    def send_edited_text(self, chat_id: int, message_id: int, text: str) -> Json:
        """A user edits their text message; queues an edited_message update."""
        chat = self._chat(chat_id)
        message = {**chat.messages[message_id], "text": text, "edit_date": int(time.time())}
        message.pop("entities", None)
        if entities := detect_entities(text):
            message["entities"] = entities
        chat.messages[message_id] = message
        self.enqueue_update({"edited_message": message})
        return message

    def send_channel_post(self, chat_id: int, text: str) -> Json:
        """A text post appears in a registered channel; queues a channel_post update."""
        chat = self._chat(chat_id)
        if chat.chat["type"] != "channel":
            raise ValueError(f"chat {chat_id} is not a channel")
        content = {"sender_chat": chat.chat, "text": text, "entities": detect_entities(text)}
        message = self._new_message(chat, None, content)
        self.enqueue_update({"channel_post": message})
        return message

    def send_callback_query(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
    ) -> Json:
        """A user presses an inline button of a bot message; returns the CallbackQuery."""
        chat = self._chat(chat_id)
        query_id = str(next(self._query_ids))
        query: Json = {
            "id": query_id,
            "from": self._sender(chat, user_id),
            "message": chat.messages[message_id],
            "chat_instance": str(abs(chat_id) * 31),
            "data": data,
        }
        self._callback_queries.add(query_id)
        self.enqueue_update({"callback_query": query})
        return query

    async def wait_for_callback_answer(
        self, query: Json, *, timeout: float = 10.0
    ) -> CallbackAnswer:
        """Waits for the bot's answer to ``query`` (from `send_callback_query`) and returns it."""
        what = f"callback query {query['data']!r}"
        return await self._wait_for_answer(self.callback_answers, query["id"], what, timeout)

    @property
    def unanswered_callback_queries(self) -> set[str]:
        """Ids of the callback queries the bot has not answered (yet)."""
        return set(self._callback_queries)

    def enable_inline_mode(self) -> None:
        """Switches inline mode on, as ``/setinline`` with BotFather does."""
        self.bot_user["supports_inline_queries"] = True

    def send_inline_query(
        self, user_id: int, query: str, *, chat_type: str | None = "private", offset: str = ""
    ) -> Json:
        """A user types ``@bot query`` in a chat; returns the InlineQuery.

        Telegram sends inline queries only to a bot with inline mode on (`enable_inline_mode`).
        """
        if not self.bot_user["supports_inline_queries"]:
            raise ValueError("inline mode is off: call enable_inline_mode first")
        query_id = str(next(self._query_ids))
        inline_query: Json = {
            "id": query_id,
            "from": self.users.get(user_id) or self.user(user_id, f"User {user_id}"),
            "query": query,
            "offset": offset,
        }
        if chat_type is not None:
            inline_query["chat_type"] = chat_type
        self._inline_queries.add(query_id)
        self.enqueue_update({"inline_query": inline_query})
        return inline_query

    async def wait_for_inline_answer(self, query: Json, *, timeout: float = 10.0) -> InlineAnswer:
        """Waits for the bot's answer to ``query`` (from `send_inline_query`) and returns it."""
        what = f"inline query {query['query']!r}"
        return await self._wait_for_answer(self.inline_answers, query["id"], what, timeout)

    @property
    def pending_updates(self) -> list[Json]:
        """Updates queued and not yet confirmed by the bot."""
        return list(self._updates)

    # --- Records and waiting -------------------------------------------------------------

    @property
    def rejected(self) -> list[ApiCall]:
        """The calls refused as Telegram would refuse them: each one is a bug in the bot."""
        return [call for call in self.calls if call.rejected]

    def calls_to(self, method: str) -> list[ApiCall]:
        """The calls of one method (any case), in order."""
        name = self.spec.method_name(method) or method
        return [call for call in self.calls if call.method == name]

    async def wait_for_messages(
        self, count: int, *, chat_id: int | None = None, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Waits until the bot has sent `count` messages (to `chat_id`) and returns those.

        Raises:
            TimeoutError: Fewer arrived in time; the message lists what the bot did send.
        """

        def matching() -> list[SentMessage]:
            return [m for m in self.sent_messages if chat_id is None or m.chat_id == chat_id]

        if not await self._wait_until(lambda: len(matching()) >= count, timeout):
            where = "" if chat_id is None else f" to chat {chat_id}"
            raise TimeoutError(
                f"expected {count} message(s){where} within {timeout}s, "
                f"got {len(matching())}.\n{self.describe_calls()}"
            )
        return matching()[:count]

    async def wait_for_calls(
        self, method: str, count: int = 1, *, timeout: float = 10.0
    ) -> list[ApiCall]:
        """Waits until the bot has made `count` calls of `method` and returns them."""
        if not await self._wait_until(lambda: len(self.calls_to(method)) >= count, timeout):
            raise TimeoutError(
                f"expected {count} call(s) of {method} within {timeout}s.\n{self.describe_calls()}"
            )
        return self.calls_to(method)[:count]

    async def _wait_for_answer(
        self, answers: list[_Answer], query_id: str, what: str, timeout: float
    ) -> _Answer:
        """Waits for the answer to query ``query_id`` in ``answers`` and returns it."""

        def answer() -> _Answer | None:
            return next((a for a in answers if a.query_id == query_id), None)

        if not await self._wait_until(lambda: answer() is not None, timeout):
            raise TimeoutError(f"no answer to {what} within {timeout}s.\n{self.describe_calls()}")
        found = answer()
        assert found is not None
        return found

    def describe_calls(self) -> str:
        """One line per call except getUpdates, for failure messages."""
        lines = [
            f"  {call.method} {call.status} {json.dumps(call.params, default=str)[:200]}"
            + ("" if call.status == 200 else f" -> {call.response.get('description')}")
            for call in self.calls
            if call.method != "getUpdates" or call.status != 200
        ]
        return "Calls made by the bot:\n" + ("\n".join(lines) or "  (none)")

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        count: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Makes the next `count` valid calls of `method` fail with an error answer.

        Args:
            method: The method (any case), e.g. ``"sendMessage"``.
            status: The HTTP status and error_code: 429, 403, 500, 502...
            description: The description (default: Telegram's usual one for the status).
            retry_after: Seconds for ``parameters.retry_after`` (default 1 for 429).
            count: How many calls fail.
            delay: Seconds to wait before answering.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else _FAULT_DESCRIPTIONS.get(status, "Internal Server Error")
            )
        self._add_fault(method, _Fault(status, description, retry_after, count, delay))

    def drop_next(self, method: str, *, count: int = 1) -> None:
        """Makes the next `count` valid calls of `method` end with the connection closed and no
        answer at all (the call is not carried out), as a proxy or a network fault does."""
        self._add_fault(method, _Fault(None, "", None, count, 0.0, drop=True))

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Makes the next `count` valid calls of `method` answer only after `seconds`."""
        self._add_fault(method, _Fault(None, "", None, count, seconds))

    def _add_fault(self, method: str, fault: _Fault) -> None:
        name = self.spec.method_name(method)
        if name is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        self._faults.setdefault(name, []).append(fault)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Waits until `predicate` holds, up to `timeout` seconds; returns whether it holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


async def _read_params(request: web.Request) -> Json:
    """Reads parameters from the query string and a JSON, urlencoded or multipart body."""
    params: Json = dict(request.query)
    if request.content_type == "application/json":
        body = await request.read()
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(data, dict):
                raise bad_request("JSON object expected")
            params.update(data)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(
                    key, value.filename, value.content_type, value.file.read()
                )
            else:
                params[key] = value
    return params


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _message_text(content: Json) -> tuple[str, list[Json]]:
    """The visible text and entities of an InputTextMessageContent."""
    keys = {"message_text": "text", "parse_mode": "parse_mode", "entities": "entities"}
    params = {name: content[key] for key, name in keys.items() if key in content}
    return BotApiServer._formatted(params, "text")


def _update_kind(update: Json) -> str:
    return next((key for key in update if key != "update_id"), "")


def _file(kind: str, width: int, height: int) -> Json:
    unique = f"{kind}{width}x{height}"
    return {"file_id": f"AgAC{unique}", "file_unique_id": unique, "width": width, "height": height}
