"""The speculative pre-render (pipeline.studio.speculating): segments encoded during the
picture review, a swap that encodes one again, yielding to real renders, cancel and kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from pipeline.app import App
from pipeline.delivery import Post
from pipeline.providers import build_offline
from pipeline.render import segments
from pipeline.settings import Settings
from pipeline.stages import render as render_stage
from pipeline.stages.render_spec import speculative_at_once
from pipeline.studio import Studio
from tests.pipeline.speculation_child import PLAIN, gated_ffmpeg, settings_for

pytestmark = pytest.mark.slow

ALICE, BOB = "telegram:1", "telegram:2"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gate(tmp_path: Path) -> tuple[Path, Path]:
    return gated_ffmpeg(tmp_path)


@pytest.fixture
async def app(settings: Settings, gate: tuple[Path, Path]) -> AsyncIterator[App]:
    ffmpeg, opened_gate = gate
    opened_gate.touch()  # open unless a test closes it
    quiet = settings.model_copy(update={"music_enabled": False, "ffmpeg_binary": str(ffmpeg)})
    async with await App.open(quiet, build_offline(quiet)) as opened:
        yield opened


def _encoding(folder: Path) -> bool:
    """Whether a segment encode is under way (its ffmpeg writes a ``.part`` file)."""
    return any(".mp4." in name and name.endswith(".part") for name in _files(folder))


async def _folder(app: App, job_id: str) -> Path:
    return (await app.runner.context(job_id)).work / segments.FOLDER


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


async def _until(condition: Callable[[], object], limit: float = 60.0) -> None:
    """Wait (polling) until ``condition()`` is true: for something to happen, never to prove
    that nothing did."""
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.02)


def _ffmpeg_writing_to(folder: Path) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(folder).encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


async def _approved(studio: Studio, owner: str = ALICE) -> str:
    job = (await studio.own_script(owner, PLAIN, "k")).job
    await studio.approve(owner, job.id)
    return job.id


async def test_segments_are_made_during_review_and_a_swap_redoes_one(app: App) -> None:
    studio = Studio(app)
    job_id = await _approved(studio)
    await studio.preparations.ready(job_id)  # every scene's alternates, so swaps cycle
    await studio.preparations.speculator.settled(job_id)
    folder = await _folder(app, job_id)
    made = _files(folder)
    assert len([n for n in made if n.endswith(".mp4")]) == 3
    assert len([n for n in made if n.endswith(".m4a")]) == 1

    await studio.swap(ALICE, job_id, 2)
    await studio.preparations.speculator.settled(job_id)
    after = _files(folder)
    # One new segment (scene 2's new picture); the other two and the sound track are kept.
    assert len(set(after) - set(made)) == 1 and set(made) <= set(after)

    delivered: list[Post] = []

    async def deliverer(post: Post) -> None:
        delivered.append(post)

    production = await studio.render(ALICE, job_id, deliverer)
    facts = render_stage.load(await app.runner.context(job_id))
    assert facts is not None and facts["segments_encoded"] == 0  # the render only joined
    assert len(delivered) == 1 and production.published.duration > 1
    assert not folder.exists()  # gone once the reel exists


async def test_a_real_render_stops_speculation_at_once(app: App, gate: tuple[Path, Path]) -> None:
    gate[1].unlink()  # segment encodes hold until it opens again: one or two are under way
    studio = Studio(app)
    speculator = studio.preparations.speculator
    at_once = min(speculative_at_once(app.settings), 3)  # of the job's three scenes
    job_id = await _approved(studio)
    folder = await _folder(app, job_id)
    await _until(lambda: len(_ffmpeg_writing_to(folder)) == at_once)
    # Bob's render takes the queue: Alice's encodes are killed, not finished first.
    async with app.queue.slot("bob-job"):
        await _until(lambda: speculator.yielded == at_once)
        assert _ffmpeg_writing_to(folder) == []
        assert not any(n.endswith(".part") for n in _files(folder))
        assert not speculator._tasks[job_id].done()  # it waits for the queue to empty
        gate[1].touch()
    await speculator.settled(job_id)
    assert len([n for n in _files(folder) if n.endswith(".mp4")]) == 3


async def test_cancel_during_speculation_leaves_no_files(app: App, gate: tuple[Path, Path]) -> None:
    gate[1].unlink()
    studio = Studio(app)
    job_id = await _approved(studio)
    folder = await _folder(app, job_id)
    await _until(lambda: bool(_ffmpeg_writing_to(folder)))
    await studio.cancel(ALICE, job_id)
    assert not folder.exists()
    assert _ffmpeg_writing_to(folder) == []


async def test_speculation_off_makes_nothing_ahead(settings: Settings) -> None:
    off = settings.model_copy(update={"music_enabled": False, "speculative_renders": 0})
    async with await App.open(off, build_offline(off)) as app:
        studio = Studio(app)
        job_id = await _approved(studio)
        await studio.preparations.settle(job_id)
        assert _files(await _folder(app, job_id)) == []

        async def deliverer(post: Post) -> None:
            pass

        await studio.render(ALICE, job_id, deliverer)
        facts = render_stage.load(await app.runner.context(job_id))
        assert facts is not None and facts["segments_encoded"] == 3


async def test_killed_during_speculation_the_job_resumes_and_is_delivered_once(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    ffmpeg, _ = gated_ffmpeg(tmp_path)  # the gate stays shut: killed mid-encode
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.pipeline.speculation_child", str(data), str(ffmpeg)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        job_id = (await asyncio.to_thread(child.stdout.readline)).strip()
        folder = data / "work" / job_id / segments.FOLDER
        await _until(lambda: bool(_ffmpeg_writing_to(folder)))
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the bot and its ffmpeg, as a power cut
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert any(n.endswith(".part") for n in _files(folder))

    settings = settings_for(data)
    delivered: list[Post] = []

    async def deliverer(post: Post) -> None:
        delivered.append(post)

    async with await App.open(settings, build_offline(settings)) as app:
        studio = Studio(app)
        assert await studio.resume({"telegram": deliverer}) == []  # a review: nothing sent
        await studio.preparations.speculator.settled(job_id)
        await studio.render(ALICE, job_id, deliverer)
    assert len(delivered) == 1
    assert not folder.exists()
