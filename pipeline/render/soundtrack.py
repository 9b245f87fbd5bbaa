"""The reel's sound alone: narration and bed, planned and mixed as the render does, no video.

For a quick listen to the mix (and for checking it on long reels) without paying for x264:
the same loudness plan and the same audio graph as :func:`pipeline.render.render_reel`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.models import RenderSpec
from pipeline.render.audio import aac_args
from pipeline.render.ffmpeg import file_url, run_ffmpeg
from pipeline.render.mix import audio_graph, place_bed
from pipeline.render.narration import VoicePlan, plan_voice

logger = logging.getLogger(__name__)


async def render_soundtrack(
    spec: RenderSpec, out: Path, *, binary: str, timeout: float
) -> VoicePlan:
    """Mix ``spec``'s narration and bed into ``out`` (AAC in MP4, as in the reel), atomically.
    Returns the loudness plan it used."""
    bed = place_bed(spec)
    try:
        async with asyncio.timeout(timeout):
            plan = await plan_voice(spec.audio_path, binary=binary, timeout=timeout)
            part = out.with_name(f".{out.name}.part")
            args = ["-y", "-i", file_url(spec.audio_path)]
            if bed is None:
                args += ["-map", "0:a:0", "-filter:a", plan.filters]
            else:
                graph = audio_graph(0, plan.filters, bed, plan.ceiling_db)
                args += [*bed.input_args(), "-filter_complex", graph, "-map", "[mix]"]
            try:
                await run_ffmpeg(
                    [*args, *aac_args(), "-f", "mp4", file_url(part)],
                    binary=binary,
                    timeout=timeout,
                    stage="soundtrack",
                )
                await asyncio.to_thread(part.replace, out)
            finally:
                part.unlink(missing_ok=True)
    except TimeoutError:
        raise RenderError(f"soundtrack timed out after {timeout:g} s", stage="soundtrack") from None
    return plan


__all__ = ["render_soundtrack"]
