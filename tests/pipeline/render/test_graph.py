from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.models import RenderSpec, SceneCut
from pipeline.render.graph import (
    MAX_BYTES_PER_MINUTE,
    Codec,
    build_audio_args,
    build_join_args,
    build_segment_args,
    video_maxrate,
)
from pipeline.render.stills import Motion


def spec_and_motions(frames: list[int]) -> tuple[RenderSpec, list[Motion]]:
    cuts: list[SceneCut] = []
    motions: list[Motion] = []
    start = 0
    for scene, count in enumerate(frames):
        image = Path(f"/in/{scene}.jpg")
        cuts.append(SceneCut(scene=scene, image=image, start_frame=start, frames=count))
        motions.append(
            Motion(
                still=Path(f"/work/{scene}.jpg"),
                direction=("left", "right", "up", "down")[scene % 4],
                frames=count,
                step=1,
                canvas=(720 + count - 1, 1280) if scene % 4 < 2 else (720, 1280 + count - 1),
                size=(720, 1280),
            )
        )
        start += count
    spec = RenderSpec(
        cuts=cuts,
        audio_path=Path("/in/voice.wav"),
        subtitles_path=Path("/in/subs.ass"),
        total_frames=start,
        out_path=Path("/out/reel.mp4"),
    )
    return spec, motions


CHAIN = "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono"


def option(args: list[str], name: str, nth: int = 1) -> str:
    at = [i for i, arg in enumerate(args) if arg == name][nth - 1]
    return args[at + 1]


@pytest.mark.parametrize(
    ("seconds", "segments"),
    # Scenes last two seconds and more (plan_cuts follows the narration's sentences).
    [(1.0, 1), (8.0, 1), (8.0, 4), (60.0, 1), (60.0, 8), (60.0, 30), (180.0, 20)],
)
def test_worst_case_size_stays_under_the_cap(seconds: float, segments: int) -> None:
    audio = 128_000
    maxrate = video_maxrate(seconds, audio, segments)
    # VBV bound: every segment's initial buffer (0.9 full) plus maxrate for the whole reel,
    # plus audio.
    worst = (maxrate * seconds + segments * 0.9 * 2 * maxrate + audio * seconds) / 8
    assert worst <= MAX_BYTES_PER_MINUTE * seconds / 60
    assert maxrate > 500_000 or seconds < 3 or segments * 2 >= seconds


def test_segment_args_encode_the_contract() -> None:
    spec, motions = spec_and_motions([90, 60, 75, 45])
    codec = Codec(preset="veryfast", crf=23)
    args = build_segment_args(
        spec, 2, motions[2], Path("/seg/2.mp4"), fonts_dir=Path("/fonts"), codec=codec
    )
    assert option(args, "-c:v") == "libx264" and option(args, "-profile:v") == "high"
    assert option(args, "-pix_fmt") == "yuv420p" and option(args, "-r") == "30"
    assert option(args, "-frames:v") == "75" and "-an" in args
    assert int(option(args, "-bufsize")) == 2 * int(option(args, "-maxrate"))
    assert int(option(args, "-maxrate")) == video_maxrate(9.0, segments=4)
    assert args[-1] == "file:/seg/2.mp4"
    graph = option(args, "-filter_complex")
    # Scene 2 (moving up) is stamped at its place in the reel, frame 150, for the subtitles,
    # then restamped from 0 for its own file.
    assert "settb=1/30,setpts=N+150,crop=w=720:h=1280:x=0:y=n*1:exact=1" in graph
    assert graph.index("setparams=colorspace=bt709") < graph.index("subtitles=")
    assert graph.endswith(",setpts=N[video]")
    first = build_segment_args(
        spec, 0, motions[0], Path("/seg/0.mp4"), fonts_dir=Path("/fonts"), codec=codec
    )
    assert "setpts=N,crop=w=720:h=1280:x=n*1:y=0" in option(first, "-filter_complex")


def test_audio_and_join_args() -> None:
    spec, _ = spec_and_motions([90, 60])
    audio = build_audio_args(spec, Path("/seg/a.m4a"), audio_filter=CHAIN)
    assert option(audio, "-filter:a") == CHAIN and option(audio, "-map") == "0:a:0"
    assert option(audio, "-c:a") == "aac" and option(audio, "-ar") == "48000"
    assert option(audio, "-ac") == "1" and option(audio, "-t") == "5.000000"
    join = build_join_args(Path("/w/list.txt"), Path("/seg/a.m4a"), Path("/out/reel.mp4"))
    assert option(join, "-f") == "concat" and option(join, "-c") == "copy"
    assert option(join, "-map") == "0:v:0" and option(join, "-map", 2) == "1:a:0"
    assert option(join, "-movflags") == "+faststart" and join[-1] == "file:/out/reel.mp4"


def test_mismatched_motions_are_refused() -> None:
    spec, motions = spec_and_motions([30, 30])
    other = spec_and_motions([20, 40])[1]
    with pytest.raises(ValueError):
        build_segment_args(spec, 0, other[0], Path("/s.mp4"), fonts_dir=Path("/f"), codec=Codec())
    with pytest.raises(ValueError):
        build_segment_args(spec, 2, motions[0], Path("/s.mp4"), fonts_dir=Path("/f"), codec=Codec())
