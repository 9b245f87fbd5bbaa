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
import resource
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


def _kb_field(path: str, field: str) -> int:
    """The bytes in ``field`` (a "Name:  123 kB" line) of a /proc file; 0 when gone."""
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rss(pid: int) -> int:
    return _kb_field(f"/proc/{pid}/status", "VmRSS:")


def _pss(pid: int) -> int:
    """Proportional set size: shared pages (the ffmpeg binary's code, which every ffmpeg maps)
    divided among the processes that map them, so a tree's sum counts them once."""
    return _kb_field(f"/proc/{pid}/smaps_rollup", "Pss:")


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
    cpu: float = 0.0  # user + system seconds of the whole process tree


def run_cli(args: list[str], env: dict[str, str]) -> Run:
    """Run ``reelfactory`` and sample the RSS of its process tree every 20 ms."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
    # Descendants' times roll up to us once the child is reaped: ffmpeg's included.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Run(seconds, peak, {}, cpu)


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


def bench_music(runs: int) -> dict[str, object]:
    """The demo render with its music bed and effects over the same render without, in one
    run: the two interleaved, so both see the same machine state. The sound cache is warm
    for the music runs after the first (as in production, where effects repeat)."""
    off = {"REELFACTORY_MUSIC_ENABLED": "false", "REELFACTORY_SOUND_EFFECTS": "false"}
    rows: dict[str, list[Run]] = {"with": [], "without": []}
    with tempfile.TemporaryDirectory(prefix="reelbench-music-") as tmp:
        cache = Path(tmp) / "cache"
        for index in range(runs):
            for name, extra in (("without", off), ("with", {})):
                data = Path(tmp) / f"{name}{index}"
                data.mkdir()
                (data / "cache").symlink_to(cache, target_is_directory=True)
                cache.mkdir(exist_ok=True)
                env = {**os.environ, **extra, "REELFACTORY_DATA_DIR": str(data)}
                out = Path(tmp) / f"out-{name}{index}"
                run = run_cli(["render", str(EXAMPLE), "--out", str(out)], env)
                run.stages = stage_seconds(data)
                rows[name].append(run)

    def median(name: str, stage: str | None = None) -> float:
        values = [r.seconds if stage is None else r.stages.get(stage, 0.0) for r in rows[name]]
        return statistics.median(values)

    return {
        "runs": runs,
        "render_stage_median_s": {n: round(median(n, "render"), 2) for n in rows},
        "render_stage_ratio": round(median("with", "render") / median("without", "render"), 3),
        "music_stage_median_s": round(median("with", "music"), 2),
        "wall_median_s": {n: round(median(n), 2) for n in rows},
        "wall_ratio": round(median("with") / median("without"), 3),
        # CPU seconds of the whole command: what the mix costs, whatever else the machine runs.
        "cpu_median_s": {n: round(statistics.median(r.cpu for r in rows[n]), 2) for n in rows},
        "cpu_ratio": round(
            statistics.median(r.cpu for r in rows["with"])
            / statistics.median(r.cpu for r in rows["without"]),
            3,
        ),
    }


class FakesInThread:
    """The provider fakes, served from their own event loop so the CLI child can reach them."""

    def __init__(self, *, llm: float, tts: float, search: float, download: float) -> None:
        self.latencies = (llm, tts, search, download)
        self.ready = threading.Event()
        self.env: dict[str, str] = {}
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        from tests.fakes.elevenlabs import FakeElevenLabs
        from tests.fakes.gemini import FakeGemini
        from tests.fakes.google_search import FakeGoogleSearch

        llm, tts, search, download = self.latencies
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with (
            FakeGemini(latency={"text": llm}) as gemini,
            FakeElevenLabs(latency=tts) as eleven,
            FakeGoogleSearch(latency=search, download_latency=download) as google,
        ):
            self.env = {
                "REELFACTORY_GEMINI_API_KEY": "bench",
                "REELFACTORY_GEMINI_BASE_URL": gemini.base_url,
                "REELFACTORY_ELEVENLABS_API_KEY": "bench",
                "REELFACTORY_ELEVENLABS_BASE_URL": eleven.base_url,
                "REELFACTORY_GOOGLE_SEARCH_API_KEY": "bench",
                "REELFACTORY_GOOGLE_SEARCH_CX": "bench",
                "REELFACTORY_GOOGLE_SEARCH_BASE_URL": google.base_url,
                "REELFACTORY_FETCH_ALLOW_HOSTS": "127.0.0.1",
                "REELFACTORY_SCRIPT_CHAIN": "gemini",
                "REELFACTORY_VOICE_CHAIN": "elevenlabs,espeak",
                "REELFACTORY_IMAGE_CHAIN": "google_search,cards",
            }
            self.ready.set()
            await self._stop.wait()

    def __enter__(self) -> FakesInThread:
        self._thread.start()
        self.ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def bench_make(runs: int) -> dict[str, object]:
    """``make`` against fakes with realistic latency: do voice and images really overlap?"""
    llm, tts, search, download = 4.0, 5.0, 1.0, 0.5
    rows = []
    with (
        FakesInThread(llm=llm, tts=tts, search=search, download=download) as fakes,
        tempfile.TemporaryDirectory(prefix="reelbench-make-") as tmp,
    ):
        for index in range(runs):
            data = Path(tmp) / f"data{index}"
            env = {**os.environ, **fakes.env, "REELFACTORY_DATA_DIR": str(data)}
            topic = f"octopus hearts {index}"  # a new topic each run: no TTS cache hit
            run = run_cli(["make", topic, "--out", str(Path(tmp) / f"out{index}")], env)
            run.stages = stage_seconds(data)
            rows.append(run)
    wall = statistics.median(r.seconds for r in rows)
    stages = {
        stage: round(statistics.median(r.stages.get(stage, 0.0) for r in rows), 2)
        for stage in rows[0].stages
    }
    render = stages.get("render", 0.0)
    budget = llm + max(tts, search + download) + render + 1.0
    return {
        "runs": runs,
        "latency_s": {"llm": llm, "tts": tts, "search": search, "download": download},
        "wall_median_s": round(wall, 2),
        "budget_s (llm + max(voice, images) + render + 1)": round(budget, 2),
        "wall_to_budget": round(wall / budget, 2),
        "stage_medians_s": stages,
        "voice_images_overlap": "yes"
        if stages.get("voice", 0) + stages.get("images", 0)
        > (wall - stages.get("script", 0) - render)
        else "no",
    }


def bench_bot(presses: int = 60) -> dict[str, object]:
    """Telegram button presses answered while a reel renders, through the fake Bot API."""
    from pipeline.settings import Settings
    from tests.bot.latency import measure

    with tempfile.TemporaryDirectory(prefix="reelbench-bot-") as folder:
        settings = Settings(_env_file=None, data_dir=Path(folder))  # type: ignore[call-arg]
        figures = asyncio.run(measure(settings, presses=presses, scenes=10))
    return {
        "presses_during_render": figures.presses,
        "p50_ms": round(figures.p50 * 1000),
        "p95_ms": round(figures.p95 * 1000),
        "worst_ms": round(figures.worst * 1000),
    }


# (name, seconds the user spends on the picture review, whether they swap one picture)
RUNS = (
    ("immediate_swap", 0.0, True),
    ("review_12s_no_swap", 12.0, False),
    ("review_12s_one_swap", 12.0, True),
)


def bench_discord() -> dict[str, object]:
    """The Discord front's steps, from /reel to the video, with slow provider fakes: once
    with presses as fast as the bot answers, once with 12 s spent on the picture review (the
    voice and the alternates are prepared meanwhile, issue 10)."""
    from pipeline.settings import Settings
    from tests.bot.discord.latency import measure, report

    figures: dict[str, object] = {}
    for name, review, swap in RUNS:
        with tempfile.TemporaryDirectory(prefix="reelbench-discord-") as folder:
            settings = Settings(_env_file=None, data_dir=Path(folder))  # type: ignore[call-arg]
            figures[name] = report(asyncio.run(measure(settings, review=review, swap=swap)))
    return figures


def bench_telegram() -> dict[str, object]:
    """The Telegram front's steps with the same slow fakes and runs as ``bench_discord``."""
    from pipeline.settings import Settings
    from tests.bot.discord.latency import report
    from tests.bot.steps import measure

    figures: dict[str, object] = {}
    for name, review, swap in RUNS:
        with tempfile.TemporaryDirectory(prefix="reelbench-telegram-") as folder:
            settings = Settings(_env_file=None, data_dir=Path(folder))  # type: ignore[call-arg]
            figures[name] = report(asyncio.run(measure(settings, review=review, swap=swap)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    choices = (
        *("render", "music", "make", "bot", "discord", "telegram", "ahead", "dub"),
        *("workers", "load"),
    )
    parser.add_argument("--only", choices=choices, default=None)
    parser.add_argument("--users", type=int, default=40, help="load: Telegram users")
    parser.add_argument("--discord-users", type=int, default=10, help="load: Discord users")
    parser.add_argument(
        "--bot-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="load: a setting for the bot (REELFACTORY_RENDER_PARALLEL=1), repeatable",
    )
    args = parser.parse_args()
    binary = resolve_ffmpeg(os.environ.get("REELFACTORY_FFMPEG_BINARY"))
    report: dict[str, object] = {}
    if args.only in (None, "render"):
        report["render"] = bench_render(args.runs, binary)
        print(json.dumps(report["render"], indent=2), flush=True)
    if args.only in (None, "music"):
        report["music"] = bench_music(args.runs)
        print(json.dumps(report["music"], indent=2), flush=True)
    if args.only in (None, "make"):
        report["make"] = bench_make(args.runs)
        print(json.dumps(report["make"], indent=2), flush=True)
    if args.only in (None, "bot"):
        report["bot"] = bench_bot()
        print(json.dumps(report["bot"], indent=2), flush=True)
    if args.only in (None, "discord"):
        report["discord"] = bench_discord()
        print(json.dumps(report["discord"], indent=2), flush=True)
    if args.only in (None, "telegram"):
        report["telegram"] = bench_telegram()
        print(json.dumps(report["telegram"], indent=2), flush=True)
    if args.only in (None, "ahead"):
        from tests.bench_ahead import bench_ahead

        report["ahead"] = bench_ahead()
        print(json.dumps(report["ahead"], indent=2), flush=True)
    if args.only in (None, "dub"):
        from tests.bench_dub import bench_dub

        report["dub"] = bench_dub()
        print(json.dumps(report["dub"], indent=2), flush=True)
    if args.only in (None, "workers"):
        from tests.bench_workers import bench_workers

        report["workers"] = bench_workers()
        print(json.dumps(report["workers"], indent=2), flush=True)
    if args.only in (None, "load"):
        from tests.bench_load import bench_load

        extra = dict(item.split("=", 1) for item in args.bot_env)
        report["load"] = bench_load(args.users, args.discord_users, extra)
        print(json.dumps(report["load"], indent=2), flush=True)


if __name__ == "__main__":
    main()
