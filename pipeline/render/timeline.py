"""Where the picture cuts: scene boundaries on the frame grid, following the narration."""

from __future__ import annotations

import logging
import math
from pathlib import Path

from pipeline.models import SceneCut, WordTiming

logger = logging.getLogger(__name__)

# Float noise must not add a frame: 8.3 s * 30 is 249.00000000000003, and the reel is 249.
_FRAME_EPSILON = 1e-6


def total_frames_for(duration: float, fps: int = 30) -> int:
    """ceil(duration * fps), tolerant of float noise."""
    return max(1, math.ceil(duration * fps - _FRAME_EPSILON))


def _spans(words: list[WordTiming], scenes: int) -> list[tuple[float, float] | None]:
    """(first word start, last word end) per scene, None for a scene without timed words."""
    spans: list[tuple[float, float] | None] = [None] * scenes
    for word in words:
        if not 0 <= word.scene < scenes:
            raise ValueError(f"word {word.text!r} is in scene {word.scene}, not 0..{scenes - 1}")
        current = spans[word.scene]
        start, end = word.start, max(word.start, word.end)
        spans[word.scene] = (
            (start, end) if current is None else (min(current[0], start), max(current[1], end))
        )
    return spans


def _widen(
    pause: tuple[float, float], limits: tuple[float, float], length: float
) -> tuple[float, float]:
    """``pause`` grown to ``length`` around its middle, shifted to stay within ``limits``."""
    low, high = pause
    if high - low >= length:
        return low, high
    middle = (low + high) / 2
    low, high = middle - length / 2, middle + length / 2
    if low < limits[0]:
        low, high = limits[0], high + (limits[0] - low)
    if high > limits[1]:
        low, high = low - (high - limits[1]), limits[1]
    return max(low, limits[0]), high


def _boundary_times(spans: list[tuple[float, float] | None], duration: float) -> list[float]:
    """Cut times between scenes (n - 1 of them), in seconds.

    Between two narrated scenes the cut is the middle of the pause. A run of scenes without
    words shares the pause around it evenly; if that pause is shorter than their fair share
    of the reel (duration / scenes each), the run widens around the pause's middle, taking
    the time from its neighbours' narration rather than flashing by.
    """
    count = len(spans)
    fair = duration / count
    cuts: list[float] = []
    index = 0
    while index < count - 1:
        this, following = spans[index], spans[index + 1]
        if this is not None and following is not None:
            cuts.append((this[1] + following[0]) / 2)
            index += 1
            continue
        # A run of wordless scenes [first, last], with the narrated neighbours around it.
        first = index + 1 if spans[index] is not None else index
        last = first
        while last + 1 < count and spans[last + 1] is None:
            last += 1
        before = spans[first - 1] if first > 0 else None
        after = spans[last + 1] if last + 1 < count else None
        run = last - first + 1
        low, high = _widen(
            (before[1] if before else 0.0, after[0] if after else duration),
            # Neighbours keep at least the second (first) half of their own narration.
            (sum(before) / 2 if before else 0.0, sum(after) / 2 if after else duration),
            run * fair,
        )
        edges = [low + (high - low) * k / run for k in range(run + 1)]
        cuts.extend(edges[1:-1] if first == 0 else edges[:-1])
        if last + 1 < count:
            cuts.append(edges[-1])
        index = last + 1
    return cuts


def _snap(cuts: list[float], fps: int, total: int) -> list[int]:
    """Cut times to frame numbers: rounded, strictly increasing, every scene >= 1 frame."""
    count = len(cuts) + 1
    frames = [round(t * fps) for t in cuts]
    snapped: list[int] = []
    previous = 0
    for position, frame in enumerate(frames, start=1):
        # Leave at least one frame for this scene and for every scene after it.
        frame = min(max(frame, previous + 1), total - (count - position))
        snapped.append(frame)
        previous = frame
    return snapped


def plan_cuts(
    words: list[WordTiming], images: list[Path], duration: float, fps: int = 30
) -> tuple[list[SceneCut], int]:
    """One :class:`SceneCut` per image; their frames sum to ``ceil(duration * fps)``.

    ``images[i]`` is scene i's picture; ``words`` carry their scene index. Raises
    ValueError when the reel has fewer frames than scenes or a word names no image.
    """
    if not images:
        raise ValueError("no images to plan")
    if duration <= 0 or fps <= 0:
        raise ValueError(f"bad duration {duration} or fps {fps}")
    total = total_frames_for(duration, fps)
    if total < len(images):
        raise ValueError(f"{len(images)} scenes do not fit in {total} frames")
    spans = _spans(words, len(images))
    edges = [0, *_snap(_boundary_times(spans, duration), fps, total), total]
    cuts = [
        SceneCut(scene=i, image=image, start_frame=edges[i], frames=edges[i + 1] - edges[i])
        for i, image in enumerate(images)
    ]
    logger.debug("planned %d cuts over %d frames: %s", len(cuts), total, edges)
    return cuts, total
