"""Work started when a script is approved, so that nobody waits for it later.

- **The voice** (with its music and subtitles) starts at approval, beside the image search:
  the narration is fixed from then on. It runs as the runner's own recorded stage runs
  (``Runner.prepare``), so the render finds them finished, and a restart resumes them.
- **The alternates.** The contact sheet needs one picture per scene; each scene's other
  candidates keep downloading after it is shown. A swap on a scene whose alternates have not
  arrived waits for that scene only.

- **The segments** (``pipeline.studio.speculating``): once the voice is made, the reel's
  scene segments for the current picks are encoded at low priority while no real render
  waits; a swap has its scene's segment encoded again.

A cancel stops all three (and removes the segments); a render waits for the voice (it needs
it) and stops the alternates and the speculation (the picks are final then; the segments
made so far are what it joins).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..app import App
from ..artifacts import VOICE_JSON
from ..errors import JobBusy, ReelError
from ..models import ImageCandidate, JobState
from ..ports import ImageSource
from ..stages import images as images_stage
from ..stages import music as music_stage
from ..stages.base import JobContext
from .speculating import Speculator

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Alternates:
    candidates: list[list[ImageCandidate]]
    arrived: list[asyncio.Event]
    task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Preparations:
    """The background work of the jobs under review in this process."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._voices: dict[str, asyncio.Task[None]] = {}
        self._subtitled: dict[str, asyncio.Event] = {}
        self._alternates: dict[str, _Alternates] = {}
        self.speculator = Speculator(app, app.queue)

    # --- the voice ----------------------------------------------------------------------

    def start_voice(self, job_id: str) -> None:
        """Voice, music and subtitles of ``job_id`` in the background (if not running)."""
        if (task := self._voices.get(job_id)) is not None and not task.done():
            return
        self._voices[job_id] = self._spawn(self._voice(job_id), f"prepare {job_id}")

    def redo_music(self, ctx: JobContext) -> None:
        """The reel's music changed under review: once the voice in the works is done, its
        soundtrack is made again (without ``music.json`` the music stage runs again)."""
        previous = self._voices.get(ctx.job_id)

        async def again() -> None:
            if previous is not None:
                try:
                    await asyncio.wait({previous})
                except asyncio.CancelledError:
                    previous.cancel()
                    raise
            ctx.path(music_stage.MUSIC_JSON).unlink(missing_ok=True)
            await self._voice(ctx.job_id)

        self._voices[ctx.job_id] = self._spawn(again(), f"music {ctx.job_id}")
        self.speculate(ctx.job_id)  # the sound track's key changes with the music

    @staticmethod
    def forget_voice(ctx: JobContext) -> None:
        """A voice made for an earlier version of the script must not be taken for this
        one: without its ``voice.json`` the voice stage runs again."""
        ctx.path(VOICE_JSON).unlink(missing_ok=True)

    async def _voice(self, job_id: str) -> None:
        subtitled = self._subtitled.setdefault(job_id, asyncio.Event())
        try:
            await self.app.runner.prepare(job_id, subtitled.set)
        except JobBusy:
            logger.info("job %s is held elsewhere; its voice is not prepared here", job_id)
        except ReelError as exc:
            # The render runs the stage again and reports its failure then.
            logger.warning("job %s: preparing the voice failed: %s", job_id, exc)
        except Exception:
            logger.exception("job %s: preparing the voice failed", job_id)

    async def voiced(self, job_id: str) -> None:
        """Return once the voice in the works for ``job_id`` (if any) has ended."""
        while (task := self._voices.get(job_id)) is not None and not task.done():
            await asyncio.wait({task})  # redo_music may have replaced it meanwhile

    async def subtitled(self, job_id: str) -> None:
        """Return once ``job_id``'s subtitles exist (the music may still be coming), or its
        voice in the works has ended without them."""
        event = self._subtitled.get(job_id)
        if event is None or event.is_set():
            return await self.voiced(job_id)  # nothing started here: only what exists
        waiter = asyncio.ensure_future(event.wait())
        voiced = asyncio.ensure_future(self.voiced(job_id))
        try:
            await asyncio.wait({waiter, voiced}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            voiced.cancel()

    # --- the segments -------------------------------------------------------------------

    def speculate(self, job_id: str) -> None:
        """Encode ``job_id``'s segments for its current picks ahead of its render."""
        self.speculator.request(
            job_id, pictures=lambda: self.subtitled(job_id), sound=lambda: self.voiced(job_id)
        )

    # --- the alternates -----------------------------------------------------------------

    def start_alternates(
        self,
        ctx: JobContext,
        first: list[list[ImageCandidate]],
        sources: Sequence[ImageSource],
        count: int,
    ) -> None:
        """Top every scene of ``first`` up to ``count`` candidates in the background,
        saving ``images.json`` as each scene's arrive."""
        running = self._alternates.get(ctx.job_id)
        if running is not None and running.task is not None and not running.task.done():
            return
        lacking = [len(options) < count for options in first]
        state = _Alternates([list(options) for options in first], [])
        for short in lacking:
            event = asyncio.Event()
            if not short:
                event.set()
            state.arrived.append(event)
        self._alternates[ctx.job_id] = state
        if any(lacking):
            work = self._fill(ctx, state, sources, count)
            state.task = self._spawn(work, f"alternates {ctx.job_id}")

    async def _fill(
        self, ctx: JobContext, state: _Alternates, sources: Sequence[ImageSource], count: int
    ) -> None:
        async def one(scene: int) -> None:
            try:
                have = state.candidates[scene]
                if len(have) >= count:
                    return
                found = await images_stage.more(ctx, sources, scene, have, count)
                async with state.lock:
                    state.candidates[scene] = found
                    await asyncio.to_thread(images_stage.save, ctx, state.candidates)
            except Exception:
                logger.exception("job %s: scene %d: no alternates", ctx.job_id, scene + 1)
            finally:
                state.arrived[scene].set()

        await asyncio.gather(*(one(scene) for scene in range(len(state.candidates))))
        logger.info("job %s: every scene's alternates are in", ctx.job_id)

    def pending(self, job_id: str, scene: int) -> bool:
        """Whether scene ``scene`` (0-based) of ``job_id`` still waits for its alternates."""
        state = self._alternates.get(job_id)
        if state is None or not 0 <= scene < len(state.arrived):
            return False
        return not state.arrived[scene].is_set()

    async def arrived(self, job_id: str, scene: int) -> None:
        """Wait until scene ``scene`` (0-based) has its alternates (or gave up on them)."""
        state = self._alternates.get(job_id)
        if state is not None and 0 <= scene < len(state.arrived):
            await state.arrived[scene].wait()

    async def ready(self, job_id: str) -> None:
        """Wait until every scene of ``job_id`` has its alternates (or gave up on them)."""
        state = self._alternates.get(job_id)
        if state is not None:
            await asyncio.gather(*(event.wait() for event in state.arrived))

    # --- the job's end of review --------------------------------------------------------

    async def settle(self, job_id: str) -> None:
        """Before the render: the voice finished (it is the render's input; a caller
        cancelled meanwhile leaves it running), the alternates and speculation stopped. The
        segments go on being encoded ahead while the voice (or its music) is still coming."""
        voice = self._voices.get(job_id)
        if voice is not None:
            await asyncio.wait({voice})
            if self._voices.get(job_id) is voice:
                del self._voices[job_id]
                self._subtitled.pop(job_id, None)
        await self.speculator.stop(job_id)
        await self._stop_alternates(job_id)

    async def stop(self, job_id: str) -> None:
        """A cancel: everything this job had running in the background stops, and the
        segments made ahead of a render that will not come are removed."""
        voice = self._voices.pop(job_id, None)
        self._subtitled.pop(job_id, None)
        if voice is not None:
            await _cancel(voice)
        await self._stop_alternates(job_id)
        await self.speculator.drop(job_id)

    async def _stop_alternates(self, job_id: str) -> None:
        state = self._alternates.pop(job_id, None)
        if state is not None and state.task is not None:
            await _cancel(state.task)
            for event in state.arrived:
                event.set()  # a swap waiting for them goes on with what there is

    async def resume(self, count: int, origins: Collection[str]) -> list[str]:
        """After a restart: the jobs of ``origins`` under review get their voice and
        alternates again (what their recorded stage runs and ``images.json`` already hold is
        not redone)."""
        resumed = []
        for job in await self.app.jobs.in_states(JobState.IMAGES_REVIEW):
            if job.origin not in origins:
                continue
            ctx = await self.app.runner.context(job.id)
            candidates = await asyncio.to_thread(images_stage.load, ctx)
            if candidates is None:
                continue
            self.start_voice(job.id)
            self.start_alternates(ctx, candidates, self.app.providers.images, count)
            self.speculate(job.id)
            resumed.append(job.id)
        return resumed

    async def aclose(self) -> None:
        await self.speculator.aclose()  # the segments stay for the next start
        for job_id in list({*self._voices, *self._alternates}):
            voice = self._voices.pop(job_id, None)
            if voice is not None:
                await _cancel(voice)
            await self._stop_alternates(job_id)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(work, name=name)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait({task})  # never raises the task's own cancellation
