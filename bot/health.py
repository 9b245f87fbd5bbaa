"""Is ``serve`` healthy? A registry that each part (a front, the scheduler) reports to, and how
the fronts are watched without their own code knowing.

A part is *up* while it can do its work: the Telegram front while ``getUpdates`` answers, the
Discord front while its gateway is connected, the scheduler while APScheduler runs. ``serve``
is healthy only while every expected part is up. A front that does not report on its own is
counted up from the start of its ``run`` to its end (``_run_all`` in ``bot``).

The fronts are watched from the outside through their libraries' public hooks: an aiogram
request middleware on the bot's session sees every ``getUpdates`` succeed or fail, and
discord.py's ``on_ready``/``on_resumed``/``on_disconnect`` events say when the gateway comes
and goes. A front may also call ``health.up(name)`` / ``health.down(name, reason)`` itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import discord
    from aiogram import Bot

logger = logging.getLogger(__name__)

STOPPED = "stopped"  # the reason of a part that ended normally


@dataclass(slots=True)
class Part:
    up: bool
    since: datetime
    reason: str = ""
    reports_itself: bool = False


@dataclass(slots=True)
class Health:
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    parts: dict[str, Part] = field(default_factory=dict)
    url: str | None = None  # the HTTP endpoint's base, once it listens

    def expect(self, name: str, *, reports_itself: bool = False) -> None:
        """``name`` must be up for ``serve`` to be healthy; it starts down ("starting")."""
        self.parts[name] = Part(False, self.clock(), "starting", reports_itself)

    def up(self, name: str) -> None:
        part = self.parts.get(name)
        if part is None:
            self.parts[name] = Part(True, self.clock())
        elif not part.up:
            logger.info("health: %s is up", name)
            part.up, part.since, part.reason = True, self.clock(), ""

    def down(self, name: str, reason: str = "") -> None:
        part = self.parts.get(name)
        if part is None:
            self.parts[name] = Part(False, self.clock(), reason)
        elif part.up or part.reason != reason:
            if part.up:
                level = logging.INFO if reason == STOPPED else logging.WARNING
                logger.log(level, "health: %s is down: %s", name, reason or "no reason given")
            part.up, part.since, part.reason = False, self.clock(), reason

    def reports_itself(self, name: str) -> bool:
        part = self.parts.get(name)
        return part is not None and part.reports_itself

    @property
    def healthy(self) -> bool:
        return bool(self.parts) and all(part.up for part in self.parts.values())

    def describe(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "up": part.up,
                "since": part.since.isoformat(),
                **({"reason": part.reason} if part.reason else {}),
            }
            for name, part in sorted(self.parts.items())
        }


def watch_telegram(bot: Bot, health: Health, name: str = "telegram") -> None:
    """Up after each ``getUpdates`` that answers, down after one that fails (aiogram then
    retries with a backoff, so the front is not connected until one answers again)."""
    from aiogram.methods import GetUpdates

    async def middleware(make_request: Any, bot: Bot, method: Any) -> Any:
        if not isinstance(method, GetUpdates):
            return await make_request(bot, method)
        try:
            response = await make_request(bot, method)
        except Exception as exc:
            health.down(name, f"getUpdates failed: {type(exc).__name__}")
            raise
        health.up(name)
        return response

    bot.session.middleware(middleware)
    health.expect(name, reports_itself=True)


def watch_discord(client: discord.Client, health: Health, name: str = "discord") -> None:
    """Up on READY and RESUMED, down when the gateway connection drops (discord.py then
    reconnects on its own and says RESUMED or READY again)."""
    add_listener = getattr(client, "add_listener", None)
    if add_listener is None:  # a plain discord.Client: counted from its run, like any front
        return

    async def connected() -> None:
        health.up(name)

    async def disconnected() -> None:
        health.down(name, "gateway disconnected")

    add_listener(connected, "on_ready")
    add_listener(connected, "on_resumed")
    add_listener(disconnected, "on_disconnect")
    health.expect(name, reports_itself=True)


__all__ = ["Health", "Part", "watch_discord", "watch_telegram"]
