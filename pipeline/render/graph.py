"""The ffmpeg commands that render a reel by scene segments, and join them.

**A segment per scene.** The prepared still is decoded once, converted to BT.709 TV-range
YUV 4:4:4 once (not per frame), looped to the scene's frame count and cropped at
``n * step``. 4:4:4 keeps odd crop offsets exact for chroma too; a 4:2:0 crop would move
chroma in 2-pixel steps. Then one conversion to 4:2:0, the colour tags (which the subtitles
filter uses to convert ASS colours, and x264 writes into the stream) and the subtitles, with
the frames stamped at their place in the reel (``setpts=N+start``) so the karaoke of that
stretch is burned in. Every segment opens with an IDR frame (a fresh encode), has closed
GOPs (x264's default) and the same encoder parameters, so they join by stream copy.

**The narration** goes through its loudness chain (``plan_voice``), the bed is mixed under
it, and the whole track is encoded to AAC once, in its own small process.

**The join** is the concat demuxer over the segments plus that audio, both copied: no
decode, no encode. The reel's frame count is the sum of the segments'.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
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
# A segment's ffmpeg uses this many threads for its encoder and its filter graph, or its
# own choice (about one per core) when 0.
_AUTO_THREADS = 0


@dataclass(frozen=True, slots=True)
class Codec:
    """How video is encoded: the same for every segment of a reel, or they would not join."""

    encoder: str = SOFTWARE
    preset: str = "veryfast"
    crf: int = 23
    vaapi_device: str = ""
    threads: int = _AUTO_THREADS

    def key(self) -> str:
        return f"{self.encoder}:{self.preset}:{self.crf}:{self.threads}"


def video_maxrate(duration: float, audio_bitrate: int = AUDIO_BUDGET, segments: int = 1) -> int:
    """The video bitrate cap (bits/s) that keeps the whole file under the size cap.

    Over a segment x264 spends at most maxrate * its duration plus the initial buffer, and
    every segment starts with its own, so the budget left after the audio is spread over
    ``duration + segments * initial buffer`` seconds.
    """
    cap_bps = MAX_BYTES_PER_MINUTE * 8 / 60 * _CONTAINER_MARGIN
    video_bits = (cap_bps - audio_bitrate) * duration
    seconds = duration + segments * _BUFFER_SECONDS * _VBV_INITIAL_FULLNESS
    return max(int(video_bits / seconds / 1000) * 1000, 100_000)


def scene_chain(source: str, motion: Motion, fps: int, *, start: int = 0) -> str:
    """From a decoded still (``source``, a pad label) to the scene's panned 4:4:4 frames,
    stamped ``start``.. on the 1/fps grid."""
    width, height = motion.size
    x, y = motion.crop_offsets()
    stamp = f"N+{start}" if start else "N"
    return (
        f"{source}"
        # Colour conversion once per scene; accurate rounding costs nothing on one frame.
        "scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+full_chroma_int,"
        "format=yuv444p,setsar=1,"
        f"loop=loop={motion.frames - 1}:size=1:start=0,"
        # PROVIDERS.md: setpts=N/(30*TB) on an image's 1/25 time base drops frames.
        f"settb=1/{fps},setpts={stamp},"
        # exact=1: without it crop rounds offsets to the chroma grid.
        f"crop=w={width}:h={height}:x={x}:y={y}:exact=1"
    )


def finishing_chain(spec: RenderSpec, fonts_dir: Path) -> str:
    """4:4:4 -> 4:2:0 (only chroma resamples: the matrix and range are already final), the
    colour tags, the subtitles at the frames' own timestamps."""
    subtitles = (
        f"subtitles=filename={escape_filter_path(spec.subtitles_path)}"
        f":fontsdir={escape_filter_path(fonts_dir)}"
    )
    return f"scale=flags=bilinear,format=yuv420p,setparams={_COLOUR_TAGS},{subtitles}"


def segment_graph(
    spec: RenderSpec, index: int, motion: Motion, *, fonts_dir: Path, encoder: str = SOFTWARE
) -> str:
    """Scene ``index``'s frames with their subtitles, restamped from 0 for its own file."""
    start = spec.cuts[index].start_frame
    return (
        f"{scene_chain('[0:v]', motion, spec.fps, start=start)},"
        f"{finishing_chain(spec, fonts_dir)},"
        f"setpts=N{graph_tail(encoder)}[video]"
    )


def _check(spec: RenderSpec, index: int, motion: Motion) -> None:
    if not 0 <= index < len(spec.cuts):
        raise ValueError(f"no scene {index} in a reel of {len(spec.cuts)}")
    cut = spec.cuts[index]
    if motion.frames != cut.frames:
        raise ValueError(f"scene {cut.scene}: {motion.frames} motion frames, {cut.frames} cut")
    if motion.size != (spec.width, spec.height):
        raise ValueError(f"scene {cut.scene}: motion size {motion.size} is not the reel's")
    if sum(c.frames for c in spec.cuts) != spec.total_frames:
        raise ValueError("cut frames do not add up to total_frames")


def _x264_params(preset: str) -> str:
    subme = _SUBME.get(preset)
    return _X264_PARAMS if subme is None else f"{_X264_PARAMS}:subme={subme}"


def _colour_args() -> list[str]:
    # The graph's setparams is what x264 writes; these repeat it for the muxer.
    return [
        *["-colorspace", "bt709", "-color_primaries", "bt709"],
        *["-color_trc", "bt709", "-color_range", "tv"],
    ]


def segment_maxrate(spec: RenderSpec) -> int:
    return video_maxrate(spec.total_frames / spec.fps, AUDIO_BUDGET, len(spec.cuts))


def build_segment_args(
    spec: RenderSpec, index: int, motion: Motion, out: Path, *, fonts_dir: Path, codec: Codec
) -> list[str]:
    """ffmpeg arguments (without the program name) encoding scene ``index`` to ``out``."""
    _check(spec, index, motion)
    maxrate = segment_maxrate(spec)
    frames = spec.cuts[index].frames
    graph = segment_graph(spec, index, motion, fonts_dir=fonts_dir, encoder=codec.encoder)
    logger.debug("segment %d graph, maxrate %d:\n%s", index, maxrate, graph)
    threads = ["-threads", str(codec.threads)] if codec.threads else []
    filter_threads = ["-filter_complex_threads", str(codec.threads)] if codec.threads else []
    return [
        "-y",
        *filter_threads,
        *device_args(codec.encoder, codec.vaapi_device),
        # One decoded frame; pattern_type none: a '%' in the path is literal.
        *["-f", "image2", "-pattern_type", "none", "-i", file_url(motion.still)],
        *["-filter_complex", graph, "-map", "[video]", "-an"],
        *video_args(
            codec.encoder,
            preset=codec.preset,
            crf=codec.crf,
            maxrate=maxrate,
            bufsize=math.ceil(maxrate * _BUFFER_SECONDS),
            x264_params=_x264_params(codec.preset),
        ),
        *threads,
        *_colour_args(),
        # Without -r the encoder assumes 25 fps; the frames are already on a 1/fps grid,
        # so cfr neither duplicates nor drops any.
        *["-r", str(spec.fps), "-fps_mode", "cfr", "-frames:v", str(frames)],
        *["-f", "mp4", file_url(out)],
    ]


def build_audio_args(
    spec: RenderSpec,
    out: Path,
    *,
    audio_filter: str,
    bed: Bed | None = None,
    ceiling_db: float = INITIAL_CEILING_DB,
) -> list[str]:
    """ffmpeg arguments encoding the reel's whole sound (narration, bed) to AAC in ``out``.

    ``audio_filter`` is the narration's chain (``VoicePlan.filters``); a ``bed`` is mixed
    under it and limited at ``ceiling_db`` (``VoicePlan.ceiling_db``).
    """
    inputs = ["-i", file_url(spec.audio_path)]
    if bed is None:
        audio = ["-map", "0:a:0", "-filter:a", audio_filter]
    else:
        inputs += bed.input_args()
        mixing = audio_graph(0, audio_filter, bed, ceiling_db)
        logger.debug("audio graph:\n%s", mixing)
        audio = ["-filter_complex", mixing, "-map", "[mix]"]
    # The track ends with the last frame: narration padding past it would lengthen the mp4.
    seconds = spec.total_frames / spec.fps
    return ["-y", *inputs, *audio, "-t", f"{seconds:.6f}", *aac_args(), "-f", "mp4", file_url(out)]


def build_join_args(listing: Path, audio: Path, out: Path) -> list[str]:
    """ffmpeg arguments joining the segments named in ``listing`` (a concat-demuxer list)
    with ``audio``, both by stream copy, into ``out``."""
    return [
        "-y",
        *["-f", "concat", "-safe", "0", "-i", file_url(listing)],
        *["-i", file_url(audio)],
        *["-map", "0:v:0", "-map", "1:a:0", "-c", "copy"],
        *_colour_args(),
        *["-movflags", "+faststart", "-f", "mp4", file_url(out)],
    ]
