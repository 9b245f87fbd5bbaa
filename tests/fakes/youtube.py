"""A mock Google (OAuth device flow) and YouTube (resumable upload) on 127.0.0.1, speaking the
real wire format (PROVIDERS.md §7-8). The tests use it, and ``reelfactory fake-youtube`` runs
it so anyone can try connect -> post with no Google account.

Usage::

    async with FakeYouTube() as fake:        # fake.base_url is both oauth and api base
        fake.approve_after = 2                # the 3rd poll of a device code gets tokens
        fake.drop_next = 1                    # the next chunk PUT loses its connection
        fake.fail_next("quotaExceeded")       # the next upload start answers that error

OAuth (form posts, errors in OAuth's shape ``{"error", "error_description"}``):

- ``GET /device``: the verification page, a line saying codes are approved by themselves.
- ``POST /device/code`` (client_id, scope): ``device_code, user_code, verification_url,
  expires_in, interval``. A scope outside the device flow's allow-list (``youtube.upload``)
  answers 400 ``invalid_scope``, as Google does.
- ``POST /token`` with ``grant_type=urn:ietf:params:oauth:grant-type:device_code``: 428
  ``authorization_pending`` until approved (``approve(user_code)``, ``approve_after`` polls,
  or ``auto_approve`` seconds), 403 ``slow_down`` for a poll sooner than ``interval`` when
  ``enforce_interval``, 403 ``access_denied`` (``deny(user_code)``), 400 ``expired_token``
  (``expire(user_code)``). With ``grant_type=refresh_token``: a fresh access token, or 400
  ``invalid_grant`` for a revoked or unknown refresh token.
- ``POST /revoke`` (token): 200; 400 ``invalid_token`` for one it does not know.

API (``Authorization: Bearer <access token>``, else 401 in the API's shape):

- ``GET /youtube/v3/channels?part=snippet&mine=true``: the token's channel.
- ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status``: 200 with the
  session URI in ``Location``; the title is checked (<= 100 characters, no < >: 400
  ``invalidTitle``). ``fail_next(reason)`` answers the next start with ``quotaExceeded``
  (403), ``uploadLimitExceeded`` (400) or ``authError`` (401).
- ``PUT <session>`` with ``Content-Range: bytes a-b/N``: 308 with ``Range: bytes=0-M`` until
  all N bytes arrived, then 200 and the video resource; ``bytes */N`` asks where it stands.
  ``drop_next``: that many chunk PUTs keep the first 256 KiB of their bytes and close the
  connection without answering.

``fake.videos`` holds the finished uploads (resource and bytes); ``fake.requests`` every
request as ``(method, path)``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

DEVICE_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.readonly",
        "email",
        "openid",
        "profile",
    }
)
KEEP_ON_DROP = 256 * 1024
ERRORS = {
    "quotaExceeded": (403, "youtube.quota", "The request cannot be completed because you have "
                      "exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>."),
    "uploadLimitExceeded": (400, "youtube.video",
                            "The user has exceeded the number of videos they may upload."),
    "authError": (401, "global", "Request had invalid authentication credentials."),
    "backendError": (503, "global", "Backend Error"),
}  # fmt: skip


@dataclass(slots=True)
class Device:
    code: str
    user_code: str
    created: float
    polls: int = 0
    last_poll: float = 0.0
    state: str = "pending"  # pending | approved | denied | expired | used


@dataclass(slots=True)
class Session:
    id: str
    size: int
    resource: dict[str, Any]
    token: str
    data: bytearray = field(default_factory=bytearray)
    video: dict[str, Any] | None = None


def api_error(status: int, reason: str, message: str, domain: str = "global") -> web.Response:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }
    return web.json_response(body, status=status)


def oauth_error(status: int, error: str, description: str = "") -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


class FakeYouTube:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        interval: int = 5,
        auto_approve: float | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.interval = interval  # what /device/code tells clients
        self.auto_approve = auto_approve
        self.approve_after: int | None = None
        self.enforce_interval = False
        self.drop_next = 0
        self.failures: list[str] = []
        self.devices: dict[str, Device] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> channel id
        self.access_tokens: dict[str, str] = {}  # access token -> channel id
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        self.base_url = ""
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=512 * 1024 * 1024)
        self.app.router.add_get("/device", self._device_page)
        self.app.router.add_post("/device/code", self._device_code)
        self.app.router.add_post("/token", self._token)
        self.app.router.add_post("/revoke", self._revoke)
        self.app.router.add_get("/youtube/v3/channels", self._channels)
        self.app.router.add_post("/upload/youtube/v3/videos", self._start)
        self.app.router.add_put("/upload/youtube/v3/videos", self._put)

    async def __aenter__(self) -> Self:
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.2, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- switches -----------------------------------------------------------------------

    def fail_next(self, *reasons: str) -> None:
        """The next upload starts answer these errors (keys of ERRORS), one each."""
        self.failures.extend(reasons)

    def _device(self, user_code: str) -> Device:
        return next(d for d in self.devices.values() if d.user_code == user_code)

    def approve(self, user_code: str) -> None:
        self._device(user_code).state = "approved"

    def deny(self, user_code: str) -> None:
        self._device(user_code).state = "denied"

    def expire(self, user_code: str) -> None:
        self._device(user_code).state = "expired"

    def revoke_all(self) -> None:
        """The user revoked the app in their Google account: every token stops working."""
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    # --- OAuth --------------------------------------------------------------------------

    async def _device_page(self, request: web.Request) -> web.Response:
        """What the verification URL shows: the mock has no sign-in to do."""
        when = (
            f"after {self.auto_approve:g} seconds"
            if self.auto_approve is not None
            else "when the test approves it"
        )
        return web.Response(text=f"Mock Google: no sign-in here. Every code is approved {when}.\n")

    async def _device_code(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append(("POST", "/device/code"))
        if not form.get("client_id"):
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        scopes = str(form.get("scope", "")).split()
        if not scopes or any(scope not in DEVICE_SCOPES for scope in scopes):
            return oauth_error(400, "invalid_scope", "Invalid device flow scope.")
        n = next(self._ids)
        device = Device(f"AH-1Ng{n:06d}", f"ABCD-{n:04d}", time.monotonic())
        self.devices[device.code] = device
        return web.json_response(
            {
                "device_code": device.code,
                "user_code": device.user_code,
                "verification_url": f"{self.base_url}/device",
                "expires_in": 1800,
                "interval": self.interval,
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = str(form.get("grant_type", ""))
        self.requests.append(("POST", f"/token {grant.rsplit(':', 1)[-1]}"))
        if not form.get("client_id"):
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if grant == "refresh_token":
            channel = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if channel is None:
                return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            return web.json_response(self._access(channel))
        if grant != "urn:ietf:params:oauth:grant-type:device_code":
            return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
        device = self.devices.get(str(form.get("device_code", "")))
        if device is None:
            return oauth_error(400, "invalid_grant", "Malformed auth code.")
        now = time.monotonic()
        too_soon = self.enforce_interval and now - device.last_poll < self.interval
        device.polls += 1
        device.last_poll = now
        if device.state == "pending" and (
            (self.approve_after is not None and device.polls > self.approve_after)
            or (self.auto_approve is not None and now - device.created >= self.auto_approve)
        ):
            device.state = "approved"
        if device.state == "denied":
            return oauth_error(403, "access_denied", "Forbidden")
        if device.state in ("expired", "used"):
            return oauth_error(400, "expired_token", "Expired")
        if device.state == "pending" and too_soon:
            return oauth_error(403, "slow_down", "Forbidden")
        if device.state == "pending":
            return oauth_error(428, "authorization_pending", "Precondition Required")
        device.state = "used"
        channel = f"UCfake{next(self._ids):016d}"
        refresh = f"1//fake-refresh-{channel}"
        self.refresh_tokens[refresh] = channel
        return web.json_response({**self._access(channel), "refresh_token": refresh})

    def _access(self, channel: str) -> dict[str, Any]:
        token = f"ya29.fake-{next(self._ids)}"
        self.access_tokens[token] = channel
        return {
            "access_token": token,
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/youtube",
            "token_type": "Bearer",
        }

    async def _revoke(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append(("POST", "/revoke"))
        token = str(form.get("token", ""))
        channel = self.refresh_tokens.pop(token, None) or self.access_tokens.pop(token, None)
        if channel is None:
            return oauth_error(400, "invalid_token", "Token expired or revoked")
        for access in [a for a, c in self.access_tokens.items() if c == channel]:
            del self.access_tokens[access]
        return web.json_response({})

    # --- the API ------------------------------------------------------------------------

    def _channel_of(self, request: web.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.access_tokens.get(token) if scheme == "Bearer" else None

    async def _channels(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "/youtube/v3/channels"))
        channel = self._channel_of(request)
        if channel is None:
            return api_error(401, "authError", ERRORS["authError"][2])
        items = [{"kind": "youtube#channel", "id": channel, "snippet": {"title": "Demo channel"}}]
        return web.json_response({"kind": "youtube#channelListResponse", "items": items})

    async def _start(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", "/upload/youtube/v3/videos"))
        query = request.query
        if query.get("uploadType") != "resumable" or query.get("part") != "snippet,status":
            return api_error(400, "badRequest", f"unexpected query {dict(query)}")
        channel = self._channel_of(request)
        if self.failures:
            reason = self.failures.pop(0)
            status, domain, message = ERRORS[reason]
            return api_error(status, reason, message, domain)
        if channel is None:
            return api_error(401, "authError", ERRORS["authError"][2])
        size = request.headers.get("X-Upload-Content-Length", "")
        if not size.isdigit():
            return api_error(400, "badRequest", "X-Upload-Content-Length is required")
        resource = json.loads(await request.text())
        title = str(resource.get("snippet", {}).get("title", ""))
        if not title or len(title) > 100 or "<" in title or ">" in title:
            return api_error(400, "invalidTitle", "Invalid video title.", "youtube.video")
        session = Session(f"upload-{next(self._ids)}", int(size), resource, channel)
        self.sessions[session.id] = session
        location = (
            f"{self.base_url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={session.id}"
        )
        return web.Response(status=200, headers={"Location": location})

    async def _put(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("PUT", "/upload/youtube/v3/videos"))
        session = self.sessions.get(request.query.get("upload_id", ""))
        if session is None:
            return api_error(404, "notFound", "Upload session not found.")
        spec = request.headers.get("Content-Range", "").removeprefix("bytes ")
        body = await request.read()
        if session.video is not None:
            return web.json_response(session.video, status=200)
        span, _, total = spec.partition("/")
        if not total.isdigit() or int(total) != session.size:
            return api_error(400, "badContentRange", f"bad Content-Range {spec!r}")
        if span != "*":
            first, _, last = span.partition("-")
            if not (first.isdigit() and last.isdigit()) or int(last) - int(first) + 1 != len(body):
                return api_error(400, "badContentRange", f"bad Content-Range {spec!r}")
            if int(first) == len(session.data):  # a chunk that follows what arrived
                if self.drop_next > 0:
                    self.drop_next -= 1
                    session.data += body[:KEEP_ON_DROP]
                    assert request.transport is not None
                    request.transport.close()  # no answer: the client sees a dropped connection
                    return web.Response(status=500)
                session.data += body
        if len(session.data) >= session.size:
            session.video = self._finish(session)
            return web.json_response(session.video, status=200)
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return web.Response(status=308, headers=headers)

    def _finish(self, session: Session) -> dict[str, Any]:
        video_id = f"vid{next(self._ids):08d}"[:11]
        snippet = dict(session.resource.get("snippet", {}))
        status = dict(session.resource.get("status", {}))
        video = {
            "kind": "youtube#video",
            "etag": f"etag-{video_id}",
            "id": video_id,
            "snippet": {**snippet, "channelId": session.token, "channelTitle": "Demo channel"},
            "status": {"uploadStatus": "uploaded", "license": "youtube", **status},
        }
        self.videos[video_id] = (video, bytes(session.data))
        return video


async def serve_forever(host: str, port: int, auto_approve: float) -> None:
    """Run the mock until cancelled (``reelfactory fake-youtube``)."""
    async with FakeYouTube(host=host, port=port, interval=1, auto_approve=auto_approve):
        await asyncio.Event().wait()


__all__ = ["ERRORS", "FakeYouTube", "serve_forever"]
