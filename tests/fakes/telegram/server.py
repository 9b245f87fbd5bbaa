"""A fake Telegram Bot API server on 127.0.0.1, for aiogram's real HTTP layer.

    async with FakeTelegram() as tg:
        api = TelegramAPIServer.from_base(tg.base_url)
        bot = Bot(FakeTelegram.TOKEN, session=AiohttpSession(api=api))
        alice = TgUser(1, "Alice")
        tg.send_text(alice, "octopus hearts")           # queued behind getUpdates
        call = await tg.wait_for("sendMessage")         # every call is recorded
        tg.press(alice, tg.message_of(call), "scr:ok:<job>")
        tg.fail("sendVideo", code=429, retry_after=1)   # the next sendVideo answers 429

Routes: ``POST|GET /bot{token}/{method}`` (a wrong token answers 401) and nothing else; an
unknown method answers 404 like the real API. Every request is parsed like Telegram does:
multipart or urlencoded form fields, JSON-encoded nested objects (``reply_markup``,
``media``...), and uploads referenced as ``attach://<part>`` (``Call.files`` by field name, so
sendVideo's ``video`` and ``thumbnail``, editMessageMedia's ``media``).

``getUpdates`` long-polls a queue: it answers at once when an update with ``update_id >=
offset`` is waiting, else after ``timeout`` seconds with ``[]``. Updates are confirmed (dropped)
by the next call's offset, as in the real API, so ``push(update)`` twice delivers a duplicate.

Checks the real API makes and the fake makes too: HTML parse mode (only Telegram's tags; ``<``
and ``&`` must be escaped), text <= 4096 and caption <= 1024 characters, callback data <= 64
bytes, "message is not modified" on an edit that changes nothing, a callback query answered
twice, uploads over 50 MB (413).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from aiohttp import web
from PIL import Image

from .wire import (
    UPLOAD_LIMIT,
    ApiError,
    Call,
    Failure,
    TgUser,
    Upload,
    check_text,
    error,
    inline,
    parse,
)


class FakeTelegram:
    TOKEN = "123456:TEST-fake-token"
    BOT = {"id": 123456, "is_bot": True, "first_name": "Reel Factory", "username": "reel_bot"}

    def __init__(self) -> None:
        self.base_url = ""
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.pushed_at: dict[int, float] = {}  # update_id -> when it was queued
        self.answered_at: dict[str, float] = {}  # callback query id -> when it was answered
        self._updates: deque[dict[str, Any]] = deque()
        self._arrived = asyncio.Event()
        self._recorded = asyncio.Condition()
        self._failures: defaultdict[str, deque[Failure]] = defaultdict(deque)
        self._update_ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._files = itertools.count(1)
        self._user_files: dict[str, bytes] = {}  # file_id -> what a user sent
        self._runner: web.AppRunner | None = None
        self.forbidden_chats: set[int] = set()  # getChat answers "chat not found"

    # --- lifetime

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 8 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{kind}/{file_id}", self._download)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests do

    def fail(
        self,
        method: str,
        *,
        code: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` answer an error (429 with ``retry_after``)."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if retry_after is not None
                else f"Internal Server Error ({code})"
            )
        for _ in range(times):
            self._failures[method].append(Failure(code, description, retry_after))

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        self._updates.append(update)
        self.pushed_at[update["update_id"]] = time.monotonic()
        self._arrived.set()
        return update

    def redeliver(self, update: dict[str, Any]) -> dict[str, Any]:
        """The same message or press again, in a new update (as after a webhook retry)."""
        return self.push({**update, "update_id": next(self._update_ids)})

    def send_text(
        self,
        user: TgUser,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user's message as an update (queued for getUpdates); returns the update."""
        chat = chat_id or user.id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat]),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": user.first_name},
            "from": user.as_dict(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return self.push({"update_id": next(self._update_ids), "message": message})

    def send_file(
        self, user: TgUser, filename: str, data: bytes, *, kind: str = "audio"
    ) -> dict[str, Any]:
        """A user's file (an ``audio`` or a ``document`` message); getFile and the file
        download serve its bytes, as the Bot API does."""
        file_id = f"user{next(self._files)}"
        self._user_files[file_id] = data
        described: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": filename,
            "file_size": len(data),
        }
        if kind == "audio":
            described["duration"] = 1
        message = {
            "message_id": next(self._message_ids[user.id]),
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.as_dict(),
            kind: described,
        }
        return self.push({"update_id": next(self._update_ids), "message": message})

    def press(self, user: TgUser, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A press on a button of the bot's ``message``; returns the update."""
        update_id = next(self._update_ids)
        query = {
            "id": f"cq{update_id}",
            "from": user.as_dict(),
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return self.push({"update_id": update_id, "callback_query": query})

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        where: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 30.0,
    ) -> list[Call]:
        """The first ``count`` successful calls of ``method`` matching ``where``."""

        def found() -> list[Call]:
            return [
                call
                for call in self.calls
                if call.method == method and call.status == 200 and (where is None or where(call))
            ]

        async with asyncio.timeout(timeout), self._recorded:
            await self._recorded.wait_for(lambda: len(found()) >= count)
        return found()[:count]

    def message_of(self, call: Call) -> dict[str, Any]:
        """The current state of the message a call sent or edited."""
        result = call.result
        assert isinstance(result, dict), f"{call.method} returned no message"
        return self.messages[(result["chat"]["id"], result["message_id"])]

    @staticmethod
    def buttons(message: dict[str, Any]) -> dict[str, str]:
        """Button text -> callback data of a message's inline keyboard."""
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return {button["text"]: button.get("callback_data", "") for row in rows for button in row}

    @classmethod
    def button(cls, message: dict[str, Any], label: str) -> str:
        """The callback data of the button whose text contains ``label``."""
        matches = [data for text, data in cls.buttons(message).items() if label in text]
        assert len(matches) == 1, f"{label!r} in {list(cls.buttons(message))}"
        return matches[0]

    # --- the server

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._recorded:
            self._recorded.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.TOKEN:
            return error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await parse(request)
        call = Call(method, params, files, time.monotonic())
        try:
            if self._failures[method]:
                failure = self._failures[method].popleft()
                raise ApiError(failure.code, failure.description, failure.retry_after)
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            call.result = await handler(params, files)
        except ApiError as exc:
            call.status = exc.code
            await self._record(call)
            return error(exc.code, exc.description, exc.retry_after)
        await self._record(call)
        return web.json_response({"ok": True, "result": call.result})

    # --- methods

    async def _m_getme(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self.BOT

    async def _m_getchat(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        """Any chat the bot is asked about: a channel for a negative id, else a private chat
        (an id in ``forbidden_chats`` answers 400 "chat not found", as for a bot not in it)."""
        chat_id = int(params["chat_id"])
        if chat_id in self.forbidden_chats:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id < 0:
            return {"id": chat_id, "type": "channel", "title": f"Channel {chat_id}"}
        return {"id": chat_id, "type": "private", "first_name": "User"}

    async def _m_getupdates(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()
        if not self._updates and timeout > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        return [update for update in self._updates if update["update_id"] >= offset][:100]

    async def _m_getfile(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        file_id = str(params.get("file_id") or "")
        if file_id not in self._user_files:
            raise ApiError(400, "Bad Request: invalid file_id")
        size = len(self._user_files[file_id])
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": size,
            "file_path": f"music/{file_id}",
        }

    async def _download(self, request: web.Request) -> web.StreamResponse:
        data = self._user_files.get(request.match_info["file_id"])
        if request.match_info["token"] != self.TOKEN or data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _m_setmycommands(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return True

    async def _m_sendchataction(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return True

    async def _m_deletemessage(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        query_id = str(params["callback_query_id"])
        if query_id in self.answered_at:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: text is too long")
        self.answered_at[query_id] = time.monotonic()
        return True

    async def _m_sendmessage(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        check_text(params, "text", 4096)
        return self._new_message(params, text=params["text"])

    async def _m_sendphoto(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        check_text(params, "caption", 1024)
        return self._new_message(params, photo=self._photo(files["photo"]), caption=params)

    async def _m_sendvideo(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        check_text(params, "caption", 1024)
        video = files["video"]
        if len(video.data) > UPLOAD_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        described = {
            "file_id": f"video{next(self._files)}",
            "file_unique_id": f"uv{len(self.calls)}",
            "width": int(params.get("width") or 0),
            "height": int(params.get("height") or 0),
            "duration": int(params.get("duration") or 0),
            "file_size": len(video.data),
        }
        return self._new_message(params, video=described, caption=params)

    async def _m_editmessagetext(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        check_text(params, "text", 4096)
        message = self._message(params)
        changes = {"text": params["text"], "reply_markup": inline(params)}
        return self._edit(message, changes)

    async def _m_editmessagereplymarkup(
        self, params: dict[str, Any], files: dict[str, Upload]
    ) -> Any:
        return self._edit(self._message(params), {"reply_markup": inline(params)})

    async def _m_editmessagemedia(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        message = self._message(params)
        media = params["media"]
        check_text(media, "caption", 1024)
        changes = {
            "photo": self._photo(files["media"]),
            "caption": media.get("caption"),
            "reply_markup": inline(params),
        }
        return self._edit(message, changes, always=True)

    # --- messages

    def _photo(self, upload: Upload) -> list[dict[str, Any]]:
        with Image.open(io.BytesIO(upload.data)) as image:
            width, height = image.size
        return [
            {
                "file_id": f"photo{next(self._files)}",
                "file_unique_id": f"up{len(self.calls)}",
                "width": width,
                "height": height,
                "file_size": len(upload.data),
            }
        ]

    def _new_message(
        self, params: dict[str, Any], *, caption: dict[str, Any] | None = None, **content: Any
    ) -> dict[str, Any]:
        chat = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat]),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": self.BOT,
            **content,
        }
        if caption is not None and caption.get("caption"):
            message["caption"] = caption["caption"]
        if (markup := inline(params)) is not None:
            message["reply_markup"] = markup
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and "message_id" in reply:
            # As the Bot API: a reply to a message that is gone fails unless allowed.
            original = self.messages.get((chat, int(reply["message_id"])))
            if original is None and not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            if original is not None:
                message["reply_to_message"] = original
        self.messages[(chat, message["message_id"])] = message
        return message

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _edit(
        self, message: dict[str, Any], changes: dict[str, Any], *, always: bool = False
    ) -> dict[str, Any]:
        edited = {**message, **{k: v for k, v in changes.items() if v is not None}}
        for name, value in changes.items():
            if value is None:
                edited.pop(name, None)
        if edited == message and not always:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply"
                " markup are exactly the same as a current content and reply markup of the"
                " message",
            )
        edited["edit_date"] = int(time.time())
        self.messages[(message["chat"]["id"], message["message_id"])] = edited
        return edited
