"""Point discord.py at a fake: its REST base and gateway URL are class-level globals, so
``pointed_at`` sets both and puts them back; ``connected`` also runs a client for a test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, TypeVar

import discord
import yarl

if TYPE_CHECKING:
    from .server import FakeDiscord

C = TypeVar("C", bound=discord.Client)


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """``discord.http.Route.BASE`` -> the fake's REST base, ``DiscordWebSocket.DEFAULT_GATEWAY``
    -> its gateway; both restored on exit."""
    route, websocket = discord.http.Route, discord.gateway.DiscordWebSocket
    base, gateway = route.BASE, websocket.DEFAULT_GATEWAY
    route.BASE = fake.base_url
    websocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway.url)
    try:
        yield
    finally:
        route.BASE, websocket.DEFAULT_GATEWAY = base, gateway


@contextlib.asynccontextmanager
async def connected(fake: FakeDiscord, client: C, *, timeout: float = 5.0) -> AsyncIterator[C]:
    """Log ``client`` in (its ``setup_hook`` runs), connect the gateway, wait for ``on_ready``;
    close the client and its connection task on exit. READY waits ``guild_ready_timeout``
    (default 2 s) after the last GUILD_CREATE, so build test clients with
    ``guild_ready_timeout=0.01``."""
    with pointed_at(fake):
        runner: asyncio.Task[None] | None = None
        try:
            await client.login(fake.TOKEN)
            runner = asyncio.create_task(client.connect(reconnect=True))
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait(
                {runner, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if ready not in done:
                ready.cancel()
                if runner in done:
                    runner.result()  # raises why the connection ended
                raise TimeoutError(f"the client was not ready within {timeout} s")
            yield client
        finally:
            await client.close()
            if runner is not None:
                await runner
