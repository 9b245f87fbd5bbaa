"""The Bot API's wire format as the fake needs it: requests parsed like Telegram parses
them (form fields, JSON-encoded objects, ``attach://`` uploads), its checks (HTML parse mode,
lengths, callback data) and its error bodies."""

from __future__ import annotations

import contextlib
import html
import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

UPLOAD_LIMIT = 50 * 1024 * 1024
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
TAG_RE = re.compile(r"<(/?)([a-zA-Z-]+)(\s[^<>]*)?>")
ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


@dataclass(frozen=True, slots=True)
class TgUser:
    id: int
    first_name: str = "Tester"
    language_code: str | None = "en"

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass(slots=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Upload]
    at: float  # time.monotonic() on arrival
    status: int = 200
    result: Any = None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def plain(self) -> str:
        return plain(self.text)


@dataclass(slots=True)
class Failure:
    code: int
    description: str
    retry_after: int | None = None


def plain(text: str) -> str:
    """What a user sees of HTML text."""
    return html.unescape(TAG_RE.sub("", text))


def check_html(text: str) -> str | None:
    """Why Telegram would refuse ``text`` in HTML parse mode, or None."""
    open_tags: list[str] = []
    for match in re.finditer(r"<[^>]*>?|&[^;\s]*;?", text):
        token = match.group()
        if token.startswith("&"):
            if not ENTITY_RE.fullmatch(token):
                return f"can't parse entities: unsupported entity {token!r}"
            continue
        tag = TAG_RE.fullmatch(token)
        if tag is None or tag.group(2).lower() not in TAGS:
            return f"can't parse entities: unsupported start tag {token!r}"
        name = tag.group(2).lower()
        if tag.group(1):
            if not open_tags or open_tags.pop() != name:
                return f"can't parse entities: unexpected end tag {name!r}"
        else:
            open_tags.append(name)
    return f"can't parse entities: unclosed tag {open_tags[-1]!r}" if open_tags else None


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


def inline(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            if len(button.get("callback_data", "").encode()) > 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def check_text(params: dict[str, Any], name: str, limit: int) -> None:
    text = params.get(name)
    if text is None:
        return
    if len(plain(str(text))) > limit:
        raise ApiError(400, f"Bad Request: message {name} is too long")
    if (params.get("parse_mode") or "").upper() == "HTML" and (problem := check_html(text)):
        raise ApiError(400, f"Bad Request: {problem}")


async def parse(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    fields: dict[str, Any] = dict(request.query)
    parts: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                parts[name] = Upload(value.filename, value.content_type, value.file.read())
            else:
                fields[name] = value
    params: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    for name, value in fields.items():
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[name] = value
        for attached in attachments(value):
            if attached in parts:
                files[name] = parts[attached]
    return params, files


def attachments(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.removeprefix("attach://")] if value.startswith("attach://") else []
    if isinstance(value, dict):
        return [name for item in value.values() for name in attachments(item)]
    if isinstance(value, list):
        return [name for item in value for name in attachments(item)]
    return []


def error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)
