"""The Telegram Bot API specification as data, and the checks the stand-in server makes with it.

`BotApiSpec` loads ``tests/data/telegram/bot-api.json`` and checks call parameters and objects
against it the way the real Bot API does: required fields, unknown fields, value types, nested
objects and union types (``MessageOrigin``, ``ReplyMarkup`` alternatives, ...). Everything here
is driven by the spec data; the only hand-written rules are Telegram's text formatting rules in
`parse_html`, plus the entity detection of incoming messages in `detect_entities`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).parent / "data" / "telegram" / "bot-api.json"

_PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
_DISCRIMINATOR = re.compile(r"(?:always|must be)\s+(?!one\b)[\"“]?([\w-]+)[\"”]?")
_INTEGER = re.compile(r"-?\d+")


class ApiError(Exception):
    """A Bot API error response: ``{"ok": false, "error_code": status, "description": ...}``.

    Attributes:
        status: The HTTP status and ``error_code``.
        description: The ``description`` Telegram would send, e.g. ``"Bad Request: ..."``.
        parameters: Optional ``ResponseParameters`` (``retry_after``, ``migrate_to_chat_id``).
    """

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """Returns the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str) -> ApiError:
    """Returns a 400 `ApiError` with Telegram's ``"Bad Request: "`` prefix."""
    return ApiError(400, f"Bad Request: {message}")


@dataclass(frozen=True)
class UploadedFile:
    """A file uploaded in a ``multipart/form-data`` part.

    Attributes:
        name: The name of the form part.
        filename: The file name the client gave, if any.
        content_type: The part's content type.
        data: The file's bytes.
    """

    name: str
    filename: str | None
    content_type: str
    data: bytes


class BotApiSpec:
    """The Bot API methods and types, with validation of parameters and objects against them."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        """Loads the spec.

        Args:
            path: The JSON spec file (the PaulSonOfLars/telegram-bot-api-spec format).
        """
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, Any]] = data["methods"]
        self.types: dict[str, dict[str, Any]] = data["types"]

    @cached_property
    def _methods_lower(self) -> dict[str, str]:
        return {name.lower(): name for name in self.methods}

    def method_name(self, name: str) -> str | None:
        """Returns the spec's spelling of a method name (Telegram ignores case), or None."""
        return self._methods_lower.get(name.lower())

    def fields(self, method: str) -> dict[str, dict[str, Any]]:
        """Returns a method's fields by name."""
        return {f["name"]: f for f in self.methods[method].get("fields", [])}

    def parse_params(self, method: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Checks and converts the parameters of a call as Telegram does.

        Strings (query string, form fields, JSON strings) are parsed according to the field's
        type: ``"123"`` for an Integer, ``"true"`` for a Boolean, JSON text for arrays and
        objects. Other JSON values are checked as they are. Empty strings count as absent.

        Args:
            method: The method's name as spelled in the spec.
            raw: Parameter name to value (str, `UploadedFile` or a decoded JSON value).

        Returns:
            The parameters with typed values (uploads stay `UploadedFile`).

        Raises:
            ApiError: A required field is missing, a field is unknown or has the wrong type.
        """
        fields = self.fields(method)
        uploads = {k: v for k, v in raw.items() if isinstance(v, UploadedFile)}
        attached = {
            name
            for value in raw.values()
            if not isinstance(value, UploadedFile)
            for name in re.findall(r"attach://([\w.-]+)", json.dumps(value))
        }
        parsed: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in fields:
                if name in uploads and name in attached:
                    continue  # a file part referred to as attach://<name>
                raise bad_request(f'unknown field "{name}" for method {method}')
            if value is None or value == "":
                continue  # Telegram treats empty and null parameters as absent
            types: list[str] = fields[name]["types"]
            if isinstance(value, str) and value.startswith("attach://") and "InputFile" in types:
                value = uploads.get(value.removeprefix("attach://"), value)
            parsed[name] = self._top_level(types, value, name)
        for name, field in fields.items():
            if field["required"] and name not in parsed:
                raise bad_request("message text is empty" if name == "text" else f"{name} is empty")
        return parsed

    def _top_level(self, types: list[str], value: Any, path: str) -> Any:
        if isinstance(value, UploadedFile):
            if "InputFile" in types:
                return value
            raise _wrong_type(path, types, "an uploaded file")
        if not isinstance(value, str):
            return self.check(types, value, path)
        for type_name in types:
            if type_name == "String":
                return value
            if type_name == "Integer" and _INTEGER.fullmatch(value):
                return int(value)
            if type_name == "Float" and _is_float(value):
                return float(value)
            if type_name == "Boolean" and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
        if any(t not in _PRIMITIVES for t in types):
            try:
                decoded = json.loads(value)
            except ValueError:
                raise _wrong_type(path, types, "text that is not JSON") from None
            return self.check(types, decoded, path)
        raise _wrong_type(path, types, json.dumps(value[:40]))

    def check(self, types: list[str] | str, value: Any, path: str, label: str | None = None) -> Any:
        """Checks a decoded JSON value against one or more spec types.

        Args:
            types: Alternatives such as ``["Integer", "String"]`` or ``"Array of MessageEntity"``.
            value: The value.
            path: Where the value is, for messages (``"reply_parameters.message_id"``).
            label: How to name the alternatives in messages (a union type's name).

        Returns:
            The value, unchanged.

        Raises:
            ApiError: The value matches none of the types.
        """
        alternatives = [types] if isinstance(types, str) else types
        errors: list[tuple[int, ApiError]] = []
        for type_name in alternatives:
            try:
                self._check_one(type_name, value, path)
            except ApiError as error:
                errors.append((self._closeness(type_name, value), error))
            else:
                return value
        if len(errors) == 1:
            raise errors[0][1]
        best_score = max(score for score, _ in errors)
        best = [error for score, error in errors if score == best_score]
        if best_score > 0 and len(best) == 1:
            raise best[0]
        raise _wrong_type(path, [label] if label else alternatives, _describe(value))

    def validate(self, type_name: str, value: Any) -> None:
        """Checks an object (an Update, a Message, ...) against a spec type.

        Raises:
            ApiError: The object does not match; the description names the first problem.
        """
        self.check(type_name, value, type_name)

    def _check_one(self, type_name: str, value: Any, path: str) -> None:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                raise _wrong_type(path, [type_name], _describe(value))
            for index, item in enumerate(value):
                self.check(type_name.removeprefix("Array of "), item, f"{path}[{index}]")
            return
        ok = {
            "Integer": lambda: isinstance(value, int) and not isinstance(value, bool),
            "Float": lambda: isinstance(value, int | float) and not isinstance(value, bool),
            "Boolean": lambda: isinstance(value, bool),
            "String": lambda: isinstance(value, str),
            "InputFile": lambda: isinstance(value, str | UploadedFile),
        }.get(type_name)
        if ok is not None:
            if not ok():
                raise _wrong_type(path, [type_name], _describe(value))
            return
        spec_type = self.types.get(type_name)
        if spec_type is None:
            raise ValueError(f"type {type_name!r} is not in the spec")
        if "subtypes" in spec_type:
            self.check(spec_type["subtypes"], value, path, label=type_name)
            return
        if not isinstance(value, dict):
            raise _wrong_type(path, [type_name], _describe(value))
        fields = {f["name"]: f for f in spec_type.get("fields", [])}
        for key in value:
            if key not in fields:
                raise bad_request(f'unknown field "{path}.{key}" in {type_name}')
        for name, field in fields.items():
            if name not in value:
                if field["required"]:
                    raise bad_request(f"{path}.{name} is empty")
                continue
            self.check(field["types"], value[name], f"{path}.{name}")
            constant = _constant(field)
            if constant is not None and value[name] != constant:
                raise bad_request(f'{path}.{name} must be "{constant}" in {type_name}')

    def _closeness(self, type_name: str, value: Any) -> int:
        """Scores how likely `value` was meant as `type_name`, to report the best error."""
        spec_type = self.types.get(type_name, {})
        if not isinstance(value, dict) or "fields" not in spec_type:
            return 0
        fields = {f["name"]: f for f in spec_type["fields"]}
        score = sum(1 for key in value if key in fields)
        for name, field in fields.items():
            if _constant(field) is not None and value.get(name) == _constant(field):
                score += 100
        return score


def _constant(field: dict[str, Any]) -> str | None:
    """Returns the value a discriminator field such as ``type`` must have, if the spec says."""
    if field["name"] not in ("type", "status", "source") or field["types"] != ["String"]:
        return None
    match = _DISCRIMINATOR.search(field["description"])
    return match.group(1) if match else None


def _is_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _describe(value: Any) -> str:
    return "an uploaded file" if isinstance(value, UploadedFile) else json.dumps(value)[:60]


def _wrong_type(path: str, types: list[str], got: str) -> ApiError:
    return bad_request(f'field "{path}" must be of type {" or ".join(types)}, got {got}')


# --- Text formatting (https://core.telegram.org/bots/api#html-style) -------------------------

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_ATTRIBUTE = re.compile(r"\s+([a-zA-Z][\w-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")


def utf16_len(text: str) -> int:
    """Returns the length of `text` in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _unescape(text: str, start: int, end: int) -> str:
    """Decodes the HTML entities of an attribute value; lone ``&`` stay as they are."""
    return _ENTITY.sub(lambda m: _decode_entity(m) or m.group(0), text[start:end])


def _decode_entity(match: re.Match[str]) -> str | None:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else None


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parses text with ``parse_mode=HTML`` the way Telegram does.

    Args:
        text: The text as sent.

    Returns:
        The visible text and its MessageEntity dicts (offsets in UTF-16 code units).

    Raises:
        ApiError: 400 ``"Bad Request: can't parse entities: ..."`` for an unsupported tag, a
            missing or mismatched end tag, a bare ``<`` or an ``&`` that is not an entity.
    """

    def fail(reason: str, index: int) -> ApiError:
        offset = len(text[:index].encode("utf-8"))
        return bad_request(f"can't parse entities: {reason} at byte offset {offset}")

    out: list[str] = []
    length = 0  # of the visible text so far, in UTF-16 code units
    stack: list[tuple[str, dict[str, Any], int, int]] = []  # tag, entity, start, index
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            match = _ENTITY.match(text, i)
            decoded = _decode_entity(match) if match else None
            if match is None or decoded is None:
                raise fail('bare "&" must be escaped as "&amp;"', i)
            out.append(decoded)
            length += utf16_len(decoded)
            i = match.end()
        elif text.startswith("</", i):
            match = _END_TAG.match(text, i)
            if match is None:
                raise fail("unclosed end tag", i)
            name = match.group(1).lower()
            if not stack:
                raise fail(f'unexpected end tag "</{name}>"', i)
            if stack[-1][0] != name:
                raise fail(f'unmatched end tag, expected "</{stack[-1][0]}>", found "</{name}>"', i)
            _, entity, start, _ = stack.pop()
            if length > start and entity["type"]:
                entities.append({**entity, "offset": start, "length": length - start})
            i = match.end()
        elif char == "<":
            match = _START_TAG.match(text, i)
            name = match.group(1).lower() if match else ""
            if match is None or name not in _HTML_TAGS:
                raise fail(f'unsupported start tag "{name}"', i)
            attributes: dict[str, str] = {}
            position = match.end()
            while attribute := _ATTRIBUTE.match(text, position):
                value_group = next((g for g in (2, 3, 4) if attribute.group(g) is not None), None)
                attributes[attribute.group(1).lower()] = (
                    _unescape(text, attribute.start(value_group), attribute.end(value_group))
                    if value_group
                    else ""
                )
                position = attribute.end()
            close = re.compile(r"\s*>").match(text, position)
            if close is None:
                raise fail(f'unclosed start tag "{name}"', i)
            entity = _tag_entity(name, attributes, stack, partial(fail, index=i))
            stack.append((name, entity, length, i))
            i = close.end()
        else:
            out.append(char)
            length += utf16_len(char)
            i += 1
    if stack:
        raise fail(f'can\'t find end tag corresponding to start tag "{stack[-1][0]}"', stack[-1][3])
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _tag_entity(
    name: str,
    attributes: dict[str, str],
    stack: list[tuple[str, dict[str, Any], int, int]],
    fail: Callable[[str], ApiError],
) -> dict[str, Any]:
    """Returns the entity a start tag opens (``type`` None for a link without href)."""
    entity: dict[str, Any] = {"type": _HTML_TAGS[name]}
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise fail('tag "span" must have class "tg-spoiler"')
    if name == "a":
        href = attributes.get("href", "")
        entity = {"type": "text_link", "url": href} if href else {"type": None}
    elif name == "tg-emoji":
        if "emoji-id" not in attributes:
            raise fail('tag "tg-emoji" must have attribute "emoji-id"')
        entity["custom_emoji_id"] = attributes["emoji-id"]
    elif name == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    elif name == "code" and stack and stack[-1][0] == "pre":
        language = attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1][1]["language"] = language.removeprefix("language-")
        entity["type"] = None  # <pre><code class="language-x"> is one pre entity
    return entity


_DETECTED = re.compile(
    r"(?P<bot_command>(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z][A-Za-z0-9_]{2,31})?(?![\w/]))"
    r"|(?P<mention>(?<![\w/@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w))"
    r"|(?P<url>\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'])"
)


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Finds the entities Telegram adds to a user's plain text message.

    Covers ``bot_command`` (``/start``, ``/start@TanyaBeritaBot``, anywhere after whitespace),
    ``mention`` (``@username``) and ``url`` (``http(s)://...``).

    Returns:
        MessageEntity dicts with offsets and lengths in UTF-16 code units.
    """
    return [
        {
            "type": match.lastgroup,
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _DETECTED.finditer(text)
    ]
