"""The speculative pre-render's costs and gains on the demo reel (45 s, 9 scenes), offline.

- Render -> reel with every segment encoded ahead, against the same render with none, in one
  run (the render stage's own time: join, sound track, thumbnail).
- CPU seconds speculation spends on the reel, which a cancel throws away in the worst case
  (everything was encoded), beside the CPU seconds of the whole render.
- How long a real render of another user waits for speculation to get out of the way: the
  time from its queue slot to the moment speculation's ffmpeg is gone.
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from pathlib import Path

from pipeline.app import App
from pipeline.delivery import Post
from pipeline.providers import build_offline
from pipeline.render import segments
from pipeline.settings import Settings
from pipeline.stages import render as render_stage
from pipeline.studio import Studio

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "octopus.md"
ALICE = "telegram:1"


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (every ffmpeg, espeak)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _nothing(post: Post) -> None:
    return None


async def _one(folder: Path, speculate: bool) -> dict[str, float]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=folder,
        speculative_renders=1 if speculate else 0,
    )
    async with await App.open(settings, build_offline(settings)) as app:
        studio = Studio(app)
        job = (await studio.own_script(ALICE, EXAMPLE.read_text(), f"k{speculate}")).job
        await studio.approve(ALICE, job.id)
        await studio.preparations.voiced(job.id)
        cpu = _children_cpu()
        await studio.preparations.speculator.settled(job.id)
        speculated = _children_cpu() - cpu
        started, cpu = time.perf_counter(), _children_cpu()
        await studio.render(ALICE, job.id, _nothing)
        render = time.perf_counter() - started
        facts = render_stage.load(await app.runner.context(job.id))
        assert facts is not None
        return {
            "render_press_to_published_s": render,
            "render_cpu_s": _children_cpu() - cpu,
            "speculation_cpu_s": speculated,
            "segments_encoded_by_render": float(facts["segments_encoded"]),
        }


async def _yield_delay(folder: Path) -> float:
    """Seconds from another user's render taking the queue to speculation's ffmpeg ending."""
    settings = Settings(_env_file=None, data_dir=folder)  # type: ignore[call-arg]
    async with await App.open(settings, build_offline(settings)) as app:
        studio = Studio(app)
        job = (await studio.own_script(ALICE, EXAMPLE.read_text(), "y")).job
        await studio.approve(ALICE, job.id)
        await studio.preparations.voiced(job.id)
        folder_of = (await app.runner.context(job.id)).work / segments.FOLDER
        while not any(p.name.endswith(".part") and ".mp4." in p.name for p in _list(folder_of)):
            await asyncio.sleep(0.01)
        speculator = studio.preparations.speculator
        async with app.queue.slot("another-user"):
            started = time.perf_counter()
            while speculator.yielded == 0:
                await asyncio.sleep(0.001)
            delay = time.perf_counter() - started
        await studio.cancel(ALICE, job.id)
        return delay


def _list(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def bench_ahead() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="reelbench-ahead-") as tmp:
        ahead = asyncio.run(_one(Path(tmp) / "ahead", True))
        cold = asyncio.run(_one(Path(tmp) / "cold", False))
        delay = asyncio.run(_yield_delay(Path(tmp) / "yield"))
    return {
        "with_speculation": {k: round(v, 2) for k, v in ahead.items()},
        "without": {k: round(v, 2) for k, v in cold.items()},
        "render_ratio_ahead_to_cold": round(
            ahead["render_press_to_published_s"] / cold["render_press_to_published_s"], 3
        ),
        "cancel_throws_away_cpu_s_at_most": round(ahead["speculation_cpu_s"], 2),
        "that_over_a_cold_render_cpu": round(
            ahead["speculation_cpu_s"] / max(cold["render_cpu_s"], 1e-9), 2
        ),
        "real_render_waits_for_speculation_ms": round(delay * 1000, 1),
    }
