"""YouTube over plain HTTP (httpx): Google's OAuth device flow, token refresh and revoke, the
channel of a token, and the resumable upload of a video.

Wire facts (see PROVIDERS.md §7-8): the device endpoint answers ``verification_url`` (not RFC
8628's ``verification_uri``); polling errors are ``authorization_pending`` (428),
``slow_down`` (403, add 5 s), ``access_denied`` (403), ``expired_token`` (400); a revoked or
expired refresh token is ``invalid_grant``. An upload starts with a POST that answers 200 and
the session URI in ``Location``; each PUT of a chunk answers ``308`` with ``Range: bytes=0-N``
(no ``Range``: nothing arrived) until the last answers 200/201 with the video resource. After
a dropped connection, ``PUT`` with ``Content-Range: bytes */<total>`` says where to go on.

Errors become ``YouTubeError`` and its kinds (``pipeline.adapters.youtube_errors``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .youtube_errors import YouTubeAuth, YouTubeError, YouTubeQuota, error_of

logger = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/youtube"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CHUNK_UNIT = 256 * 1024
SLOW_DOWN_STEP = 5.0  # RFC 8628 §3.5
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_url: str
    expires_in: float
    interval: float


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_in: float
    scope: str

    def __repr__(self) -> str:  # never the tokens themselves, in logs or tracebacks
        return f"Tokens(scope={self.scope!r}, expires_in={self.expires_in})"


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    title: str


def _next_offset(response: httpx.Response) -> int:
    """Where to go on after a 308: the byte after ``Range: bytes=0-N``; none arrived: 0."""
    value = response.headers.get("range", "")
    _, _, last = value.partition("-")
    return int(last) + 1 if last.strip().isdigit() else 0


class YouTubeClient:
    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        oauth_base: str = "https://oauth2.googleapis.com",
        api_base: str = "https://www.googleapis.com",
        chunk_size: int = 8 * CHUNK_UNIT,
        timeout: float = 120.0,
        retries: int = 5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise ValueError(f"chunk_size must be a multiple of {CHUNK_UNIT}, not {chunk_size}")
        self.client_id = client_id
        self._secret = client_secret
        self.oauth_base = oauth_base.rstrip("/")
        self.api_base = api_base.rstrip("/")
        self.chunk_size = chunk_size
        self.retries = retries
        self.sleep = sleep
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- OAuth --------------------------------------------------------------------------

    def _client_form(self) -> dict[str, str]:
        form = {"client_id": self.client_id}
        if self._secret:
            form["client_secret"] = self._secret
        return form

    async def _oauth(self, path: str, form: Mapping[str, str]) -> dict[str, Any]:
        try:
            response = await self._http.post(f"{self.oauth_base}{path}", data=dict(form))
        except httpx.HTTPError as exc:
            raise YouTubeError(
                f"{path}: {type(exc).__name__}", reason="network", retryable=True
            ) from exc
        if response.status_code != 200:
            raise error_of(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise YouTubeError(f"{path}: the answer is not a JSON object", reason="garbage")
        return body

    async def device_code(self) -> DeviceCode:
        body = await self._oauth("/device/code", {"client_id": self.client_id, "scope": SCOPE})
        try:
            return DeviceCode(
                device_code=str(body["device_code"]),
                user_code=str(body["user_code"]),
                verification_url=str(body.get("verification_url") or body["verification_uri"]),
                expires_in=float(body.get("expires_in", 1800)),
                interval=float(body.get("interval", 5)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise YouTubeError(f"device code answer lacks {exc}", reason="garbage") from exc

    async def poll(self, device: DeviceCode) -> Tokens:
        """Poll the token endpoint until the user approves; ``YouTubeAuth`` when they deny
        it or the code expires. ``slow_down`` adds 5 s to the interval, as RFC 8628 asks."""
        interval, waited = device.interval, 0.0
        form = {
            **self._client_form(),
            "device_code": device.device_code,
            "grant_type": DEVICE_GRANT,
        }
        while True:
            try:
                return self._tokens(await self._oauth("/token", form))
            except YouTubeError as exc:
                if exc.reason == "slow_down":
                    interval += SLOW_DOWN_STEP
                elif exc.reason != "authorization_pending" and not exc.retryable:
                    raise
            if waited >= device.expires_in:
                raise YouTubeAuth("the device code expired", reason="expired_token")
            await self.sleep(interval)
            waited += interval

    async def refresh(self, refresh_token: str) -> Tokens:
        form = {
            **self._client_form(),
            "refresh_token": refresh_token,
            "grant_type": "refresh_token",
        }
        return self._tokens(await self._oauth("/token", form))

    async def revoke(self, token: str) -> None:
        """Revoke a token; one Google no longer knows (already revoked) counts as done."""
        try:
            await self._oauth("/revoke", {"token": token})
        except YouTubeError as exc:
            if exc.reason not in ("invalid_token", "invalid_grant"):
                raise

    @staticmethod
    def _tokens(body: Mapping[str, Any]) -> Tokens:
        if not body.get("access_token"):
            raise YouTubeError("token answer has no access_token", reason="garbage")
        return Tokens(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
            expires_in=float(body.get("expires_in", 3600)),
            scope=str(body.get("scope", "")),
        )

    # --- the API ------------------------------------------------------------------------

    async def channel(self, access_token: str) -> Channel | None:
        """The channel the token posts to (``channels.list?mine=true``); None if it has none."""
        response = await self._send(
            "GET",
            f"{self.api_base}/youtube/v3/channels",
            params={"part": "snippet", "mine": "true"},
            headers=_bearer(access_token),
        )
        if response.status_code != 200:
            raise error_of(response)
        items = response.json().get("items") or []
        if not items:
            return None
        return Channel(str(items[0]["id"]), str(items[0].get("snippet", {}).get("title", "")))

    async def start_upload(self, access_token: str, size: int, resource: Mapping[str, Any]) -> str:
        """A resumable session for ``size`` bytes of video: its URI."""
        response = await self._send(
            "POST",
            f"{self.api_base}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            headers={
                **_bearer(access_token),
                "X-Upload-Content-Length": str(size),
                "X-Upload-Content-Type": "video/mp4",
            },
            json=dict(resource),
        )
        location = response.headers.get("location")
        if response.status_code != 200 or not location:
            if response.status_code == 200:
                raise YouTubeError("the upload session has no Location", reason="garbage")
            raise error_of(response)
        return location

    async def upload(
        self,
        session: str,
        path: Path,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Send ``path`` to ``session`` in chunks, from wherever the session stands (a
        restarted process resumes a stored session the same way); the video resource."""
        total = path.stat().st_size
        offset, session, done = await self._status(session, total)
        failures = 0
        while done is None:
            chunk = await asyncio.to_thread(_read, path, offset, self.chunk_size)
            end = offset + len(chunk) - 1
            try:
                response = await self._http.put(
                    session,
                    content=chunk,
                    headers={
                        "Content-Type": "video/mp4",
                        "Content-Range": f"bytes {offset}-{end}/{total}",
                    },
                )
            except httpx.TransportError as exc:
                failures = await self._failed(failures, exc)
                offset, session, done = await self._status(session, total)
                continue
            if response.status_code == 308:
                offset = _next_offset(response)
                session = response.headers.get("location") or session
                failures = 0
            elif response.status_code in (200, 201):
                done = response.json()
            else:
                error = error_of(response)
                if not error.retryable:
                    raise error
                failures = await self._failed(failures, error)
                offset, session, done = await self._status(session, total)
            if progress is not None:
                progress(total if done is not None else offset, total)
        return done

    async def _status(self, session: str, total: int) -> tuple[int, str, dict[str, Any] | None]:
        """Where a session stands: the next offset, its URI, and the video if it is done."""
        failures = 0
        while True:
            try:
                response = await self._http.put(
                    session, headers={"Content-Length": "0", "Content-Range": f"bytes */{total}"}
                )
            except httpx.TransportError as exc:
                failures = await self._failed(failures, exc)
                continue
            if response.status_code == 308:
                return _next_offset(response), response.headers.get("location") or session, None
            if response.status_code in (200, 201):
                return total, session, response.json()
            error = error_of(response)
            if not error.retryable:
                raise error
            failures = await self._failed(failures, error)

    async def _failed(self, failures: int, exc: Exception) -> int:
        """Count one more failure in a row; wait (randomized exponential backoff) or give up."""
        failures += 1
        if failures > self.retries:
            if isinstance(exc, YouTubeError):
                raise exc
            raise YouTubeError(
                f"upload failed {failures} times: {type(exc).__name__}",
                reason="network",
                retryable=True,
            ) from exc
        delay = min(32.0, 2 ** (failures - 1)) * (0.5 + random.random() / 2)  # noqa: S311
        logger.info("youtube: %s; trying again in %.1f s", type(exc).__name__, delay)
        await self.sleep(delay)
        return failures

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise YouTubeError(
                f"{method} {url.split('?')[0]}: {type(exc).__name__}",
                reason="network",
                retryable=True,
            ) from exc


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _read(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(size)


__all__ = [
    "CHUNK_UNIT",
    "SCOPE",
    "Channel",
    "DeviceCode",
    "Tokens",
    "YouTubeAuth",
    "YouTubeClient",
    "YouTubeError",
    "YouTubeQuota",
    "error_of",
]
