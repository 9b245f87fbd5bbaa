"""The REST routes: the dispatcher (auth, injected failures, recording) and the bot's own
routes (users, application, gateway, commands, channels, messages). Interaction callbacks and
webhooks are in ``webhooks``."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .checks import Problems, check_commands, check_message
from .messages import DcMessage, attachments_for
from .wire import (
    ApiError,
    Call,
    DcChannel,
    DcGuild,
    error_response,
    json_response,
    parse_body,
)

if TYPE_CHECKING:
    from .server import FakeDiscord

Handler = Callable[["FakeDiscord", Call], Any]
# Channel posts cannot be ephemeral: suppress embeds, silent, components v2.
SENDABLE_FLAGS = 1 << 2 | 1 << 12 | 1 << 15


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    name: str
    handler: Handler
    auth: bool = True  # webhook and interaction routes carry the token in the path instead


async def handle(fake: FakeDiscord, route: Endpoint, request: web.Request) -> web.Response:
    call = Call(
        route.name,
        request.method,
        route.path,
        dict(request.match_info),
        dict(request.query),
        None,
        [],
        time.monotonic(),
    )
    try:
        if route.auth and request.headers.get("Authorization") != f"Bot {fake.TOKEN}":
            raise ApiError(401, 0, "401: Unauthorized")
        call.body, call.files = await parse_body(request)
        for index, (target, failure) in enumerate(fake.failures):
            if target in (route.name, request.method, f"{request.method} {route.path}"):
                del fake.failures[index]
                raise ApiError(
                    failure.status, failure.code, failure.message, retry_after=failure.retry_after
                )
        result = route.handler(fake, call)
    except ApiError as exc:
        return _refused(fake, call, exc)
    except Exception as exc:
        # The fake itself broke: answer at once (a 500 would make discord.py retry for
        # seconds) and keep the error for FakeDiscord.__aexit__ to raise.
        fake.crashes.append(exc)
        return _refused(fake, call, ApiError(400, 0, f"the fake crashed: {exc!r}"))
    call.status, call.response = (204 if result is None else 200), result
    record(fake, call)
    return json_response(result, status=call.status)


def _refused(fake: FakeDiscord, call: Call, exc: ApiError) -> web.Response:
    call.status, call.response = exc.status, {"message": exc.message, "code": exc.code}
    if exc.errors:
        call.response["errors"] = exc.errors
    record(fake, call)
    return error_response(exc)


def record(fake: FakeDiscord, call: Call) -> None:
    fake.calls.append(call)
    fake.changed()


def add_routes(app: web.Application, fake: FakeDiscord, routes: list[Endpoint]) -> None:
    for route in routes:
        app.router.add_route(
            route.method, "/api/v10" + route.path, functools.partial(handle, fake, route)
        )


# --- users, application, gateway


def get_me(fake: FakeDiscord, call: Call) -> Any:
    return {**fake.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0}


def application_info(fake: FakeDiscord, call: Call) -> Any:
    return {
        "id": str(fake.APP_ID),
        "name": fake.bot.name,
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": fake.owner.payload(),
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "bot": fake.bot.payload(),
        "interactions_endpoint_url": None,
        "summary": "",
        "rpc_origins": [],
    }


def get_bot_gateway(fake: FakeDiscord, call: Call) -> Any:
    limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
    return {"url": fake.gateway.url, "shards": 1, "session_start_limit": limit}


def get_gateway(fake: FakeDiscord, call: Call) -> Any:
    return {"url": fake.gateway.url}


def get_user(fake: FakeDiscord, call: Call) -> Any:
    user = fake.users.get(int(call.params["user_id"]))
    if user is None:
        raise ApiError(404, 10013, "Unknown User")
    return user.payload()


def create_dm(fake: FakeDiscord, call: Call) -> Any:
    user = fake.users.get(int((call.body or {}).get("recipient_id") or 0))
    if user is None:
        raise ApiError(404, 10013, "Unknown User")
    return fake.dm_channel(user).payload()


def get_member(fake: FakeDiscord, call: Call) -> Any:
    guild = _guild(fake, call)
    user_id = int(call.params["user_id"])
    if user_id not in guild.members:
        raise ApiError(404, 10007, "Unknown Member")
    return guild.member_payload(user_id)


# --- application commands


def _commands_of(fake: FakeDiscord, call: Call) -> tuple[int | None, list[dict[str, Any]]]:
    if int(call.params["app_id"]) != fake.APP_ID:
        raise ApiError(403, 50001, "Missing Access")
    guild_id = int(call.params["guild_id"]) if "guild_id" in call.params else None
    if guild_id is not None:
        _guild(fake, call)
    return guild_id, fake.commands[guild_id]


def _registered(
    fake: FakeDiscord, guild_id: int | None, command: dict[str, Any], old: list[dict[str, Any]]
) -> dict[str, Any]:
    kind = command.get("type", 1)
    same = next((c for c in old if c["name"] == command["name"] and c["type"] == kind), None)
    registered = {
        "options": [],
        "default_member_permissions": None,
        "nsfw": False,
        "contexts": None,
        "integration_types": [0],
        **command,
        "id": same["id"] if same else str(fake.snowflake()),
        "application_id": str(fake.APP_ID),
        "version": str(fake.snowflake()),
        "type": kind,
        "description": command.get("description") or "",
    }
    if guild_id is not None:
        registered["guild_id"] = str(guild_id)
    return registered


def get_commands(fake: FakeDiscord, call: Call) -> Any:
    return _commands_of(fake, call)[1]


def put_commands(fake: FakeDiscord, call: Call) -> Any:
    guild_id, old = _commands_of(fake, call)
    check_commands(call.body)
    fake.commands[guild_id] = [_registered(fake, guild_id, c, old) for c in call.body]
    return fake.commands[guild_id]


def post_command(fake: FakeDiscord, call: Call) -> Any:
    guild_id, old = _commands_of(fake, call)
    check_commands([call.body])
    command = _registered(fake, guild_id, call.body, old)
    fake.commands[guild_id] = [c for c in old if c["id"] != command["id"]] + [command]
    return command


def delete_command(fake: FakeDiscord, call: Call) -> Any:
    guild_id, old = _commands_of(fake, call)
    if not any(c["id"] == call.params["command_id"] for c in old):
        raise ApiError(404, 10063, "Unknown application command")
    fake.commands[guild_id] = [c for c in old if c["id"] != call.params["command_id"]]
    return None


# --- channels and messages


def _guild(fake: FakeDiscord, call: Call) -> DcGuild:
    guild = fake.guilds.get(int(call.params["guild_id"]))
    if guild is None:
        raise ApiError(404, 10004, "Unknown Guild")
    return guild


def _channel(fake: FakeDiscord, call: Call) -> DcChannel:
    channel = fake.channels.get(int(call.params["channel_id"]))
    if channel is None:
        raise ApiError(404, 10003, "Unknown Channel")
    return channel


def _message(fake: FakeDiscord, call: Call) -> DcMessage:
    channel = _channel(fake, call)
    message = fake.all_messages.get(int(call.params["message_id"]))
    # Ephemeral messages exist only for their user; the bot's token cannot reach them here.
    if message is None or message.channel is not channel or message.deleted or message.ephemeral:
        raise ApiError(404, 10008, "Unknown Message")
    return message


def post_message(
    fake: FakeDiscord,
    channel: DcChannel,
    call: Call,
    *,
    limit: int,
    flags_allowed: int,
    interaction: Any = None,
    extra_flags: int = 0,
    problems: Problems | None = None,
) -> DcMessage:
    """Validate and store a new message from the bot (a channel post, response or followup)."""
    body = call.data
    make = functools.partial(fake.attachment, channel)
    attachments = attachments_for(body, call.files, [], make, limit=limit) or []
    check_message(body, problems=problems or Problems(), creating=True, files=len(attachments))
    message = DcMessage(
        fake.snowflake(),
        channel,
        fake.bot,
        body.get("content") or "",
        body.get("embeds") or [],
        body.get("components") or [],
        attachments,
        (body.get("flags") or 0) & flags_allowed | extra_flags,
        body.get("allowed_mentions"),
        interaction,
    )
    return fake.store(message)


def edit_message_with(
    fake: FakeDiscord,
    message: DcMessage,
    body: dict[str, Any],
    files: list[Any],
    *,
    limit: int,
    problems: Problems | None = None,
) -> DcMessage:
    """Validate and apply an edit; an edit that would leave nothing answers 50006."""
    check_message(body, problems=problems or Problems(), creating=False)
    make = functools.partial(fake.attachment, message.channel)
    attachments = attachments_for(body, files, message.attachments, make, limit=limit)
    kept = message.attachments if attachments is None else attachments
    fields = {k: body.get(k, getattr(message, k)) for k in ("content", "embeds", "components")}
    if not any(fields.values()) and not kept:
        raise ApiError(400, 50006, "Cannot send an empty message")
    message.apply(body, attachments)
    fake.announce("MESSAGE_UPDATE", message)
    return message


def create_message(fake: FakeDiscord, call: Call) -> Any:
    channel = _channel(fake, call)
    if channel.type == 1 and channel.recipient is not None and not channel.recipient.dms_open:
        raise ApiError(403, 50007, "Cannot send messages to this user")
    if not channel.bot_can_send:
        raise ApiError(403, 50013, "Missing Permissions")
    limit = channel.attachment_size_limit
    return post_message(fake, channel, call, limit=limit, flags_allowed=SENDABLE_FLAGS).payload()


def get_message(fake: FakeDiscord, call: Call) -> Any:
    return _message(fake, call).payload()


def edit_message(fake: FakeDiscord, call: Call) -> Any:
    message = _message(fake, call)
    if message.author != fake.bot:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    limit = message.channel.attachment_size_limit
    return edit_message_with(fake, message, call.data, call.files, limit=limit).payload()


def delete_message(fake: FakeDiscord, call: Call) -> Any:
    message = _message(fake, call)
    if message.author != fake.bot:
        raise ApiError(403, 50013, "Missing Permissions")
    message.deleted = True
    fake.announce("MESSAGE_DELETE", message)
    return None


def history(fake: FakeDiscord, call: Call) -> Any:
    channel = _channel(fake, call)
    limit = int(call.query.get("limit") or 50)
    found = [m for m in fake.messages(channel) if not m.ephemeral]
    return [m.payload() for m in reversed(found)][:limit]


def get_channel(fake: FakeDiscord, call: Call) -> Any:
    return _channel(fake, call).payload()


def typing(fake: FakeDiscord, call: Call) -> Any:
    _channel(fake, call)
    return None


APP = "/applications/{app_id}"
ROUTES = [
    Endpoint("GET", "/users/@me", "get_me", get_me),
    Endpoint("POST", "/users/@me/channels", "create_dm", create_dm),
    Endpoint("GET", "/users/{user_id}", "get_user", get_user),
    Endpoint("GET", "/oauth2/applications/@me", "application_info", application_info),
    Endpoint("GET", "/gateway/bot", "get_bot_gateway", get_bot_gateway),
    Endpoint("GET", "/gateway", "get_gateway", get_gateway),
    Endpoint("GET", f"{APP}/commands", "get_global_commands", get_commands),
    Endpoint("PUT", f"{APP}/commands", "bulk_global_commands", put_commands),
    Endpoint("POST", f"{APP}/commands", "create_global_command", post_command),
    Endpoint("DELETE", f"{APP}/commands/{{command_id}}", "delete_global_command", delete_command),
    Endpoint("GET", f"{APP}/guilds/{{guild_id}}/commands", "get_guild_commands", get_commands),
    Endpoint("PUT", f"{APP}/guilds/{{guild_id}}/commands", "bulk_guild_commands", put_commands),
    Endpoint("POST", f"{APP}/guilds/{{guild_id}}/commands", "create_guild_command", post_command),
    Endpoint(
        "DELETE",
        f"{APP}/guilds/{{guild_id}}/commands/{{command_id}}",
        "delete_guild_command",
        delete_command,
    ),
    Endpoint("GET", "/guilds/{guild_id}/members/{user_id}", "get_member", get_member),
    Endpoint("GET", "/channels/{channel_id}", "get_channel", get_channel),
    Endpoint("GET", "/channels/{channel_id}/messages", "history", history),
    Endpoint("POST", "/channels/{channel_id}/messages", "create_message", create_message),
    Endpoint("GET", "/channels/{channel_id}/messages/{message_id}", "get_message", get_message),
    Endpoint("PATCH", "/channels/{channel_id}/messages/{message_id}", "edit_message", edit_message),
    Endpoint(
        "DELETE", "/channels/{channel_id}/messages/{message_id}", "delete_message", delete_message
    ),
    Endpoint("POST", "/channels/{channel_id}/typing", "typing", typing),
]
