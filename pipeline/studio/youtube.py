"""The studio's rules for YouTube Shorts: linking a user's channel (Google's device flow with
the ``youtube`` scope, polled in the background), unlinking it (revoked, then deleted), their
privacy choice, and posting a delivered reel at most once per (job, channel).

Why the device flow: a chat bot has no browser of its own and often no public HTTPS address;
the user opens google.com/device on any device and types a short code. Google allows only a
few scopes there (not ``youtube.upload``), but ``videos.insert`` accepts the broad
``youtube`` scope, so one flow covers it without a web callback (PROVIDERS.md §8).

A post is claimed in ``platform_posts`` before the upload starts and keeps its resumable
session: a second press returns the same link, and a press after a crash mid-upload finishes
that session instead of uploading the reel twice. Our quota running out is alerted to the
admins; a user's revoked token is only told to that user.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage import ConnectionRepository, Database, JobRecord, PlatformPostRepository

from ..adapters.youtube import DeviceCode, YouTubeAuth, YouTubeClient, YouTubeError
from ..alerts import Cause, Kind
from ..artifacts import REEL
from ..concurrency import KeyedLocks
from ..delivery import reel_state
from ..errors import NotOwner, ReelError, StaleJob, WrongStep
from ..models import JobState
from ..youtube import (
    PLATFORM,
    PRIVACY,
    BadPrivacy,
    Linked,
    NotConfigured,
    NotConnected,
    Posted,
    TokenBox,
    TokenUnreadable,
    shorts_url,
    video_resource,
)

if TYPE_CHECKING:
    from ..alerts import Alerter
    from ..app import App
    from ..settings import Settings

logger = logging.getLogger(__name__)

LinkedCallback = Callable[[Linked | ReelError], Awaitable[None]]
OURS = frozenset({"quotaExceeded", "invalid_client", "unauthorized_client"})


class ReelGone(WrongStep):
    """The reel's file was cleaned up (``keep_finished_hours``): nothing left to upload."""

    code = "youtube.reel_gone"


class YouTube:
    """Mixed into ``Studio``, which provides these."""

    app: App
    settings: Settings
    alerter: Alerter | None

    if TYPE_CHECKING:

        async def job(self, job_id: str) -> JobRecord: ...

    @property
    def youtube_ready(self) -> bool:
        return self.settings.youtube_configured

    def _yt(self) -> _YouTubeState:
        state: _YouTubeState | None = getattr(self, "_youtube_state", None)
        if state is None:
            if not self.settings.youtube_configured:
                raise NotConfigured("REELFACTORY_YOUTUBE_CLIENT_ID is not set")
            state = _YouTubeState(self.settings, self.app.db)
            self._youtube_state = state
            self.app.providers.closers.push_async_callback(state.aclose)
        return state

    # --- linking ------------------------------------------------------------------------

    async def connect_youtube(self, owner: str, linked: LinkedCallback) -> DeviceCode:
        """A code for ``owner`` to enter at Google's verification URL; ``linked`` is called
        once with the outcome (a ``Linked``, or the error) when they have or time runs out.
        A second call while a code is pending returns that code again."""
        state = self._yt()
        TokenBox(self.settings.youtube_token_key)  # refuse before Google is asked anything
        pending = state.pending.get(owner)
        if pending is not None and pending[1] > time.monotonic():
            return pending[0]
        try:
            device = await state.client.device_code()
        except YouTubeError as exc:
            await self._alert_if_ours(exc)
            raise
        state.pending[owner] = (device, time.monotonic() + device.expires_in)
        task = asyncio.create_task(self._link(owner, device, linked), name=f"youtube-link-{owner}")
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)
        return device

    async def _link(self, owner: str, device: DeviceCode, linked: LinkedCallback) -> None:
        state = self._yt()
        outcome: Linked | ReelError
        try:
            tokens = await state.client.poll(device)
            if tokens.refresh_token is None:
                raise YouTubeAuth("Google sent no refresh token", reason="invalid_grant")
            channel = None
            try:
                channel = await state.client.channel(tokens.access_token)
            except YouTubeError as exc:
                logger.warning("youtube: no channel for %s: %s", owner, exc)
            box = TokenBox(self.settings.youtube_token_key)
            await state.connections.save(
                PLATFORM,
                owner,
                box.seal(tokens.refresh_token),
                channel_id=channel.id if channel else None,
                channel_title=channel.title if channel else None,
            )
            logger.info("youtube: %s linked channel %s", owner, channel.id if channel else "?")
            outcome = Linked(owner, channel.title if channel else None)
        except ReelError as exc:
            logger.info("youtube: %s not linked: %s", owner, exc)
            await self._alert_if_ours(exc)
            outcome = exc
        finally:
            state.pending.pop(owner, None)
        try:
            await linked(outcome)
        except Exception:
            logger.exception("youtube: could not tell %s the outcome", owner)

    async def disconnect_youtube(self, owner: str) -> str | None:
        """Revoke ``owner``'s token at Google and delete it here; their channel's title."""
        state = self._yt()
        connection = await state.connections.get(PLATFORM, owner)
        if connection is None:
            raise NotConnected(f"{owner} has no YouTube channel linked")
        try:
            token = TokenBox(self.settings.youtube_token_key).open(connection.token)
            await state.client.revoke(token)
        except (YouTubeError, TokenUnreadable) as exc:
            # Deleted here either way: the user asked us to forget it.
            logger.warning("youtube: revoking %s's token failed: %s", owner, exc)
        await state.connections.delete(PLATFORM, owner)
        return connection.channel_title

    async def youtube_privacy(self, owner: str) -> str:
        connection = await self._yt().connections.get(PLATFORM, owner)
        if connection is None:
            raise NotConnected(f"{owner} has no YouTube channel linked")
        return connection.privacy

    async def set_youtube_privacy(self, owner: str, privacy: str) -> str:
        if privacy not in PRIVACY:
            raise BadPrivacy(f"no privacy {privacy!r}")
        if not await self._yt().connections.set_privacy(PLATFORM, owner, privacy):
            raise NotConnected(f"{owner} has no YouTube channel linked")
        return privacy

    # --- posting ------------------------------------------------------------------------

    async def youtube_press(self, owner: str, job_id: str) -> Posted | None:
        """Every check of a "Post to YouTube" press (the owner's delivered reel, a linked
        channel): the earlier post when there is one, else None (the front asks for the
        privacy, then calls ``post_youtube``)."""
        job = await self._postable(owner, job_id)
        state = self._yt()
        connection = await state.connections.get(PLATFORM, owner)
        if connection is None:
            raise NotConnected(f"{owner} has no YouTube channel linked")
        post = await state.posts.get(job.id, PLATFORM, connection.channel_id or owner)
        if post is not None and post.posted and post.url and post.video_id:
            return Posted(post.url, post.video_id, post.privacy or "private", fresh=False)
        return None

    async def post_youtube(
        self, owner: str, job_id: str, *, disclosure: str | None, privacy: str | None = None
    ) -> Posted:
        """Upload the owner's delivered reel to their channel (``privacy`` also becomes their
        choice for next time), or return the link of the earlier upload."""
        job = await self._postable(owner, job_id)
        if privacy is not None:
            await self.set_youtube_privacy(owner, privacy)
        return await self.upload_to_youtube(
            job, Path(job.work_dir) / REEL, owner, disclosure=disclosure
        )

    async def upload_to_youtube(
        self,
        job: JobRecord,
        reel: Path,
        connected: str,
        *,
        disclosure: str | None,
        credit: str | None = None,
    ) -> Posted:
        """Post ``reel`` of ``job`` to the channel ``connected`` linked, once: no permission
        checks (the daily run posts system reels to a channel named in the settings)."""
        state = self._yt()
        connection = await state.connections.get(PLATFORM, connected)
        if connection is None:
            raise NotConnected(f"{connected} has no YouTube channel linked")
        channel = connection.channel_id or connected
        async with state.locks.hold(f"{job.id}:{channel}"):
            post, _ = await state.posts.claim(
                job.id, PLATFORM, channel, connected, connection.privacy
            )
            if post.posted and post.url and post.video_id:
                return Posted(post.url, post.video_id, post.privacy or "private", fresh=False)
            privacy = post.privacy or connection.privacy
            session = post.session_uri
            try:
                token = TokenBox(self.settings.youtube_token_key).open(connection.token)
                access = (await state.client.refresh(token)).access_token
                if session is None:
                    if not reel.is_file():
                        raise ReelGone(f"job {job.id} has no reel file any more")
                    resource = video_resource(
                        self.script_of(job),
                        privacy=privacy,
                        category=self.settings.youtube_category,
                        disclosure=disclosure,
                        credit=credit,
                    )
                    session = await state.client.start_upload(access, reel.stat().st_size, resource)
                    await state.posts.set_session(job.id, PLATFORM, channel, session)
                video = await state.client.upload(session, reel)
            except ReelError as exc:
                if session is None or getattr(exc, "status", None) in (404, 410):
                    # Nothing is on YouTube: a later press may start afresh.
                    await state.posts.release(job.id, PLATFORM, channel)
                await self._alert_if_ours(exc, job.id)
                raise
            url = shorts_url(str(video["id"]))
            await state.posts.posted(job.id, PLATFORM, channel, video_id=str(video["id"]), url=url)
            logger.info("job %s: on YouTube as %s (%s)", job.id, video["id"], privacy)
            if self.alerter is not None:
                await self.alerter.recovered(Kind.DELIVERY, provider=PLATFORM)
            return Posted(url, str(video["id"]), privacy, fresh=True)

    async def _postable(self, owner: str, job_id: str) -> JobRecord:
        job = await self.job(job_id)
        if job.owner_id != owner:
            raise NotOwner(f"{owner} does not own job {job_id}")
        if reel_state(job) != JobState.DELIVERED:
            raise StaleJob(f"job {job_id} is {job.state}, not delivered")
        return job

    async def _alert_if_ours(self, exc: ReelError, job_id: str | None = None) -> None:
        """Our project's quota or OAuth client: the admins must act. A user's own token or
        channel cap is theirs, told to them only."""
        if self.alerter is None or getattr(exc, "reason", None) not in OURS:
            return
        await self.alerter.report(
            Cause.of(Kind.DELIVERY, exc, stage=PLATFORM, provider=PLATFORM),
            job_id=job_id,
            message=str(exc),
        )

    if TYPE_CHECKING:

        @staticmethod
        def script_of(job: JobRecord) -> Any: ...


class _YouTubeState:
    """The client, repositories, pending device codes and background polls of one studio."""

    def __init__(self, settings: Settings, db: Database) -> None:
        secret = settings.youtube_client_secret
        assert settings.youtube_client_id is not None
        self.client = YouTubeClient(
            settings.youtube_client_id,
            secret.get_secret_value() if secret is not None else None,
            oauth_base=settings.youtube_oauth_base,
            api_base=settings.youtube_api_base,
            chunk_size=settings.youtube_chunk_size,
            timeout=settings.youtube_timeout,
        )
        self.pending: dict[str, tuple[DeviceCode, float]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.locks = KeyedLocks()
        self.connections = ConnectionRepository(db)
        self.posts = PlatformPostRepository(db)

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()


__all__ = ["LinkedCallback", "ReelGone", "YouTube"]
