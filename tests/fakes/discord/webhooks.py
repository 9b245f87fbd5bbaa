"""Interaction callbacks and the interaction webhook (followups, @original), with Discord's
deadlines: acknowledge within ``ack_deadline`` (3 s) or 404/10062; once only (400/40060); the
token works for ``token_lifetime`` (15 min) and then answers 401/50027.

The first followup after a deferred response (type 5) replaces the loading message and keeps
the defer's ephemerality, as Discord documents; later followups are messages of their own."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .checks import Problems, check_modal
from .interactions import COMMAND, COMPONENT, DcInteraction
from .messages import DcMessage
from .rest import Endpoint, edit_message_with, post_message
from .wire import EPHEMERAL, LOADING, ApiError, Call

if TYPE_CHECKING:
    from .server import FakeDiscord

MESSAGE, DEFERRED, DEFERRED_UPDATE, UPDATE, MODAL = 4, 5, 6, 7, 9
RESPONSE_FLAGS = 1 << 2 | EPHEMERAL | 1 << 12 | 1 << 15


def _allowed(handle: DcInteraction) -> set[int]:
    if handle.type == COMMAND:
        return {MESSAGE, DEFERRED, MODAL}
    if handle.type == COMPONENT:
        return {MESSAGE, DEFERRED, DEFERRED_UPDATE, UPDATE, MODAL}
    # A modal submit can update the message only when the modal came from a component.
    return {MESSAGE, DEFERRED} | ({DEFERRED_UPDATE, UPDATE} if handle.source else set())


def callback(fake: FakeDiscord, call: Call) -> Any:
    handle = fake.interactions.get(int(call.params["interaction_id"]))
    if handle is None or handle.token != call.params["token"]:
        raise ApiError(404, 10062, "Unknown interaction")
    now = time.monotonic()
    if handle.acked:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    if now - handle.created > fake.ack_deadline:
        raise ApiError(404, 10062, "Unknown interaction")
    body = call.body if isinstance(call.body, dict) else {}
    kind, data = int(body.get("type") or 0), call.data
    if kind not in _allowed(handle):
        problems = Problems()
        problems.add(
            ("type",), "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type"
        )
        problems.raise_if_any()
    limit = handle.attachment_size_limit
    if kind == MESSAGE:
        handle.original = post_message(
            fake,
            handle.channel,
            call,
            limit=limit,
            flags_allowed=RESPONSE_FLAGS,
            interaction=handle,
            problems=Problems("data"),
        )
    elif kind == DEFERRED:
        flags = LOADING | ((data.get("flags") or 0) & EPHEMERAL)
        message = DcMessage(
            fake.snowflake(), handle.channel, fake.bot, flags=flags, interaction=handle
        )
        handle.original = fake.store(message)
    elif kind == DEFERRED_UPDATE:
        handle.original = handle.source
    elif kind == UPDATE:
        assert handle.source is not None
        handle.original = edit_message_with(
            fake, handle.source, data, call.files, limit=limit, problems=Problems("data")
        )
    else:
        check_modal(data, Problems("data"))
        handle.modal = data
    handle.response_type, handle.acked_at = kind, now
    if call.query.get("with_response") not in ("1", "true", "True"):
        return None
    return _callback_response(handle, kind)


def _callback_response(handle: DcInteraction, kind: int) -> dict[str, Any]:
    interaction: dict[str, Any] = {"id": str(handle.id), "type": handle.type}
    result: dict[str, Any] = {"interaction": interaction}
    message = handle.original if kind in (MESSAGE, DEFERRED, UPDATE) else None
    if message is not None:
        interaction.update(
            response_message_id=str(message.id),
            response_message_loading=message.loading,
            response_message_ephemeral=message.ephemeral,
        )
        result["resource"] = {"type": kind, "message": message.payload()}
    return result


def _handle_for(fake: FakeDiscord, call: Call) -> DcInteraction:
    if int(call.params["app_id"]) != fake.APP_ID:
        raise ApiError(404, 10015, "Unknown Webhook")
    handle = fake.by_token.get(call.params["token"])
    if handle is None:
        raise ApiError(401, 50027, "Invalid Webhook Token")
    age = time.monotonic() - handle.created
    if handle.expired or age > fake.token_lifetime:
        raise ApiError(401, 50027, "Invalid Webhook Token")
    if not handle.acked:
        # Before the response the token is not a webhook yet; after the deadline it is dead.
        if age > fake.ack_deadline:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        raise ApiError(404, 10015, "Unknown Webhook")
    return handle


def _message_of(fake: FakeDiscord, handle: DcInteraction, call: Call) -> DcMessage:
    key = call.params["message_id"]
    if key == "@original":
        message = handle.original
    else:
        message = fake.all_messages.get(int(key)) if key.isdigit() else None
        if message is not handle.original and message not in handle.followups:
            message = None
    if message is None or message.deleted:
        raise ApiError(404, 10008, "Unknown Message")
    return message


def execute(fake: FakeDiscord, call: Call) -> Any:
    handle = _handle_for(fake, call)
    original, limit = handle.original, handle.attachment_size_limit
    if handle.response_type == DEFERRED and original is not None and original.loading:
        return edit_message_with(fake, original, call.data, call.files, limit=limit).payload()
    message = post_message(
        fake, handle.channel, call, limit=limit, flags_allowed=RESPONSE_FLAGS, interaction=handle
    )
    handle.followups.append(message)
    return message.payload()


def get_message(fake: FakeDiscord, call: Call) -> Any:
    return _message_of(fake, _handle_for(fake, call), call).payload()


def edit_message(fake: FakeDiscord, call: Call) -> Any:
    handle = _handle_for(fake, call)
    message = _message_of(fake, handle, call)
    limit = handle.attachment_size_limit
    return edit_message_with(fake, message, call.data, call.files, limit=limit).payload()


def delete_message(fake: FakeDiscord, call: Call) -> Any:
    message = _message_of(fake, _handle_for(fake, call), call)
    message.deleted = True
    fake.announce("MESSAGE_DELETE", message)
    return None


HOOK = "/webhooks/{app_id}/{token}"
ROUTES = [
    Endpoint(
        "POST",
        "/interactions/{interaction_id}/{token}/callback",
        "interaction_callback",
        callback,
        auth=False,
    ),
    Endpoint("POST", HOOK, "execute_webhook", execute, auth=False),
    Endpoint(
        "GET", HOOK + "/messages/{message_id}", "get_webhook_message", get_message, auth=False
    ),
    Endpoint(
        "PATCH", HOOK + "/messages/{message_id}", "edit_webhook_message", edit_message, auth=False
    ),
    Endpoint(
        "DELETE",
        HOOK + "/messages/{message_id}",
        "delete_webhook_message",
        delete_message,
        auth=False,
    ),
]
