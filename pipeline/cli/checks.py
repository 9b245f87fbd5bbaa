"""What ``reelfactory doctor`` checks beyond the providers: the chat fronts (the token is
accepted), the trend sources (each one gives topics), the daily destinations (the bot can see
the chat or channel), the models (the providers still serve them) and the next scheduled runs.

Tokens travel in a header or the Bot API path and are never printed: a failed request is
reported by its status or its exception's class, not its URL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from ..destinations import Destination, DestinationError, parse_destinations
from ..errors import ProviderError
from ..retired import check_models
from ..settings import Settings

TELEGRAM_API = "https://api.telegram.org"
DISCORD_API = "https://discord.com/api/v10"


@dataclass(slots=True)
class Check:
    provider: str
    used_for: str
    configured: bool
    reachable: bool | None = None
    detail: str = ""


def _telegram_base(settings: Settings) -> str:
    return (settings.telegram.api_base or TELEGRAM_API).rstrip("/")


def _discord_base(settings: Settings) -> str:
    return (settings.discord.api_base or DISCORD_API).rstrip("/")


async def _ask(client: httpx.AsyncClient, check: Check, request: httpx.Request) -> object:
    """The JSON of a 200, else marks ``check`` unreachable (status or error class only)."""
    try:
        response = await client.send(request)
    except httpx.HTTPError as exc:
        check.reachable, check.detail = False, type(exc).__name__
        return None
    if response.status_code != 200:
        refused = " (token refused)" if response.status_code == 401 else ""
        check.reachable, check.detail = False, f"HTTP {response.status_code}{refused}"
        return None
    try:
        return response.json()
    except ValueError:
        check.reachable, check.detail = False, "not JSON"
        return None


async def fronts(settings: Settings, client: httpx.AsyncClient) -> list[Check]:
    telegram = Check("telegram", "chat front", settings.telegram.bot_token is not None)
    discord = Check("discord", "chat front", settings.discord.bot_token is not None)
    if settings.telegram.bot_token is not None:
        token = settings.telegram.bot_token.get_secret_value()
        url = f"{_telegram_base(settings)}/bot{token}/getMe"
        body = await _ask(client, telegram, client.build_request("GET", url))
        if isinstance(body, dict) and isinstance(body.get("result"), dict):
            telegram.reachable = True
            telegram.detail = f"@{body['result'].get('username', '?')}"
    if settings.discord.bot_token is not None:
        headers = {"Authorization": f"Bot {settings.discord.bot_token.get_secret_value()}"}
        request = client.build_request(
            "GET", f"{_discord_base(settings)}/users/@me", headers=headers
        )
        body = await _ask(client, discord, request)
        if isinstance(body, dict):
            discord.reachable, discord.detail = (
                True,
                f"{body.get('username', '?')} (GET /users/@me)",
            )
    return [telegram, discord]


async def destinations(settings: Settings, client: httpx.AsyncClient) -> list[Check]:
    """Each daily destination: its front configured, and the bot can see the chat/channel."""
    try:
        parsed = parse_destinations(settings.daily_destinations)
    except DestinationError as exc:
        return [Check("destinations", "daily reels", True, False, str(exc))]
    return list(await asyncio.gather(*(_destination(settings, client, d) for d in parsed)))


async def _destination(
    settings: Settings, client: httpx.AsyncClient, destination: Destination
) -> Check:
    platform, _, target = destination.key.partition(":")
    check = Check(destination.key, f"daily reels ({destination.language})", True)
    if platform == "telegram" and settings.telegram.bot_token is not None:
        token = settings.telegram.bot_token.get_secret_value()
        url = f"{_telegram_base(settings)}/bot{token}/getChat"
        request = client.build_request("GET", url, params={"chat_id": target})
        body = await _ask(client, check, request)
        chat = body.get("result") if isinstance(body, dict) else None
        if isinstance(chat, dict):
            check.reachable = True
            check.detail = (
                f"{chat.get('type', '?')} {chat.get('title') or chat.get('username', '')}"
            )
    elif platform == "discord" and settings.discord.bot_token is not None:
        headers = {"Authorization": f"Bot {settings.discord.bot_token.get_secret_value()}"}
        url = f"{_discord_base(settings)}/channels/{target}"
        body = await _ask(client, check, client.build_request("GET", url, headers=headers))
        if isinstance(body, dict):
            check.reachable, check.detail = True, f"#{body.get('name', target)}"
    elif platform == "youtube" and settings.youtube_configured:
        await _linked_channel(settings, check, target)
    elif platform == "youtube":
        check.reachable = False
        check.detail = "YouTube is not configured: set REELFACTORY_YOUTUBE_CLIENT_ID"
    else:
        check.reachable = False
        check.detail = f"no {platform} front: set REELFACTORY_{platform.upper()}_BOT_TOKEN"
    return check


async def _linked_channel(settings: Settings, check: Check, owner: str) -> None:
    """A ``youtube:<owner>`` destination: has that user linked a channel?"""
    from storage import ConnectionRepository, open_database

    from ..youtube import PLATFORM

    if not settings.database.is_file():
        check.reachable, check.detail = False, f"{owner} has not linked a channel (no database)"
        return
    async with open_database(settings.database) as db:
        connection = await ConnectionRepository(db).get(PLATFORM, owner)
    if connection is None:
        check.reachable = False
        check.detail = f"{owner} has not linked a channel: /connect youtube"
    else:
        check.reachable = True
        check.detail = f"channel {connection.channel_title or connection.channel_id or '?'}"


async def youtube(settings: Settings, client: httpx.AsyncClient) -> Check:
    """Posting to YouTube: an OAuth client, a valid token key, Google's OAuth answering."""
    from ..youtube import NoTokenKey, TokenBox

    check = Check("youtube", "Shorts, per user", settings.youtube_configured)
    if not settings.youtube_configured:
        check.detail = "off: set REELFACTORY_YOUTUBE_CLIENT_ID (a TVs and Limited Input client)"
        return check
    try:
        TokenBox(settings.youtube_token_key)
    except NoTokenKey as exc:
        check.reachable, check.detail = False, str(exc)
        return check
    base = settings.youtube_oauth_base.rstrip("/")
    try:
        response = await client.get(base)
    except httpx.HTTPError as exc:
        check.reachable, check.detail = False, f"{base}: {type(exc).__name__}"
        return check
    check.reachable = True
    check.detail = f"device flow at {base} (HTTP {response.status_code})"
    return check


async def trend_sources(settings: Settings, timeout: float) -> list[Check]:
    """Each source of the chain asked for yesterday's topics (today's may not be out yet)."""
    from ..adapters.trends import build_trend_chain

    languages = [d.language for d in parse_destinations(settings.daily_destinations)]
    language = languages[0] if languages else settings.default_language
    day = datetime.now(ZoneInfo(settings.timezone)).date() - timedelta(days=1)
    chain = build_trend_chain(settings)
    checks = []
    try:
        for source in chain.sources:
            check = Check(source.name, f"trends ({language})", True)
            try:
                found = await asyncio.wait_for(source.trends(day, language=language), timeout)
            except (ProviderError, TimeoutError, OSError) as exc:
                check.reachable, check.detail = False, (str(exc) or type(exc).__name__)[:80]
            else:
                top = f": {found[0].title}" if found else ""
                check.reachable, check.detail = bool(found), f"{len(found)} topics{top}"[:80]
            checks.append(check)
    finally:
        await chain.aclose()
    if "list" in settings.trends_chain and settings.trends_list_file is None:
        checks.append(Check("list", "trends (offline)", False, None, "no TRENDS_LIST_FILE"))
    return checks


async def models(settings: Settings, timeout: float) -> list[Check]:
    check = await check_models(settings, timeout=timeout)
    checks = [
        Check(f"{provider} models", "model list", True, True, f"{count} listed, ours served")
        for provider, count in sorted(check.listed.items())
    ]
    checks += [
        Check(f"{p} models", "model list", True, False, why[:80])
        for p, why in sorted(check.unreadable.items())
    ]
    for gone in check.gone:
        for item in checks:
            if item.provider == f"{gone.provider} models":
                item.reachable = False
                item.detail = f"gone: {gone.model}" + (
                    f" (use {gone.replacement})" if gone.replacement else ""
                )
    return checks


def next_at(at: time, zone: ZoneInfo, now: datetime) -> datetime:
    """The next moment at ``at`` local time after ``now``."""
    local = now.astimezone(zone)
    today: date = local.date()
    moment = datetime.combine(today, at, tzinfo=zone)
    return moment if moment > local else datetime.combine(today + timedelta(days=1), at, zone)


def next_runs(settings: Settings, now: datetime | None = None) -> list[str]:
    now = now or datetime.now(UTC)
    zone = ZoneInfo(settings.timezone)
    lines = []
    runs = [("daily reels", settings.daily_time), ("summary", settings.summary_time)]
    for what, at in runs:
        if what == "daily reels" and not settings.daily_destinations:
            lines.append("daily reels: off (no REELFACTORY_DAILY_DESTINATIONS)")
            continue
        moment = next_at(at, zone, now)
        hours = (moment - now).total_seconds() / 3600
        lines.append(
            f"{what}: next run {moment:%Y-%m-%d %H:%M} {settings.timezone} (in {hours:.1f} h)"
        )
    return lines
