"""What the studio does around a reel besides its review steps: the user's own music track,
the facts a front needs to deliver after a restart, and resuming unfinished jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from storage import JobRecord
from storage.jobs_queries import JobQueries

from ..delivery import Deliverer
from ..errors import WrongStep
from ..models import JobState
from ..resume import resume_jobs
from ..stages.images import CANDIDATES_PER_SCENE
from .music import keep_track, reviewing
from .preparing import Preparations

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from ..app import App
    from ..settings import Settings


class Aftercare:
    """Mixed into ``Studio``, which provides these."""

    app: App
    settings: Settings
    _queries: JobQueries
    preparations: Preparations

    if TYPE_CHECKING:

        def _lock(self, job_id: str) -> AbstractAsyncContextManager[Any]: ...

        async def authorize(self, owner: str, job_id: str, action: str) -> JobRecord: ...

        async def job(self, job_id: str) -> JobRecord: ...

        @staticmethod
        def script_of(job: JobRecord) -> Any: ...

    async def set_music(
        self, owner: str, job_id: str | None, filename: str, data: bytes
    ) -> JobRecord:
        """The user's own track under the voice of a reel in review: ``job_id``, or the
        owner's latest reel in review (a track sent in chat names no reel)."""
        if job_id is None:
            found = await reviewing(self._queries, owner)
            if found is None:
                raise WrongStep(f"{owner} has no reel in review", code="error.music_no_job")
            job_id = found.id
        async with self._lock(job_id):
            job = await self.authorize(owner, job_id, "music")
            script = await asyncio.to_thread(
                keep_track, job, self.script_of(job), filename, data, self.settings.fetch_max_bytes
            )
            await self.app.jobs.update(job_id, script=script.model_dump(mode="json"))
            if job.state == JobState.IMAGES_REVIEW:
                # The voice was prepared with the earlier choice of music.
                self.preparations.redo_music(await self.app.runner.context(job_id))
            return await self.job(job_id)

    async def note_destination(self, job_id: str, **facts: str | int) -> None:
        """Facts a front needs to deliver after a restart (e.g. Discord's upload limit)."""
        current = await self._queries.deliver_to(job_id) or {}
        await self._queries.set_deliver_to(job_id, {**current, **facts})

    async def destination(self, job_id: str) -> dict[str, Any]:
        return await self._queries.deliver_to(job_id) or {}

    async def resume(self, deliverers: Mapping[str, Deliverer]) -> list[str]:
        """Finish the jobs a stopped process left rendering (see ``pipeline.resume``), and
        restart the background work of those under review (``pipeline.studio.preparing``)."""
        await self.preparations.resume(CANDIDATES_PER_SCENE, deliverers)
        return await resume_jobs(self.app, deliverers)
