"""What a render of a job is made of: its RenderSpec and its codec. The render stage and the
speculative pre-render (pipeline.studio.speculating) build both here, so a segment encoded
ahead of time has the key the render looks for."""

from __future__ import annotations

from pathlib import Path

from ..artifacts import REEL
from ..models import RenderSpec, Voiceover
from ..render import Codec, encoders, plan_cuts, resolve_ffmpeg
from ..settings import Settings
from . import music
from .base import JobContext


def spec_for(
    ctx: JobContext, voiceover: Voiceover, images: list[Path], audio: Path, subtitles: Path
) -> RenderSpec:
    """The reel of ``ctx``'s job: cuts following the narration, the music stage's bed (when it
    ran and made one) mixed under the voice."""
    cuts, total_frames = plan_cuts(voiceover.words, images, voiceover.duration)
    soundtrack = music.load(ctx)
    return RenderSpec(
        cuts=cuts,
        audio_path=audio,
        subtitles_path=subtitles,
        total_frames=total_frames,
        out_path=ctx.path(REEL),
        bed=soundtrack.bed if soundtrack is not None else None,
    )


async def codec_for(settings: Settings) -> Codec:
    """The codec renders use now: the configured encoder (probed once; libx264 when a
    hardware one is absent or failed) with the configured x264 settings."""
    choice = await encoders.choose(
        settings.encoder,
        binary=resolve_ffmpeg(settings.ffmpeg_binary),
        vaapi_device=settings.vaapi_device,
    )
    return Codec(
        encoder=choice.encoder,
        preset=settings.x264_preset,
        crf=settings.x264_crf,
        vaapi_device=settings.vaapi_device,
    )
