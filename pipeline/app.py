"""Wiring: Settings -> database -> providers -> runner. Nothing here runs at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from storage import (
    Database,
    FsmRepository,
    JobRecord,
    JobRepository,
    StageRunRepository,
    UploadRepository,
)
from storage.jobs_queries import JobQueries

from .models import JobState, Script
from .providers import Providers, build_offline
from .queue import RenderQueue
from .runner import Runner
from .settings import Settings
from .workers import build_render_queue

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class App:
    settings: Settings
    db: Database
    jobs: JobRepository
    runs: StageRunRepository
    providers: Providers
    queue: RenderQueue
    runner: Runner

    @classmethod
    async def open(cls, settings: Settings, providers: Providers | None = None) -> App:
        db = await Database.open(settings.database)
        jobs, runs = JobRepository(db), StageRunRepository(db)
        providers = providers or build_offline(settings)
        assert providers.store is not None
        queue = build_render_queue(settings)
        runner = Runner(
            settings=settings,
            jobs=jobs,
            runs=runs,
            uploads=UploadRepository(db),
            queries=JobQueries(db),
            providers=providers,
            store=providers.store,
            queue=queue,
        )
        return cls(settings, db, jobs, runs, providers, queue, runner)

    async def close(self) -> None:
        try:
            await self.providers.aclose()
        finally:
            try:
                await self.queue.aclose()
            finally:
                await self.db.close()

    async def __aenter__(self) -> App:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def conversations(self) -> FsmRepository:
        """Where a chat front keeps conversation state (what a user is in the middle of)."""
        return FsmRepository(self.db)

    def work_dir(self, job_id: str) -> Path:
        return (self.settings.work_dir / job_id).resolve()

    async def new_job(
        self,
        script: Script,
        *,
        style: str,
        voice: str | None = None,
        origin: str = "cli",
        owner_id: str | None = None,
        chat_id: str | None = None,
        idempotency_key: str | None = None,
        topic: str = "",
        state: JobState = JobState.QUEUED,
    ) -> JobRecord:
        job_id = self.jobs.new_id()
        record = JobRecord(
            id=job_id,
            state=state,
            language=script.language,
            style=style,
            voice=voice,
            work_dir=str(self.work_dir(job_id)),
            origin=origin,
            owner_id=owner_id,
            chat_id=chat_id,
            idempotency_key=idempotency_key,
            topic=topic or script.title,
            script=script.model_dump(mode="json"),
        )
        return await self.jobs.create(record)
