"""The limits Discord enforces on what a bot sends, as 400 "Invalid Form Body" (50035) errors
with Discord's nested ``errors`` tree, and who a message would notify (``pinged``)."""

from __future__ import annotations

import re
from typing import Any

from .wire import COMPONENTS_V2, EPHEMERAL, ApiError

Path = tuple[str | int, ...]
SELECTS = {3, 5, 6, 7, 8}
MODAL_INPUTS = {3, 4, 5, 6, 7, 8, 19, 21, 22, 23}  # inside a Label (type 18)
MESSAGE_FLAGS = 1 << 2 | EPHEMERAL | 1 << 12 | COMPONENTS_V2  # suppress embeds, silent
COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
USER_MENTION, ROLE_MENTION = re.compile(r"<@!?(\d+)>"), re.compile(r"<@&(\d+)>")


class Problems:
    """Field errors in Discord's tree: ``{"content": {"_errors": [{"code", "message"}]}}``."""

    def __init__(self, *prefix: str | int) -> None:
        self.prefix: Path = prefix
        self.tree: dict[str, Any] = {}

    def add(self, path: Path, code: str, message: str) -> None:
        node = self.tree
        for key in (*self.prefix, *path):
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def length(self, path: Path, value: Any, low: int, high: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(path, "BASE_TYPE_STRING", "Must be a string.")
        elif not low <= len(value) <= high:
            if low == 0:
                self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
            else:
                self.add(
                    path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length."
                )

    def count(self, path: Path, items: Any, high: int, low: int = 0) -> list[Any]:
        if items is None:
            return []
        if not isinstance(items, list):
            self.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
            return []
        if len(items) > high:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
        if len(items) < low:
            self.add(path, "BASE_TYPE_MIN_LENGTH", f"Must be {low} or more in length.")
        return items

    def raise_if_any(self) -> None:
        if self.tree:
            raise ApiError(400, 50035, "Invalid Form Body", errors=self.tree)


def check_message(body: Any, *, problems: Problems, creating: bool, files: int = 0) -> None:
    """Content <= 2000, embeds <= 10 and <= 6000 characters, component layout and custom ids,
    allowed_mentions and flags; a new message must have something in it (50006)."""
    if not isinstance(body, dict):
        problems.add((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    flags = body.get("flags") or 0
    if flags & ~MESSAGE_FLAGS:
        problems.add(("flags",), "MESSAGE_FLAGS_INVALID", "Invalid message flags.")
    problems.length(("content",), body.get("content"), 0, 2000)
    embeds = problems.count(("embeds",), body.get("embeds"), 10)
    total = 0
    for index, embed in enumerate(embeds):
        total += _check_embed(problems, ("embeds", index), embed)
    if total > 6000:
        problems.add(
            ("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )
    components = body.get("components")
    if flags & COMPONENTS_V2:
        if body.get("content") or body.get("embeds"):
            problems.add(
                ("content",),
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used when using"
                " MessageFlags.IS_COMPONENTS_V2",
            )
        _check_components(problems, ("components",), components, limit=40, rows_only=False)
    else:
        _check_components(problems, ("components",), components, limit=5, rows_only=True)
    _check_allowed_mentions(problems, body.get("allowed_mentions"))
    problems.raise_if_any()
    empty = not any(body.get(key) for key in ("content", "embeds", "components", "sticker_ids"))
    if creating and empty and not files and not body.get("poll"):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _check_embed(problems: Problems, path: Path, embed: Any) -> int:
    if not isinstance(embed, dict):
        problems.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return 0
    problems.length((*path, "title"), embed.get("title"), 0, 256)
    problems.length((*path, "description"), embed.get("description"), 0, 4096)
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    fields = problems.count((*path, "fields"), embed.get("fields"), 25)
    for index, item in enumerate(fields):
        problems.length((*path, "fields", index, "name"), item.get("name"), 1, 256)
        problems.length((*path, "fields", index, "value"), item.get("value"), 1, 1024)
        size += len(item.get("name") or "") + len(item.get("value") or "")
    footer, author = embed.get("footer") or {}, embed.get("author") or {}
    problems.length((*path, "footer", "text"), footer.get("text"), 0, 2048)
    problems.length((*path, "author", "name"), author.get("name"), 0, 256)
    return size + len(footer.get("text") or "") + len(author.get("name") or "")


def _check_components(
    problems: Problems, path: Path, components: Any, *, limit: int, rows_only: bool
) -> None:
    seen: set[str] = set()
    top = problems.count(path, components, limit)
    for index, component in enumerate(top):
        where = (*path, index)
        kind = component.get("type") if isinstance(component, dict) else None
        if rows_only and kind != 1:
            problems.add((*where, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1}.")
            continue
        _check_component(problems, where, component, seen)


def _check_component(
    problems: Problems, path: Path, component: dict[str, Any], seen: set[str]
) -> None:
    kind = component.get("type")
    if kind == 1:
        _check_row(problems, path, component, seen)
    elif kind == 2:
        _check_button(problems, path, component, seen)
    elif kind in SELECTS:
        _check_custom_id(problems, path, component, seen)
        problems.length((*path, "placeholder"), component.get("placeholder"), 0, 150)
        if kind == 3:
            options = problems.count((*path, "options"), component.get("options"), 25, low=1)
            for index, option in enumerate(options):
                for key in ("label", "value", "description"):
                    low = 0 if key == "description" else 1
                    problems.length((*path, "options", index, key), option.get(key), low, 100)
    else:  # components v2 containers: walk whatever they hold
        for key in ("components", "accessory", "component"):
            inner = component.get(key)
            for index, child in enumerate(inner if isinstance(inner, list) else [inner]):
                if isinstance(child, dict):
                    where = (*path, key, index) if isinstance(inner, list) else (*path, key)
                    _check_component(problems, where, child, seen)


def _check_row(problems: Problems, path: Path, row: dict[str, Any], seen: set[str]) -> None:
    """<= 5 buttons, or one select alone (a select takes the row's whole width)."""
    children = problems.count((*path, "components"), row.get("components"), 5, low=1)
    if any(child.get("type") in SELECTS for child in children) and len(children) > 1:
        problems.add(
            (*path, "components"),
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "The specified component exceeds the maximum width",
        )
    for index, child in enumerate(children):
        if child.get("type") not in {2, *SELECTS}:
            problems.add(
                (*path, "components", index, "type"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {2, 3, 5, 6, 7, 8}.",
            )
            continue
        _check_component(problems, (*path, "components", index), child, seen)


def _check_button(problems: Problems, path: Path, button: dict[str, Any], seen: set[str]) -> None:
    style = button.get("style")
    problems.length((*path, "label"), button.get("label"), 0, 80)
    if style == 5:
        if not button.get("url"):
            problems.add((*path, "url"), "BUTTON_URL_REQUIRED", "A url is required")
        if "custom_id" in button:
            problems.add(
                (*path, "custom_id"),
                "BUTTON_CUSTOM_ID_INVALID",
                "A custom id cannot be used with link buttons",
            )
    elif style in (1, 2, 3, 4):
        _check_custom_id(problems, path, button, seen)
    elif style != 6:
        problems.add(
            (*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}."
        )
    if style != 6 and not button.get("label") and not button.get("emoji"):
        problems.add(
            (*path, "label"), "BUTTON_LABEL_OR_EMOJI_REQUIRED", "A label or emoji is required"
        )


def _check_custom_id(
    problems: Problems, path: Path, component: dict[str, Any], seen: set[str]
) -> None:
    custom_id = component.get("custom_id")
    if custom_id is None:
        problems.add((*path, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
        return
    problems.length((*path, "custom_id"), custom_id, 1, 100)
    if custom_id in seen:
        problems.add(
            (*path, "custom_id"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            "Component custom id cannot be duplicated",
        )
    seen.add(custom_id)


def _check_allowed_mentions(problems: Problems, allowed: Any) -> None:
    if allowed is None:
        return
    parse = allowed.get("parse", [])
    for index, value in enumerate(parse):
        if value not in ("roles", "users", "everyone"):
            problems.add(
                ("allowed_mentions", "parse", index),
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            )
    for kind in ("users", "roles"):
        listed = problems.count(("allowed_mentions", kind), allowed.get(kind), 100)
        if listed and kind in parse:
            problems.add(
                ("allowed_mentions",),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


def check_modal(data: Any, problems: Problems) -> None:
    """A modal: title <= 45, custom ids 1..100, 1..5 rows or labels, text inputs <= 4000."""
    if not isinstance(data, dict):
        problems.add((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        problems.raise_if_any()
        return
    problems.length(("title",), data.get("title") or "", 1, 45)
    _check_custom_id(problems, (), data, set())
    seen: set[str] = set()
    for index, component in enumerate(
        problems.count(("components",), data.get("components"), 5, low=1)
    ):
        path: Path = ("components", index)
        kind = component.get("type")
        if kind == 1:
            children = problems.count((*path, "components"), component.get("components"), 1, low=1)
            for child in children:
                if child.get("type") != 4:
                    problems.add(
                        (*path, "components", 0, "type"),
                        "BASE_TYPE_CHOICES",
                        "Value must be one of {4}.",
                    )
                    continue
                problems.length((*path, "components", 0, "label"), child.get("label") or "", 1, 45)
                _check_text_input(problems, (*path, "components", 0), child, seen)
        elif kind == 18:
            problems.length((*path, "label"), component.get("label") or "", 1, 45)
            problems.length((*path, "description"), component.get("description"), 0, 100)
            inner = component.get("component") or {}
            if inner.get("type") not in MODAL_INPUTS:
                problems.add(
                    (*path, "component", "type"),
                    "BASE_TYPE_CHOICES",
                    "Invalid component type for a label.",
                )
            elif inner.get("type") == 4:
                _check_text_input(problems, (*path, "component"), inner, seen)
            else:
                _check_component(problems, (*path, "component"), inner, seen)
        elif kind != 10:
            problems.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 10, 18}.")
    problems.raise_if_any()


def _check_text_input(
    problems: Problems, path: Path, text_input: dict[str, Any], seen: set[str]
) -> None:
    _check_custom_id(problems, path, text_input, seen)
    if text_input.get("style") not in (1, 2):
        problems.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    for key, low in (("min_length", 0), ("max_length", 1)):
        value = text_input.get(key)
        if value is not None and not low <= value <= 4000:
            problems.add(
                (*path, key), "NUMBER_TYPE_MAX", f"int value should be between {low} and 4000."
            )
    problems.length(
        (*path, "value"),
        text_input.get("value"),
        0,
        min(4000, text_input.get("max_length") or 4000),
    )
    problems.length((*path, "placeholder"), text_input.get("placeholder"), 0, 100)


def check_commands(commands: Any) -> None:
    problems = Problems()
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(problems.count((), commands, 110)):
        kind = command.get("type", 1)
        _check_named(problems, (index,), command, slash=kind == 1)
        if (kind, command.get("name")) in seen:
            problems.add(
                (index, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add((kind, command.get("name")))
        _check_options(problems, (index, "options"), command.get("options"))
    problems.raise_if_any()


def _check_named(
    problems: Problems, path: Path, item: dict[str, Any], *, slash: bool = True
) -> None:
    name = item.get("name") or ""
    if slash and (not COMMAND_NAME.match(name) or name != name.lower()):
        problems.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    problems.length((*path, "description"), item.get("description") or "", 1 if slash else 0, 100)


def _check_options(problems: Problems, path: Path, options: Any) -> None:
    optional_seen = False
    for index, option in enumerate(problems.count(path, options, 25)):
        _check_named(problems, (*path, index), option)
        problems.count((*path, index, "choices"), option.get("choices"), 25)
        if option.get("type") in (1, 2):
            _check_options(problems, (*path, index, "options"), option.get("options"))
        elif option.get("required") and optional_seen:
            problems.add(
                (*path, index, "required"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            )
        optional_seen = optional_seen or not option.get("required")


def pinged(content: str, allowed: dict[str, Any] | None) -> set[str]:
    """Who a message notifies: ``"everyone"``, ``"here"``, ``"role:<id>"``, ``"user:<id>"``.

    Without ``allowed_mentions`` Discord parses every mention in the content (the fake's bot
    may mention everyone); with it, only the kinds in ``parse`` or the ids listed."""
    parse = {"everyone", "users", "roles"} if allowed is None else set(allowed.get("parse", []))
    listed = {} if allowed is None else allowed
    found: set[str] = set()
    if "everyone" in parse:
        found |= {name for name in ("everyone", "here") if f"@{name}" in content}
    for kind, pattern in (("users", USER_MENTION), ("roles", ROLE_MENTION)):
        ids = {int(match) for match in pattern.findall(content)}
        if kind not in parse:
            ids &= {int(x) for x in listed.get(kind) or []}
        found |= {f"{kind[:-1]}:{x}" for x in ids}
    return found
