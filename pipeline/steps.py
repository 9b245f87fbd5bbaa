"""The stages a job's voice, music, subtitles and images go through, each a recorded stage
run that is skipped when its run is ``ok`` and its files are there (mixed into ``Runner``:
``produce`` runs them all, ``prepare`` the voice, subtitles and music at approval)."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from .artifacts import SUBTITLES
from .failpoints import failpoint
from .models import ImageCandidate, StageTiming, Voiceover
from .providers import Providers
from .settings import Settings
from .stages import images as images_stage
from .stages import music as music_stage
from .stages import publish as publish_stage
from .stages import subtitles as subtitles_stage
from .stages import voice as voice_stage
from .stages.base import JobContext
from .uploads import AnnouncingImages, Uploader

if TYPE_CHECKING:
    from .runner import StageRun


class Steps:
    """Mixed into ``Runner``, which provides these."""

    settings: Settings
    providers: Providers

    if TYPE_CHECKING:

        def record(
            self, job_id: str, stage: str, timings: list[StageTiming]
        ) -> AbstractAsyncContextManager[StageRun]: ...

    async def _subtitles(
        self,
        ctx: JobContext,
        voiceover: Voiceover,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader | None,
    ) -> Path:
        subs = ctx.path(SUBTITLES)
        if "subtitles" not in finished or "voice" in fresh or not subs.is_file():
            if uploader is not None:
                await uploader.forget(SUBTITLES)
            async with self.record(ctx.job_id, "subtitles", timings) as run:
                run.provider = "ass"
                await ctx.report("subtitles", 0.0)
                await asyncio.to_thread(subtitles_stage.write_ass, subs, voiceover.words, ctx.style)
            fresh.add("subtitles")
        return subs

    async def _voice(
        self,
        ctx: JobContext,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader | None,
    ) -> Voiceover:
        audio = voice_stage.audio_path(ctx)
        if "voice" in finished and (loaded := voice_stage.load(ctx)) is not None:
            if uploader is not None:
                uploader.submit(audio.name, audio)
            return loaded
        if uploader is not None:
            await uploader.forget(audio.name)
        async with self.record(ctx.job_id, "voice", timings) as run:
            served = await voice_stage.run(ctx, self.providers.synths, self.providers.aligners)
            run.provider, run.attempts = served.provider, served.attempts
            failpoint("voice")
        fresh.add("voice")
        if uploader is not None:
            uploader.submit(audio.name, audio)
        return served.value

    async def _voice_and_music(
        self,
        ctx: JobContext,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader | None,
    ) -> Voiceover:
        """The voice, then the music for its length, while the images are still coming."""
        voiceover = await self._voice(ctx, finished, fresh, timings, uploader)
        await self._music(ctx, voiceover, finished, fresh, timings, uploader)
        return voiceover

    async def _music(
        self,
        ctx: JobContext,
        voiceover: Voiceover,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader | None,
    ) -> None:
        soundtrack = music_stage.load(ctx)
        if "music" not in finished or "voice" in fresh or soundtrack is None:
            if uploader is not None:
                await uploader.forget(music_stage.MUSIC, music_stage.SFX_FOLDER)
            async with self.record(ctx.job_id, "music", timings) as run:
                soundtrack = await music_stage.run(
                    ctx,
                    self.providers.sounds,
                    seconds=voiceover.duration,
                    fetch_audio=self.providers.fetch_audio,
                )
                run.provider = soundtrack.music_provider or "none"
            fresh.add("music")
        if uploader is not None:
            for name, path in music_stage.assets(soundtrack):
                uploader.submit(name, path)

    async def _images(
        self,
        ctx: JobContext,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader,
        per_scene: int,
    ) -> list[list[ImageCandidate]]:
        if "images" in finished and (loaded := images_stage.load(ctx)) is not None:
            submit_images(uploader, loaded)
            return loaded
        await uploader.forget("images/")

        def landed(scene: int, first: int, found: list[ImageCandidate]) -> None:
            for index, candidate in enumerate(found, start=first):
                name = publish_stage.image_name(scene, index, candidate.path)
                uploader.submit(name, candidate.path)

        sources = [AnnouncingImages(s, per_scene, landed) for s in self.providers.images]
        async with self.record(ctx.job_id, "images", timings) as run:
            candidates, provider = await images_stage.run(
                ctx, sources, count=per_scene, fetch_media=self.providers.fetch_media
            )
            run.provider = provider
        fresh.add("images")
        submit_images(uploader, candidates)  # the user's own media were not announced
        return candidates


def submit_images(uploader: Uploader, candidates: list[list[ImageCandidate]]) -> None:
    for scene, options in enumerate(candidates):
        for index, candidate in enumerate(options):
            uploader.submit(publish_stage.image_name(scene, index, candidate.path), candidate.path)
