from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import RenderError
from pipeline.render.audio import MAX_TRUE_PEAK, TARGET_LUFS, measure_loudness, normalise_voice
from pipeline.render.ffmpeg import resolve_ffmpeg, run_ffmpeg
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


@pytest.mark.parametrize("level", [0.05, 0.8])
async def test_normalise_lands_on_target(binary: str, tmp_path: Path, level: float) -> None:
    src = await make_voice(tmp_path / "voice.wav", binary, level=level)
    before = await measure_loudness(src, binary=binary, timeout=30)
    dst = tmp_path / "voice.m4a"
    report = await normalise_voice(src, dst, binary=binary, timeout=30)
    measured = await measure_loudness(dst, binary=binary, timeout=30)
    assert abs(before.integrated - TARGET_LUFS) > 3  # there was work to do
    assert abs(measured.integrated - TARGET_LUFS) <= 1.0
    assert measured.true_peak <= MAX_TRUE_PEAK
    assert report.on_target and report.integrated == measured.integrated
    info = await probe(dst, binary=binary)
    assert (info.audio_codec, info.sample_rate) == ("aac", 48000)
    assert info.duration is not None and abs(info.duration - 8.0) < 0.05
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voice.m4a", "voice.wav"]


async def test_other_rates_and_stereo_work(binary: str, tmp_path: Path) -> None:
    mono = await make_voice(tmp_path / "mono.wav", binary, level=0.3, rate=44100)
    stereo = tmp_path / "stereo.wav"
    await run_ffmpeg(
        ["-i", str(mono), "-ac", "2", str(stereo)], binary=binary, timeout=30, stage="fixture"
    )
    report = await normalise_voice(stereo, tmp_path / "out.m4a", binary=binary, timeout=30)
    assert report.on_target


async def test_silence_is_encoded_without_gain(binary: str, tmp_path: Path) -> None:
    src = tmp_path / "silence.wav"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "2", str(src)],
        binary=binary,
        timeout=30,
        stage="fixture",
    )
    report = await normalise_voice(src, tmp_path / "out.m4a", binary=binary, timeout=30)
    assert report.integrated <= -60
    assert (tmp_path / "out.m4a").is_file()


async def test_unreadable_input_is_a_render_error(binary: str, tmp_path: Path) -> None:
    src = tmp_path / "voice.wav"
    src.write_text("not audio")
    with pytest.raises(RenderError) as caught:
        await normalise_voice(src, tmp_path / "out.m4a", binary=binary, timeout=30)
    assert caught.value.stage == "loudness"
    assert not (tmp_path / "out.m4a").exists()
