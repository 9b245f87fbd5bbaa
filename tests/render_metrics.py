"""Measurements for the render benchmark: ceiling encode time, motion jitter, peak RSS.

numpy is a dev dependency: this module is for tests and ``make bench`` only.
"""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.render.ffmpeg import file_url, run_ffmpeg
from pipeline.render.probe import parse_probe

# Phase-correlation peaks between frames of one pan sit near 1; across a cut they fall to
# noise level (~0.01). Anything under this is treated as a cut.
CUT_PEAK = 0.2
# Frames to skip after a cut: x264's fresh I-frame differs in noise from its neighbours.
_SETTLE_FRAMES = 1


async def ceiling_encode_seconds(frames: int, *, binary: str, preset: str = "veryfast") -> float:
    """Wall time of a bare libx264 encode of ``frames`` 720x1280 30 fps frames (testsrc2)."""
    started = time.perf_counter()
    await run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=720x1280:r=30",
            "-frames:v",
            str(frames),
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-pix_fmt",
            "yuv420p",
            "-f",
            "null",
            "-",
        ],
        binary=binary,
        timeout=600,
        stage="ceiling",
    )
    return time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class JitterReport:
    """Deviation of each frame's displacement from its scene's mean velocity, in px."""

    rms: float
    max: float
    pairs: int  # frame pairs measured (cuts and their neighbours excluded)
    cuts: list[int] = field(default_factory=list)  # first frame of each new scene
    velocities: list[tuple[float, float]] = field(default_factory=list)  # mean (dx, dy)/frame


def _video_size(video: Path, binary: str) -> tuple[int, int]:
    stderr = subprocess.run(
        [binary, "-hide_banner", "-i", file_url(video)], capture_output=True, text=True
    ).stderr
    info = parse_probe(stderr)
    if not info.width or not info.height:
        raise ValueError(f"no video stream in {video}")
    return info.width, info.height


def _default_region(width: int, height: int) -> tuple[int, int, int, int]:
    """A centred 512x512 square in the upper half, clear of the subtitles at the bottom."""
    side = min(512, width, height // 2)
    return ((width - side) // 2, max(0, height // 4 - side // 2), side, side)


def _subpixel(values: np.ndarray, index: int) -> float:
    """Parabolic fit through the peak and its two (circular) neighbours."""
    left, centre, right = values[index - 1], values[index], values[(index + 1) % len(values)]
    denominator = left - 2 * centre + right
    return 0.0 if denominator == 0 else float(0.5 * (left - right) / denominator)


def _shift(previous: np.ndarray, current: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, peak) moving ``previous`` onto ``current``, from their spectra."""
    cross = current * np.conj(previous)
    cross /= np.maximum(np.abs(cross), 1e-9)
    surface = np.fft.irfft2(cross, s=(previous.shape[0], (previous.shape[1] - 1) * 2))
    row, col = (int(i) for i in np.unravel_index(int(np.argmax(surface)), surface.shape))
    peak = float(surface[row, col])
    dy = row + _subpixel(surface[:, col], row)
    dx = col + _subpixel(surface[row, :], col)
    height, width = surface.shape
    dy = dy - height if dy > height / 2 else dy
    dx = dx - width if dx > width / 2 else dx
    return float(dx), float(dy), peak


def _frames(video: Path, binary: str, region: tuple[int, int, int, int]) -> subprocess.Popen[bytes]:
    x, y, w, h = region
    return subprocess.Popen(
        [
            binary,
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-i",
            file_url(video),
            "-map",
            "0:v:0",
            "-vf",
            f"crop={w}:{h}:{x}:{y}:exact=1,format=gray",
            "-f",
            "rawvideo",
            "-",
        ],
        stdout=subprocess.PIPE,
    )


def motion_jitter(
    video: Path, *, binary: str, region: tuple[int, int, int, int] | None = None
) -> JitterReport:
    """How far each frame's motion strays from a uniform pan, in pixels.

    Decodes ``region`` (x, y, w, h; default a square above the subtitles) at full
    resolution as grey, estimates each frame's displacement from the previous one by phase
    correlation with a sub-pixel parabolic peak fit, splits scenes where the correlation
    collapses, and reports the RMS and maximum deviation from each scene's mean velocity.
    """
    width, height = _video_size(video, binary)
    region = region or _default_region(width, height)
    _, _, w, h = region
    window = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    proc = _frames(video, binary, region)
    assert proc.stdout is not None
    scenes: list[list[tuple[float, float]]] = [[]]
    cuts: list[int] = []
    previous: np.ndarray | None = None
    settle = 0
    index = 0
    try:
        while len(raw := proc.stdout.read(w * h)) == w * h:
            frame = np.frombuffer(raw, np.uint8).reshape(h, w).astype(np.float32)
            spectrum = np.fft.rfft2((frame - frame.mean()) * window)
            if previous is not None:
                dx, dy, peak = _shift(previous, spectrum)
                if peak < CUT_PEAK:
                    cuts.append(index)
                    scenes.append([])
                    settle = _SETTLE_FRAMES
                elif settle:
                    settle -= 1
                else:
                    scenes[-1].append((dx, dy))
            previous = spectrum
            index += 1
    finally:
        proc.stdout.close()
        proc.wait()
    deviations: list[float] = []
    velocities: list[tuple[float, float]] = []
    for moves in scenes:
        if not moves:
            continue
        motion = np.asarray(moves)
        mean = motion.mean(axis=0)
        velocities.append((float(mean[0]), float(mean[1])))
        deviations += np.hypot(*(motion - mean).T).tolist()
    if not deviations:
        raise ValueError(f"no motion measured in {video}")
    values = np.asarray(deviations)
    return JitterReport(
        rms=float(np.sqrt(np.mean(values**2))),
        max=float(values.max()),
        pairs=len(values),
        cuts=cuts,
        velocities=velocities,
    )


def peak_rss_tree() -> int:
    """Peak RSS of this process plus that of its largest finished child, in bytes.

    getrusage gives each a high-water mark (KiB on Linux); their sum bounds the tree's peak
    when the children (ffmpeg) run one at a time, as the render's do.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) * 1024
