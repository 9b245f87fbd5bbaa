"""Discord's wire format as the fake needs it: the world's objects (users, guilds, channels,
roles) as small dataclasses with their JSON payloads, snowflakes, request bodies (JSON or
multipart ``payload_json`` + ``files[n]``), recorded calls and Discord's error bodies."""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, web

DISCORD_EPOCH_MS = 1_420_070_400_000
FILE_LIMIT = 10 * 1024 * 1024  # utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
# What @everyone may do in the fake's guilds: view, send, embed, attach, read history,
# mention everyone, use application commands (so the worst case of a ping is real).
EVERYONE_PERMISSIONS = sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 17, 31, 38))
EPHEMERAL, LOADING, COMPONENTS_V2 = 1 << 6, 1 << 7, 1 << 15


class Snowflakes:
    """Increasing ids carrying their creation time, as discord.py's ``created_at`` reads it."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, stamp)
        return self._last


def iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat()


@dataclass(frozen=True, slots=True)
class DcUser:
    """A Discord user; ``dms_open=False`` makes DMs to them fail (403/50007) as privacy does."""

    id: int
    name: str = "tester"
    global_name: str | None = None
    locale: str = "en-US"
    bot: bool = False
    dms_open: bool = True

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(eq=False, slots=True)
class DcRole:
    id: int
    name: str
    guild_id: int
    permissions: int = 0
    position: int = 1
    mentionable: bool = True

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass(eq=False, slots=True)
class DcChannel:
    """A guild text channel (type 0) or a DM (type 1, ``recipient`` set).

    ``bot_can_send=False`` answers the bot's channel posts with 403 50013 Missing Permissions;
    ``attachment_size_limit`` is the per-file limit for channel posts (boosts raise it)."""

    id: int
    name: str
    guild_id: int | None = None
    type: int = 0
    recipient: DcUser | None = None
    attachment_size_limit: int = FILE_LIMIT
    bot_can_send: bool = True
    position: int = 0

    def payload(self) -> dict[str, Any]:
        if self.type == 1:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": 1,
                "recipients": [self.recipient.payload()],
                "last_message_id": None,
                "flags": 0,
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }


@dataclass(eq=False, slots=True)
class DcMember:
    user: DcUser
    roles: list[DcRole] = field(default_factory=list)
    joined_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(eq=False, slots=True)
class DcGuild:
    id: int
    name: str
    owner_id: int
    locale: str = "en-US"
    channels: list[DcChannel] = field(default_factory=list)
    roles: list[DcRole] = field(default_factory=list)  # roles[0] is @everyone (id == guild id)
    members: dict[int, DcMember] = field(default_factory=dict)

    def channel(self, name: str) -> DcChannel:
        found = [channel for channel in self.channels if channel.name == name]
        assert len(found) == 1, f"channel {name!r} in {[c.name for c in self.channels]}"
        return found[0]

    def role(self, name: str) -> DcRole:
        found = [role for role in self.roles if role.name == name]
        assert len(found) == 1, f"role {name!r} in {[r.name for r in self.roles]}"
        return found[0]

    def permissions(self, user_id: int) -> int:
        if user_id == self.owner_id:
            return (1 << 41) - 1
        member = self.members.get(user_id)
        total = self.roles[0].permissions
        for role in member.roles if member else []:
            total |= role.permissions
        return total

    def member_payload(self, user_id: int, *, with_permissions: bool = False) -> dict[str, Any]:
        member = self.members[user_id]
        payload: dict[str, Any] = {
            "user": member.user.payload(),
            "roles": [str(role.id) for role in member.roles],
            "joined_at": iso(member.joined_at),
            "nick": None,
            "avatar": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
        }
        if with_permissions:
            payload["permissions"] = str(self.permissions(user_id))
        return payload

    def payload(self, *, all_members: bool = True) -> dict[str, Any]:
        """The GUILD_CREATE body: the guild with its channels, roles and members; without the
        GUILD_MEMBERS intent Discord sends only the bot's own member (``all_members=False``)."""
        members = [user_id for user_id, m in self.members.items() if all_members or m.user.bot]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "preferred_locale": self.locale,
            "features": [],
            "roles": [role.payload() for role in self.roles],
            "channels": [channel.payload() for channel in self.channels],
            "members": [self.member_payload(user_id) for user_id in members],
            "member_count": len(self.members),
            "large": False,
            "unavailable": False,
            "joined_at": iso(),
            "emojis": [],
            "stickers": [],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
        }


@dataclass(slots=True)
class Upload:
    """A file part of a multipart request (``files[n]``)."""

    index: int
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Call:
    """One REST request as the fake saw it, and how it answered."""

    route: str  # the handler's name, e.g. "interaction_callback", "create_message"
    method: str
    path: str  # the route template, e.g. "/channels/{channel_id}/messages"
    params: dict[str, str]
    query: dict[str, str]
    body: Any  # parsed JSON (the payload_json part of a multipart request)
    files: list[Upload]
    at: float  # time.monotonic() on arrival
    status: int = 200
    response: Any = None

    @property
    def data(self) -> dict[str, Any]:
        """The message part of the body (``data`` of an interaction callback)."""
        if isinstance(self.body, dict):
            inner = self.body.get("data") if self.route == "interaction_callback" else self.body
            return inner if isinstance(inner, dict) else {}
        return {}

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")


@dataclass(slots=True)
class Failure:
    status: int
    code: int
    message: str
    retry_after: float | None = None


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message = status, code, message
        self.errors, self.retry_after = errors, retry_after


def json_response(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """A JSON answer whose Content-Type is exactly ``application/json``: discord.py's
    ``json_or_text`` compares the header verbatim and would hand back text otherwise."""
    if body is None and status == 204:
        return web.Response(status=204)
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


_bucket_ids = itertools.count(1)


def error_response(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"message": exc.message, "code": exc.code}
    if exc.errors:
        body["errors"] = exc.errors
    headers: dict[str, str] = {}
    if exc.retry_after is not None:
        # discord.py treats a 429 without a Via header as a Cloudflare ban, so send one.
        body.update(retry_after=exc.retry_after, **{"global": False})
        reset = time.time() + exc.retry_after
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(exc.retry_after + 0.5))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{reset:.3f}",
            "X-RateLimit-Reset-After": f"{exc.retry_after:.3f}",
            "X-RateLimit-Bucket": f"fake{next(_bucket_ids)}",
            "X-RateLimit-Scope": "user",
        }
    return json_response(body, status=exc.status, headers=headers)


FILE_FIELD = re.compile(r"files\[(\d+)\]")


async def parse_body(request: web.Request) -> tuple[Any, list[Upload]]:
    """The JSON body, or ``payload_json`` and the ``files[n]`` parts of a multipart one."""
    if not request.can_read_body:
        return None, []
    if request.content_type == "multipart/form-data":
        body: Any = None
        files: list[Upload] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):  # a nested multipart
                raise ApiError(400, 50035, "Invalid Form Body")
            data = await part.read()
            if part.name == "payload_json":
                body = _loads(data)
            elif part.name and (match := FILE_FIELD.fullmatch(part.name)):
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files.append(Upload(int(match[1]), part.filename or "", content_type, bytes(data)))
            else:
                raise ApiError(400, 50035, "Invalid Form Body", errors=_unknown_part(part.name))
        return body, files
    return _loads(await request.read()), []


def _loads(raw: bytes | bytearray) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None


def _unknown_part(name: str | None) -> dict[str, Any]:
    return {str(name): {"_errors": [{"code": "UNKNOWN_FIELD", "message": "Unknown field."}]}}
