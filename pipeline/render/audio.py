"""Loudness: ebur128 measurements, the narration's filter chain and its AAC encode settings.

loudnorm alone does not get espeak narration to -14 LUFS (PROVIDERS.md measured -16.4
single-pass, -15.9 two-pass): espeak's glottal pulses put its peaks ~19 dB over its
loudness, so the true-peak ceiling forces loudnorm into dynamic mode, which under-shoots.
Instead: a fast compressor and a lookahead limiter bring the crest factor down, with a
gain between them that :mod:`pipeline.render.narration` finds by analysis.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.render.ffmpeg import capture_ffmpeg, file_url, raise_for_run
from pipeline.render.probe import parse_probe

logger = logging.getLogger(__name__)

TARGET_LUFS = -14.0
MAX_TRUE_PEAK = -1.0
# The voice is brought to this level before the compressor, whose threshold sits ~6 dB
# above it, so every voice gets similar treatment whatever its recorded level.
PRE_LEVEL_LUFS = -20.0
_COMPRESSOR_THRESHOLD = 10 ** (-20.0 / 20)

AUDIO_CODEC = "aac"
AUDIO_BITRATE = 96_000  # requested for mono speech
# ffmpeg's native AAC overshoots its target (measured 106-122 kb/s for the above), so the
# render's size budget reserves this much.
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

    @property
    def on_target(self) -> bool:
        return abs(self.integrated - TARGET_LUFS) <= 1.0 and self.true_peak <= MAX_TRUE_PEAK


def aac_args() -> list[str]:
    """Output options for the narration's AAC stream."""
    return [
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
    ]


def _number(match: re.Match[str] | None) -> float | None:
    if match is None:
        return None
    return -math.inf if match.group(1) == "-inf" else float(match.group(1))


def summary_of(stderr: str, instance: str | None) -> str:
    """The text of one ebur128 summary: the last one, or that of filter ``ebur128@instance``."""
    if instance is None:
        return stderr[stderr.rfind("Summary:") :]
    header = re.search(rf"^\[ebur128@{re.escape(instance)} @ [^\]]*\] Summary:$", stderr, re.M)
    if header is None:
        return ""
    # Only the summary's first line carries the filter's prefix; the next "[" starts
    # another filter's output.
    end = stderr.find("\n[", header.end())
    return stderr[header.end() : end if end >= 0 else len(stderr)]


def parse_summary(summary: str) -> tuple[float, float | None, float]:
    """(integrated, true peak or None where not measured, LRA) from one summary's text."""
    integrated = _number(_INTEGRATED.search(summary))
    if integrated is None:
        raise ValueError("no ebur128 summary")
    return integrated, _number(_PEAK.search(summary)), _number(_LRA.search(summary)) or 0.0


def parse_ebur128(stderr: str, instance: str | None = None) -> LoudnessReport:
    integrated, peak, lra = parse_summary(summary_of(stderr, instance))
    if peak is None:
        raise ValueError("no true peak in the ebur128 summary")
    return LoudnessReport(integrated, peak, lra)


async def run_ebur128(src: Path, graph: str, *, binary: str, timeout: float, what: str) -> str:
    """Run ``graph`` (a -filter_complex on ``src``, output [out]) for its ebur128 stderr.
    Unreadable input, or input without audio, raises :class:`RenderError` (``loudness``)."""
    run = await capture_ffmpeg(
        ["-nostats", "-i", file_url(src), "-filter_complex", graph]
        + ["-map", "[out]", "-f", "null", "-"],
        binary=binary,
        timeout=timeout,
        stage="loudness",
    )
    if "Input #0" not in run.stderr:
        raise_for_run(run, "loudness")
        raise RenderError(f"cannot read {src.name}", stage="loudness")
    if parse_probe(run.stderr).audio_codec is None:
        raise RenderError(f"{src.name} has no audio", stage="loudness")
    raise_for_run(run, "loudness")
    logger.debug("loudness %s of %s done", what, src.name)
    return run.stderr


async def measure_loudness(path: Path, *, binary: str, timeout: float) -> LoudnessReport:
    """Integrated loudness (LUFS) and true peak (dBTP) of ``path``'s first audio stream."""
    stderr = await run_ebur128(
        path,
        "[0:a:0]ebur128=peak=true:framelog=quiet[out]",
        binary=binary,
        timeout=timeout,
        what="measure",
    )
    try:
        return parse_ebur128(stderr)
    except ValueError:
        raise RenderError(f"no loudness measured for {path.name}", stage="loudness") from None


def chain_front(pre_gain_db: float | None) -> list[str]:
    """The chain up to the post-compressor gain; ``None``: format conversion only."""
    formats = [
        f"aresample={AUDIO_RATE}",
        # Downmix first, so the analysis measures what the mono encode will hold.
        "aformat=sample_fmts=fltp:channel_layouts=mono",
    ]
    if pre_gain_db is None:
        return formats
    return [
        *formats,
        # Rumble and DC only eat headroom in speech.
        "highpass=f=80",
        # Every voice enters the compressor at the level its threshold was tuned for.
        f"volume={pre_gain_db:.2f}dB",
        # Synthetic voices are peaky (glottal pulses ~10 dB over the syllable's RMS); a
        # fast compressor takes the crest factor down so the gain fits under the ceiling.
        f"acompressor=threshold={_COMPRESSOR_THRESHOLD:.4f}:ratio=4:attack=1:release=30:knee=6",
    ]


def chain_back(gain_db: float, ceiling_db: float) -> list[str]:
    limit = 10 ** (ceiling_db / 20)
    return [
        f"volume={gain_db:.2f}dB",
        # level=false: alimiter otherwise rescales its output to 0 dBFS.
        # latency=true: the lookahead delay is compensated, so word timings stay put.
        f"alimiter=limit={limit:.5f}:attack=2:release=40:level=false:latency=true",
    ]


def voice_chain(pre_gain_db: float, gain_db: float, ceiling_db: float) -> str:
    return ",".join([*chain_front(pre_gain_db), *chain_back(gain_db, ceiling_db)])
