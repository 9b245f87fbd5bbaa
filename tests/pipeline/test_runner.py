"""The runner on real (short) renders: background uploads, clean failures, resuming, the queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.app import App
from pipeline.errors import ProviderError, ReelError
from pipeline.models import ProgressEvent
from pipeline.ports import ProgressCallback
from pipeline.providers import build_offline
from pipeline.render import measure_loudness, resolve_ffmpeg
from pipeline.settings import Settings
from pipeline.stages.publish import job_prefix
from pipeline.stages.script import parse_script
from storage import DeliveryRepository, JobRecord, StageRunRecord, UploadRepository
from storage.repositories import now

pytestmark = pytest.mark.slow

# Three scenes, about 8 s of narration: a render takes a couple of seconds.
SHORT_SCRIPT = """# Three Quick Facts

An octopus has three hearts and blue blood.

Honey never spoils if it stays sealed.

Bananas are berries, but strawberries are not.
"""
ASSETS = [
    "script.json",
    "voice.wav",
    "subs.ass",
    "thumb.jpg",
    "thumb-small.jpg",
    "images/0-0.jpg",
    "images/1-0.jpg",
    "images/2-0.jpg",
    "music.m4a",
    "sfx/sfx-transition.wav",
    "sfx/sfx-title_hit.wav",
    "reel.mp4",
    "index.html",  # the share page, right after the reel
]


class RecordingStore:
    """A BlobStore double: objects in memory, each put logged with its time; puts of keys
    ending in one of ``fail`` are refused as R2 refuses a forbidden key."""

    name = "double"

    def __init__(self, fail: set[str] | None = None) -> None:
        self.fail = set(fail or ())
        self.objects: dict[str, bytes] = {}
        self.puts: list[tuple[str, datetime]] = []

    async def put(self, key: str, path: Path, content_type: str) -> None:
        if any(key.endswith(suffix) for suffix in self.fail):
            raise ProviderError(f"put {key}: AccessDenied (403)", provider=self.name, status=403)
        self.objects[key] = path.read_bytes()
        self.puts.append((key, now()))

    async def url(self, key: str) -> str:
        return f"https://cdn.test/{key}"

    async def exists(self, key: str) -> bool:
        return key in self.objects


@asynccontextmanager
async def open_app(settings: Settings, store: RecordingStore) -> AsyncIterator[App]:
    providers = build_offline(settings)
    providers.store = store
    app = await App.open(settings, providers)
    try:
        yield app
    finally:
        await app.close()


async def new_job(app: App) -> JobRecord:
    return await app.new_job(parse_script(SHORT_SCRIPT), style="bold-yellow")


def ended(run: StageRunRecord) -> datetime:
    assert run.duration_ms is not None
    return run.started_at + timedelta(milliseconds=run.duration_ms)


async def test_a_failed_upload_fails_publish_cleanly_and_a_retry_skips_finished_stages(
    settings: Settings,
) -> None:
    store = RecordingStore(fail={"images/1-0.jpg"})
    async with open_app(settings, store) as app:
        job = await new_job(app)
        prefix = job_prefix(job.id, job.created_at)
        with pytest.raises(ReelError) as failure:
            await app.runner.produce(job.id, candidates=1)
        assert failure.value.stage == "publish"
        assert "could not upload images/1-0.jpg" in str(failure.value)

        failed = await app.jobs.get(job.id)
        assert failed is not None and failed.state == "failed" and failed.result is None
        assert failed.error is not None and "images/1-0.jpg" in failed.error
        assert await DeliveryRepository(app.db).for_job(job.id) == []
        ledger = await UploadRepository(app.db).done(job.id)
        assert set(ledger) == set(store.objects)  # recorded = really stored, nothing more
        assert f"{prefix}/reel.mp4" not in store.objects  # the reel waits for the rest
        assert f"{prefix}/images/1-0.jpg" not in ledger
        runs = await app.runs.for_job(job.id)
        assert {r.stage: r.outcome for r in runs} == {
            "voice": "ok",
            "music": "ok",
            "images": "ok",
            "subtitles": "ok",
            "render": "ok",
            "publish": "failed",
        }
        assert len(runs) == 6

        # The voice stage only synthesised; the render made the loudness (-14 LUFS, <= -1 dBTP).
        work = Path(job.work_dir)
        assert (work / "voice.wav").is_file() and not list(work.glob("voice*.m4a"))
        loudness = await measure_loudness(work / "reel.mp4", binary=resolve_ffmpeg(), timeout=30)
        assert abs(loudness.integrated - -14.0) <= 1.0 and loudness.true_peak <= -1.0, loudness

        # Uploads ran while the reel rendered, not after it.
        render = next(r for r in runs if r.stage == "render")
        early = {key.removeprefix(f"{prefix}/") for key, at in store.puts if at < ended(render)}
        assert {"script.json", "voice.wav", "subs.ass", "images/0-0.jpg", "music.m4a"} <= early

        # Retried once the store works: only publish runs, only what is missing goes up.
        store.fail.clear()
        before = len(store.puts)
        production = await app.runner.produce(job.id, candidates=1)
        again = (await app.runs.for_job(job.id))[len(runs) :]
        assert [(r.stage, r.outcome) for r in again] == [("publish", "ok")]
        assert [key for key, _ in store.puts[before:]] == [
            f"{prefix}/images/1-0.jpg",
            f"{prefix}/reel.mp4",
            f"{prefix}/index.html",
        ]
        assert sorted(store.objects) == sorted(f"{prefix}/{name}" for name in ASSETS)
        assert production.result["reel_url"] == f"https://cdn.test/{prefix}/reel.mp4"
        assert production.result["page_url"] == f"https://cdn.test/{prefix}/index.html"
        stored = await app.jobs.get(job.id)
        assert stored is not None and stored.result == production.result

        # Published: asking again returns the stored result and runs nothing.
        assert (await app.runner.produce(job.id)).result == production.result
        assert len(await app.runs.for_job(job.id)) == len(runs) + 1


async def test_a_stage_that_runs_again_makes_the_later_ones_run_again(settings: Settings) -> None:
    store = RecordingStore()
    async with open_app(settings, store) as app:
        job = await new_job(app)
        prefix = job_prefix(job.id, job.created_at)
        await app.runner.produce(job.id, candidates=1)
        runs = await app.runs.for_job(job.id)
        work = Path(job.work_dir)

        # What a SIGKILL leaves: a stage run still "running", half-written files, and here
        # also a lost voice artifact, so the voice must be made again.
        await app.runs.start(job.id, "voice", now())
        (work / ".reel.abc123.render").mkdir()
        (work / ".reel.abc123.render" / "reel.mp4").write_bytes(b"half")
        (work / "images" / "1-1.part").write_bytes(b"half")
        (work / "voice.json").unlink()
        await app.jobs.update(job.id, result=None, state="producing")
        before = len(store.puts)

        await app.runner.produce(job.id, candidates=1)
        stages = await app.runs.for_job(job.id)
        assert stages[len(runs)].outcome == "interrupted"
        assert [r.stage for r in stages[len(runs) + 1 :]] == [
            "voice",
            "music",
            "subtitles",
            "render",
            "publish",
        ]
        assert not (work / ".reel.abc123.render").exists()
        assert not (work / "images" / "1-1.part").exists()
        resent = sorted(key.removeprefix(f"{prefix}/") for key, _ in store.puts[before:])
        assert resent == [
            "music.m4a",
            "reel.mp4",
            "sfx/sfx-title_hit.wav",
            "sfx/sfx-transition.wav",
            "subs.ass",
            "thumb-small.jpg",
            "thumb.jpg",
            "voice.wav",
        ]


async def test_two_renders_take_turns_and_the_second_sees_its_place(settings: Settings) -> None:
    async with open_app(settings, RecordingStore()) as app:
        first, second = await new_job(app), await new_job(app)
        events: dict[str, list[ProgressEvent]] = {first.id: [], second.id: []}

        def listener(job_id: str) -> ProgressCallback:
            async def record(event: ProgressEvent) -> None:
                events[job_id].append(event)

            return record

        await asyncio.gather(
            app.runner.produce(first.id, listener(first.id), candidates=1),
            app.runner.produce(second.id, listener(second.id), candidates=1),
        )
        renders = []
        for job in (first, second):
            runs = await app.runs.for_job(job.id)
            renders += [r for r in runs if r.stage == "render"]
        one, two = sorted(renders, key=lambda r: r.started_at)
        # started_at is stored to the millisecond; allow that much.
        assert two.started_at >= ended(one) - timedelta(milliseconds=2)
        queued = [e.position for job_id in events for e in events[job_id] if e.stage == "queued"]
        assert queued == [1]


async def test_music_off_in_the_script_makes_a_voice_only_reel(settings: Settings) -> None:
    store = RecordingStore()
    async with open_app(settings, store) as app:
        script = parse_script(SHORT_SCRIPT.replace("\n\n", "\n\n> music: off\n\n", 1))
        assert script.music == "off"
        job = await app.new_job(script, style="bold-yellow")
        await app.runner.produce(job.id, candidates=1)
        runs = {r.stage: r for r in await app.runs.for_job(job.id)}
        assert runs["music"].outcome == "ok" and runs["music"].provider == "none"
        prefix = job_prefix(job.id, job.created_at)
        names = sorted(key.removeprefix(f"{prefix}/") for key in store.objects)
        assert names == sorted(name for name in ASSETS if not name.startswith(("music", "sfx")))
        loudness = await measure_loudness(
            Path(job.work_dir) / "reel.mp4", binary=resolve_ffmpeg(), timeout=30
        )
        assert abs(loudness.integrated - -14.0) <= 1.0 and loudness.true_peak <= -1.0, loudness
