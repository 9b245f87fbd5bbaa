from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import RenderError
from pipeline.render import narration
from pipeline.render.audio import MAX_TRUE_PEAK, TARGET_LUFS, aac_args, measure_loudness
from pipeline.render.ffmpeg import file_url, resolve_ffmpeg, run_ffmpeg
from pipeline.render.narration import VoicePlan, plan_voice
from pipeline.render.probe import probe


@pytest.fixture(scope="module")
def binary() -> str:
    return resolve_ffmpeg()


async def make_voice(path: Path, binary: str, *, level: float, rate: int = 22050) -> Path:
    """A narration stand-in: peaky 'syllables' (tone + noise bursts) and pauses, like espeak."""
    syllables = f"0.05+0.95*gt(sin(2*PI*3.3*t),0.2)*gt(sin(2*PI*0.35*t),-0.4)*{level}"
    await run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"sine=f=140:d=8:r={rate}",
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=d=8:c=pink:r={rate}:a=0.3:seed=7",
            "-filter_complex",
            f"[0][1]amix=inputs=2:normalize=0,volume='{syllables}':eval=frame",
            "-ac",
            "1",
            "-c:a",
            "pcm_s16le",
            str(path),
        ],
        binary=binary,
        timeout=30,
        stage="fixture",
    )
    return path


async def encode(src: Path, plan: VoicePlan, dst: Path, binary: str) -> Path:
    """What the render does with the narration, without the video."""
    await run_ffmpeg(
        ["-i", file_url(src), "-map", "0:a:0", "-af", plan.filters, *aac_args()]
        + ["-f", "mp4", file_url(dst)],
        binary=binary,
        timeout=30,
        stage="fixture",
    )
    return dst


@pytest.mark.parametrize("level", [0.05, 0.8])
async def test_the_planned_chain_lands_on_target_once_encoded(
    binary: str, tmp_path: Path, level: float
) -> None:
    src = await make_voice(tmp_path / "voice.wav", binary, level=level)
    before = await measure_loudness(src, binary=binary, timeout=30)
    plan = await plan_voice(src, binary=binary, timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voice.wav"]  # analysis writes nothing
    encoded = await encode(src, plan, tmp_path / "voice.m4a", binary)
    measured = await measure_loudness(encoded, binary=binary, timeout=30)
    assert abs(before.integrated - TARGET_LUFS) > 3  # there was work to do
    assert plan.source == pytest.approx(before.integrated, abs=0.05)
    assert abs(measured.integrated - TARGET_LUFS) <= 1.0
    assert measured.true_peak <= MAX_TRUE_PEAK
    assert abs(measured.integrated - plan.expected.integrated) <= 0.5
    assert plan.runs == 2  # the source, then every candidate gain in one run
    assert "latency=true" in plan.filters  # the limiter does not delay the words
    info = await probe(encoded, binary=binary)
    assert (info.audio_codec, info.sample_rate) == ("aac", 48000)
    assert info.duration is not None and abs(info.duration - 8.0) < 0.05
    assert plan.info.duration == pytest.approx(8.0, abs=0.01)


async def test_other_rates_and_stereo_work(binary: str, tmp_path: Path) -> None:
    mono = await make_voice(tmp_path / "mono.wav", binary, level=0.3, rate=44100)
    stereo = tmp_path / "stereo.wav"
    await run_ffmpeg(
        ["-i", str(mono), "-ac", "2", str(stereo)], binary=binary, timeout=30, stage="fixture"
    )
    for src in (mono, stereo):
        plan = await plan_voice(src, binary=binary, timeout=30)
        encoded = await encode(src, plan, src.with_suffix(".m4a"), binary)
        measured = await measure_loudness(encoded, binary=binary, timeout=30)
        assert measured.on_target, (src.name, plan, measured)


async def test_a_steady_tone_lands_on_target(binary: str, tmp_path: Path) -> None:
    # A steady tone: no peaks for the limiter, so below the candidates the gain is exact.
    src = tmp_path / "tone.wav"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=f=220:d=6:r=24000", "-af", "volume=-3dB", str(src)],
        binary=binary,
        timeout=30,
        stage="fixture",
    )
    plan = await plan_voice(src, binary=binary, timeout=30)
    encoded = await encode(src, plan, tmp_path / "tone.m4a", binary)
    measured = await measure_loudness(encoded, binary=binary, timeout=30)
    assert abs(measured.integrated - TARGET_LUFS) <= 0.3 and measured.true_peak <= MAX_TRUE_PEAK
    assert plan.runs == 2


async def test_silence_gets_no_gain(binary: str, tmp_path: Path) -> None:
    src = tmp_path / "silence.wav"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "2", str(src)],
        binary=binary,
        timeout=30,
        stage="fixture",
    )
    plan = await plan_voice(src, binary=binary, timeout=30)
    assert plan.source <= -60 and plan.runs == 1
    assert "volume" not in plan.filters and "aresample=48000" in plan.filters


@pytest.mark.parametrize("content", ["text", "image"])
async def test_unreadable_input_or_input_without_audio_is_a_render_error(
    binary: str, tmp_path: Path, content: str
) -> None:
    src = tmp_path / "voice.wav"
    if content == "text":
        src.write_text("not audio")
    else:
        await run_ffmpeg(
            ["-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", "-f", "image2"]
            + ["-c:v", "png", str(src)],
            binary=binary,
            timeout=30,
            stage="fixture",
        )
    with pytest.raises(RenderError) as caught:
        await plan_voice(src, binary=binary, timeout=30)
    assert caught.value.stage == "loudness"


Curve = Callable[[float, float], tuple[float, float]]  # (gain, ceiling) -> (LUFS, dBTP)


def fake_runs(monkeypatch: pytest.MonkeyPatch, curve: Curve) -> list[list[float]]:
    """Replace the analysis run by ``curve``; returns the gains each run asked for."""
    runs: list[list[float]] = []

    async def try_gains(
        src: Path, pre_gain: float, gains: list[float], ceiling: float, **_: Any
    ) -> list[Any]:
        runs.append(sorted(gains))
        points = []
        for gain in sorted(gains):
            integrated, peak = curve(gain, ceiling)
            # As the real run: the true peak of the highest candidate only.
            measured = peak if gain == max(gains) else None
            points.append(narration._Point(gain, ceiling, round(integrated, 1), measured))
        return points

    monkeypatch.setattr(narration, "_try_gains", try_gains)
    return runs


@pytest.mark.parametrize(
    ("curve", "runs", "gain"),
    [
        (lambda g, c: (g - 28.0, g - 30.0), 1, 14.0),  # bracketed, never limited
        (lambda g, c: (g - 20.0, g - 30.0), 1, 6.0),  # below the candidates: exact
        (lambda g, c: (g - 36.0, min(g - 38.0, c)), 2, 22.0),  # above them: one more run
    ],
)
async def test_the_search_interpolates_and_extrapolates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, curve: Curve, runs: int, gain: float
) -> None:
    asked = fake_runs(monkeypatch, curve)
    chosen, taken = await narration._search(tmp_path / "v.wav", 0.0, binary="-", timeout=1)
    assert taken == runs == len(asked) and asked[0] == list(narration._CANDIDATE_GAINS)
    assert chosen.gain == pytest.approx(gain, abs=0.1)
    assert chosen.expected.integrated == TARGET_LUFS
    assert chosen.expected.true_peak <= MAX_TRUE_PEAK - narration.AAC_PEAK_MARGIN


async def test_peaks_over_the_margin_lower_the_ceiling(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Inter-sample peaks 1.4 dB over the limiter's (sample) ceiling: -2.5 is not enough.
    def curve(gain: float, ceiling: float) -> tuple[float, float]:
        loud = min(gain - 28.0, -14.0 + 0.3 * (gain - 14.0))
        return loud - (-2.5 - ceiling), min(gain - 16.0, ceiling + 1.4)

    asked = fake_runs(monkeypatch, curve)
    chosen, taken = await narration._search(tmp_path / "v.wav", 0.0, binary="-", timeout=1)
    assert taken == 2 and chosen.ceiling < -2.5 and asked[1][0] > 12.0  # from the estimate
    assert chosen.expected.true_peak <= MAX_TRUE_PEAK - narration.AAC_PEAK_MARGIN
    integrated, peak = curve(chosen.gain, chosen.ceiling)
    assert integrated == pytest.approx(TARGET_LUFS, abs=0.3)
    assert peak <= MAX_TRUE_PEAK - narration.AAC_PEAK_MARGIN


async def test_an_unreachable_target_takes_the_nearest_safe_chain(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The limiter holds the voice under -17 LUFS whatever the gain.
    fake_runs(monkeypatch, lambda g, c: (min(g - 30.0, -17.0), min(g - 32.0, c + 0.5)))
    chosen, taken = await narration._search(tmp_path / "v.wav", 0.0, binary="-", timeout=1)
    assert taken == narration._MAX_ANALYSES
    assert chosen.expected.integrated == -17.0 and not math.isinf(chosen.expected.true_peak)
    assert "no chain on target" in caplog.text
