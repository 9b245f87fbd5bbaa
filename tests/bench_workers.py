"""``python -m tests.bench --only workers``: render workers on this machine (issue 12).

- Throughput: the same batch of reels rendered by 1, then by 2 ``reelfactory worker``
  processes, each limited to one encoder thread (``RENDER_THREADS=1``, ``RENDER_PARALLEL=1``)
  so the comparison is fair on 2 cores; reels per hour and the 2/1 ratio.
- Added latency: one reel's render press -> result through the Redis queue (an idle worker
  waiting) against the local backend, same settings, alternated, medians.

A real redis-server (the test fixture's) on a free port; real ffmpeg.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from pipeline.adapters.saq_render import RedisRenderQueue
from pipeline.models import RenderSpec
from pipeline.queue import LocalRenderQueue
from pipeline.settings import Settings
from tests.workers.conftest import RedisServer, Workers, worker_env
from tests.workers.test_render_workers import make_spec

REEL_SECONDS = 12.0
BATCH = 6
LATENCY_RUNS = 3
ONE_CORE = {"REELFACTORY_RENDER_THREADS": "1", "REELFACTORY_RENDER_PARALLEL": "1"}
_PRESET = {"REELFACTORY_X264_PRESET": "veryfast"}  # the default, not the tests' ultrafast


def _settings(data: Path, redis_url: str, backend: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data,
        redis_url=redis_url,
        render_backend=backend,  # type: ignore[arg-type]
        encoder="libx264",
        render_threads=1,
        render_parallel=1,
    )


async def _wait_for_workers(queue: RedisRenderQueue, count: int) -> None:
    async with asyncio.timeout(60):
        while len((await queue.queue.info())["workers"]) < count:
            await asyncio.sleep(0.2)


async def _specs(data: Path, prefix: str, count: int) -> dict[str, RenderSpec]:
    return {
        f"{prefix}{n}": await make_spec(data, f"{prefix}{n}", REEL_SECONDS) for n in range(count)
    }


async def _throughput(root: Path, server: RedisServer, workers: int) -> float:
    """Reels per hour for ``BATCH`` reels queued at once on ``workers`` workers."""
    data = root / f"throughput-{workers}"
    data.mkdir()
    (data / "logs").mkdir()
    settings = _settings(data, server.url, "redis")
    specs = await _specs(data, f"w{workers}-", BATCH)
    pool = Workers(worker_env(data, server.url) | ONE_CORE | _PRESET, data / "logs")
    queue = RedisRenderQueue.from_settings(settings)
    try:
        for n in range(workers):
            pool.start(f"bench{workers}-{n}")
        await _wait_for_workers(queue, workers)
        started = time.monotonic()
        await asyncio.gather(*(queue.render(job, spec, settings) for job, spec in specs.items()))
        wall = time.monotonic() - started
    finally:
        await queue.aclose()
        pool.stop_all()
    return BATCH / wall * 3600


async def _latency(root: Path, server: RedisServer) -> dict[str, float]:
    """Median press -> result of one reel: local backend vs the Redis queue."""
    data = root / "latency"
    data.mkdir()
    (data / "logs").mkdir()
    local_settings = _settings(data, server.url, "local")
    redis_settings = _settings(data, server.url, "redis")
    local = LocalRenderQueue(1)
    pool = Workers(worker_env(data, server.url) | ONE_CORE | _PRESET, data / "logs")
    remote = RedisRenderQueue.from_settings(redis_settings)  # production polling (0.2 s)
    seconds: dict[str, list[float]] = {"local": [], "redis": []}
    try:
        pool.start("latency")
        await _wait_for_workers(remote, 1)
        for run in range(LATENCY_RUNS + 1):  # the first of each is a warm-up, not counted
            for name, queue, settings in (
                ("local", local, local_settings),
                ("redis", remote, redis_settings),
            ):
                job = f"lat-{name}-{run}"
                spec = await make_spec(data, job, REEL_SECONDS)
                started = time.monotonic()
                await queue.render(job, spec, settings)
                if run:
                    seconds[name].append(time.monotonic() - started)
    finally:
        await remote.aclose()
        pool.stop_all()
    pairs = zip(seconds["redis"], seconds["local"], strict=True)
    added = statistics.median([remote_s - local_s for remote_s, local_s in pairs])
    return {
        "local_s": statistics.median(seconds["local"]),
        "redis_s": statistics.median(seconds["redis"]),
        "added_s": added,
    }


async def _bench() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="reelbench-workers-") as folder:
        root = Path(folder)
        server = RedisServer(root / "redis")
        server.folder.mkdir()
        server.start()
        try:
            one = await _throughput(root, server, 1)
            two = await _throughput(root, server, 2)
            latency = await _latency(root, server)
        finally:
            server.kill()
    return {
        "reel_seconds": REEL_SECONDS,
        "batch": BATCH,
        "reels_per_hour_1_worker": round(one),
        "reels_per_hour_2_workers": round(two),
        "ratio_2_over_1": round(two / one, 2),
        "press_to_result_local_s": round(latency["local_s"], 2),
        "press_to_result_redis_s": round(latency["redis_s"], 2),
        "queue_added_latency_s": round(latency["added_s"], 2),  # median of paired runs
        "load_average_1min": round(os.getloadavg()[0], 1),  # other work on this machine
    }


def bench_workers() -> dict[str, object]:
    return asyncio.run(_bench())
