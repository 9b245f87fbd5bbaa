"""The picture review: one candidate per scene at approval (the voice starting beside the
search, the alternates coming after it), swaps, and the contact sheet. Mixed into ``Studio``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage import JobRecord

from .. import cpu
from ..errors import StaleJob, WrongStep
from ..models import ImageCandidate, JobState
from ..stages import images as images_stage
from .sheet import render_sheet

if TYPE_CHECKING:
    from ..app import App
    from ..limits import Limits
    from .preparing import Preparations

CANDIDATES = images_stage.CANDIDATES_PER_SCENE


@dataclass(frozen=True, slots=True)
class Swapped:
    job: JobRecord
    scene: int  # 1-based
    choice: int  # 1-based position among the scene's candidates
    options: int


Decided = Callable[[Swapped], Awaitable[None]]


class Pictures:
    """Mixed into ``Studio``, which provides these."""

    app: App
    preparations: Preparations
    limits: Limits

    if TYPE_CHECKING:

        def _lock(self, job_id: str) -> AbstractAsyncContextManager[Any]: ...

        def _busy(self, job_id: str, step: str) -> AbstractContextManager[None]: ...

        async def authorize(self, owner: str, job_id: str, action: str) -> JobRecord: ...

        async def job(self, job_id: str) -> JobRecord: ...

        def is_admin(self, owner: str) -> bool: ...

        @staticmethod
        def _check_scene(scene: int, count: int) -> None: ...

    async def approve(self, owner: str, job_id: str) -> JobRecord:
        """One image candidate for every scene; the job waits in images_review. The voice
        starts beside the search, the other candidates keep coming after it (see
        pipeline.studio.preparing)."""
        async with self._lock(job_id):
            job = await self.authorize(owner, job_id, "approve")
            runner, providers = self.app.runner, self.app.providers
            ctx = await runner.context(job_id)
            ctx.work.mkdir(parents=True, exist_ok=True)
            prepare = self.preparations
            with self._busy(job_id, "approve"):
                prepare.forget_voice(ctx)
                prepare.start_voice(job_id)
                try:
                    async with runner.record(job_id, "images", []) as run:
                        candidates, run.provider = await images_stage.run(
                            ctx, providers.images, count=1, fetch_media=providers.fetch_media
                        )
                    await self.app.jobs.update(job_id, selection={"scenes": [0] * len(candidates)})
                    if not await self.app.jobs.set_state(
                        job_id, JobState.IMAGES_REVIEW, expect=job.state
                    ):
                        raise StaleJob(f"job {job_id} changed state")
                except BaseException:
                    await asyncio.shield(prepare.stop(job_id))
                    raise
            prepare.start_alternates(ctx, candidates, providers.images, CANDIDATES)
            prepare.speculate(job_id)
            return await self.job(job_id)

    def alternates_pending(self, job_id: str, scene: int) -> bool:
        """Whether a swap of scene ``scene`` (1-based) will wait for its pictures to arrive:
        a front says so before it waits."""
        return self.preparations.pending(job_id, scene - 1)

    async def swap(
        self, owner: str, job_id: str, scene: int, *, decided: Decided | None = None
    ) -> Swapped:
        """Show scene ``scene``'s next candidate (cycling), once the scene's alternates are in
        (only that scene's are waited for, outside the job's lock: a cancel goes on).
        ``decided`` hears of the choice before it is written (a front answers the press)."""
        await self.authorize(owner, job_id, "swap")
        await self.preparations.arrived(job_id, scene - 1)
        async with self._lock(job_id):
            job = await self.authorize(owner, job_id, "swap")
            candidates = await self._candidates(job)
            self._check_scene(scene, len(candidates))
            picks = self._picks(job, len(candidates))
            options = len(candidates[scene - 1])
            picks[scene - 1] = (picks[scene - 1] + 1) % options
            if decided is not None:
                await decided(Swapped(job, scene, picks[scene - 1] + 1, options))
            await self.app.jobs.update(job_id, selection={"scenes": picks})
            self.preparations.speculate(job_id)  # that scene's segment, for the new pick
            return Swapped(await self.job(job_id), scene, picks[scene - 1] + 1, options)

    async def may_render(self, owner: str, job_id: str) -> JobRecord:
        """The checks of a Render press that only read (owner, step, daily quota): a front
        answers the press after them and before ``queue_render`` writes anything."""
        job = await self.authorize(owner, job_id, "render")
        if not self.is_admin(owner):
            await self.limits.check_render(owner)
        return job

    async def contact_sheet(self, job: JobRecord) -> bytes:
        """A JPEG grid of the chosen picture of every scene, numbered from 1."""
        candidates = await self._candidates(job)
        paths = images_stage.chosen(candidates, self._picks(job, len(candidates)))
        return await cpu.run(render_sheet, paths)

    async def _candidates(self, job: JobRecord) -> list[list[ImageCandidate]]:
        ctx = await self.app.runner.context(job.id)
        candidates = await asyncio.to_thread(images_stage.load, ctx)
        if candidates is None:
            raise WrongStep(f"job {job.id} has no image candidates")
        return candidates

    @staticmethod
    def _picks(job: JobRecord, scenes: int) -> list[int]:
        picks = [int(pick) for pick in (job.selection or {}).get("scenes") or []]
        return (picks + [0] * scenes)[:scenes]
