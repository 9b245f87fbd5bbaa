"""A fake Discord (REST API v10 + gateway) on 127.0.0.1 for discord.py's real HTTP and
websocket layers.

    async with FakeDiscord(ack_deadline=0.5) as dc:
        guild = dc.add_guild("Reel Lab")                 # #general, @everyone, the bot
        alice = dc.add_member(guild, DcUser(1001, "alice"))
        async with connected(dc, bot):                   # login + gateway + READY
            ...                                          # bot's setup_hook ran tree.sync()
            ask = dc.slash(alice, "reel", {"topic": "octopus"}, channel=guild.channel("general"))
            await dc.wait_until(lambda: ask.acked)
            reply = ask.original                         # DcMessage: content, components...
            press = dc.press(alice, reply, reply.button("Approve"))
            dc.fail("create_message", 429, retry_after=0.01)   # the next post is rate limited

Every REST request is recorded as a ``Call``; interactions, messages and their edits are kept
as ``DcInteraction`` and ``DcMessage``; the guilds, channels and messages live in ``world``.
The rules the fake enforces are in ``rest``, ``webhooks`` and ``checks``; the gateway in
``gateway``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aiohttp import web

from . import rest, webhooks
from .gateway import Session
from .interactions import (
    COMMAND,
    COMPONENT,
    MODAL_SUBMIT,
    DcInteraction,
    base_payload,
    command_data,
    component_data,
    find_command,
    modal_data,
)
from .messages import DcAttachment, DcMessage
from .wire import (
    FILE_LIMIT,
    Call,
    DcChannel,
    DcGuild,
    DcUser,
    Failure,
    Upload,
)
from .world import World

T = TypeVar("T")


class FakeDiscord(World):
    def __init__(
        self,
        *,
        ack_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        heartbeat_interval: float = 41.25,
        bot_name: str = "Reel Factory",
    ) -> None:
        super().__init__(bot_name=bot_name, heartbeat_interval=heartbeat_interval)
        self.ack_deadline, self.token_lifetime = ack_deadline, token_lifetime
        self.base_url = ""
        self.calls: list[Call] = []
        self.failures: deque[tuple[str, Failure]] = deque()
        self.crashes: list[Exception] = []  # the fake's own bugs, raised on exit
        self._runner: web.AppRunner | None = None

    # --- lifetime

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        rest.add_routes(app, self, [*rest.ROUTES, *webhooks.ROUTES])
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/api/v10"
        self.gateway.url = f"ws://127.0.0.1:{port}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.crashes and exc[0] is None:
            raise RuntimeError("the fake Discord crashed while serving") from self.crashes[0]

    # --- what users do

    def slash(
        self,
        user: DcUser,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        channel: DcChannel,
        guild: DcGuild | None = None,
        locale: str | None = None,
        attachment_size_limit: int = FILE_LIMIT,
    ) -> DcInteraction:
        """``user`` runs ``/name`` (``"reel new"`` for a subcommand) with ``options`` by name:
        str/int/bool/float, a DcUser, DcRole or DcChannel, or for attachment options an
        ``Upload``/``(filename, bytes)``. The command must have been registered (synced)."""
        guild = guild or (self.guilds[channel.guild_id] if channel.guild_id else None)
        path = name.split()
        command = None
        if guild is not None:
            command = find_command(self.commands[guild.id], path)
        command = command or find_command(self.commands[None], path)
        if command is None:
            known = [c["name"] for cs in self.commands.values() for c in cs]
            raise LookupError(f"/{path[0]} is not registered (registered: {known})")
        # A client offers a command only where its contexts allow (0 guild, 1 bot DM).
        contexts = command.get("contexts") or [0, 1, 2]
        in_dm = guild is None
        if (1 if in_dm else 0) not in contexts or (in_dm and command.get("dm_permission") is False):
            raise ValueError(f"/{path[0]} is not offered {'in DMs' if in_dm else 'in guilds'}")
        data = command_data(
            command, path, options or {}, lambda v: self._user_file(channel, v), guild
        )
        return self._interact(COMMAND, user, channel, guild, data, locale, attachment_size_limit)

    def press(
        self,
        user: DcUser,
        message: DcMessage,
        custom_id: str,
        *,
        locale: str | None = None,
        attachment_size_limit: int = FILE_LIMIT,
    ) -> DcInteraction:
        """``user`` clicks the button ``custom_id`` on the bot's ``message`` (a client only
        offers enabled buttons on messages the user can see)."""
        return self._on_component(user, message, custom_id, None, locale, attachment_size_limit)

    def select(
        self,
        user: DcUser,
        message: DcMessage,
        custom_id: str,
        values: list[str],
        *,
        locale: str | None = None,
        attachment_size_limit: int = FILE_LIMIT,
    ) -> DcInteraction:
        """``user`` picks ``values`` in the string select ``custom_id`` on ``message``."""
        return self._on_component(user, message, custom_id, values, locale, attachment_size_limit)

    def submit_modal(
        self, user: DcUser, opened: DcInteraction, values: Mapping[str, Any]
    ) -> DcInteraction:
        """``user`` submits the modal the bot opened in answer to ``opened``; ``values`` by
        custom_id (text for text inputs, a list for selects); unset inputs keep their default."""
        if opened.modal is None:
            raise ValueError(f"the bot opened no modal for interaction {opened.id}")
        if user != opened.user:
            raise ValueError("only the user who opened a modal can submit it")
        data = modal_data(opened.modal, values)
        return self._interact(
            MODAL_SUBMIT,
            user,
            opened.channel,
            opened.guild,
            data,
            opened.payload["locale"],
            opened.attachment_size_limit,
            source=opened.source,
        )

    def say(self, user: DcUser, channel: DcChannel, content: str) -> DcMessage:
        """A user's own message in ``channel`` (MESSAGE_CREATE if the bot's intents ask)."""
        message = DcMessage(self.snowflake(), channel, user, content)
        self.store(message)
        return message

    # --- what tests set up or inspect

    def fail(
        self,
        route: str,
        status: int = 500,
        code: int = 0,
        *,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """The next ``times`` requests matching ``route`` answer ``status``. ``route`` is a
        handler name (``"create_message"``), an HTTP method (``"POST"``) or ``"POST
        /channels/{channel_id}/messages"``. A 429 carries ``retry_after`` (default 0.01 s) in
        the body and the X-RateLimit-*/Retry-After/Via headers discord.py reads."""
        if status == 429 and retry_after is None:
            retry_after = 0.01
        text = message or (
            "You are being rate limited." if status == 429 else f"{status}: Server Error"
        )
        for _ in range(times):
            self.failures.append((route, Failure(status, code, text, retry_after)))

    def expire(self, interaction: DcInteraction | str) -> None:
        """The interaction's token is past its 15 minutes: webhooks answer 401/50027."""
        handle = (
            interaction if isinstance(interaction, DcInteraction) else self.by_token[interaction]
        )
        handle.expired = True

    def of(self, route: str) -> list[Call]:
        return [call for call in self.calls if call.route == route]

    @staticmethod
    def pinged(message: DcMessage) -> set[str]:
        """Who ``message`` notifies: "everyone", "here", "role:<id>", "user:<id>"."""
        return message.pinged()

    @property
    def identify_count(self) -> int:
        return len(self.gateway.identifies)

    @property
    def resume_count(self) -> int:
        return len(self.gateway.resumes)

    async def wait_until(self, predicate: Callable[[], T | None], *, timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every request, message change and
        gateway event) and return its value."""
        async with asyncio.timeout(timeout):
            while not (value := predicate()):
                await self._changed.wait()
        return value

    async def wait_for(
        self,
        route: str,
        where: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """The first ``count`` successful (2xx) calls of ``route`` matching ``where``."""

        def found() -> list[Call]:
            return [
                call
                for call in self.calls
                if call.route == route and call.status < 300 and (where is None or where(call))
            ]

        await self.wait_until(lambda: len(found()) >= count, timeout=timeout)
        return found()[:count]

    async def wait_for_message(
        self,
        channel: DcChannel | None = None,
        where: Callable[[DcMessage], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[DcMessage]:
        """The first ``count`` live messages (in ``channel``) whose current state matches."""

        def found() -> list[DcMessage]:
            return [
                m
                for m in self.all_messages.values()
                if not m.deleted
                and (channel is None or m.channel is channel)
                and (where is None or where(m))
            ]

        await self.wait_until(lambda: len(found()) >= count, timeout=timeout)
        return found()[:count]

    async def wait_connected(self, *, timeout: float = 5.0) -> Session:
        """The gateway session, once a bot has identified (or resumed) and is connected."""
        return await self.wait_until(self._live_session, timeout=timeout)

    async def reconnect(self, *, timeout: float = 5.0) -> None:
        """Send op 7 RECONNECT and wait until the client is back (by RESUME or IDENTIFY)."""
        before = self.identify_count + self.resume_count
        self.gateway.send_reconnect()
        await self.wait_until(
            lambda: self.identify_count + self.resume_count > before and self._live_session(),
            timeout=timeout,
        )

    # --- internals

    def _user_file(self, channel: DcChannel, value: Any) -> DcAttachment:
        if isinstance(value, DcAttachment):
            return value
        upload = (
            value
            if isinstance(value, Upload)
            else Upload(0, value[0], "application/octet-stream", value[1])
        )
        return self.attachment(channel, upload, None)

    def _on_component(
        self,
        user: DcUser,
        message: DcMessage,
        custom_id: str,
        values: list[str] | None,
        locale: str | None,
        attachment_size_limit: int,
    ) -> DcInteraction:
        current = self.all_messages.get(message.id)
        if current is None or not current.visible_to(user):
            raise ValueError(f"{user.name} cannot see message {message.id}")
        if current.author != self.bot:
            raise ValueError("only the bot's messages carry components")
        data = component_data(current, custom_id, values)
        channel = current.channel
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        return self._interact(
            COMPONENT, user, channel, guild, data, locale, attachment_size_limit, source=current
        )

    def _interact(
        self,
        kind: int,
        user: DcUser,
        channel: DcChannel,
        guild: DcGuild | None,
        data: dict[str, Any],
        locale: str | None,
        attachment_size_limit: int,
        *,
        source: DcMessage | None = None,
    ) -> DcInteraction:
        if guild is not None and user.id not in guild.members:
            raise ValueError(f"{user.name} is not a member of {guild.name}")
        if guild is None and (channel.type != 1 or channel.recipient != user):
            raise ValueError("outside a guild, interactions come from the user's DM channel")
        self.users.setdefault(user.id, user)
        interaction_id, token = self.snowflake(), "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        permissions = guild.permissions(self.bot.id) if guild else 0
        payload = base_payload(
            app_id=self.APP_ID,
            interaction_id=interaction_id,
            token=token,
            kind=kind,
            user=user,
            channel=channel,
            guild=guild,
            data=data,
            locale=locale or user.locale,
            attachment_size_limit=attachment_size_limit,
            app_permissions=permissions,
            message=source,
        )
        handle = DcInteraction(
            interaction_id,
            token,
            kind,
            user,
            channel,
            guild,
            payload,
            time.monotonic(),
            attachment_size_limit,
            source,
        )
        self.interactions[interaction_id] = self.by_token[token] = handle
        self.gateway.dispatch("INTERACTION_CREATE", payload)
        self.changed()
        return handle

    async def _cdn(self, request: web.Request) -> web.Response:
        attachment = self.files.get(int(request.match_info["attachment_id"]))
        if attachment is None or attachment.filename != request.match_info["filename"]:
            return web.Response(status=404)
        return web.Response(body=attachment.data, content_type=attachment.content_type)
