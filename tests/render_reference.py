"""Today's reference for the segment renderer: the whole reel as one ffmpeg graph.

The product renders scene segments (``pipeline.render.segments``); this builds the one-graph
render they replaced, from the same scene and finishing chains, so a test can hold the
segments' join against it (SSIM). For tests only.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.models import RenderSpec
from pipeline.render.audio import aac_args
from pipeline.render.ffmpeg import file_url
from pipeline.render.graph import (
    Codec,
    finishing_chain,
    scene_chain,
    segment_maxrate,
    video_maxrate,
)
from pipeline.render.stills import Motion


def one_graph_args(
    spec: RenderSpec, motions: list[Motion], *, fonts_dir: Path, codec: Codec
) -> list[str]:
    """The reel as one graph: every scene's chain, concatenated, finished, one encode."""
    inputs: list[str] = []
    for motion in motions:
        inputs += ["-f", "image2", "-pattern_type", "none", "-i", file_url(motion.still)]
    chains = [
        f"{scene_chain(f'[{i}:v]', motion, spec.fps)}[scene{i}]" for i, motion in enumerate(motions)
    ]
    labels = "".join(f"[scene{i}]" for i in range(len(motions)))
    graph = ";".join(
        [
            *chains,
            f"{labels}concat=n={len(motions)}:v=1:a=0,settb=1/{spec.fps},setpts=N,"
            f"{finishing_chain(spec, fonts_dir)}[video]",
        ]
    )
    # The one graph had one VBV buffer for the whole reel.
    maxrate = video_maxrate(spec.total_frames / spec.fps)
    assert maxrate >= segment_maxrate(spec)
    return [
        "-y",
        *inputs,
        "-i",
        file_url(spec.audio_path),
        *["-filter_complex", graph, "-map", "[video]", "-map", f"{len(motions)}:a:0"],
        *["-c:v", "libx264", "-preset", codec.preset, "-crf", str(codec.crf)],
        *["-maxrate", str(maxrate), "-bufsize", str(2 * maxrate)],
        *["-x264-params", "direct=temporal:b-pyramid=none:subme=1", "-pix_fmt", "yuv420p"],
        *["-r", str(spec.fps), "-fps_mode", "cfr", "-frames:v", str(spec.total_frames)],
        *aac_args(),
        *["-f", "mp4", file_url(spec.out_path)],
    ]
