"""Which H.264 encoder renders: libx264, or a hardware one the configured ffmpeg offers.

``auto`` asks the ffmpeg for its encoders once (per binary, per process) and takes a hardware
one only after a one-second test encode with the render's own settings succeeds; a named
hardware encoder is tested the same way. Whatever fails falls back to libx264, and the reason
is kept (``EncoderChoice.refused``) and logged. The render stage falls back again if the
chosen encoder fails on the real render, and records the encoder that served.

Every encoder is capped by the same maxrate and buffer as libx264 (the size cap); those
without a CRF mode (VAAPI, QSV, VideoToolbox) get a bitrate target under the cap instead.
Only libx264 and the probing/fallback run on this project's machines (no GPU): the hardware
arguments follow each encoder's ffmpeg documentation and were not run here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pipeline.render.ffmpeg import capture_ffmpeg

logger = logging.getLogger(__name__)

SOFTWARE = "libx264"
# In the order ``auto`` tries them.
HARDWARE = ("h264_nvenc", "h264_qsv", "h264_vaapi", "h264_videotoolbox")
ENCODERS = (SOFTWARE, *HARDWARE)
# A bitrate-only encoder aims here, under the cap, so it rarely has to lean on it.
_TARGET_SHARE = 0.8
_TRIAL_SIZE = "720x1280"  # the reel's own: some encoders refuse sizes others take
_TRIAL_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class EncoderChoice:
    encoder: str
    wanted: str
    refused: dict[str, str] = field(default_factory=dict)  # encoder -> why not

    @property
    def fell_back(self) -> bool:
        return self.encoder != self.wanted and self.wanted != "auto"


_chosen: dict[tuple[str, str, str], EncoderChoice] = {}


def graph_tail(encoder: str) -> str:
    """What the video filtergraph ends with for ``encoder`` (after the subtitles)."""
    if encoder == "h264_vaapi":
        return ",format=nv12,hwupload"
    if encoder == "h264_qsv":
        return ",format=nv12"
    return ""


def device_args(encoder: str, vaapi_device: str) -> list[str]:
    """Global options the encoder's device needs, before the inputs."""
    return ["-vaapi_device", vaapi_device] if encoder == "h264_vaapi" else []


def video_args(
    encoder: str, *, preset: str, crf: int, maxrate: int, bufsize: int, x264_params: str
) -> list[str]:
    """The encoder's output options: quality and the bitrate cap."""
    cap = ["-maxrate", str(maxrate), "-bufsize", str(bufsize)]
    target = ["-b:v", str(int(maxrate * _TARGET_SHARE))]
    if encoder == SOFTWARE:
        return [
            *["-c:v", SOFTWARE, "-preset", preset, "-crf", str(crf), *cap],
            *["-x264-params", x264_params, "-profile:v", "high", "-pix_fmt", "yuv420p"],
        ]
    if encoder == "h264_nvenc":  # constant quality under the cap, as libx264's CRF
        return [
            *["-c:v", encoder, "-preset", "p4", "-rc", "vbr", "-cq", str(crf), "-b:v", "0"],
            *cap,
            *["-profile:v", "high", "-pix_fmt", "yuv420p"],
        ]
    if encoder == "h264_vaapi":
        return ["-c:v", encoder, "-rc_mode", "VBR", *target, *cap, "-profile:v", "high"]
    if encoder == "h264_qsv":
        return ["-c:v", encoder, "-preset", "medium", *target, *cap, "-profile:v", "high"]
    if encoder == "h264_videotoolbox":
        return ["-c:v", encoder, *target, *cap, "-profile:v", "high", "-pix_fmt", "yuv420p"]
    raise ValueError(f"unknown encoder {encoder!r}")


async def listed(binary: str) -> frozenset[str]:
    """The encoders ``binary`` was built with (``ffmpeg -encoders``)."""
    run = await capture_ffmpeg(["-encoders"], binary=binary, timeout=_TRIAL_TIMEOUT, stage="probe")
    names = set()
    for line in run.stdout.splitlines():
        parts = line.split()
        # " V....D libx264   libx264 H.264 ...": flags, then the name.
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


async def trial(binary: str, encoder: str, *, vaapi_device: str) -> str | None:
    """A one-second encode with ``encoder``: None when it worked, else why not."""
    args = [
        *["-loglevel", "error", *device_args(encoder, vaapi_device)],
        *["-f", "lavfi", "-i", f"color=c=gray:s={_TRIAL_SIZE}:r=30:d=1"],
        *["-vf", "format=yuv420p" + graph_tail(encoder), "-frames:v", "30"],
        *video_args(
            encoder,
            preset="veryfast",
            crf=23,
            maxrate=2_000_000,
            bufsize=4_000_000,
            x264_params="direct=temporal",
        ),
        *["-f", "null", "-"],
    ]
    run = await capture_ffmpeg(args, binary=binary, timeout=_TRIAL_TIMEOUT, stage="probe")
    if run.returncode == 0:
        return None
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    return (lines[0] if lines else f"exit code {run.returncode}")[:300]


async def choose(wanted: str, *, binary: str, vaapi_device: str) -> EncoderChoice:
    """The encoder to render with for the setting ``wanted`` (``auto`` or an encoder name);
    probed once per binary and setting, then remembered."""
    if wanted == SOFTWARE:
        return EncoderChoice(SOFTWARE, wanted)
    key = (binary, wanted, vaapi_device)
    if (known := _chosen.get(key)) is not None:
        return known
    if wanted != "auto" and wanted not in HARDWARE:
        raise ValueError(f"unknown encoder {wanted!r}")
    available = await listed(binary)
    refused: dict[str, str] = {}
    chosen = SOFTWARE
    for encoder in HARDWARE if wanted == "auto" else (wanted,):
        if encoder not in available:
            refused[encoder] = "not in this ffmpeg"
            continue
        failure = await trial(binary, encoder, vaapi_device=vaapi_device)
        if failure is None:
            chosen = encoder
            break
        refused[encoder] = failure
    choice = EncoderChoice(chosen, wanted, refused)
    if chosen == SOFTWARE:
        logger.info("encoder %s: using libx264 (%s)", wanted, _reasons(refused))
    else:
        logger.info("encoder %s: using %s", wanted, chosen)
    _chosen[key] = choice
    return choice


def forget(encoder: str) -> None:
    """A chosen encoder failed on a real render: probe again next time."""
    for key in [key for key, choice in _chosen.items() if choice.encoder == encoder]:
        del _chosen[key]


def _reasons(refused: dict[str, str]) -> str:
    return "; ".join(f"{name}: {why}" for name, why in refused.items()) or "asked for"
