"""Messages as the fake stores them: current content, embeds, components, attachments (with
their bytes), flags, allowed_mentions, which interaction made them, and each earlier version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .checks import pinged
from .wire import EPHEMERAL, LOADING, ApiError, DcChannel, DcUser, Upload, iso

if TYPE_CHECKING:
    from .interactions import DcInteraction


@dataclass(eq=False, slots=True)
class DcAttachment:
    id: int
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    description: str | None = None
    url: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            payload["description"] = self.description
        return payload


@dataclass(eq=False)
class DcMessage:
    """One message. ``interaction`` is the interaction whose response or followup made it
    (None for channel posts and user messages); ``versions`` holds what earlier edits replaced."""

    id: int
    channel: DcChannel
    author: DcUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[DcAttachment] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    interaction: DcInteraction | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    edited_at: datetime | None = None
    deleted: bool = False
    versions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred response still showing "<bot> is thinking..."."""
        return bool(self.flags & LOADING)

    @property
    def interaction_id(self) -> int | None:
        return self.interaction.id if self.interaction else None

    def visible_to(self, user: DcUser) -> bool:
        if self.deleted:
            return False
        if not self.ephemeral:
            return True
        return self.interaction is not None and self.interaction.user.id == user.id

    def pinged(self) -> set[str]:
        """Who this message notifies; see ``checks.pinged``."""
        return pinged(self.content, self.allowed_mentions)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk(self.components) if "custom_id" in c]

    def buttons(self) -> dict[str, str]:
        """Button label -> custom_id (link buttons left out)."""
        return {
            c.get("label") or "": c["custom_id"]
            for c in walk(self.components)
            if c.get("type") == 2 and "custom_id" in c
        }

    def button(self, label: str) -> str:
        """The custom_id of the one button whose label contains ``label``."""
        matches = [custom for text, custom in self.buttons().items() if label in text]
        assert len(matches) == 1, f"{label!r} in {list(self.buttons())}"
        return matches[0]

    def component(self, custom_id: str) -> dict[str, Any]:
        for component in walk(self.components):
            if component.get("custom_id") == custom_id:
                return component
        raise AssertionError(
            f"no component {custom_id!r} on message {self.id}: {self.custom_ids()}"
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": self.embeds,
            "components": self.components,
            "attachments": [a.filename for a in self.attachments],
            "flags": self.flags,
        }

    def payload(self) -> dict[str, Any]:
        """The message object as Discord returns it."""
        mentioned = self.pinged()
        payload: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel.id),
            "type": 0 if self.interaction is None or self.interaction.type != 2 else 20,
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": bool(mentioned & {"everyone", "here"}),
            "mentions": [],
            "mention_roles": [m.split(":")[1] for m in mentioned if m.startswith("role:")],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.channel.guild_id is not None:
            payload["guild_id"] = str(self.channel.guild_id)
        if self.interaction is not None:
            owners = self.interaction.payload.get("authorizing_integration_owners", {})
            payload["webhook_id"] = str(self.interaction.payload["application_id"])
            payload["application_id"] = str(self.interaction.payload["application_id"])
            payload["interaction_metadata"] = {
                "id": str(self.interaction.id),
                "type": self.interaction.type,
                "user": self.interaction.user.payload(),
                "authorizing_integration_owners": owners,
            }
        return payload

    def apply(self, body: dict[str, Any], attachments: list[DcAttachment] | None) -> None:
        """An edit: fields present in ``body`` replace the current ones."""
        self.versions.append(self.snapshot())
        if "content" in body:
            self.content = body["content"] or ""
        if "embeds" in body:
            self.embeds = body["embeds"] or []
        if "components" in body:
            self.components = body["components"] or []
        if "allowed_mentions" in body:
            self.allowed_mentions = body["allowed_mentions"]
        if "flags" in body and body["flags"] is not None:
            # An edit may only toggle SUPPRESS_EMBEDS; ephemeral/loading state stays.
            self.flags = (self.flags & ~(1 << 2)) | (body["flags"] & (1 << 2))
        self.flags &= ~LOADING  # the first edit of a deferred response replaces "thinking..."
        if attachments is not None:
            self.attachments = attachments
        self.edited_at = datetime.now(UTC)


def walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component, depth first (rows, containers, sections, labels)."""
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        inner = [*component.get("components", [])]
        inner += [component[key] for key in ("accessory", "component") if key in component]
        found += walk(inner)
    return found


def attachments_for(
    body: dict[str, Any],
    files: list[Upload],
    existing: list[DcAttachment],
    make: Any,
    *,
    limit: int,
) -> list[DcAttachment] | None:
    """The attachments a create or edit leaves on the message, or None when unchanged.

    ``attachments`` in the body lists what to keep (existing ids) and what to add (``id`` = n of
    ``files[n]``); without it, new files are appended. A file over ``limit`` answers 413/40005."""
    by_index = {upload.index: upload for upload in files}
    for upload in files:
        if len(upload.data) > limit:
            raise ApiError(413, 40005, "Request entity too large")
    if len(files) > 10:
        raise ApiError(400, 50035, "Invalid Form Body", errors=_too_many_files())
    listed = body.get("attachments")
    if listed is None:
        if not files:
            return None
        return [*existing, *(make(upload, None) for upload in files)]
    kept = {str(a.id): a for a in existing}
    result: list[DcAttachment] = []
    for entry in listed:
        key = str(entry.get("id"))
        if key in kept:
            result.append(kept[key])
        elif key.isdigit() and int(key) in by_index:
            result.append(make(by_index.pop(int(key)), entry))
        else:
            raise ApiError(400, 50035, "Invalid Form Body", errors=_unknown_attachment(len(result)))
    return result


def _too_many_files() -> dict[str, Any]:
    return {
        "files": {
            "_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 10 or fewer in length."}
            ]
        }
    }


def _unknown_attachment(index: int) -> dict[str, Any]:
    error = {"code": "ATTACHMENT_NOT_FOUND", "message": "Unknown attachment or file"}
    return {"attachments": {str(index): {"_errors": [error]}}}
