"""Render workers on a real Redis server, beyond the shared line: a render that fails on every
attempt alerts the admins once; with R2 (moto's S3 server) a worker that shares no folder with
the bot fetches the inputs and returns the reel through the bucket; in shared-folder mode the
job's segments already encoded are not encoded again; a long reel is split across two workers
and joined, bit-identical to a one-worker render."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from saq.job import Status

from pipeline.adapters.r2 import R2BlobStore
from pipeline.adapters.saq_split import ENCODE_SHARE, segment_key
from pipeline.alerts import Alerter, Cause, Kind, Outcome
from pipeline.errors import RenderError
from pipeline.render import probe, resolve_ffmpeg, segments
from pipeline.settings import Settings
from pipeline.stages.render_spec import codec_for
from pipeline.stages.subtitles import FONTS_DIR
from pipeline.workers import alert_failed_renders
from pipeline.workers.blob_staging import BlobStaging
from pipeline.workers.rendering import render_spec
from storage import AlertRepository, Database
from tests.fakes.s3 import S3Endpoint, moto_s3, s3_server
from tests.workers.conftest import RedisServer, Workers, worker_env
from tests.workers.test_render_workers import bot_queue, bot_settings, make_spec

__all__ = ["moto_s3", "s3_server"]  # fixtures

pytestmark = pytest.mark.slow

ADMIN = "telegram:1"


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, admin: str, text: str) -> None:
        self.sent.append((admin, text))


async def test_a_render_failing_every_attempt_fails_the_job_and_alerts_the_admins_once(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    data = tmp_path / "data"
    settings = bot_settings(data, redis_server)
    spec = await make_spec(data, "broken", 2.0)
    spec.cuts[0].image.write_bytes(b"not a picture at all")  # every attempt fails on it
    db = await Database.open(tmp_path / "bot.db")
    notifier = RecordingNotifier()
    alerter = Alerter(AlertRepository(db), notifier, [ADMIN])
    queue = bot_queue(settings)
    alert_failed_renders(queue, alerter)
    workers.start("a")
    try:
        async with asyncio.timeout(90):
            with pytest.raises(RenderError, match="after 3 attempt") as failed:
                await queue.render("broken", spec, settings)
        record = await queue.queue.job("broken")
        assert record is not None and (record.status, record.attempts) == (Status.FAILED, 3)
        assert not spec.out_path.exists() and not (data / "renders" / "broken").exists()
        [(admin, text)] = notifier.sent
        assert admin == ADMIN and "a job failed" in text and "Job: broken" in text
        assert "Stage: render" in text and "3 attempt" in text
        # The failed job's own report (the fronts make it) is the same cause: no second DM.
        again = await alerter.report(
            Cause.of(Kind.JOB_FAILED, failed.value), job_id="broken", message=str(failed.value)
        )
        assert again == Outcome.MUTED and len(notifier.sent) == 1
    finally:
        await queue.aclose()
        await db.close()


def r2_env(s3: S3Endpoint) -> dict[str, str]:
    return {
        "REELFACTORY_BLOB_STORE": "r2",
        "REELFACTORY_R2_ENDPOINT_URL": s3.endpoint_url,
        "REELFACTORY_R2_BUCKET": s3.bucket,
        "REELFACTORY_R2_ACCESS_KEY_ID": s3.access_key_id,
        "REELFACTORY_R2_SECRET_ACCESS_KEY": s3.secret_access_key,
    }


async def test_with_r2_a_worker_sharing_no_folder_renders_through_the_bucket(
    tmp_path: Path, redis_server: RedisServer, s3_server: S3Endpoint
) -> None:
    data, scratch = tmp_path / "data", tmp_path / "worker-scratch"
    settings = Settings(
        data_dir=data,
        redis_url=redis_server.url,
        render_backend="redis",
        render_heartbeat=2,
        render_sweep_interval=1,
        encoder="libx264",
        blob_store="r2",
        r2_endpoint_url=s3_server.endpoint_url,
        r2_bucket=s3_server.bucket,
        r2_access_key_id=s3_server.access_key_id,
        r2_secret_access_key=s3_server.secret_access_key,
    )
    spec = await make_spec(data, "remote", 2.0)
    (tmp_path / "logs").mkdir()
    scratch.mkdir()
    # The worker's whole configuration: render settings, the Redis URL and R2; its data_dir is
    # scratch space of its own, not the bot's folder.
    env = worker_env(scratch, redis_server.url) | r2_env(s3_server)
    pool = Workers(env, tmp_path / "logs")
    queue = bot_queue(settings)
    assert isinstance(queue.staging, BlobStaging)
    pool.start("far")
    try:
        async with asyncio.timeout(90):
            result = await queue.render("remote", spec, settings)
        info = await probe(spec.out_path, binary=resolve_ffmpeg())
        assert (info.width, info.height) == (720, 1280) and result.path == spec.out_path
        for name in ("thumb.jpg", "thumb-small.jpg"):
            assert spec.out_path.with_name(name).stat().st_size > 0
        record = await queue.queue.job("remote")
        assert record is not None and record.result is not None
        assert record.result["folder"].startswith("renders/remote/1-far")
        assert not (data / "renders").exists()  # nothing went through the bot's folder
        assert list((scratch / "renders" / "remote").iterdir()) == []  # the worker kept nothing
        async with R2BlobStore(**s3_server.store_kwargs()) as store:
            # The bot removed the inputs and outputs it knows of once it had the reel.
            assert not await store.exists("renders/remote/inputs/audio.m4a")
            assert not await store.exists(f"{record.result['folder']}/reel.mp4")
    finally:
        await queue.aclose()
        pool.stop_all()


async def test_a_missing_r2_key_is_a_provider_error(s3_server: S3Endpoint, tmp_path: Path) -> None:
    async with R2BlobStore(**s3_server.store_kwargs()) as store:
        with pytest.raises(Exception, match="404") as missing:
            await store.get("renders/none/reel.mp4", tmp_path / "reel.mp4")
        assert getattr(missing.value, "status", None) == 404
        assert not (tmp_path / "reel.mp4").exists()
        assert not list(tmp_path.glob(".*.part"))
        source = tmp_path / "in.bin"
        source.write_bytes(bytes(range(256)) * 4000)
        await store.put("renders/x/in.bin", source, "application/octet-stream")
        await store.get("renders/x/in.bin", tmp_path / "out" / "got.bin")
        assert (tmp_path / "out" / "got.bin").read_bytes() == source.read_bytes()


async def test_the_jobs_segments_encoded_ahead_are_not_encoded_again_by_a_worker(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    data = tmp_path / "data"
    settings = bot_settings(data, redis_server)
    settings.x264_preset = "ultrafast"  # as the workers render
    spec = await make_spec(data, "ahead", 2.0)
    codec = await codec_for(settings)  # what the worker's render uses (the same settings)
    for part in segments.plan(spec, codec):  # as the speculative render does during review
        await segments.encode_segment(
            spec, part, codec=codec, binary=resolve_ffmpeg(), fonts_dir=FONTS_DIR
        )
    kept = sorted(segments.folder_for(spec).iterdir())
    queue = bot_queue(settings)
    workers.start("a")
    try:
        async with asyncio.timeout(90):
            result = await queue.render("ahead", spec, settings)
        assert result.segments_encoded == 0  # both scenes taken from the job's folder
        assert spec.out_path.is_file()
        assert sorted(segments.folder_for(spec).iterdir()) == kept  # linked, left in place
    finally:
        await queue.aclose()


async def test_a_long_reel_is_split_across_two_workers_and_joined_bit_identically(
    tmp_path: Path, redis_server: RedisServer, workers: Workers
) -> None:
    data = tmp_path / "data"
    settings = bot_settings(data, redis_server)
    settings.x264_preset = "ultrafast"
    settings.render_split_seconds = 2.0  # the default is 90 s; this reel is 4 s, 2 scenes
    spec = await make_spec(data, "long", 4.0)
    queue = bot_queue(settings)
    progress: list[float] = []

    async def on_progress(fraction: float) -> None:
        progress.append(fraction)

    workers.start("a")
    workers.start("b")
    try:
        async with asyncio.timeout(90):
            result = await queue.render("long", spec, settings, on_progress=on_progress)
        parts = [await queue.queue.job(segment_key("long", index)) for index in (0, 1)]
        assert all(part is not None and part.status == Status.COMPLETE for part in parts)
        assert {part.worker_id for part in parts if part is not None} == {"a", "b"}
        assert await queue.queue.job("long") is None  # never sent whole
        assert result.segments_encoded == 0  # here only the sound and the join
        assert max(progress) >= ENCODE_SHARE and progress == sorted(progress)
        joined = spec.out_path.read_bytes()
    finally:
        await queue.aclose()
    # A one-worker render of the same segments: this process encodes both and joins them.
    alone = spec.model_copy(update={"out_path": data / "work" / "alone" / "reel.mp4"})
    single = await render_spec(alone, settings, job_id="alone")
    assert single.segments_encoded == 2
    assert alone.out_path.read_bytes() == joined
