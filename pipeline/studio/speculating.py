"""The speculative pre-render: a reel's segments encoded while its user reviews the pictures.

Once the voice and subtitles of a job under review exist, every scene's segment for the
current picks is encoded in the background, as many at once across all jobs as a render
encodes side by side (``speculative_renders``), at the lowest CPU priority
(``speculative_nice``), and only while no real render waits or runs: when one arrives the
encodes under way are killed at once, and speculation waits for the queue to empty. A swap
changes one scene's key
(:mod:`pipeline.render.segments`), so only that segment is encoded again. The render then
finds the segments and the sound track ready and only joins them.

Nothing here is recorded: a speculative segment is a cache entry. A cancelled job's
segments are removed; a stopped one's (the render is about to use them) are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, Protocol

from ..app import App
from ..artifacts import SUBTITLES
from ..concurrency import to_the_end
from ..errors import ReelError
from ..models import RenderSpec
from ..render import Codec, resolve_ffmpeg, segments
from ..render.ffmpeg import ahead
from ..stages import images as images_stage
from ..stages import voice as voice_stage
from ..stages.render_spec import codec_for, spec_for, speculative_at_once
from ..stages.subtitles import FONTS_DIR

logger = logging.getLogger(__name__)


class Demand(Protocol):
    """Whether real renders wait or run (the render queue's ``demand``, set while one does,
    and ``idle``, its reverse)."""

    @property
    def demand(self) -> asyncio.Event: ...

    @property
    def idle(self) -> asyncio.Event: ...


class Speculator:
    def __init__(self, app: App, demand: Demand) -> None:
        self.app = app
        self.demand = demand
        settings = app.settings
        at_once = speculative_at_once(settings)
        self.enabled = at_once > 0
        self._slots = asyncio.Semaphore(max(at_once, 1))
        self._nice = settings.speculative_nice
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Segment encodes killed because a real render came (for the benchmark and logs).
        self.yielded = 0

    def request(
        self,
        job_id: str,
        *,
        pictures: Callable[[], Awaitable[None]],
        sound: Callable[[], Awaitable[None]],
    ) -> None:
        """(Re)start ``job_id``'s speculation for its current picks: the segments once
        ``pictures`` returns (the voice and subtitles are made), the sound track once
        ``sound`` does (the music too). What is already encoded is kept."""
        if not self.enabled:
            return
        running = self._tasks.pop(job_id, None)
        if running is not None:
            running.cancel()
        work = self._after(running, self._speculate(job_id, pictures, sound))
        task = asyncio.get_running_loop().create_task(work, name=f"speculate {job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(partial(self._forget, job_id))

    def _forget(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(job_id) is task:
            del self._tasks[job_id]

    async def stop(self, job_id: str) -> None:
        """The render is about to run: speculation ends, its segments stay for it."""
        task = self._tasks.pop(job_id, None)
        if task is not None:
            task.cancel()
            await asyncio.wait({task})  # its ffmpeg is killed and reaped when this returns

    async def drop(self, job_id: str) -> None:
        """A cancel: speculation ends and every segment it made is removed."""
        await self.stop(job_id)
        with contextlib.suppress(ReelError):
            ctx = await self.app.runner.context(job_id)
            await asyncio.to_thread(segments.drop, ctx.work / segments.FOLDER)

    async def settled(self, job_id: str) -> None:
        """Return once ``job_id``'s speculation (if any) has ended, done or not."""
        while (task := self._tasks.get(job_id)) is not None and not task.done():
            await asyncio.wait({task})  # a swap may have replaced it meanwhile

    async def aclose(self) -> None:
        for job_id in list(self._tasks):
            await self.stop(job_id)

    async def _after(
        self, previous: asyncio.Task[None] | None, work: Coroutine[Any, Any, None]
    ) -> None:
        """``work`` once ``previous`` has ended (its ffmpeg killed, its files settled)."""
        try:
            if previous is not None:
                # Even if this one is stopped meanwhile: nobody else waits for ``previous``.
                await to_the_end(asyncio.wait({previous}))
            await work
        finally:
            work.close()  # never started if cancelled while waiting: no warning

    async def _speculate(
        self,
        job_id: str,
        pictures: Callable[[], Awaitable[None]],
        sound: Callable[[], Awaitable[None]],
    ) -> None:
        try:
            await pictures()
            planned = await self._plan(job_id)
            if planned is None:
                return
            spec, codec = planned
            binary = resolve_ffmpeg(self.app.settings.ffmpeg_binary)
            planned_parts = await asyncio.to_thread(segments.plan, spec, codec)
            missing = [part for part in planned_parts if not part.ready]
            # Side by side as a render would, in the slots shared by every job, in scene order;
            # their ffmpegs wait behind renders' and loudness checks'.
            with ahead():
                async with asyncio.TaskGroup() as group:
                    for part in missing:
                        encode = partial(
                            segments.encode_segment,
                            spec,
                            part,
                            codec=codec,
                            binary=binary,
                            fonts_dir=FONTS_DIR,
                            nice=self._nice,
                        )
                        group.create_task(self._gated(encode))
            await sound()
            # The music may have arrived since: the bed is part of the sound track's key.
            planned = await self._plan(job_id)
            if planned is not None:
                with_music = planned[0]
                if not (await asyncio.to_thread(segments.audio_path, with_music)).is_file():
                    sound_track = partial(
                        segments.encode_sound,
                        with_music,
                        binary=binary,
                        nice=self._nice,
                    )
                    with ahead():
                        await self._gated(sound_track)
            logger.info("job %s: every segment is encoded ahead of its render", job_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Only time is lost: the render encodes what is missing.
            logger.exception("job %s: speculative render failed", job_id)

    async def _plan(self, job_id: str) -> tuple[RenderSpec, Codec] | None:
        """The render the job would make now, or None when its voice is not there."""
        job = await self.app.jobs.get(job_id)
        if job is None:
            return None
        ctx = await self.app.runner.context(job_id)
        voiceover = await asyncio.to_thread(voice_stage.load, ctx)
        candidates = await asyncio.to_thread(images_stage.load, ctx)
        subtitles = ctx.path(SUBTITLES)
        if voiceover is None or candidates is None or not subtitles.is_file():
            logger.info("job %s: no voice or pictures to render ahead", job_id)
            return None
        images = images_stage.chosen(candidates, (job.selection or {}).get("scenes"))
        spec = spec_for(ctx, voiceover, images, voice_stage.audio_path(ctx), subtitles)
        return spec, await codec_for(self.app.settings)

    async def _gated(self, encode: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``encode`` in a free slot while no real render wants the CPU; killed and run
        again later whenever one comes."""
        while True:
            await self.demand.idle.wait()
            async with self._slots:
                if self.demand.demand.is_set():
                    continue
                work = asyncio.ensure_future(encode())
                wanted = asyncio.ensure_future(self.demand.demand.wait())
                try:
                    await asyncio.wait({work, wanted}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    wanted.cancel()
                    if not work.done():
                        work.cancel()
                        await to_the_end(asyncio.wait({work}))
                if not work.cancelled():
                    work.result()  # its error, if it failed
                    return
                self.yielded += 1
                logger.info("speculation yields to a render")
