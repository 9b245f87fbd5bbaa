"""``make bench``: the figures the issues ask for, measured in one run.

Renders examples/octopus.md several times through the real CLI (a child process, so the
numbers include start-up), samples the RSS of the whole process tree, and times a raw libx264
``veryfast`` encode of the same frame count in the same run: the ceiling the render is
compared against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.render import count_frames, probe, resolve_ffmpeg
from tests.render_metrics import ceiling_encode_seconds, motion_jitter

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "octopus.md"


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(c) for c in handle.read().split()]
    except OSError:
        pass
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss(current)
        todo += _children(current)
    return total


@dataclass
class Run:
    seconds: float
    peak_rss: int
    stages: dict[str, float]


def run_cli(args: list[str], env: dict[str, str]) -> Run:
    """Run ``reelfactory`` and sample the RSS of its process tree every 20 ms."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(proc.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"reelfactory {' '.join(args)} failed:\n{err[-3000:]}")
    return Run(seconds, peak, {})


def stage_seconds(data_dir: Path) -> dict[str, float]:
    import sqlite3

    with sqlite3.connect(data_dir / "reelfactory.db") as conn:
        rows = conn.execute("SELECT stage, duration_ms FROM stage_runs WHERE outcome = 'ok'")
        return {stage: ms / 1000 for stage, ms in rows}


def bench_render(runs: int, binary: str) -> dict[str, object]:
    results: list[Run] = []
    ceilings: list[float] = []
    frames = 0
    duration = 0.0
    last_reel = Path()
    with tempfile.TemporaryDirectory(prefix="reelbench-") as tmp:
        for index in range(runs):
            data = Path(tmp) / f"data{index}"
            out = Path(tmp) / f"out{index}"
            env = {**os.environ, "REELFACTORY_DATA_DIR": str(data)}
            run = run_cli(["render", str(EXAMPLE), "--out", str(out)], env)
            run.stages = stage_seconds(data)
            results.append(run)
            last_reel = out / "reel.mp4"
            if index == 0:
                frames = asyncio.run(count_frames(last_reel, binary=binary))
                duration = asyncio.run(probe(last_reel, binary=binary)).duration
            # Interleave the ceiling with the renders so both see the same machine state.
            ceilings.append(asyncio.run(ceiling_encode_seconds(frames, binary=binary)))
        size = last_reel.stat().st_size
        jitter = motion_jitter(last_reel, binary=binary)
    wall = statistics.median(r.seconds for r in results)
    ceiling = statistics.median(ceilings)
    render_stage = statistics.median(r.stages.get("render", 0.0) for r in results)
    return {
        "runs": runs,
        "video_seconds": round(duration, 2),
        "frames": frames,
        "wall_median_s": round(wall, 2),
        "x_realtime": round(duration / wall, 2),
        "ceiling_veryfast_median_s": round(ceiling, 2),
        "render_to_ceiling": round(wall / ceiling, 2),
        "render_stage_median_s": round(render_stage, 2),
        "render_stage_to_ceiling": round(render_stage / ceiling, 2),
        "peak_rss_tree_mb": round(max(r.peak_rss for r in results) / 2**20),
        "mb_per_minute": round(size / 2**20 / (duration / 60), 2),
        "jitter_rms_px": round(jitter.rms, 3),
        "jitter_max_px": round(jitter.max, 3),
        "stage_medians_s": {
            stage: round(statistics.median(r.stages.get(stage, 0.0) for r in results), 2)
            for stage in results[0].stages
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    binary = resolve_ffmpeg(os.environ.get("REELFACTORY_FFMPEG_BINARY"))
    report = {"render": bench_render(args.runs, binary)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
