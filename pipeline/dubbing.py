"""Dubs: a delivered reel made again in another narration language, as a job of its own.

A dub is an ordinary job (its own id, row, stage runs, work folder, delivery) whose
``deliver_to`` names its parent: ``{"dub": {"parent": <id>, "from": "en", "to": "es"}}``.
Before the runner produces it, ``prepare`` fills in what the runner would otherwise make
from scratch, each step recorded as a stage run so a restart resumes after it:

1. ``images``: the parent's chosen picture of every scene, copied: same pictures, same order;
2. ``translate``: the parent's script, one scene at a time, within each scene's time
   (``pipeline.translation``);
3. ``voice``, when a Dubber is configured (ElevenLabs): the parent's narration dubbed, and its
   word timings from the aligner chain (ElevenLabs Forced Alignment first) against the
   translated script. When the dub fails or times out this stage run is recorded as failed and
   the runner voices the translated script with the voice chain instead.

The runner then writes the new karaoke, mixes the music for the new length and renders; scene
durations follow the new voice's word timings (``render.plan_cuts``).
"""

from __future__ import annotations

import asyncio
import io
import logging
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage import JobRecord
from storage.jobs_queries import JobQueries

from . import translation
from .alignment import wav_duration
from .chain import first_success
from .errors import InputError, ProviderError, ReelError
from .files import atomic_copy, write_json
from .models import ImageCandidate, JobState, ProgressEvent, StageTiming, Voiceover
from .ports import ProgressCallback
from .stages import images as images_stage
from .stages import voice as voice_stage
from .stages.base import JobContext

if TYPE_CHECKING:
    from .app import App

logger = logging.getLogger(__name__)

FACT = "dub"  # the key of a dub's facts in its deliver_to


class DubError(ReelError):
    code = "error.dub_failed"


class DubLanguage(InputError):
    code = "error.dub_language"


class NoTranslator(DubError):
    code = "error.dub_no_llm"


class SourceGone(DubError):
    code = "error.dub_gone"


@dataclass(frozen=True, slots=True)
class DubFacts:
    parent: str
    source: str
    target: str

    def as_fact(self) -> dict[str, str]:
        return {"parent": self.parent, "from": self.source, "to": self.target}

    @classmethod
    def of(cls, deliver_to: dict[str, Any] | None) -> DubFacts | None:
        fact = (deliver_to or {}).get(FACT)
        if not isinstance(fact, dict) or not all(
            isinstance(fact.get(k), str) for k in ("parent", "from", "to")
        ):
            return None
        return cls(fact["parent"], fact["from"], fact["to"])


def dub_key(parent_id: str, language: str) -> str:
    """One dub per reel and language: a second press finds the first."""
    return f"dub:{parent_id}:{language}"


async def facts_of(app: App, job_id: str) -> DubFacts | None:
    return DubFacts.of(await JobQueries(app.db).deliver_to(job_id))


async def prepare(app: App, job: JobRecord, progress: ProgressCallback | None = None) -> None:
    """Get a dub ready for the runner (pictures, translated script, dubbed voice); nothing for
    a job that is not a dub, or one already prepared."""
    facts = await facts_of(app, job.id)
    if facts is None or job.result is not None:
        return
    try:
        await _prepare(app, job, facts, progress)
    except BaseException as exc:
        if not isinstance(exc, asyncio.CancelledError):
            await app.jobs.set_state(job.id, JobState.FAILED, error=str(exc)[:2000])
        raise


async def _prepare(
    app: App, job: JobRecord, facts: DubFacts, progress: ProgressCallback | None
) -> None:
    runner, timings = app.runner, list[StageTiming]()
    parent = await app.jobs.get(facts.parent)
    if parent is None or parent.script is None:
        raise SourceGone(f"the reel {facts.parent} that job {job.id} dubs is gone")
    parent_ctx = await runner.context(parent.id)
    finished = await app.runs.finished_stages(job.id)
    work = Path(job.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    if "images" not in finished or not (work / images_stage.IMAGES_JSON).is_file():
        async with runner.record(job.id, "images", timings) as run:
            run.provider = "parent"
            await asyncio.to_thread(_copy_pictures, parent_ctx, parent, work)
    if job.script is None:
        if not app.providers.translators:
            raise NoTranslator("no LLM is configured to translate the script")
        if progress is not None:
            await progress(ProgressEvent("voice", 0.0))
        spoken = voice_stage.load(parent_ctx)
        if spoken is None:
            raise SourceGone(f"the voice of reel {parent.id} is no longer kept")
        budgets = translation.budgets(parent_ctx.script, spoken.words)
        async with runner.record(job.id, "translate", timings) as run:
            script, run.provider = await translation.translate_script(
                parent_ctx.script, app.providers.translators, target=facts.target, budgets=budgets
            )
        await app.jobs.update(job.id, script=script.model_dump(mode="json"))
    if "voice" not in finished and app.providers.dubbers:
        ctx = await runner.context(job.id, progress)
        try:
            async with runner.record(job.id, "voice", timings) as run:
                dubber = app.providers.dubbers[0]
                run.provider = dubber.name
                await _dubbed_voice(app, ctx, parent_ctx, facts)
        except ReelError as exc:
            logger.warning("job %s: dub failed, voicing the translation instead: %s", job.id, exc)


def _copy_pictures(parent_ctx: JobContext, parent: JobRecord, work: Path) -> None:
    candidates = images_stage.load(parent_ctx)
    if candidates is None:
        raise SourceGone(f"the pictures of reel {parent.id} are no longer kept")
    picks = list((parent.selection or {}).get("scenes") or [])
    chosen = images_stage.chosen(candidates, picks)
    folder = work / "images"
    copied: list[list[ImageCandidate]] = []
    for scene, (path, options) in enumerate(zip(chosen, candidates, strict=True)):
        original = next(c for c in options if c.path == path)
        target = folder / f"{scene}-parent{path.suffix.lower()}"
        atomic_copy(path, target)
        copied.append([original.model_copy(update={"path": target})])
    listed = [[c.model_dump(mode="json") for c in scene] for scene in copied]
    write_json(work / images_stage.IMAGES_JSON, listed)


async def _dubbed_voice(app: App, ctx: JobContext, parent_ctx: JobContext, facts: DubFacts) -> None:
    providers = app.providers
    source = voice_stage.audio_path(parent_ctx)
    if not source.is_file():
        raise SourceGone(f"the voice of reel {facts.parent} is no longer kept")
    await ctx.report("voice", 0.2)
    dubbed = await providers.dubbers[0].dub(
        source, source=facts.source, target=facts.target, out_dir=ctx.work
    )
    audio = await asyncio.to_thread(dubbed.read_bytes)
    duration = wav_duration(audio)
    if duration is None:
        raise ProviderError("the dubbed track is not a WAV", provider="elevenlabs")
    aligned = await first_success(
        providers.aligners,
        lambda aligner: aligner.align(dubbed, ctx.script, facts.target),
        stage="align",
    )
    voiceover = Voiceover(
        audio_path=dubbed,
        duration=duration,
        words=aligned.value,
        provider=providers.dubbers[0].name,
        sample_rate=_rate(audio),
    )
    await asyncio.to_thread(voice_stage._persist, ctx, voiceover)
    await ctx.report("voice", 1.0)


def _rate(audio: bytes) -> int:
    with wave.open(io.BytesIO(audio)) as reader:
        return reader.getframerate()
