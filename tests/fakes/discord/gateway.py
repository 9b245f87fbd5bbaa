"""The gateway websocket: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, numbered
dispatches, RESUME with replay, RECONNECT and INVALID_SESSION.

Frames are zlib-stream compressed when the client asks ``compress=zlib-stream`` (discord.py
does), as binary frames ending in Z_SYNC_FLUSH like Discord's; otherwise plain JSON text."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

logger = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    query: dict[str, str]
    compressor: Any = None  # zlib.compressobj when the client asked for zlib-stream
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    session: Session | None = None

    def send(self, frame: dict[str, Any] | None) -> None:
        """Queue a frame for the writer; None stops it."""
        self.queue.put_nowait(frame)

    async def write(self) -> None:
        while (frame := await self.queue.get()) is not None:
            text = json.dumps(frame)
            if self.compressor is not None:
                data = self.compressor.compress(text.encode()) + self.compressor.flush(
                    zlib.Z_SYNC_FLUSH
                )
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)


@dataclass(eq=False)
class Session:
    id: str
    identify: dict[str, Any]
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for RESUME
    connection: Connection | None = None

    @property
    def intents(self) -> int:
        return int(self.identify.get("intents") or 0)


class Gateway:
    """One bot's gateway. ``ready`` builds READY's ``d`` for a new session, ``guilds`` the
    GUILD_CREATE bodies for a session (by its intents); ``changed`` runs after every change."""

    def __init__(
        self,
        *,
        token: str,
        ready: Callable[[Session], dict[str, Any]],
        guilds: Callable[[Session], list[dict[str, Any]]],
        changed: Callable[[], None],
        heartbeat_interval: float,
    ) -> None:
        self.token = token
        self.url = ""  # set when the server starts
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.connections: list[dict[str, str]] = []  # path and query of every connection
        self.heartbeats = 0
        self.sessions: dict[str, Session] = {}
        self.session: Session | None = None  # the latest live one
        self._ready, self._guilds, self._changed = ready, guilds, changed
        self._interval = heartbeat_interval
        self._live: set[Connection] = set()

    # --- what the fake does

    def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send a numbered dispatch on the current session (kept for a later RESUME)."""
        session = self.session
        if session is None:
            raise RuntimeError(f"{event}: no bot is connected to the fake gateway")
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        if session.connection is not None:
            session.connection.send(frame)
        return session.seq

    def wants(self, intent_bit: int) -> bool:
        return self.session is not None and bool(self.session.intents & (1 << intent_bit))

    def send_reconnect(self) -> None:
        connection = self.session.connection if self.session else None
        if connection is None:
            raise RuntimeError("RECONNECT: no bot is connected to the fake gateway")
        connection.send({"op": RECONNECT, "d": None})

    def invalidate(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION; when not resumable the client must IDENTIFY again."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("INVALID_SESSION: no bot is connected to the fake gateway")
        if not resumable:
            self.sessions.pop(session.id, None)
        session.connection.send({"op": INVALID_SESSION, "d": resumable})

    async def close(self) -> None:
        for connection in list(self._live):
            connection.send(None)
            await connection.ws.close(code=WSCloseCode.GOING_AWAY)

    # --- the websocket

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        query = dict(request.query)
        self.connections.append({"path": request.path, **query})
        connection = Connection(ws, query)
        if query.get("compress") == "zlib-stream":
            connection.compressor = zlib.compressobj()
        self._live.add(connection)
        writer = asyncio.create_task(connection.write())
        connection.send({"op": HELLO, "d": {"heartbeat_interval": int(self._interval * 1000)}})
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._receive(connection, json.loads(message.data))
        finally:
            self._live.discard(connection)
            connection.send(None)
            with contextlib.suppress(Exception):
                await writer
            self._gone(connection, ws.close_code)
        return ws

    def _gone(self, connection: Connection, code: int | None) -> None:
        session = connection.session
        if session is None or session.connection is not connection:
            return
        session.connection = None
        if code in (1000, 1001):
            # A clean close ends the session on Discord; it cannot be resumed.
            self.sessions.pop(session.id, None)
            if self.session is session:
                self.session = None
        self._changed()

    async def _receive(self, connection: Connection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            connection.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(connection, data or {})
        elif op == RESUME:
            await self._resume(connection, data or {})
        elif connection.session is None:
            await connection.ws.close(code=4003, message=b"Not authenticated.")
        elif op == REQUEST_MEMBERS:
            self._members_chunk(connection.session, data or {})
        elif op != PRESENCE:
            await connection.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, connection: Connection, data: dict[str, Any]) -> None:
        if connection.session is not None:
            await connection.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        if "intents" not in data:
            await connection.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        session = Session(secrets.token_hex(16), data)
        self.sessions[session.id] = session
        self.session, session.connection, connection.session = session, connection, session
        self.identifies.append(data)
        self.dispatch("READY", self._ready(session))
        for guild in self._guilds(session):
            self.dispatch("GUILD_CREATE", guild)
        self._changed()

    async def _resume(self, connection: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        if session is None:
            connection.send({"op": INVALID_SESSION, "d": False})
            return
        if session.connection is not None:  # the old socket's close is still on its way
            session.connection.session = None
        self.session, session.connection, connection.session = session, connection, session
        self.resumes.append(data)
        seen = int(data.get("seq") or 0)
        for frame in session.sent:
            if frame["s"] > seen:
                connection.send(frame)
        self.dispatch("RESUMED", {})
        self._changed()

    def _members_chunk(self, session: Session, data: dict[str, Any]) -> None:
        for guild in self._guilds(session):
            if guild["id"] == str(data.get("guild_id")):
                chunk = {
                    "guild_id": guild["id"],
                    "members": guild["members"],
                    "chunk_index": 0,
                    "chunk_count": 1,
                }
                if data.get("nonce"):
                    chunk["nonce"] = data["nonce"]
                self.dispatch("GUILD_MEMBERS_CHUNK", chunk)
