"""Interactions as a user's client makes them: the INTERACTION_CREATE payloads for a slash
command (type 2), a button or select (type 3) and a modal submission (type 5), and the handle
a test keeps to see how the bot answered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .messages import DcAttachment, DcMessage, walk
from .wire import DcChannel, DcGuild, DcRole, DcUser

COMMAND, COMPONENT, MODAL_SUBMIT = 2, 3, 5


@dataclass(eq=False)
class DcInteraction:
    """What a test holds after ``slash``/``press``/``select``/``submit_modal``.

    ``response_type`` is the callback type the bot answered with (4 message, 5 deferred,
    6 deferred update, 7 update, 9 modal) or None; ``original`` is the @original message
    (the response, the loading message of a defer, or for components the message clicked);
    ``followups`` the messages posted through the token; ``modal`` the modal the bot opened."""

    id: int
    token: str
    type: int
    user: DcUser
    channel: DcChannel
    guild: DcGuild | None
    payload: dict[str, Any]
    created: float  # time.monotonic() when dispatched
    attachment_size_limit: int
    source: DcMessage | None = None  # the message a component (or its modal) was on
    response_type: int | None = None
    acked_at: float | None = None
    original: DcMessage | None = None
    followups: list[DcMessage] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    expired: bool = False

    @property
    def acked(self) -> bool:
        return self.response_type is not None

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.payload["data"]
        return data

    @property
    def messages(self) -> list[DcMessage]:
        """The response (if it is a message of its own) and the followups, alive ones only."""
        own = [self.original] if self.original and self.original is not self.source else []
        return [m for m in [*own, *self.followups] if not m.deleted]


def base_payload(
    *,
    app_id: int,
    interaction_id: int,
    token: str,
    kind: int,
    user: DcUser,
    channel: DcChannel,
    guild: DcGuild | None,
    data: dict[str, Any],
    locale: str,
    attachment_size_limit: int,
    app_permissions: int,
    message: DcMessage | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE body: ``member`` in a guild, ``user`` in a DM (no guild_id)."""
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(app_id),
        "type": kind,
        "data": data,
        "channel_id": str(channel.id),
        "channel": channel.payload(),
        "token": token,
        "version": 1,
        "locale": locale,
        "app_permissions": str(app_permissions),
        "entitlements": [],
        "attachment_size_limit": attachment_size_limit,
    }
    if guild is not None:
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": guild.locale, "features": []},
            guild_locale=guild.locale,
            member=guild.member_payload(user.id, with_permissions=True),
            context=0,
            authorizing_integration_owners={"0": str(guild.id)},
        )
    else:
        payload.update(
            user=user.payload(), context=1, authorizing_integration_owners={"0": str(user.id)}
        )
    if message is not None:
        payload["message"] = message.payload()
    return payload


def find_command(commands: list[dict[str, Any]], path: list[str]) -> dict[str, Any] | None:
    for command in commands:
        if command.get("type", 1) == 1 and command["name"] == path[0]:
            return command
    return None


def command_data(
    command: dict[str, Any],
    path: list[str],
    options: Mapping[str, Any],
    make_attachment: Callable[[Any], DcAttachment],
    guild: DcGuild | None,
) -> dict[str, Any]:
    """``data`` of a slash command: the registered command's id and typed option values, with
    users, roles, channels and attachments in ``resolved`` as discord.py's Namespace reads them."""
    resolved: dict[str, dict[str, Any]] = {}
    declared: list[dict[str, Any]] = command.get("options") or []
    chain: list[dict[str, Any]] = []
    for name in path[1:]:
        group = next((o for o in declared if o["name"] == name and o["type"] in (1, 2)), None)
        if group is None:
            raise ValueError(f"/{' '.join(path)}: no subcommand {name!r}")
        chain.append({"type": group["type"], "name": name, "options": []})
        declared = group.get("options") or []
    encoded = _encode_options(declared, options, resolved, make_attachment, guild)
    for link in reversed(chain):
        link["options"] = encoded
        encoded = [link]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": 1,
        "options": encoded,
    }
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def _encode_options(
    declared: list[dict[str, Any]],
    options: Mapping[str, Any],
    resolved: dict[str, dict[str, Any]],
    make_attachment: Callable[[Any], DcAttachment],
    guild: DcGuild | None,
) -> list[dict[str, Any]]:
    by_name = {option["name"]: option for option in declared}
    unknown = set(options) - set(by_name)
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}; declared {sorted(by_name)}")
    missing = [o["name"] for o in declared if o.get("required") and o["name"] not in options]
    if missing:
        raise ValueError(f"required options missing: {missing}")
    encoded = []
    for name, value in options.items():
        kind = by_name[name]["type"]
        choices = [choice["value"] for choice in by_name[name].get("choices") or []]
        if choices and value not in choices:
            raise ValueError(f"{name}={value!r} is not one of the choices {choices}")
        encoded.append(
            {
                "name": name,
                "type": kind,
                "value": _encode(kind, value, resolved, make_attachment, guild),
            }
        )
    return encoded


def _encode(
    kind: int,
    value: Any,
    resolved: dict[str, dict[str, Any]],
    make_attachment: Callable[[Any], DcAttachment],
    guild: DcGuild | None,
) -> Any:
    if kind == 3:
        return str(value)
    if kind == 4:
        return int(value)
    if kind == 5:
        return bool(value)
    if kind == 10:
        return float(value)
    if kind == 6 and isinstance(value, DcUser):
        resolved.setdefault("users", {})[str(value.id)] = value.payload()
        if guild is not None and value.id in guild.members:
            member = guild.member_payload(value.id, with_permissions=True)
            member.pop("user")
            resolved.setdefault("members", {})[str(value.id)] = member
        return str(value.id)
    if kind == 8 and isinstance(value, DcRole):
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        return str(value.id)
    if kind == 7 and isinstance(value, DcChannel):
        channel = {**value.payload(), "permissions": str((1 << 41) - 1)}
        resolved.setdefault("channels", {})[str(value.id)] = channel
        return str(value.id)
    if kind == 11:
        attachment = make_attachment(value)
        resolved.setdefault("attachments", {})[str(attachment.id)] = attachment.payload()
        return str(attachment.id)
    raise ValueError(f"option type {kind} cannot take {value!r}")


def component_data(message: DcMessage, custom_id: str, values: list[str] | None) -> dict[str, Any]:
    """``data`` of a press (button) or a choice (string select), checked like a client would:
    the component exists on the message and is enabled, the values are among the options."""
    component = message.component(custom_id)
    if component.get("disabled"):
        raise ValueError(f"{custom_id!r} is disabled")
    if values is None:
        if component.get("type") != 2:
            raise ValueError(f"{custom_id!r} is not a button")
        return {"custom_id": custom_id, "component_type": 2}
    if component.get("type") != 3:
        raise ValueError(f"{custom_id!r} is not a string select")
    offered = [option["value"] for option in component.get("options", [])]
    if not set(values) <= set(offered):
        raise ValueError(f"{values} not among the options {offered}")
    low, high = component.get("min_values", 1), component.get("max_values", 1)
    if not low <= len(values) <= high:
        raise ValueError(f"{len(values)} values, the select takes {low}..{high}")
    return {"custom_id": custom_id, "component_type": 3, "values": list(values)}


def modal_data(modal: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` of a modal submission in the layout the bot sent: action rows holding a text
    input, or Labels (type 18) holding one ``component``; checked like the client checks input
    (required fields, min/max length, select options)."""
    inputs = {c["custom_id"]: c for c in walk(modal["components"]) if c.get("type") in (3, 4)}
    unknown = set(values) - set(inputs)
    if unknown:
        raise ValueError(f"the modal has no inputs {sorted(unknown)}; it has {sorted(inputs)}")
    components = []
    for component in modal["components"]:
        if component["type"] == 1:
            row = {
                "type": 1,
                "components": [_submitted(c, values) for c in component["components"]],
            }
            components.append(_with_id(row, component))
        elif component["type"] == 18:
            label = {"type": 18, "component": _submitted(component["component"], values)}
            components.append(_with_id(label, component))
        else:
            components.append(_with_id({"type": component["type"]}, component))
    return {"custom_id": modal["custom_id"], "components": components}


def _submitted(component: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    custom_id = component["custom_id"]
    if component["type"] == 3:
        chosen = list(values.get(custom_id, []))
        offered = [option["value"] for option in component.get("options", [])]
        if not set(chosen) <= set(offered):
            raise ValueError(f"{custom_id}: {chosen} not among {offered}")
        if component.get("required", True) and not chosen:
            raise ValueError(f"{custom_id} is required")
        return _with_id({"type": 3, "custom_id": custom_id, "values": chosen}, component)
    if component["type"] != 4:
        chosen = list(values.get(custom_id, []))
        return _with_id(
            {"type": component["type"], "custom_id": custom_id, "values": chosen}, component
        )
    value = str(values.get(custom_id, component.get("value") or ""))
    if component.get("required", True) and not value:
        raise ValueError(f"{custom_id} is required")
    low, high = component.get("min_length") or 0, component.get("max_length") or 4000
    if value and not low <= len(value) <= high:
        raise ValueError(f"{custom_id}: {len(value)} characters, the input takes {low}..{high}")
    return _with_id({"type": 4, "custom_id": custom_id, "value": value}, component)


def _with_id(submitted: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    if "id" in sent:
        submitted["id"] = sent["id"]
    return submitted
