"""Narration loudness: measured with ebur128, normalised to -14 LUFS / -1 dBTP as AAC.

loudnorm alone does not get espeak narration to -14 LUFS (PROVIDERS.md measured -16.4
single-pass, -15.9 two-pass): espeak's glottal pulses put its peaks ~19 dB over its
loudness, so the true-peak ceiling forces loudnorm into dynamic mode, which under-shoots.
Instead: a fast compressor and a lookahead limiter bring the crest factor down, and the
gain between them is searched with quick analysis-only passes (ebur128 on the filter
output, nothing encoded). One AAC encode follows, and the *encoded* file is measured,
since AAC adds a few tenths of a dB of true peak. About 1.3 s for a minute of narration.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.render.ffmpeg import capture_ffmpeg, file_url, raise_for_run, run_ffmpeg

logger = logging.getLogger(__name__)

TARGET_LUFS = -14.0
MAX_TRUE_PEAK = -1.0
# Accepted without another pass; the contract is +-1 LU, this leaves margin.
_LUFS_TOLERANCE = 0.3
_MAX_ANALYSES = 5
_MAX_ENCODES = 2
# The voice is brought to this level before the compressor, whose threshold sits ~6 dB
# above it, so every voice gets similar treatment whatever its recorded level.
_PRE_LEVEL_LUFS = -20.0
_COMPRESSOR_THRESHOLD = 10 ** (-20.0 / 20)
# Tuned on espeak narration: ~+14 dB after compression lands near -14 LUFS, and there each
# dB of gain adds ~0.6 LU (the limiter takes the rest). The search corrects both.
_INITIAL_GAIN_DB = 14.0
_INITIAL_SLOPE = 0.6
# The limiter's ceiling is a sample peak; true (inter-sample) peaks measured ~0.8 dB above
# it, and AAC adds a few tenths more, so analysis keeps this much extra room.
_INITIAL_CEILING_DB = -2.5
_AAC_PEAK_MARGIN = 0.4
_MAX_GAIN_DB = 40.0
# Below this the input is silence (ebur128 reports -70 LUFS for digital zero).
_SILENT_LUFS = -60.0

AUDIO_CODEC = "aac"
AUDIO_BITRATE = 96_000  # requested for mono speech
# ffmpeg's native AAC overshoots its target (measured 106-122 kb/s for the above), so the
# render's size budget reserves this much when it cannot read the real figure.
AUDIO_BUDGET = 128_000
AUDIO_RATE = 48_000
AUDIO_CHANNELS = 1

_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS", re.S)
_LRA = re.compile(r"Loudness range:\s*LRA:\s*(-?[\d.]+) LU", re.S)
_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", re.S)


@dataclass(frozen=True, slots=True)
class LoudnessReport:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    lra: float = 0.0  # LU
    gain_db: float = 0.0  # what normalise_voice applied before compression
    passes: int = 0  # encode passes normalise_voice needed; 0 for a plain measurement

    @property
    def on_target(self) -> bool:
        return abs(self.integrated - TARGET_LUFS) <= 1.0 and self.true_peak <= MAX_TRUE_PEAK


def _number(match: re.Match[str] | None) -> float | None:
    if match is None:
        return None
    return -math.inf if match.group(1) == "-inf" else float(match.group(1))


def parse_ebur128(stderr: str) -> LoudnessReport:
    summary = stderr[stderr.rfind("Summary:") :]
    integrated, peak = _number(_INTEGRATED.search(summary)), _number(_PEAK.search(summary))
    if integrated is None or peak is None:
        raise ValueError("no ebur128 summary")
    return LoudnessReport(integrated, peak, _number(_LRA.search(summary)) or 0.0)


async def measure_loudness(path: Path, *, binary: str, timeout: float) -> LoudnessReport:
    """Integrated loudness (LUFS) and true peak (dBTP) of ``path``'s first audio stream."""
    return await _analyse(path, "anull", binary=binary, timeout=timeout)


def _voice_chain(pre_gain_db: float, gain_db: float, ceiling_db: float) -> str:
    limit = 10 ** (ceiling_db / 20)
    return ",".join(
        [
            f"aresample={AUDIO_RATE}",
            # Downmix first, so the analysis measures what the mono encode will hold.
            "aformat=sample_fmts=fltp:channel_layouts=mono",
            # Rumble and DC only eat headroom in speech.
            "highpass=f=80",
            # Every voice enters the compressor at the level its threshold was tuned for.
            f"volume={pre_gain_db:.2f}dB",
            # Synthetic voices are peaky (glottal pulses ~10 dB over the syllable's RMS); a
            # fast compressor takes the crest factor down so the gain fits under the ceiling.
            f"acompressor=threshold={_COMPRESSOR_THRESHOLD:.4f}:ratio=4:attack=1:release=30:knee=6",
            f"volume={gain_db:.2f}dB",
            # level=false: alimiter otherwise rescales its output to 0 dBFS.
            # latency=true: no lookahead delay, so word timings stay where they were.
            f"alimiter=limit={limit:.5f}:attack=2:release=40:level=false:latency=true",
        ]
    )


async def _analyse(src: Path, chain: str, *, binary: str, timeout: float) -> LoudnessReport:
    """Loudness of ``src`` through ``chain``, without encoding anything."""
    run = await capture_ffmpeg(
        [
            "-nostats",
            "-i",
            file_url(src),
            "-map",
            "0:a:0",
            "-af",
            f"{chain},ebur128=peak=true:framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        binary=binary,
        timeout=timeout,
        stage="loudness",
    )
    raise_for_run(run, "loudness")
    try:
        return parse_ebur128(run.stderr)
    except ValueError:
        raise RenderError(f"no loudness measured for {src.name}", stage="loudness") from None


async def _encode(src: Path, dst: Path, chain: str, *, binary: str, timeout: float) -> None:
    await run_ffmpeg(
        [
            "-y",
            "-i",
            file_url(src),
            "-map",
            "0:a:0",
            "-vn",
            "-af",
            chain,
            "-c:a",
            AUDIO_CODEC,
            # The fast coder is 3x quicker than twoloop, with no audible loss on speech at 96k.
            "-aac_coder",
            "fast",
            "-b:a",
            str(AUDIO_BITRATE),
            "-ar",
            str(AUDIO_RATE),
            "-ac",
            str(AUDIO_CHANNELS),
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            file_url(dst),
        ],
        binary=binary,
        timeout=timeout,
        stage="loudness",
    )


@dataclass(slots=True)
class _Search:
    """Secant search for the post-compressor gain that lands on the target loudness."""

    gain: float = _INITIAL_GAIN_DB
    ceiling: float = _INITIAL_CEILING_DB
    slope: float = _INITIAL_SLOPE
    previous: tuple[float, float] | None = None  # (gain, loudness) at the same ceiling

    def settled(self, measured: LoudnessReport, peak_margin: float) -> bool:
        return (
            abs(measured.integrated - TARGET_LUFS) <= _LUFS_TOLERANCE
            and measured.true_peak <= MAX_TRUE_PEAK - peak_margin
        )

    def step(self, measured: LoudnessReport, peak_margin: float) -> None:
        peak_limit = MAX_TRUE_PEAK - peak_margin
        if measured.true_peak > peak_limit:
            self.ceiling -= measured.true_peak - peak_limit + 0.1
            self.previous = None  # a new ceiling is a new curve; old points say nothing
        else:
            if self.previous is not None and self.previous[0] != self.gain:
                rise = measured.integrated - self.previous[1]
                self.slope = min(max(rise / (self.gain - self.previous[0]), 0.2), 1.0)
            self.previous = (self.gain, measured.integrated)
        change = (TARGET_LUFS - measured.integrated) / self.slope
        self.gain = min(max(self.gain + max(min(change, 12.0), -12.0), -20.0), _MAX_GAIN_DB)


async def normalise_voice(src: Path, dst: Path, *, binary: str, timeout: float) -> LoudnessReport:
    """Encode the narration ``src`` (any rate/channels) as AAC ``dst`` at -14 LUFS, <= -1 dBTP.

    A few quick analysis passes (no encoding) find the gain; then one encode, measured
    again, and corrected once more if AAC moved it off target. Returns the measurement of
    ``dst``; an input that cannot be brought on target is encoded anyway with a warning,
    and a silent one is encoded as it is. ``timeout`` bounds the whole job.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _normalise(src, dst, binary=binary, timeout=timeout)
    except TimeoutError:
        raise RenderError(f"loudness timed out after {timeout:g} s", stage="loudness") from None


async def _normalise(src: Path, dst: Path, *, binary: str, timeout: float) -> LoudnessReport:
    source = await measure_loudness(src, binary=binary, timeout=timeout)
    logger.info("voice %s: %.1f LUFS, %.1f dBTP", src.name, source.integrated, source.true_peak)
    partial = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        if source.integrated <= _SILENT_LUFS:
            logger.warning("voice %s is silent; encoding without normalisation", src.name)
            await _encode(src, partial, "anull", binary=binary, timeout=timeout)
            os.replace(partial, dst)
            return await measure_loudness(dst, binary=binary, timeout=timeout)
        pre_gain = min(max(_PRE_LEVEL_LUFS - source.integrated, -_MAX_GAIN_DB), _MAX_GAIN_DB)
        search = _Search()
        passes = 0
        for _ in range(_MAX_ANALYSES):
            passes += 1
            chain = _voice_chain(pre_gain, search.gain, search.ceiling)
            measured = await _analyse(src, chain, binary=binary, timeout=timeout)
            logger.debug("loudness analysis %d: %+.2f dB -> %s", passes, search.gain, measured)
            if search.settled(measured, _AAC_PEAK_MARGIN):
                break
            search.step(measured, _AAC_PEAK_MARGIN)
        for encodes in range(1, _MAX_ENCODES + 1):
            chain = _voice_chain(pre_gain, search.gain, search.ceiling)
            await _encode(src, partial, chain, binary=binary, timeout=timeout)
            measured = await measure_loudness(partial, binary=binary, timeout=timeout)
            if measured.on_target or encodes == _MAX_ENCODES:
                break
            search.step(measured, 0.0)
        os.replace(partial, dst)
    finally:
        partial.unlink(missing_ok=True)
    report = LoudnessReport(
        measured.integrated, measured.true_peak, measured.lra, search.gain, passes + encodes
    )
    if report.on_target:
        logger.info("voice normalised in %d passes: %s", report.passes, report)
    else:
        logger.warning("voice %s normalised off target: %s", src.name, report)
    return report
