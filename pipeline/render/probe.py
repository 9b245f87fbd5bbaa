"""What a media file holds, read from ``ffmpeg -i`` (the wheel ships no ffprobe)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import RenderError
from pipeline.render.ffmpeg import capture_ffmpeg, file_url, raise_for_run

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 30.0
# Decoding a long reel to count its frames takes a few seconds on two cores.
COUNT_TIMEOUT = 300.0

_DURATION = re.compile(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #\d+:\d+\S*: (Video|Audio): (.*)$", re.MULTILINE)
_SIZE = re.compile(r"^(\d+)x(\d+)")
_RATE = re.compile(r"^([\d.]+)(k?) (fps|tbr|Hz|kb/s)")
_PROGRESS_FRAME = re.compile(r"^frame=(\d+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class MediaInfo:
    duration: float | None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    profile: str | None = None
    pix_fmt: str | None = None
    color_range: str | None = None
    color_space: str | None = None
    video_bitrate: int | None = None  # bits per second
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: str | None = None
    audio_bitrate: int | None = None  # bits per second


def _fields(description: str) -> list[str]:
    """Split a stream description at commas outside parentheses/brackets."""
    fields: list[str] = []
    current: list[str] = []
    depth = 0
    for char in description:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    fields.append("".join(current).strip())
    return fields


def _codec_and_profile(field: str) -> tuple[str, str | None]:
    codec, _, rest = field.partition(" ")
    profile = re.match(r"\(([^)]*)\)", rest.strip())
    # "(avc1 / 0x31637661)" is a fourcc, not a profile.
    if profile and " / 0x" not in profile.group(1):
        return codec, profile.group(1)
    return codec, None


def _rate(fields: list[str], unit: str) -> float | None:
    for field in fields:
        match = _RATE.match(field)
        if match and match.group(3) == unit:
            return float(match.group(1)) * (1000 if match.group(2) else 1)
    return None


def _video(info: dict[str, Any], description: str) -> None:
    fields = _fields(description)
    info["video_codec"], info["profile"] = _codec_and_profile(fields[0])
    for field in fields[1:]:
        size = _SIZE.match(field)
        if size:
            info["width"], info["height"] = int(size.group(1)), int(size.group(2))
            break
    if len(fields) > 1:
        pix_fmt, _, extra = fields[1].partition("(")
        info["pix_fmt"] = pix_fmt.strip()
        tags = [tag.strip() for tag in extra.rstrip(")").split(",") if tag.strip()]
        for tag in tags:
            if tag in ("tv", "pc"):
                info["color_range"] = tag
            elif tag not in ("progressive", "top first", "bottom first", "top coded first"):
                info["color_space"] = tag
    info["fps"] = _rate(fields, "fps") or _rate(fields, "tbr")
    bitrate = _rate(fields, "kb/s")
    info["video_bitrate"] = int(bitrate * 1000) if bitrate else None


def _audio(info: dict[str, Any], description: str) -> None:
    fields = _fields(description)
    info["audio_codec"] = fields[0].partition(" ")[0]
    rate = _rate(fields, "Hz")
    info["sample_rate"] = int(rate) if rate else None
    if len(fields) > 2:
        info["channels"] = fields[2]
    bitrate = _rate(fields, "kb/s")
    info["audio_bitrate"] = int(bitrate * 1000) if bitrate else None


def parse_probe(stderr: str) -> MediaInfo:
    """MediaInfo from ``ffmpeg -i`` output: the first video and the first audio stream."""
    duration_match = _DURATION.search(stderr)
    duration = None
    if duration_match:
        hours, minutes, seconds = duration_match.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    info: dict[str, Any] = {}
    for kind, description in _STREAM.findall(stderr):
        if kind == "Video" and "video_codec" not in info:
            _video(info, description)
        elif kind == "Audio" and "audio_codec" not in info:
            _audio(info, description)
    return MediaInfo(duration=duration, **info)


async def probe(path: Path, *, binary: str) -> MediaInfo:
    """Streams and duration of ``path``; RenderError (stage ``probe``) if ffmpeg can't read it."""
    run = await capture_ffmpeg(
        ["-i", file_url(path)], binary=binary, timeout=PROBE_TIMEOUT, stage="probe"
    )
    if "Input #0" not in run.stderr:
        raise_for_run(run, "probe")
        raise RenderError(f"cannot read {path.name}", stage="probe")
    return parse_probe(run.stderr)


async def count_frames(path: Path, *, binary: str) -> int:
    """The exact number of decoded video frames (decodes the whole stream)."""
    run = await capture_ffmpeg(
        [
            "-loglevel",
            "error",
            "-nostats",
            "-progress",
            "pipe:1",
            "-i",
            file_url(path),
            "-map",
            "0:v:0",
            "-f",
            "null",
            "-",
        ],
        binary=binary,
        timeout=COUNT_TIMEOUT,
        stage="probe",
    )
    raise_for_run(run, "probe")
    frames = _PROGRESS_FRAME.findall(run.stdout)
    if not frames:
        raise RenderError(f"no video frames counted in {path.name}", stage="probe")
    return int(frames[-1])
