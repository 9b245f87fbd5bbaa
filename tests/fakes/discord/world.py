"""The state of the fake's Discord: users, guilds, channels, roles, registered commands,
interactions, messages and their files, and the gateway that tells the bot about them."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any
from urllib.parse import quote

from .gateway import Gateway, Session
from .interactions import DcInteraction
from .messages import DcAttachment, DcMessage
from .wire import (
    EVERYONE_PERMISSIONS,
    FILE_LIMIT,
    DcChannel,
    DcGuild,
    DcMember,
    DcRole,
    DcUser,
    Snowflakes,
    Upload,
)


class World:
    TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.discord-bot-token"
    APP_ID = 1234567890123456789

    def __init__(self, *, bot_name: str, heartbeat_interval: float) -> None:
        self.bot = DcUser(self.APP_ID, bot_name, bot=True)
        self.owner = DcUser(self.APP_ID + 1, "app-owner")  # the application's owner
        self.root_url = ""
        self.snowflake = Snowflakes()
        self.users: dict[int, DcUser] = {self.bot.id: self.bot}
        self.guilds: dict[int, DcGuild] = {}
        self.channels: dict[int, DcChannel] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = defaultdict(list)  # None: global
        self.interactions: dict[int, DcInteraction] = {}
        self.by_token: dict[str, DcInteraction] = {}
        self.all_messages: dict[int, DcMessage] = {}
        self.files: dict[int, DcAttachment] = {}
        self._changed = asyncio.Event()
        self.gateway = Gateway(
            token=self.TOKEN,
            ready=self._ready,
            guilds=self._guild_creates,
            changed=self.changed,
            heartbeat_interval=heartbeat_interval,
        )

    # --- the world

    def add_guild(
        self,
        name: str = "Reel Lab",
        *,
        owner: DcUser | None = None,
        channels: tuple[str, ...] = ("general",),
        locale: str = "en-US",
    ) -> DcGuild:
        """A guild with an @everyone role, the bot as a member and text ``channels``."""
        owner = owner or DcUser(self.snowflake(), "owner")
        guild = DcGuild(self.snowflake(), name, owner.id, locale)
        guild.roles.append(DcRole(guild.id, "@everyone", guild.id, EVERYONE_PERMISSIONS, 0))
        guild.members[self.bot.id] = DcMember(self.bot)
        guild.members[owner.id] = DcMember(owner)
        self.users.setdefault(owner.id, owner)
        self.guilds[guild.id] = guild
        for channel_name in channels:
            self._new_channel(guild, channel_name, FILE_LIMIT)
        if self.gateway.session is not None:
            self.gateway.dispatch("GUILD_CREATE", guild.payload(all_members=self.gateway.wants(1)))
        return guild

    def add_channel(
        self, guild: DcGuild, name: str, *, attachment_size_limit: int = FILE_LIMIT
    ) -> DcChannel:
        """A text channel; ``attachment_size_limit`` bounds the bot's channel posts."""
        channel = self._new_channel(guild, name, attachment_size_limit)
        if self.gateway.session is not None:
            self.gateway.dispatch("CHANNEL_CREATE", channel.payload())
        return channel

    def add_role(
        self, guild: DcGuild, name: str, *, permissions: int = 0, mentionable: bool = True
    ) -> DcRole:
        role = DcRole(self.snowflake(), name, guild.id, permissions, len(guild.roles), mentionable)
        guild.roles.append(role)
        if self.gateway.session is not None:
            self.gateway.dispatch(
                "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()}
            )
        return role

    def add_member(self, guild: DcGuild, user: DcUser, *, roles: tuple[DcRole, ...] = ()) -> DcUser:
        guild.members[user.id] = DcMember(user, list(roles))
        self.users[user.id] = user
        if self.gateway.wants(1):  # GUILD_MEMBERS
            self.gateway.dispatch(
                "GUILD_MEMBER_ADD", {**guild.member_payload(user.id), "guild_id": str(guild.id)}
            )
        return user

    def add_user(self, user: DcUser) -> DcUser:
        """A user the bot may DM without sharing a guild (as after an earlier interaction)."""
        self.users[user.id] = user
        return user

    def dm_channel(self, user: DcUser) -> DcChannel:
        """The DM channel between the bot and ``user`` (one per user, as on Discord)."""
        self.users.setdefault(user.id, user)
        for channel in self.channels.values():
            if channel.type == 1 and channel.recipient == user:
                return channel
        channel = DcChannel(self.snowflake(), "", None, 1, user)
        self.channels[channel.id] = channel
        return channel

    def messages(self, channel: DcChannel) -> list[DcMessage]:
        """Every live message in ``channel``, oldest first, ephemeral ones included."""
        return [m for m in self.all_messages.values() if m.channel is channel and not m.deleted]

    def visible_to(self, user: DcUser, channel: DcChannel) -> list[DcMessage]:
        """What ``user`` sees in ``channel``: ephemeral messages only if they are theirs."""
        return [m for m in self.messages(channel) if m.visible_to(user)]

    def message(self, message_id: int) -> DcMessage:
        return self.all_messages[message_id]

    # --- used by the routes

    def changed(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def store(self, message: DcMessage) -> DcMessage:
        self.all_messages[message.id] = message
        self.announce("MESSAGE_CREATE", message)
        return message

    def announce(self, event: str, message: DcMessage) -> None:
        """MESSAGE_* to the bot if its intents cover the channel kind (never ephemeral ones)."""
        self.changed()
        intent = 12 if message.channel.type == 1 else 9  # DIRECT_MESSAGES / GUILD_MESSAGES
        if message.ephemeral or not self.gateway.wants(intent):
            return
        if event == "MESSAGE_DELETE":
            body = {"id": str(message.id), "channel_id": str(message.channel.id)}
            if message.channel.guild_id:
                body["guild_id"] = str(message.channel.guild_id)
            self.gateway.dispatch(event, body)
        else:
            self.gateway.dispatch(event, message.payload())

    def attachment(
        self, channel: DcChannel, upload: Upload, entry: dict[str, Any] | None
    ) -> DcAttachment:
        attachment_id = self.snowflake()
        filename = (entry or {}).get("filename") or upload.filename
        attachment = DcAttachment(
            attachment_id,
            filename,
            upload.data,
            upload.content_type,
            (entry or {}).get("description"),
            f"{self.root_url}/attachments/{channel.id}/{attachment_id}/{quote(filename)}",
        )
        self.files[attachment_id] = attachment
        return attachment

    # --- internals

    def _new_channel(self, guild: DcGuild, name: str, attachment_size_limit: int) -> DcChannel:
        channel = DcChannel(self.snowflake(), name, guild.id, 0)
        channel.attachment_size_limit, channel.position = attachment_size_limit, len(guild.channels)
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    def _live_session(self) -> Session | None:
        session = self.gateway.session
        return session if session is not None and session.connection is not None else None

    def _guild_creates(self, session: Session) -> list[dict[str, Any]]:
        members = bool(session.intents & 1 << 1)  # GUILD_MEMBERS
        return [guild.payload(all_members=members) for guild in self.guilds.values()]

    def _ready(self, session: Session) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self.bot.payload(),
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": session.id,
            "resume_gateway_url": self.gateway.url + "resume",
            "session_type": "normal",
            "application": {"id": str(self.APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
