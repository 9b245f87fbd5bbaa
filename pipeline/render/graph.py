"""The one ffmpeg command that renders a reel: stills -> pans -> subtitles -> H.264, voice -> AAC.

Per scene, the prepared still is decoded once, converted to BT.709 TV-range YUV 4:4:4 once
(not per frame), looped to the scene's frame count and cropped at ``n * step``. 4:4:4 keeps
odd crop offsets exact for chroma too; a 4:2:0 crop would move chroma in 2-pixel steps.
After the concat, one conversion to 4:2:0, the colour tags (which the subtitles filter uses
to convert ASS colours, and x264 writes into the stream) and the subtitles.

The narration goes through its loudness chain (``plan_voice``) and the AAC encoder in the
same process: a simple filtergraph of its own, so it runs on its own thread beside the
video's, and costs a fraction of a second next to x264.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from pipeline.models import RenderSpec
from pipeline.render.audio import AUDIO_BUDGET, aac_args
from pipeline.render.encoders import SOFTWARE, device_args, graph_tail, video_args
from pipeline.render.ffmpeg import escape_filter_path, file_url
from pipeline.render.mix import Bed, audio_graph
from pipeline.render.narration import INITIAL_CEILING_DB
from pipeline.render.stills import Motion

logger = logging.getLogger(__name__)

# The delivery cap: 10 MB (10**6 bytes) per minute of video, audio included.
MAX_BYTES_PER_MINUTE = 10_000_000
# Room for the mp4 index and x264 overshooting its VBV a little.
_CONTAINER_MARGIN = 0.95
# Two seconds of VBV buffer. With one, a busy still's scene-cut I-frame drained the
# buffer and the starved frames after it came out visibly shifted (0.25 px RMS jitter);
# the cap formula below charges the bigger buffer to maxrate.
_BUFFER_SECONDS = 2.0
_VBV_INITIAL_FULLNESS = 0.9  # x264's default vbv-init
_COLOUR_TAGS = "colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
# Under a tight bitrate, B-frames used as references (the pyramid) and spatial direct
# prediction averaged two unequal predictions, which shows as a half-pixel step back in the
# pan (measured 0.10-0.25 px RMS jitter); temporal direct and a flat B structure predict
# a uniform pan exactly (0.001 px) and also scored higher SSIM against a lossless render.
_X264_PARAMS = "direct=temporal:b-pyramid=none"
# The pan moves whole pixels by construction, so sub-pixel motion search finds nothing:
# at veryfast, subme=1 cut encode time ~30% on busy stills for -0.0005 SSIM. Slower
# presets keep theirs (their subme also drives RD mode decisions).
_SUBME = {"veryfast": 1}


def video_maxrate(duration: float, audio_bitrate: int = AUDIO_BUDGET) -> int:
    """The video bitrate cap (bits/s) that keeps the whole file under the size cap.

    Over the reel x264 spends at most maxrate * duration plus the initial buffer, so the
    budget left after the audio is spread over ``duration + initial buffer`` seconds.
    """
    cap_bps = MAX_BYTES_PER_MINUTE * 8 / 60 * _CONTAINER_MARGIN
    video_bits = (cap_bps - audio_bitrate) * duration
    seconds = duration + _BUFFER_SECONDS * _VBV_INITIAL_FULLNESS
    return max(int(video_bits / seconds / 1000) * 1000, 100_000)


def _scene_chain(index: int, motion: Motion, fps: int) -> str:
    width, height = motion.size
    x, y = motion.crop_offsets()
    return (
        f"[{index}:v]"
        # Colour conversion once per scene; accurate rounding costs nothing on one frame.
        "scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+full_chroma_int,"
        "format=yuv444p,setsar=1,"
        f"loop=loop={motion.frames - 1}:size=1:start=0,"
        # PROVIDERS.md: setpts=N/(30*TB) on an image's 1/25 time base drops frames.
        f"settb=1/{fps},setpts=N,"
        # exact=1: without it crop rounds offsets to the chroma grid.
        f"crop=w={width}:h={height}:x={x}:y={y}:exact=1"
        f"[scene{index}]"
    )


def build_filter_graph(
    spec: RenderSpec, motions: list[Motion], *, fonts_dir: Path, encoder: str = SOFTWARE
) -> str:
    scenes = [_scene_chain(i, motion, spec.fps) for i, motion in enumerate(motions)]
    labels = "".join(f"[scene{i}]" for i in range(len(motions)))
    subtitles = (
        f"subtitles=filename={escape_filter_path(spec.subtitles_path)}"
        f":fontsdir={escape_filter_path(fonts_dir)}"
    )
    tail = (
        f"{labels}concat=n={len(motions)}:v=1:a=0,"
        # Concat's timestamps depend on each segment's last frame duration; renumber.
        f"settb=1/{spec.fps},setpts=N,"
        # 4:4:4 -> 4:2:0 only resamples chroma: the matrix and range are already final.
        "scale=flags=bilinear,format=yuv420p,"
        f"setparams={_COLOUR_TAGS},"
        f"{subtitles}{graph_tail(encoder)}[video]"
    )
    return ";\n".join([*scenes, tail])


def _check(spec: RenderSpec, motions: list[Motion]) -> None:
    if len(motions) != len(spec.cuts) or not motions:
        raise ValueError(f"{len(motions)} motions for {len(spec.cuts)} cuts")
    for cut, motion in zip(spec.cuts, motions, strict=True):
        if motion.frames != cut.frames:
            raise ValueError(f"scene {cut.scene}: {motion.frames} motion frames, {cut.frames} cut")
        if motion.size != (spec.width, spec.height):
            raise ValueError(f"scene {cut.scene}: motion size {motion.size} is not the reel's")
    if sum(cut.frames for cut in spec.cuts) != spec.total_frames:
        raise ValueError("cut frames do not add up to total_frames")


def _x264_params(preset: str) -> str:
    subme = _SUBME.get(preset)
    return _X264_PARAMS if subme is None else f"{_X264_PARAMS}:subme={subme}"


def build_render_args(
    spec: RenderSpec,
    motions: list[Motion],
    *,
    fonts_dir: Path,
    audio_filter: str,
    preset: str = "veryfast",
    crf: int = 23,
    bed: Bed | None = None,
    ceiling_db: float = INITIAL_CEILING_DB,
    encoder: str = SOFTWARE,
    vaapi_device: str = "",
) -> list[str]:
    """ffmpeg arguments (without the program name) rendering ``spec`` to ``spec.out_path``.

    ``motions[i]`` is ``spec.cuts[i]``'s prepared still; ``audio_filter`` is the chain the
    narration goes through before its AAC encode (``VoicePlan.filters``). A ``bed`` is mixed
    under it in a second filtergraph (its own thread beside the video's), limited at
    ``ceiling_db`` (``VoicePlan.ceiling_db``).
    """
    _check(spec, motions)
    duration = spec.total_frames / spec.fps
    # The AAC bitrate is only known once encoded: budget for the most it was seen to take.
    maxrate = video_maxrate(duration, AUDIO_BUDGET)
    bufsize = math.ceil(maxrate * _BUFFER_SECONDS)
    inputs: list[str] = []
    for motion in motions:
        # One decoded frame per scene; pattern_type none: a '%' in the path is literal.
        inputs += ["-f", "image2", "-pattern_type", "none", "-i", file_url(motion.still)]
    audio_index = len(motions)
    inputs += ["-i", file_url(spec.audio_path)]
    graph = build_filter_graph(spec, motions, fonts_dir=fonts_dir, encoder=encoder)
    logger.debug("render graph, maxrate %d:\n%s", maxrate, graph)
    if bed is None:
        audio = ["-map", f"{audio_index}:a:0", "-filter:a", audio_filter]
    else:
        inputs += bed.input_args()
        mixing = audio_graph(audio_index, audio_filter, bed, ceiling_db)
        logger.debug("audio graph:\n%s", mixing)
        audio = ["-filter_complex", mixing, "-map", "[mix]"]
    codec = video_args(
        encoder,
        preset=preset,
        crf=crf,
        maxrate=maxrate,
        bufsize=bufsize,
        x264_params=_x264_params(preset),
    )
    return [
        "-y",
        *device_args(encoder, vaapi_device),
        *inputs,
        "-filter_complex",
        graph,
        "-map",
        "[video]",
        *audio,
        *codec,
        # The graph's setparams is what x264 writes; these repeat it for the muxer.
        "-colorspace",
        "bt709",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
        "-color_range",
        "tv",
        # Without -r the encoder assumes 25 fps; the frames are already on a 1/fps grid,
        # so cfr neither duplicates nor drops any.
        "-r",
        str(spec.fps),
        "-fps_mode",
        "cfr",
        "-frames:v",
        str(spec.total_frames),
        *aac_args(),
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        file_url(spec.out_path),
    ]
