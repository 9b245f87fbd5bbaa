"""Render workers on a real Redis server: four jobs on two worker processes, a worker killed
mid-render, a stale worker waking up, Redis restarted between enqueue and pick-up, the shared
line's positions and a cancel."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from PIL import Image
from saq.job import Status

from pipeline.adapters.saq_render import RedisRenderQueue, open_queue, record_duration
from pipeline.models import RenderSpec, SceneCut
from pipeline.queue import QueueStatus
from pipeline.render import probe, resolve_ffmpeg, run_ffmpeg
from pipeline.settings import Settings
from pipeline.workers.staging import SharedFolder
from tests.pipeline.render.test_reel import ASS as REEL_ASS
from tests.workers.conftest import RedisServer, Workers

pytestmark = pytest.mark.slow

# The reel tests' header and style, with one line of karaoke.
ASS = (
    REEL_ASS.split("[Events]")[0]
    + "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    + "Dialogue: 0,0:00:00.00,0:00:01.50,Default,,0,0,0,,{\\k50}ONE {\\k50}TWO\n"
)


async def make_spec(data: Path, job_id: str, seconds: float) -> RenderSpec:
    folder = data / "work" / job_id
    folder.mkdir(parents=True)
    images = []
    for index, colour in enumerate(("#204060", "#604020")):
        path = folder / f"img{index}.jpg"
        Image.new("RGB", (720, 1280), colour).save(path)
        images.append(path)
    audio = folder / "voice.m4a"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", str(seconds)]
        + ["-c:a", "aac", "-f", "mp4", str(audio)],
        binary=resolve_ffmpeg(),
        timeout=30,
        stage="fixture",
    )
    subtitles = folder / "subs.ass"
    subtitles.write_text(ASS, encoding="utf-8")
    frames = round(seconds * 30)
    half = frames // 2
    cuts = [
        SceneCut(scene=0, image=images[0], start_frame=0, frames=half),
        SceneCut(scene=1, image=images[1], start_frame=half, frames=frames - half),
    ]
    return RenderSpec(
        cuts=cuts,
        audio_path=audio,
        subtitles_path=subtitles,
        total_frames=frames,
        out_path=folder / "reel.mp4",
    )


def bot_settings(data: Path, server: RedisServer) -> Settings:
    return Settings(
        data_dir=data,
        redis_url=server.url,
        render_backend="redis",
        render_heartbeat=2,
        render_sweep_interval=1,
        render_timeout=120,
        encoder="libx264",
    )


def bot_queue(settings: Settings) -> RedisRenderQueue:
    queue = RedisRenderQueue.from_settings(settings)
    queue.poll = 0.05
    return queue


async def until(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def active_on(queue: RedisRenderQueue, job_id: str, worker: str) -> bool:
    job = await queue.queue.job(job_id)
    return job is not None and job.status == Status.ACTIVE and job.worker_id == worker


async def test_two_workers_four_jobs_one_killed_mid_render(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    data = tmp_path / "data"
    settings = bot_settings(data, redis_server)
    queue = bot_queue(settings)
    specs = {f"job{n}": await make_spec(data, f"job{n}", 4.0) for n in range(4)}
    workers.start("a")
    workers.start("b")
    results: dict[str, list[object]] = {job: [] for job in specs}

    async def one(job_id: str) -> None:
        result = await queue.render(job_id, specs[job_id], settings)
        results[job_id].append(result)

    try:
        tasks = [asyncio.create_task(one(job)) for job in specs]

        async def a_is_rendering() -> bool:
            return any([await active_on(queue, job, "a") for job in specs])

        await until(a_is_rendering)
        killed = [job for job in specs if await active_on(queue, job, "a")]
        workers.signal("a", signal.SIGKILL)
        async with asyncio.timeout(120):
            await asyncio.gather(*tasks)
        for job_id, spec in specs.items():
            assert len(results[job_id]) == 1  # delivered exactly once
            info = await probe(spec.out_path, binary=resolve_ffmpeg())
            assert (info.width, info.height) == (720, 1280)
            assert spec.out_path.with_name("thumb-small.jpg").is_file()
            assert not (data / "renders" / job_id).exists()  # staging cleaned
        for job_id in killed:
            record = await queue.queue.job(job_id)
            assert record is not None
            assert (record.status, record.worker_id, record.attempts) == (Status.COMPLETE, "b", 2)
    finally:
        await queue.aclose()


async def test_a_stale_worker_returning_late_changes_nothing(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    data = tmp_path / "data"
    settings = bot_settings(data, redis_server)
    queue = bot_queue(settings)
    spec = await make_spec(data, "slow", 6.0)
    workers.start("a")
    try:
        task = asyncio.create_task(queue.render("slow", spec, settings))
        await until(lambda: active_on(queue, "slow", "a"))
        workers.signal("a", signal.SIGSTOP)  # away past its heartbeat
        workers.start("b")
        async with asyncio.timeout(120):
            result = await task
        done = await queue.queue.job("slow")
        assert done is not None and (done.worker_id, done.status) == ("b", Status.COMPLETE)
        reel = spec.out_path.read_bytes()
        workers.signal("a", signal.SIGCONT)  # back, finishes (or fails) its old attempt
        log = tmp_path / "logs" / "a.log"

        async def refused() -> bool:
            return "refused" in log.read_text() or "no longer this worker" in log.read_text()

        await until(refused, timeout=90)
        after = await queue.queue.job("slow")
        assert after is not None
        assert (after.worker_id, after.status, after.attempts) == ("b", Status.COMPLETE, 2)
        assert after.result == done.result
        assert spec.out_path.read_bytes() == reel and result.path == spec.out_path
    finally:
        await queue.aclose()


async def test_queued_work_survives_a_redis_restart(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    data = tmp_path / "data"
    settings = bot_settings(data, redis_server)
    queue = bot_queue(settings)
    spec = await make_spec(data, "kept", 2.0)
    try:
        task = asyncio.create_task(queue.render("kept", spec, settings))

        async def queued() -> bool:
            job = await queue.queue.job("kept")
            return job is not None and job.status == Status.QUEUED

        await until(queued)
        redis_server.kill()  # SIGKILL between enqueue and pick-up
        redis_server.start()
        workers.start("a")
        async with asyncio.timeout(90):
            result = await task
        assert result.width == 720 and spec.out_path.is_file()
    finally:
        await queue.aclose()


async def test_positions_count_across_bots_estimates_update_and_cancel_frees_the_place(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    data = tmp_path / "data"
    settings = bot_settings(data, redis_server)
    first, second = bot_queue(settings), bot_queue(settings)  # two bot processes
    raw = open_queue(settings)
    for seconds in (4.0, 4.0, 4.0):
        await record_duration(raw, seconds)
    specs = {name: await make_spec(data, name, 3.0) for name in ("r1", "r2", "r3")}
    seen: dict[str, list[QueueStatus]] = {name: [] for name in specs}

    def recorder(name: str):  # type: ignore[no-untyped-def]
        async def record(status: QueueStatus) -> None:
            seen[name].append(status)

        return record

    try:
        tasks = {}
        for name, queue in (("r1", first), ("r2", second), ("r3", first)):
            tasks[name] = asyncio.create_task(
                queue.render(name, specs[name], settings, on_queue=recorder(name))
            )
            await until(lambda name=name: _queued(first, name))
        assert [await first.position(n) for n in ("r1", "r2", "r3")] == [1, 2, 3]
        assert await second.position("r3") == 3  # the same line, seen from the other bot
        assert first.demand.is_set() and second.demand.is_set()
        tasks["r2"].cancel()  # cancelled while queued: it leaves the line at once
        with pytest.raises(asyncio.CancelledError):
            await tasks["r2"]
        assert await first.position("r2") == 0
        assert await first.position("r3") == 2
        workers.start("a")
        async with asyncio.timeout(120):
            await asyncio.gather(tasks["r1"], tasks["r3"])
        cancelled = await raw.job("r2")
        assert cancelled is not None and cancelled.status == Status.ABORTED
        assert not specs["r2"].out_path.exists()
        positions = [status.position for status in seen["r3"]]
        assert positions[0] == 3 and positions == sorted(positions, reverse=True)
        assert 2 in positions
        etas = [status.eta for status in seen["r3"]]
        assert all(eta is not None for eta in etas)
        assert etas[0] is not None and etas[-1] is not None and etas[-1] < etas[0]
        assert second.idle.is_set() and first.idle.is_set()
    finally:
        await first.aclose()
        await second.aclose()
        await raw.disconnect()


async def _queued(queue: RedisRenderQueue, name: str) -> bool:
    return await queue.position(name) > 0


async def test_shared_folder_refuses_paths_outside_it(tmp_path: Path) -> None:
    folder = SharedFolder(tmp_path)
    with pytest.raises(Exception, match="escapes"):
        await folder.take("../elsewhere", {"reel.mp4": tmp_path / "reel.mp4"})
