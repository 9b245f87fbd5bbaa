"""The studio: the chat-agnostic job service behind every front.

Every rule lives here: limits, ownership, which step allows which action, idempotent triggers.
A front parses input, calls one method, and presents the result or the ReelError it raised
(each carries a locale code and params). Owners are ``"<front>:<user id>"``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from storage import DuplicateJob, JobRecord, UsageRepository, UserRepository
from storage.jobs_queries import JobQueries

from ..app import App
from ..concurrency import KeyedLocks
from ..delivery import Deliverer, reel_state
from ..errors import (
    AdminOnly,
    BadButton,
    Busy,
    DraftFailed,
    InputError,
    JobNotFound,
    NotOwner,
    NoWriter,
    ProviderError,
    ReelError,
    Rendering,
    StaleJob,
    WrongStep,
)
from ..limits import Limits, day_start, utc_now
from ..models import JobState, Script
from ..moderation import Refused
from ..ports import ProgressCallback
from ..resume import produce_and_deliver
from ..runner import Production
from ..stages.script import (
    MAX_SCENE_CHARS,
    MAX_TOPIC_CHARS,
    MIN_TOPIC_CHARS,
    check_topic,
    parse_script,
)
from .aftercare import Aftercare
from .drafting import clean_text, write_script
from .dubbing import Dubbing
from .making import Making
from .moderating import moderation_for
from .music import with_preference
from .pictures import CANDIDATES, Pictures, Swapped
from .preferences import Preferences, checked, voice_options
from .preparing import Preparations
from .stats import Stats, build_stats
from .youtube import YouTube

logger = logging.getLogger(__name__)

MIN_TOPIC, MAX_TOPIC = MIN_TOPIC_CHARS, MAX_TOPIC_CHARS
# Target length of an LLM draft: 40 s is 10 scenes of ~4 s, about 100 words.
DRAFT_SECONDS = 40
_RENDERING = frozenset({JobState.QUEUED, JobState.PRODUCING})
# Which step each action belongs to.
ACTIONS: dict[str, tuple[JobState, ...]] = {
    "edit": (JobState.SCRIPT_REVIEW,),
    "rewrite": (JobState.SCRIPT_REVIEW,),
    "approve": (JobState.SCRIPT_REVIEW,),
    "swap": (JobState.IMAGES_REVIEW,),
    "render": (JobState.IMAGES_REVIEW,),
    "cancel": (JobState.DRAFTING, JobState.SCRIPT_REVIEW, JobState.IMAGES_REVIEW),
    "music": (JobState.SCRIPT_REVIEW, JobState.IMAGES_REVIEW),
    "dub": (JobState.DELIVERED,),
}


@dataclass(frozen=True, slots=True)
class Started:
    """A job a trigger made. ``fresh`` is False when the same trigger (idempotency key) had
    already made it: a duplicate update, which a front should not answer twice."""

    job: JobRecord
    fresh: bool


class Studio(Pictures, Aftercare, Making, Dubbing, YouTube):
    def __init__(
        self,
        app: App,
        *,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = utc_now,
        draft_seconds: int = DRAFT_SECONDS,
    ) -> None:
        self.app = app
        self.settings = app.settings
        self.users = UserRepository(app.db)
        self._usage = UsageRepository(app.db)
        self._queries = JobQueries(app.db)
        self.limits = limits or Limits(
            self._usage,
            drafts_per_hour=app.settings.drafts_per_hour,
            renders_per_day=app.settings.daily_render_quota,
            clock=clock,
        )
        self.clock = clock
        self.draft_seconds = draft_seconds
        self._locks = KeyedLocks()
        # Jobs in the middle of a slow step, and which: a press meanwhile is refused at once.
        self._working: dict[str, str] = {}
        self._render_usage: dict[str, int] = {}
        self.moderation = moderation_for(app, clock)
        # Voice and alternates, started at approval (see pipeline.studio.preparing).
        self.preparations = Preparations(app)
        # Stopped when the app closes, before its providers and database.
        app.providers.closers.push_async_callback(self.preparations.aclose)

    # --- who and what -------------------------------------------------------------------

    def is_admin(self, owner: str) -> bool:
        return owner in self.settings.admin_owners

    @property
    def has_writer(self) -> bool:
        return bool(self.app.providers.writers)

    @property
    def voice_engine(self) -> str:
        synths = self.app.providers.synths
        return synths[0].name if synths else "espeak"

    async def job(self, job_id: str) -> JobRecord:
        job = await self.app.jobs.get(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id}", params={"job": job_id})
        return job

    @staticmethod
    def script_of(job: JobRecord) -> Script:
        if job.script is None:
            raise WrongStep(f"job {job.id} has no script yet")
        return Script.model_validate(job.script)

    async def preferences(self, owner: str) -> Preferences:
        return Preferences.resolve(await self.users.get(owner), self.settings)

    async def update_preferences(self, owner: str, **choices: str | bool | None) -> Preferences:
        """Change some of ``ui_language``, ``language``, ``voice``, ``style``. A new narration
        language resets the voice, which belongs to one language."""
        current = await self.preferences(owner)
        choices = checked(choices, current, self.voice_engine)
        await self.users.update(owner, **choices)
        return await self.preferences(owner)

    def voice_options(self, language: str) -> tuple[str, ...]:
        return voice_options(self.voice_engine, language)

    # --- scripts ------------------------------------------------------------------------

    async def draft(
        self, owner: str, topic: str, key: str, *, chat_id: str | None = None
    ) -> Started:
        """An LLM draft on ``topic``; the job waits in script_review."""
        topic = check_topic(topic)
        if (existing := await self.app.jobs.by_key(key)) is not None:
            return Started(existing, fresh=False)
        if not self.has_writer:
            raise NoWriter("no script writer is configured")
        await self.moderation.check_topic(topic, owner=owner)  # before any quota or LLM call
        prefs = await self.preferences(owner)
        usage = None if self.is_admin(owner) else await self.limits.take_draft(owner)
        try:
            job = await self.app.jobs.create(self._record(owner, key, chat_id, prefs, topic))
        except DuplicateJob as duplicate:
            if usage is not None:
                await self.limits.give_back(usage)
            return Started(duplicate.job, fresh=False)
        try:
            script = with_preference(await self._write(job), prefs.music)
        except BaseException as exc:
            error = "interrupted" if isinstance(exc, asyncio.CancelledError) else str(exc)
            await asyncio.shield(self.app.jobs.set_state(job.id, JobState.FAILED, error=error))
            if isinstance(exc, Refused) and usage is not None:
                await self.limits.give_back(usage)  # a refusal costs no quota
            raise
        await self.app.jobs.update(job.id, script=script.model_dump(mode="json"))
        if not await self.app.jobs.set_state(
            job.id, JobState.SCRIPT_REVIEW, expect=JobState.DRAFTING
        ):
            raise StaleJob(f"job {job.id} was cancelled while drafting")
        return Started(await self.job(job.id), fresh=True)

    async def own_script(
        self, owner: str, text: str, key: str, *, chat_id: str | None = None
    ) -> Started:
        """The user's own narration (render's Markdown format or plain paragraphs): no LLM."""
        if (existing := await self.app.jobs.by_key(key)) is not None:
            return Started(existing, fresh=False)
        prefs = await self.preferences(owner)
        script = with_preference(parse_script(text, language=prefs.language), prefs.music)
        await self.moderation.check_script(script, kind="script", owner=owner)
        record = self._record(owner, key, chat_id, prefs, script.title)
        record.state = JobState.SCRIPT_REVIEW
        record.script = script.model_dump(mode="json")
        try:
            return Started(await self.app.jobs.create(record), fresh=True)
        except DuplicateJob as duplicate:
            return Started(duplicate.job, fresh=False)

    async def rewrite(self, owner: str, job_id: str) -> JobRecord:
        """A new draft on the same topic. On an outage the current script stays."""
        async with self._lock(job_id):
            job = await self.authorize(owner, job_id, "rewrite")
            if not self.has_writer:
                raise NoWriter("no script writer is configured")
            usage = None if self.is_admin(owner) else await self.limits.take_draft(owner, job_id)
            with self._busy(job_id, "rewrite"):
                try:
                    script = await self._write(job)
                except Refused:
                    if usage is not None:
                        await self.limits.give_back(usage)
                    raise
            # A new draft keeps the reel's music choice (the user's track, or none).
            script = script.model_copy(update={"music": self.script_of(job).music})
            await self.app.jobs.update(job_id, script=script.model_dump(mode="json"))
            return await self.job(job_id)

    async def edit_scene(self, owner: str, job_id: str, scene: int, text: str) -> JobRecord:
        async with self._lock(job_id):
            job = await self.authorize(owner, job_id, "edit")
            script = self.script_of(job)
            self._check_scene(scene, len(script.scenes))
            narration = clean_text(text)
            if not narration:
                raise InputError("the new text is empty", code="error.edit_empty")
            if len(narration) > MAX_SCENE_CHARS:
                raise InputError(
                    f"a scene is at most {MAX_SCENE_CHARS} characters, not {len(narration)}",
                    code="error.edit_too_long",
                    params={"limit": MAX_SCENE_CHARS, "length": len(narration)},
                )
            await self.moderation.check(narration, kind="edit", owner=owner, job_id=job_id)
            scenes = list(script.scenes)
            scenes[scene - 1] = scenes[scene - 1].model_copy(update={"narration": narration})
            edited = script.model_copy(update={"scenes": scenes})
            await self.app.jobs.update(job_id, script=edited.model_dump(mode="json"))
            return await self.job(job_id)

    async def cancel(self, owner: str, job_id: str) -> JobRecord:
        async with self._lock(job_id):
            job = await self.authorize(owner, job_id, "cancel")
            if not await self.app.jobs.set_state(job_id, JobState.CANCELLED, expect=job.state):
                raise StaleJob(f"job {job_id} changed state")
            await self.preparations.stop(job_id)
            return await self.job(job_id)

    # --- rendering ----------------------------------------------------------------------

    async def queue_render(self, owner: str, job_id: str) -> JobRecord:
        """Every check of a render (owner, step, daily quota) and the move to ``queued``; fast,
        so a front can answer the press before the render itself runs."""
        async with self._lock(job_id):
            job = await self.authorize(owner, job_id, "render")
            usage = None if self.is_admin(owner) else await self.limits.take_render(owner, job_id)
            if not await self.app.jobs.set_state(job_id, JobState.QUEUED, expect=job.state):
                if usage is not None:
                    await self.limits.give_back(usage)
                raise StaleJob(f"job {job_id} changed state")
            if usage is not None:
                self._render_usage[job_id] = usage
            return await self.job(job_id)

    async def produce(
        self, job_id: str, deliverer: Deliverer, progress: ProgressCallback | None = None
    ) -> Production:
        """Run a queued job to its published reel and hand it to ``deliverer`` (at most once,
        see pipeline.resume). A failure gives the render back to the user's quota."""
        usage = self._render_usage.pop(job_id, None)
        try:
            await self.preparations.settle(job_id)
            return await produce_and_deliver(
                self.app, job_id, deliverer, progress, candidates=CANDIDATES
            )
        except ReelError:
            if usage is not None:
                await self.limits.give_back(usage)
            raise

    async def render(
        self,
        owner: str,
        job_id: str,
        deliverer: Deliverer,
        progress: ProgressCallback | None = None,
    ) -> Production:
        await self.queue_render(owner, job_id)
        return await self.produce(job_id, deliverer, progress)

    # --- admins -------------------------------------------------------------------------

    async def stats(self, owner: str) -> Stats:
        if not self.is_admin(owner):
            raise AdminOnly(f"{owner} is not an admin")
        since = day_start(self.clock())
        by_state = await self._usage.job_states_since(since)
        refusals = await self.moderation.refusals_since(since)
        return build_stats(since, by_state, await self.app.runs.since(since), refusals=refusals)

    # --- helpers ------------------------------------------------------------------------

    def _lock(self, job_id: str) -> asyncio.Lock:
        # One action at a time per job (a double press, Cancel during Approve).
        return self._locks.lock(job_id)

    @contextmanager
    def _busy(self, job_id: str, step: str) -> Iterator[None]:
        self._working[job_id] = step
        try:
            yield
        finally:
            self._working.pop(job_id, None)

    async def authorize(self, owner: str, job_id: str, action: str) -> JobRecord:
        """The job, if ``owner`` may do ``action`` to it now; else the reason, as an error.
        Fronts call it to answer a button press at once, before slow work: a press while the
        job is busy with a slow step is refused here, not after that step."""
        if action not in ACTIONS:
            raise BadButton(f"no action {action!r}")
        states = ACTIONS[action]
        job = await self.job(job_id)
        if job.owner_id != owner:
            raise NotOwner(f"{owner} does not own job {job_id}")
        if action != "cancel" and (step := self._working.get(job_id)) is not None:
            raise Busy(f"job {job_id} is busy: {step}", params={"step": step})
        state = reel_state(job)
        if state in states:
            return job
        if state.finished:
            raise StaleJob(f"job {job_id} is {state}", params={"state": str(state)})
        if state in _RENDERING:
            raise Rendering(f"job {job_id} is {state}")
        raise WrongStep(f"job {job_id} is {state}, not {', '.join(states)}")

    def _record(
        self, owner: str, key: str, chat_id: str | None, prefs: Preferences, topic: str
    ) -> JobRecord:
        job_id = self.app.jobs.new_id()
        return JobRecord(
            id=job_id,
            state=JobState.DRAFTING,
            language=prefs.language,
            style=prefs.style,
            voice=prefs.voice,
            work_dir=str(self.app.work_dir(job_id)),
            origin=owner.partition(":")[0] or "chat",
            owner_id=owner,
            chat_id=chat_id,
            idempotency_key=key,
            topic=topic,
        )

    async def _write(self, job: JobRecord) -> Script:
        """A draft, checked: what the writer brought in may be refused (``Refused``)."""
        try:
            script = await write_script(self.app, job, seconds=self.draft_seconds)
        except ProviderError as exc:
            raise DraftFailed(f"no script writer answered: {exc}") from exc
        await self.moderation.check_script(script, kind="draft", owner=job.owner_id, job_id=job.id)
        return script

    @staticmethod
    def _check_scene(scene: int, count: int) -> None:
        if not 1 <= scene <= count:
            raise InputError(
                f"no scene {scene} of {count}",
                code="error.scene_number",
                params={"scene": scene, "count": count},
            )


__all__ = ["CANDIDATES", "DRAFT_SECONDS", "MAX_TOPIC", "MIN_TOPIC", "Started", "Studio", "Swapped"]
