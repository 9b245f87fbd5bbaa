from __future__ import annotations

import pytest

from pipeline.render.audio import parse_ebur128
from pipeline.render.probe import parse_probe

REEL = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/tmp/x/reel.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:01:00.03, start: 0.000000, bitrate: 760 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, \
progressive), 720x1280 [SAR 1:1 DAR 9:16], 638 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
    Metadata:
      handler_name    : VideoHandler
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, mono, fltp, \
122 kb/s (default)
At least one output file must be specified
"""

WAV = """\
Input #0, wav, from 'voice.wav':
  Duration: 00:00:07.56, bitrate: 352 kb/s
  Stream #0:0: Audio: pcm_s16le ([1][0][0][0] / 0x0001), 22050 Hz, 1 channels, s16, 352 kb/s
"""

JPEG = """\
Input #0, image2, from 'still.jpg':
  Duration: 00:00:00.04, start: 0.000000, bitrate: 104744 kb/s
  Stream #0:0: Video: mjpeg (Baseline), yuvj444p(pc, bt470bg/unknown/unknown), 839x1280 \
[SAR 1:1 DAR 839:1280], 25 fps, 25 tbr, 25 tbn
"""


def test_parses_a_reel() -> None:
    info = parse_probe(REEL)
    assert info.duration == 60.03
    assert (info.width, info.height, info.fps) == (720, 1280, 30.0)
    assert (info.video_codec, info.profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.color_range, info.color_space) == ("tv", "bt709")
    assert info.video_bitrate == 638_000
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", 48000, "mono")
    assert info.audio_bitrate == 122_000


def test_parses_audio_only_and_images() -> None:
    wav = parse_probe(WAV)
    assert wav.duration == 7.56 and wav.width is None and wav.video_codec is None
    assert (wav.audio_codec, wav.sample_rate) == ("pcm_s16le", 22050)
    jpeg = parse_probe(JPEG)
    assert (jpeg.width, jpeg.height, jpeg.pix_fmt, jpeg.color_range) == (
        839,
        1280,
        "yuvj444p",
        "pc",
    )
    assert jpeg.profile == "Baseline" and jpeg.audio_codec is None


def test_parses_ebur128_summary_including_silence() -> None:
    summary = """[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -14.2 LUFS
    Threshold: -24.3 LUFS

  Loudness range:
    LRA:         1.6 LU
    Threshold: -34.3 LUFS

  True peak:
    Peak:       -1.5 dBFS
"""
    report = parse_ebur128("[Parsed_ebur128_0 @ 0x1] t: 0.1 M: -70\n" + summary)
    assert (report.integrated, report.true_peak, report.lra) == (-14.2, -1.5, 1.6)
    silent = parse_ebur128(summary.replace("-14.2", "-70.0").replace("-1.5 dBFS", "-inf dBFS"))
    assert silent.integrated == -70.0 and silent.true_peak == float("-inf")


def test_parses_the_summary_of_each_named_ebur128() -> None:
    def summary(name: str, loudness: str, peak: str | None) -> str:
        lines = [
            f"[ebur128@{name} @ 0x7f94] Summary:",
            "",
            "  Integrated loudness:",
            f"    I:         {loudness} LUFS",
            "    Threshold: -24.3 LUFS",
        ]
        if peak is not None:
            lines += ["", "  True peak:", f"    Peak:       {peak} dBFS"]
        return "\n".join(lines) + "\n"

    stderr = (
        summary("c2", "-12.7", "-1.6")
        + summary("c1", "-14.2", None)
        + summary("c0", "-18.9", None)
        + "[out#0/null @ 0x5636] video:0KiB audio:21323KiB\n"
    )
    assert parse_ebur128(stderr, "c2").integrated == -12.7
    # A summary without a true peak must not borrow the next one's.
    with pytest.raises(ValueError):
        parse_ebur128(stderr, "c1")
    with pytest.raises(ValueError):
        parse_ebur128(stderr, "c9")
