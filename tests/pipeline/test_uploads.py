"""The per-job uploader: bounded, retried, recorded once, and clear about what failed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.errors import ProviderError, UploadError
from pipeline.models import ImageCandidate, Scene, Script
from pipeline.resilience import Policy
from pipeline.uploads import AnnouncingImages, Uploader, content_type
from storage import Database, JobRecord, JobRepository, UploadRepository
from storage.jobs_queries import JobQueries

PREFIX = "reels/2026/01/02/job1"


class SlowStore:
    """Puts take a moment; some keys fail a number of times first (retryable or not)."""

    name = "slow"

    def __init__(self, delay: float = 0.01) -> None:
        self.delay = delay
        self.objects: dict[str, bytes] = {}
        self.calls: list[str] = []
        self.failures: dict[str, tuple[int, bool]] = {}  # key -> (times, retryable)
        self.active = 0
        self.peak = 0

    async def put(self, key: str, path: Path, content_type: str) -> None:
        self.calls.append(key)
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
            times, retryable = self.failures.get(key, (0, False))
            if times:
                self.failures[key] = (times - 1, retryable)
                raise ProviderError(f"put {key}: 503", provider=self.name, retryable=retryable)
            self.objects[key] = path.read_bytes()
        finally:
            self.active -= 1

    async def url(self, key: str) -> str:
        return f"https://cdn.test/{key}"

    async def exists(self, key: str) -> bool:
        return key in self.objects


class DeletingStore(SlowStore):
    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)


@pytest.fixture
async def ledger(db: Database) -> AsyncIterator[UploadRepository]:
    await JobRepository(db).create(
        JobRecord(id="job1", state="producing", language="en", style="s", work_dir="w")
    )
    yield UploadRepository(db)


def files(tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for index in range(count):
        path = tmp_path / f"{index}.jpg"
        path.write_bytes(b"x" * (index + 1))
        paths.append(path)
    return paths


def uploader(store: SlowStore, ledger: UploadRepository, db: Database, **kw: object) -> Uploader:
    policy = Policy("test", timeout=5, attempts=3, backoff_initial=0.001, backoff_max=0.002)
    return Uploader(
        job_id="job1",
        prefix=PREFIX,
        store=store,
        ledger=ledger,
        queries=JobQueries(db),
        policy=policy,
        **kw,  # type: ignore[arg-type]
    )


async def test_bounded_and_recorded_once(
    tmp_path: Path, db: Database, ledger: UploadRepository
) -> None:
    store = SlowStore()
    async with uploader(store, ledger, db, concurrency=2) as up:
        for index, path in enumerate(files(tmp_path, 6)):
            up.submit(f"images/{index}-0.jpg", path)
            up.submit(f"images/{index}-0.jpg", path)  # handed over twice: sent once
        await up.settle()
    assert store.peak == 2
    assert len(store.calls) == 6
    done = await ledger.done("job1")
    assert done == {f"{PREFIX}/images/{i}-0.jpg": i + 1 for i in range(6)}

    # A resumed job's uploader finds them recorded and sends nothing again.
    async with uploader(store, ledger, db) as up:
        for index, path in enumerate(files(tmp_path, 6)):
            up.submit(f"images/{index}-0.jpg", path)
        await up.settle()
    assert len(store.calls) == 6


async def test_retryable_failures_are_retried(
    tmp_path: Path, db: Database, ledger: UploadRepository
) -> None:
    store = SlowStore()
    store.failures[f"{PREFIX}/voice.wav"] = (2, True)
    (path,) = files(tmp_path, 1)
    async with uploader(store, ledger, db) as up:
        up.submit("voice.wav", path)
        await up.settle()
    assert store.calls == [f"{PREFIX}/voice.wav"] * 3
    assert list(await ledger.done("job1")) == [f"{PREFIX}/voice.wav"]


async def test_a_failed_asset_gets_one_more_round_then_is_named(
    tmp_path: Path, db: Database, ledger: UploadRepository
) -> None:
    store = SlowStore()
    bad = f"{PREFIX}/images/1-0.jpg"
    store.failures[bad] = (99, False)
    first, second = files(tmp_path, 2)
    async with uploader(store, ledger, db) as up:
        up.submit("images/0-0.jpg", first)
        up.submit("images/1-0.jpg", second)
        with pytest.raises(UploadError) as failure:
            await up.settle()
    assert failure.value.assets == ["images/1-0.jpg"]
    assert "could not upload images/1-0.jpg" in str(failure.value)
    assert store.calls.count(bad) == 2  # not retryable: once per round
    assert list(await ledger.done("job1")) == [f"{PREFIX}/images/0-0.jpg"]


async def test_a_blip_during_the_render_is_healed_at_publish(
    tmp_path: Path, db: Database, ledger: UploadRepository
) -> None:
    store = SlowStore()
    store.failures[f"{PREFIX}/voice.wav"] = (3, True)  # outlasts one policy's three attempts
    (path,) = files(tmp_path, 1)
    async with uploader(store, ledger, db) as up:
        up.submit("voice.wav", path)
        await up.settle()
    assert f"{PREFIX}/voice.wav" in store.objects


async def test_a_missing_file_is_named(
    tmp_path: Path, db: Database, ledger: UploadRepository
) -> None:
    async with uploader(SlowStore(), ledger, db) as up:
        up.submit("thumb.jpg", tmp_path / "nothing.jpg")
        with pytest.raises(UploadError, match="thumb.jpg"):
            await up.settle()


async def test_forget_sends_again_and_prune_removes_strays(
    tmp_path: Path, db: Database, ledger: UploadRepository
) -> None:
    store = DeletingStore()
    paths = files(tmp_path, 3)
    async with uploader(store, ledger, db) as up:
        for index, path in enumerate(paths):
            up.submit(f"images/0-{index}.jpg", path)
        up.submit("voice.wav", paths[0])
        await up.settle()
    async with uploader(store, ledger, db) as up:
        await up.forget("images/")  # the images stage runs again...
        up.submit("images/0-0.jpg", paths[0])  # ...and finds one image this time
        up.submit("voice.wav", paths[0])
        await up.settle()
        assert await up.prune(["images/0-0.jpg", "voice.wav"]) == []
        assert sorted(store.objects) == [f"{PREFIX}/images/0-{i}.jpg" for i in range(3)] + [
            f"{PREFIX}/voice.wav"
        ]
    # An earlier run left images/0-1 and 0-2 recorded; a later run without them prunes them.
    await ledger.record("job1", f"{PREFIX}/images/0-1.jpg", 2)
    await ledger.record("job1", f"{PREFIX}/images/0-2.jpg", 3)
    async with uploader(store, ledger, db) as up:
        stale = await up.prune(["images/0-0.jpg", "voice.wav", "reel.mp4"])
    assert stale == [f"{PREFIX}/images/0-1.jpg", f"{PREFIX}/images/0-2.jpg"]
    assert sorted(store.objects) == [f"{PREFIX}/images/0-0.jpg", f"{PREFIX}/voice.wav"]
    assert sorted(await ledger.done("job1")) == sorted(store.objects)
    assert store.calls.count(f"{PREFIX}/images/0-0.jpg") == 2
    assert store.calls.count(f"{PREFIX}/voice.wav") == 1


async def test_closing_cancels_what_is_in_flight(
    tmp_path: Path, db: Database, ledger: UploadRepository
) -> None:
    store = SlowStore(delay=10)
    (path,) = files(tmp_path, 1)
    async with uploader(store, ledger, db) as up:
        up.submit("reel.mp4", path)
        await asyncio.sleep(0.01)
    assert store.active == 0
    assert await ledger.done("job1") == {}


async def test_announced_images_carry_their_final_index_and_policy(tmp_path: Path) -> None:
    class Source:
        name = "search"
        policy = Policy("search")

        async def candidates(
            self, script: Script, scene: int, count: int, out_dir: Path
        ) -> list[ImageCandidate]:
            return [
                ImageCandidate(scene=scene, path=out_dir / f"{scene}-{n}.jpg", provider="x")
                for n in range(count)
            ]

    seen: list[tuple[int, int, int]] = []
    source = AnnouncingImages(
        Source(), 3, lambda s, first, found: seen.append((s, first, len(found)))
    )
    assert source.policy is Source.policy and source.name == "search"
    script = Script(title="t", scenes=[Scene(narration="a")])
    await source.candidates(script, 0, 3, tmp_path)  # nothing found before
    await source.candidates(script, 1, 2, tmp_path)  # the user's own image came first
    assert seen == [(0, 0, 3), (1, 1, 2)]


def test_content_types() -> None:
    assert content_type(Path("a.ass")) == "text/x-ssa; charset=utf-8"
    assert content_type(Path("a.M4A")) == "audio/mp4"
    assert content_type(Path("a.unknownext")) == "application/octet-stream"
