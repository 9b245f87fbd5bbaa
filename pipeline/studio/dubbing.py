"""The studio's rules for "Also in …": who may dub a reel, into what, how often, and what a
second press gets. The dub itself is made by ``pipeline.dubbing`` when the job is produced
(``Studio.produce``, or a resume after a restart), so a front starts it like any render.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage import DuplicateJob, JobRecord
from storage.jobs_queries import JobQueries

from ..dubbing import DubFacts, DubLanguage, dub_key, facts_of
from ..errors import NotOwner, WrongStep
from ..limits import Limits
from ..models import JobState
from .preferences import NARRATION_LANGUAGES

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from ..app import App

# What a dub keeps of its parent's delivery facts: Discord's upload limit, the CLI's folder.
_INHERITED = ("limit", "out")


@dataclass(frozen=True, slots=True)
class Dub:
    """A dub a press asked for. ``fresh`` is False when that reel already has (or is making)
    this language: the front points at it instead of making it again."""

    job: JobRecord
    parent: JobRecord
    fresh: bool


def dub_languages(job: JobRecord) -> tuple[str, ...]:
    """The narration languages a reel can be dubbed into: all but its own."""
    return tuple(code for code in NARRATION_LANGUAGES if code != job.language)


class Dubbing:
    """Mixed into ``Studio``, which provides these."""

    app: App
    limits: Limits
    _queries: JobQueries
    _render_usage: dict[str, int]

    if TYPE_CHECKING:
        is_admin: Callable[[str], bool]

        def _lock(self, job_id: str) -> AbstractAsyncContextManager[Any]: ...

        async def authorize(self, owner: str, job_id: str, action: str) -> JobRecord: ...

        async def job(self, job_id: str) -> JobRecord: ...

    async def start_dub(
        self,
        owner: str | None,
        parent_id: str,
        language: str,
        *,
        origin: str | None = None,
        chat_id: str | None = None,
        facts: dict[str, Any] | None = None,
        operator: bool = False,
    ) -> Dub:
        """Every check of a dub (owner, a delivered reel, the language, the daily quota: a dub
        is a render) and its job, queued; fast, so a front answers the press at once and then
        produces it with ``Studio.produce``. ``origin``/``chat_id``: where it goes when not
        to the parent's chat (the CLI); ``facts`` are kept for its delivery. ``operator``:
        the person running the CLI, who may dub any delivered reel, free of quotas."""
        if operator:
            parent = await self.job(parent_id)
            if parent.state != JobState.DELIVERED:
                raise WrongStep(f"job {parent_id} is {parent.state}, not delivered")
        elif owner is None:
            raise NotOwner(f"nobody may dub job {parent_id} without being its owner")
        else:
            parent = await self.authorize(owner, parent_id, "dub")
        if language not in NARRATION_LANGUAGES or language == parent.language:
            raise DubLanguage(
                f"job {parent_id} cannot be dubbed into {language!r}",
                params={"language": language},
            )
        key = dub_key(parent.id, language)
        async with self._lock(key):
            existing = await self.app.jobs.by_key(key)
            if existing is not None and existing.state != JobState.FAILED:
                return Dub(existing, parent, fresh=False)
            usage = (
                None
                if owner is None or self.is_admin(owner)
                else await self.limits.take_render(owner)
            )
            try:
                job = existing or await self._new_dub(parent, language, key, origin, chat_id)
                parent_facts = await self._queries.deliver_to(parent.id) or {}
                kept = {k: parent_facts[k] for k in _INHERITED if k in parent_facts}
                dub = DubFacts(parent.id, parent.language, language)
                await self._queries.set_deliver_to(
                    job.id,
                    {
                        **kept,
                        **(facts or {}),
                        "dub": dub.as_fact(),
                        "reply_to": parent_facts.get("message"),
                    },
                )
                await self.app.jobs.set_state(job.id, JobState.QUEUED)
            except BaseException:
                if usage is not None:
                    await asyncio.shield(self.limits.give_back(usage))
                raise
            if usage is not None:
                self._render_usage[job.id] = usage
            return Dub(await self.job(job.id), parent, fresh=True)

    async def dub_of(self, job_id: str) -> DubFacts | None:
        """The parent and languages of a dub; None for an original reel."""
        return await facts_of(self.app, job_id)

    async def _new_dub(
        self,
        parent: JobRecord,
        language: str,
        key: str,
        origin: str | None,
        chat_id: str | None,
    ) -> JobRecord:
        job_id = self.app.jobs.new_id()
        record = JobRecord(
            id=job_id,
            # Not resumable until its facts are written: then queued (see start_dub).
            state=JobState.DRAFTING,
            language=language,
            style=parent.style,
            work_dir=str(self.app.work_dir(job_id)),
            origin=origin or parent.origin,
            owner_id=parent.owner_id,
            chat_id=chat_id if origin else parent.chat_id,
            idempotency_key=key,
            topic=parent.topic,
        )
        try:
            return await self.app.jobs.create(record)
        except DuplicateJob as duplicate:
            return duplicate.job
