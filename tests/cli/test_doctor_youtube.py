"""``reelfactory doctor`` on YouTube: off, misconfigured (no token key), reachable; and a
``youtube:<owner>`` destination linked or not. In process, against the mock Google."""

from __future__ import annotations

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from pipeline.cli import checks
from pipeline.destinations import parse_destination
from pipeline.settings import Settings
from storage import ConnectionRepository, open_database
from tests.fakes.youtube import FakeYouTube


async def test_youtube_off_misconfigured_and_ready(settings: Settings) -> None:
    async with FakeYouTube() as fake, httpx.AsyncClient() as client:
        off = await checks.youtube(settings, client)
        assert (off.configured, off.reachable) == (False, None)
        assert "REELFACTORY_YOUTUBE_CLIENT_ID" in off.detail

        keyless = settings.model_copy(
            update={"youtube_client_id": "demo-client", "youtube_oauth_base": fake.base_url}
        )
        broken = await checks.youtube(keyless, client)
        assert (broken.configured, broken.reachable) == (True, False)
        assert "Fernet.generate_key()" in broken.detail

        ready = keyless.model_copy(
            update={"youtube_token_key": SecretStr(Fernet.generate_key().decode())}
        )
        fine = await checks.youtube(ready, client)
        assert fine.reachable is True and fake.base_url in fine.detail
        key = ready.youtube_token_key
        assert key is not None and key.get_secret_value() not in fine.detail


async def test_a_youtube_destination_says_whether_its_owner_linked_a_channel(
    settings: Settings,
) -> None:
    configured = settings.model_copy(update={"youtube_client_id": "demo-client"})
    destination = parse_destination("youtube:telegram:101")
    async with httpx.AsyncClient() as client:
        missing = await checks._destination(configured, client, destination)
        assert missing.reachable is False and "has not linked" in missing.detail
        async with open_database(configured.database) as db:
            await ConnectionRepository(db).save(
                "youtube", "telegram:101", b"sealed", channel_id="UC1", channel_title="Octo"
            )
        linked = await checks._destination(configured, client, destination)
        assert (linked.reachable, linked.detail) == (True, "channel Octo")
        off = await checks._destination(settings, client, destination)
        assert off.reachable is False and "not configured" in off.detail
