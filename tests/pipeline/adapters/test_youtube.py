"""The YouTube adapter through real httpx against the mock Google on 127.0.0.1: the device
flow and its polling errors, refresh and revoke, the resumable upload (308 + Range, a
dropped connection resumed, the final resource) and Google's error shapes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pipeline.adapters.youtube import (
    CHUNK_UNIT,
    YouTubeAuth,
    YouTubeClient,
    YouTubeError,
    YouTubeQuota,
    error_of,
)
from tests.fakes.youtube import FakeYouTube


class Sleeps:
    """Records the waits the client asks for, without waiting."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture
async def fake() -> AsyncIterator[FakeYouTube]:
    async with FakeYouTube() as server:
        yield server


@pytest.fixture
async def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(fake: FakeYouTube, sleeps: Sleeps) -> AsyncIterator[YouTubeClient]:
    youtube = YouTubeClient(
        "demo-client",
        "demo-secret",
        oauth_base=fake.base_url,
        api_base=fake.base_url,
        chunk_size=CHUNK_UNIT,
        sleep=sleeps,
    )
    try:
        yield youtube
    finally:
        await youtube.aclose()


async def _linked(fake: FakeYouTube, client: YouTubeClient) -> str:
    fake.approve_after = 0
    tokens = await client.poll(await client.device_code())
    return tokens.access_token


def _video(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "reel.mp4"
    path.write_bytes(os.urandom(size))
    return path


RESOURCE = {
    "snippet": {"title": "Octopus", "description": "d", "tags": ["a"], "categoryId": "27"},
    "status": {"privacyStatus": "private", "containsSyntheticMedia": True},
}


async def test_device_flow_polls_until_approved_and_slows_down_when_told(
    fake: FakeYouTube, client: YouTubeClient, sleeps: Sleeps
) -> None:
    device = await client.device_code()
    assert device.user_code.startswith("ABCD-")
    assert device.verification_url == f"{fake.base_url}/device"
    assert device.interval == 5
    fake.approve_after = 3
    fake.enforce_interval = True  # every poll without a real wait is "too soon"
    tokens = await client.poll(device)
    assert tokens.refresh_token is not None and tokens.refresh_token.startswith("1//")
    assert tokens.scope == "https://www.googleapis.com/auth/youtube"
    assert "ya29" not in repr(tokens) and "1//" not in repr(tokens)
    # The first poll was pending; each later one came too soon, and each slow_down added
    # 5 s to the interval (RFC 8628 §3.5).
    assert sleeps.asked == [5.0, 10.0, 15.0]


async def test_pending_polls_wait_the_interval(
    fake: FakeYouTube, client: YouTubeClient, sleeps: Sleeps
) -> None:
    fake.approve_after = 2
    await client.poll(await client.device_code())
    assert sleeps.asked == [5.0, 5.0]
    assert [r for r in fake.requests if r[1].startswith("/token")] == [
        ("POST", "/token device_code")
    ] * 3


@pytest.mark.parametrize(
    ("switch", "reason", "code"),
    [("deny", "access_denied", "youtube.denied"), ("expire", "expired_token", "youtube.expired")],
)
async def test_device_flow_stops_on_denial_and_expiry(
    fake: FakeYouTube, client: YouTubeClient, switch: str, reason: str, code: str
) -> None:
    device = await client.device_code()
    getattr(fake, switch)(device.user_code)
    with pytest.raises(YouTubeAuth) as caught:
        await client.poll(device)
    assert caught.value.reason == reason
    assert caught.value.code == code


async def test_the_upload_scope_is_refused_by_the_device_flow(fake: FakeYouTube) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{fake.base_url}/device/code",
            data={"client_id": "x", "scope": "https://www.googleapis.com/auth/youtube.upload"},
        )
    error = error_of(response)
    assert (response.status_code, error.reason) == (400, "invalid_scope")


async def test_refresh_and_revoke(fake: FakeYouTube, client: YouTubeClient) -> None:
    fake.approve_after = 0
    tokens = await client.poll(await client.device_code())
    assert tokens.refresh_token is not None
    fresh = await client.refresh(tokens.refresh_token)
    assert fresh.access_token != tokens.access_token
    assert (await client.channel(fresh.access_token)) is not None
    await client.revoke(tokens.refresh_token)
    await client.revoke(tokens.refresh_token)  # already revoked: done, not an error
    with pytest.raises(YouTubeAuth) as caught:
        await client.refresh(tokens.refresh_token)
    assert (caught.value.reason, caught.value.code) == ("invalid_grant", "youtube.revoked")
    assert not caught.value.retryable
    with pytest.raises(YouTubeAuth) as api:  # the access tokens went with it
        await client.channel(fresh.access_token)
    assert api.value.status == 401


async def test_resumable_upload_in_chunks(
    fake: FakeYouTube, client: YouTubeClient, tmp_path: Path
) -> None:
    access = await _linked(fake, client)
    path = _video(tmp_path, 3 * CHUNK_UNIT + 1000)
    session = await client.start_upload(access, path.stat().st_size, RESOURCE)
    assert "upload_id=" in session
    seen: list[int] = []
    video = await client.upload(session, path, progress=lambda done, total: seen.append(done))
    assert video["kind"] == "youtube#video"
    assert video["status"]["containsSyntheticMedia"] is True
    assert video["status"]["privacyStatus"] == "private"
    stored, data = fake.videos[video["id"]]
    assert data == path.read_bytes()
    # Three full 256 KiB chunks answered 308 with Range, the last one 200.
    assert seen == [CHUNK_UNIT, 2 * CHUNK_UNIT, 3 * CHUNK_UNIT, path.stat().st_size]
    puts = [r for r in fake.requests if r[0] == "PUT"]
    assert len(puts) == 1 + 4  # the status query first (a fresh session), then 4 chunks


async def test_a_dropped_connection_is_resumed_from_what_arrived(
    fake: FakeYouTube, client: YouTubeClient, tmp_path: Path, sleeps: Sleeps
) -> None:
    client.chunk_size = 2 * CHUNK_UNIT
    access = await _linked(fake, client)
    path = _video(tmp_path, 5 * CHUNK_UNIT)
    session = await client.start_upload(access, path.stat().st_size, RESOURCE)
    fake.drop_next = 1  # the first chunk: 256 KiB of its 512 arrive, then the line drops
    video = await client.upload(session, path)
    _, data = fake.videos[video["id"]]
    assert data == path.read_bytes()
    assert len(sleeps.asked) == 1  # one backoff before asking where the session stood


async def test_a_stored_session_is_finished_not_uploaded_again(
    fake: FakeYouTube, client: YouTubeClient, tmp_path: Path
) -> None:
    access = await _linked(fake, client)
    path = _video(tmp_path, CHUNK_UNIT)
    session = await client.start_upload(access, path.stat().st_size, RESOURCE)
    first = await client.upload(session, path)
    again = await client.upload(session, path)  # e.g. after a crash before it was recorded
    assert again["id"] == first["id"]
    assert len(fake.videos) == 1


@pytest.mark.parametrize(
    ("reason", "cls", "code", "status"),
    [
        ("quotaExceeded", YouTubeQuota, "youtube.quota", 403),
        ("uploadLimitExceeded", YouTubeQuota, "youtube.upload_limit", 400),
        ("authError", YouTubeAuth, "youtube.revoked", 401),
    ],
)
async def test_google_error_shapes(
    fake: FakeYouTube,
    client: YouTubeClient,
    tmp_path: Path,
    reason: str,
    cls: type[YouTubeError],
    code: str,
    status: int,
) -> None:
    access = await _linked(fake, client)
    fake.fail_next(reason)
    with pytest.raises(cls) as caught:
        await client.start_upload(access, 10, RESOURCE)
    assert (caught.value.reason, caught.value.code, caught.value.status) == (reason, code, status)
    assert not caught.value.retryable
    assert caught.value.provider == "youtube"


async def test_a_bad_title_and_garbage_are_clear_errors(
    fake: FakeYouTube, client: YouTubeClient
) -> None:
    access = await _linked(fake, client)
    bad = {**RESOURCE, "snippet": {**RESOURCE["snippet"], "title": "a <b> c"}}
    with pytest.raises(YouTubeError) as caught:
        await client.start_upload(access, 10, bad)
    assert caught.value.reason == "invalidTitle"
    assert caught.value.code == "youtube.failed"
    garbage = error_of(httpx.Response(502, text="<html>bad gateway</html>"))
    assert (garbage.reason, garbage.retryable) == ("http_502", True)
    limited = error_of(httpx.Response(429, headers={"Retry-After": "7"}, json={}))
    assert (limited.retryable, limited.retry_after) == (True, 7.0)


async def test_server_errors_during_upload_are_retried_then_given_up(
    fake: FakeYouTube, client: YouTubeClient, tmp_path: Path, sleeps: Sleeps
) -> None:
    access = await _linked(fake, client)
    path = _video(tmp_path, CHUNK_UNIT)
    session = await client.start_upload(access, path.stat().st_size, RESOURCE)
    await fake.__aexit__(None, None, None)  # the server goes away entirely
    with pytest.raises(YouTubeError) as caught:
        await client.upload(session, path)
    assert caught.value.reason == "network"
    assert len(sleeps.asked) == client.retries


async def test_the_demo_mock_approves_codes_by_itself() -> None:
    from pipeline.cli.fake_youtube import _mock, settings_lines

    assert _mock().FakeYouTube is FakeYouTube
    async with FakeYouTube(auto_approve=0.0) as demo:
        youtube = YouTubeClient("demo-client", oauth_base=demo.base_url, api_base=demo.base_url)
        try:
            device = await youtube.device_code()
            async with httpx.AsyncClient() as http:
                page = await http.get(device.verification_url)
            assert "approved after 0 seconds" in page.text
            tokens = await youtube.poll(device)  # no user: approved on the first poll
            assert tokens.refresh_token is not None
        finally:
            await youtube.aclose()
    lines = settings_lines("http://127.0.0.1:8790", "k")
    assert "REELFACTORY_YOUTUBE_API_BASE=http://127.0.0.1:8790" in lines
