from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.models import RenderSpec, SceneCut
from pipeline.render.graph import MAX_BYTES_PER_MINUTE, build_render_args, video_maxrate
from pipeline.render.reel import _spill_graph
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


@pytest.mark.parametrize("seconds", [1.0, 8.0, 60.0, 180.0])
def test_worst_case_size_stays_under_the_cap(seconds: float) -> None:
    audio = 128_000
    maxrate = video_maxrate(seconds, audio)
    # VBV bound: the initial buffer (0.9 full) plus maxrate for the whole reel, plus audio.
    worst = (maxrate * seconds + 0.9 * 2 * maxrate + audio * seconds) / 8
    assert worst <= MAX_BYTES_PER_MINUTE * seconds / 60
    assert maxrate > 500_000 or seconds < 3


def test_args_encode_the_contract() -> None:
    spec, motions = spec_and_motions([90, 60, 75, 45])
    args = build_render_args(
        spec, motions, fonts_dir=Path("/fonts"), audio_filter=CHAIN, preset="veryfast", crf=23
    )
    assert option(args, "-c:v") == "libx264" and option(args, "-profile:v") == "high"
    assert option(args, "-pix_fmt") == "yuv420p" and option(args, "-r") == "30"
    assert option(args, "-frames:v") == "270"
    # The voice is encoded here, through its loudness chain, from input 4 (after 4 stills).
    assert option(args, "-filter:a") == CHAIN and option(args, "-map", 2) == "4:a:0"
    assert option(args, "-c:a") == "aac" and option(args, "-ar") == "48000"
    assert option(args, "-ac") == "1"
    assert option(args, "-movflags") == "+faststart"
    assert int(option(args, "-bufsize")) == 2 * int(option(args, "-maxrate"))
    assert args[-1] == "file:/out/reel.mp4"
    graph = option(args, "-filter_complex")
    assert graph.count("loop=loop=") == 4 and "concat=n=4" in graph
    assert "crop=w=720:h=1280:x=n*1:y=0" in graph  # scene 0 moves left
    assert "x=59-n*1" in graph and "y=n*1" in graph and "y=44-n*1" in graph
    assert graph.index("setparams=colorspace=bt709") < graph.index("subtitles=")


def test_mismatched_motions_are_refused() -> None:
    spec, motions = spec_and_motions([30, 30])
    with pytest.raises(ValueError):
        build_render_args(spec, motions[:1], fonts_dir=Path("/fonts"), audio_filter=CHAIN)
    with pytest.raises(ValueError):
        build_render_args(
            spec,
            list(reversed(spec_and_motions([20, 40])[1])),
            fonts_dir=Path("/f"),
            audio_filter=CHAIN,
        )


def test_long_graphs_move_to_a_file(tmp_path: Path) -> None:
    spec, motions = spec_and_motions([2] * 300)
    args = build_render_args(spec, motions, fonts_dir=Path("/fonts"), audio_filter=CHAIN)
    graph = option(args, "-filter_complex")
    assert len(graph) > 32_000
    spilled = _spill_graph(args, tmp_path)
    assert "-filter_complex" not in spilled
    assert Path(option(spilled, "-/filter_complex")).read_text(encoding="utf-8") == graph
    short = build_render_args(*spec_and_motions([30]), fonts_dir=Path("/fonts"), audio_filter=CHAIN)
    assert _spill_graph(short, tmp_path) == short
