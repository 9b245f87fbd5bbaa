"""Narration: the gain that brings a synthesised voice to -14 LUFS / -1 dBTP, found by analysis.

:func:`plan_voice` only works the chain out (ebur128 on the chain's output, nothing
encoded); the render applies it in its own graph, where the AAC encode happens. Two ffmpeg
runs are usual: the source's level, then one run that splits the compressed voice into a
few candidate gains, each through its own limiter and ebur128, interpolating between the
two that bracket the target. About 0.3 s for 45 s of narration; another run only when the
target lies outside the candidates or their peaks leave too little room.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.render.audio import (
    MAX_TRUE_PEAK,
    PRE_LEVEL_LUFS,
    TARGET_LUFS,
    LoudnessReport,
    chain_back,
    chain_front,
    parse_summary,
    run_ebur128,
    summary_of,
    voice_chain,
)
from pipeline.render.probe import MediaInfo, parse_probe

logger = logging.getLogger(__name__)

# Gains tried after the compressor, in one run. Measured needs: espeak ~14.7 dB, a steady
# tone ~9 dB, synthetic test voices 10-14 dB. Three candidates 4 dB apart interpolate to
# within ~0.2 LU; a need outside them costs another run.
_CANDIDATE_GAINS = (8.0, 12.0, 16.0)
_REFINE_STEP_DB = 2.0
_MAX_ANALYSES = 4
_MAX_GAIN_DB = 40.0
# The limiter's ceiling is a sample peak; true (inter-sample) peaks measured ~0.8 dB above
# it, and AAC adds up to half a dB more (0.1 on espeak, 0.5 on wideband noise at 44.1 kHz),
# so analysis keeps this much room.
INITIAL_CEILING_DB = -2.5
AAC_PEAK_MARGIN = 0.5
# Below this the input is silence (ebur128 reports -70 LUFS for digital zero).
_SILENT_LUFS = -60.0


@dataclass(frozen=True, slots=True)
class VoicePlan:
    """How the render turns the synthesised narration into the delivered audio."""

    filters: str  # an -af chain ending in 48 kHz mono float, ready for the AAC encoder
    source: float  # the narration's own integrated loudness, LUFS
    expected: LoudnessReport  # what analysis predicts for ``filters``' output, before AAC
    info: MediaInfo  # the narration's streams and duration
    gain_db: float = 0.0  # after the compressor
    ceiling_db: float = INITIAL_CEILING_DB  # the limiter's
    runs: int = 1  # ffmpeg runs the analysis took


@dataclass(frozen=True, slots=True)
class _Point:
    """The chain's output at one gain and ceiling."""

    gain: float
    ceiling: float
    integrated: float
    peak: float | None  # measured on the highest candidate only: each costs a 4x upsampling
    lra: float = 0.0


async def _try_gains(
    src: Path, pre_gain: float, gains: list[float], ceiling: float, *, binary: str, timeout: float
) -> list[_Point]:
    """The chain's output at each gain, all from one decode and one compressor."""
    gains = sorted(gains)
    splits = "".join(f"[c{i}]" for i in range(len(gains)))
    parts = [f"[0:a:0]{','.join(chain_front(pre_gain))},asplit={len(gains)}{splits}"]
    for i, gain in enumerate(gains):
        # True peak rises with gain, so the highest candidate's bounds all the others'.
        peak = ":peak=true" if i == len(gains) - 1 else ""
        # ffmpeg wants exactly one output to run; the other branches end in a sink.
        sink = "[out]" if i == 0 else ",anullsink"
        chain = ",".join(chain_back(gain, ceiling))
        parts.append(f"[c{i}]{chain},ebur128@c{i}=framelog=quiet{peak}{sink}")
    stderr = await run_ebur128(
        src, ";".join(parts), binary=binary, timeout=timeout, what=f"at {len(gains)} gains"
    )
    try:
        points = [
            _Point(gain, ceiling, *parse_summary(summary_of(stderr, f"c{i}")))
            for i, gain in enumerate(gains)
        ]
    except ValueError:
        raise RenderError(f"no loudness measured for {src.name}", stage="loudness") from None
    for point in points:
        logger.debug("loudness: %s", point)
    return points


@dataclass(frozen=True, slots=True)
class _Choice:
    """A gain and ceiling, and what the chain's output will measure there."""

    gain: float
    ceiling: float
    expected: LoudnessReport


def _bracket(points: list[_Point]) -> tuple[_Point, _Point] | None:
    """The first two neighbours whose loudness spans the target (the curve may wobble)."""
    for low, high in itertools.pairwise(points):
        if low.integrated <= TARGET_LUFS <= high.integrated:
            return low, high
    return None


def _peak_bound(points: list[_Point], gain: float) -> float:
    """The least true peak measured at or above ``gain``, so no lower than the peak at
    ``gain`` (every run measures its highest candidate's, so there is one)."""
    measured = [(p.gain, p.peak) for p in points if p.peak is not None]
    above = [peak for at, peak in measured if at >= gain] or [peak for _, peak in measured]
    return min(above)


def _interpolate(points: list[_Point], low: _Point, high: _Point) -> _Choice:
    rise = high.integrated - low.integrated
    share = (TARGET_LUFS - low.integrated) / rise if rise > 0 else 0.0
    gain = low.gain + share * (high.gain - low.gain)
    lra = low.lra + share * (high.lra - low.lra)
    # Not the straight line between two peaks: under the limiter the curve bends above it.
    peak = _peak_bound(points, high.gain)
    return _Choice(gain, low.ceiling, LoudnessReport(TARGET_LUFS, peak, lra))


def _linear_below(points: list[_Point]) -> _Choice | None:
    """Below a gain at which the limiter never acts (peaks under its ceiling), the chain is
    a plain gain: loudness and peak fall dB for dB."""
    lowest, peak = points[0], _peak_bound(points, points[0].gain)
    if peak >= lowest.ceiling or lowest.integrated < TARGET_LUFS:
        return None
    drop = lowest.integrated - TARGET_LUFS
    expected = LoudnessReport(TARGET_LUFS, peak - drop, lowest.lra)
    return _Choice(lowest.gain - drop, lowest.ceiling, expected)


def _slope(one: _Point, two: _Point) -> float:
    if two.gain == one.gain:
        return 1.0
    rise = (two.integrated - one.integrated) / (two.gain - one.gain)
    return min(max(rise, 0.2), 1.0)


def _next_gains(points: list[_Point]) -> list[float]:
    """Candidates for another run, around where the target should lie."""
    if points[-1].integrated < TARGET_LUFS:
        top, below = points[-1], points[-2]
        guess = top.gain + (TARGET_LUFS - top.integrated) / _slope(below, top)
    else:
        bottom, above = points[0], points[1]
        guess = bottom.gain - (bottom.integrated - TARGET_LUFS) / _slope(bottom, above)
    step = _REFINE_STEP_DB
    return [min(max(g, -_MAX_GAIN_DB), _MAX_GAIN_DB) for g in (guess - step, guess, guess + step)]


def _fallback(points: list[_Point]) -> _Choice:
    """No chain found within the tries: the measured one nearest the target, peaks first."""
    peak_limit = MAX_TRUE_PEAK - AAC_PEAK_MARGIN

    def peak(point: _Point) -> float:
        same = [p for p in points if p.ceiling == point.ceiling]
        return _peak_bound(same, point.gain)

    safe = [point for point in points if peak(point) <= peak_limit] or points
    best = min(safe, key=lambda point: abs(point.integrated - TARGET_LUFS))
    expected = LoudnessReport(best.integrated, peak(best), best.lra)
    return _Choice(best.gain, best.ceiling, expected)


async def plan_voice(src: Path, *, binary: str, timeout: float) -> VoicePlan:
    """The filter chain that brings narration ``src`` (any rate/channels) to -14 LUFS and
    <= -1 dBTP once encoded as AAC; see the module's notes. A silent input gets format
    conversion only; one that cannot be brought on target gets the nearest chain found,
    with a warning. ``timeout`` bounds the whole analysis; unreadable input, or input
    without audio, raises :class:`RenderError` (stage ``loudness``).
    """
    try:
        async with asyncio.timeout(timeout):
            return await _plan(src, binary=binary, timeout=timeout)
    except TimeoutError:
        raise RenderError(f"loudness timed out after {timeout:g} s", stage="loudness") from None


async def _search(
    src: Path, pre_gain: float, *, binary: str, timeout: float
) -> tuple[_Choice, int]:
    """The post-compressor gain and limiter ceiling that land on target, and the runs taken."""
    ceiling, peak_limit = INITIAL_CEILING_DB, MAX_TRUE_PEAK - AAC_PEAK_MARGIN
    gains = list(_CANDIDATE_GAINS)
    points: list[_Point] = []  # at the current ceiling, by gain
    tried: list[_Point] = []
    for runs in range(1, _MAX_ANALYSES + 1):
        found = await _try_gains(src, pre_gain, gains, ceiling, binary=binary, timeout=timeout)
        tried += found
        points = sorted([*points, *found], key=lambda point: point.gain)
        span = _bracket(points)
        choice = _interpolate(points, *span) if span else _linear_below(points)
        if choice is None:
            gains = _next_gains(points)
        elif choice.expected.true_peak > peak_limit:
            # A lower ceiling is another curve (quieter at the same gain): start it afresh.
            ceiling -= choice.expected.true_peak - peak_limit + 0.1
            step = _REFINE_STEP_DB
            gains = [choice.gain, choice.gain + step, choice.gain + 2 * step]
            points = []
        else:
            return choice, runs
    logger.warning("voice %s: no chain on target in %d runs", src.name, _MAX_ANALYSES)
    return _fallback(tried), _MAX_ANALYSES


async def _plan(src: Path, *, binary: str, timeout: float) -> VoicePlan:
    stderr = await run_ebur128(
        src, "[0:a:0]ebur128=framelog=quiet[out]", binary=binary, timeout=timeout, what="source"
    )
    info = parse_probe(stderr)
    try:
        source = parse_summary(summary_of(stderr, None))[0]
    except ValueError:
        raise RenderError(f"no loudness measured for {src.name}", stage="loudness") from None
    logger.info("voice %s: %.1f LUFS as synthesised", src.name, source)
    if source <= _SILENT_LUFS:
        logger.warning("voice %s is silent; rendering it without normalisation", src.name)
        silent = LoudnessReport(source, -math.inf)
        return VoicePlan(",".join(chain_front(None)), source, silent, info, gain_db=0.0)
    pre_gain = min(max(PRE_LEVEL_LUFS - source, -_MAX_GAIN_DB), _MAX_GAIN_DB)
    chosen, runs = await _search(src, pre_gain, binary=binary, timeout=timeout)
    plan = VoicePlan(
        voice_chain(pre_gain, chosen.gain, chosen.ceiling),
        source,
        chosen.expected,
        info,
        gain_db=chosen.gain,
        ceiling_db=chosen.ceiling,
        runs=runs + 1,
    )
    logger.info(
        "voice %s: %+.1f dB, ceiling %.1f dB: expect %.1f LUFS, %.1f dBTP (%d runs)",
        src.name,
        plan.gain_db,
        plan.ceiling_db,
        plan.expected.integrated,
        plan.expected.true_peak,
        plan.runs,
    )
    return plan
