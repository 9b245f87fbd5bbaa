from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import pipeline.render.ffmpeg as ffmpeg_module
from pipeline.errors import RenderError
from pipeline.render.ffmpeg import (
    CAPTURE_NICE,
    ahead,
    capture_ffmpeg,
    escape_filter_path,
    resolve_ffmpeg,
    run_ffmpeg,
)


@pytest.fixture(scope="module")
def binary() -> str:
    return resolve_ffmpeg()


async def _until_true(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


def processes_with(marker: str) -> list[int]:
    """Pids whose command line mentions ``marker`` (a unique output name)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def endless(marker: str) -> list[str]:
    # -re paces the input in real time: ffmpeg runs until killed without burning a core.
    return ["-re", "-f", "lavfi", "-i", "testsrc2=s=64x64:r=30", "-f", "null", marker]


async def wait_for_process(marker: str) -> None:
    for _ in range(500):  # up to 10 s: a busy machine starts processes slowly
        if processes_with(marker):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("ffmpeg never started")


def test_resolve_ffmpeg_defaults_to_the_wheel_binary(tmp_path: Path) -> None:
    default = resolve_ffmpeg()
    assert Path(default).is_file()
    assert resolve_ffmpeg(default) == default
    with pytest.raises(RenderError) as caught:
        resolve_ffmpeg(str(tmp_path / "no-such-ffmpeg"))
    assert caught.value.stage == "ffmpeg"


async def test_progress_rises_to_one_at_most_four_times_a_second(binary: str) -> None:
    seen: list[tuple[float, float]] = []

    async def record(fraction: float) -> None:
        seen.append((time.monotonic(), fraction))

    args = [
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x64:r=30",
        "-frames:v",
        "45",
        "-f",
        "null",
        "-",
    ]
    await run_ffmpeg(
        args, binary=binary, timeout=30, stage="probe-run", total_frames=45, on_progress=record
    )
    fractions = [fraction for _, fraction in seen]
    assert len(fractions) >= 3  # 1.5 s of real-time input
    assert fractions == sorted(fractions) and len(set(fractions)) == len(fractions)
    assert 0 <= fractions[0] < 1 and fractions[-1] == 1.0
    gaps = [b[0] - a[0] for a, b in zip(seen[:-2], seen[1:-1], strict=True)]
    assert all(gap >= 0.2 for gap in gaps)


async def test_failure_names_the_stage_and_quotes_ffmpeg(binary: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    seen: list[float] = []

    async def record(fraction: float) -> None:
        seen.append(fraction)

    with pytest.raises(RenderError) as caught:
        await run_ffmpeg(
            ["-i", str(missing), "-f", "null", "-"],
            binary=binary,
            timeout=30,
            stage="stills",
            total_frames=10,
            on_progress=record,
        )
    assert seen == []  # a failed run never reports completion
    assert caught.value.stage == "stills"
    assert str(caught.value).startswith("stills: ")
    assert "No such file" in str(caught.value)


async def test_timeout_kills_ffmpeg(binary: str) -> None:
    marker = f"timeout-{uuid.uuid4().hex}"
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        await run_ffmpeg(endless(marker), binary=binary, timeout=0.5, stage="render")
    assert time.monotonic() - started < 5
    assert caught.value.stage == "render" and "timed out" in str(caught.value)
    assert processes_with(marker) == []


async def test_cancellation_kills_ffmpeg_and_propagates(binary: str) -> None:
    marker = f"cancel-{uuid.uuid4().hex}"
    task = asyncio.create_task(run_ffmpeg(endless(marker), binary=binary, timeout=60, stage="x"))
    await wait_for_process(marker)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert processes_with(marker) == []


async def test_a_failing_progress_callback_stops_ffmpeg(binary: str) -> None:
    marker = f"callback-{uuid.uuid4().hex}"

    async def explode(fraction: float) -> None:
        raise LookupError("front went away")

    with pytest.raises(LookupError):
        await run_ffmpeg(
            endless(marker),
            binary=binary,
            timeout=60,
            stage="render",
            total_frames=1000,
            on_progress=explode,
        )
    assert processes_with(marker) == []


async def test_escaped_paths_survive_the_filter_graph(binary: str, tmp_path: Path) -> None:
    odd = tmp_path / "it's a: [weird], dir; \\ %d"
    odd.mkdir()
    subtitles = odd / "subs, 'x':y.ass"
    subtitles.write_text(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 64\nPlayResY: 64\n\n"
        "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour\n"
        "Style: Default,Noto Sans,20,&H00FFFFFF\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Text\n"
        "Dialogue: 0,0:00:00.00,0:00:01.00,Default,Hi\n",
        encoding="utf-8",
    )
    graph = f"subtitles=filename={escape_filter_path(subtitles)}:fontsdir={escape_filter_path(odd)}"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "color=black:s=64x64:r=30:d=0.2", "-vf", graph, "-f", "null", "-"],
        binary=binary,
        timeout=30,
        stage="subtitles",
    )


def niceness(pid: int) -> int:
    # /proc/<pid>/stat: "pid (comm) state ..."; nice is the 19th field, 17th after comm.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


async def lowered_to(pid: int, nice: int) -> int:
    """``pid``'s niceness once it is this process's plus ``nice`` (or after a second)."""

    wanted = min(os.getpriority(os.PRIO_PROCESS, 0) + nice, 19)
    # It is lowered right after the start; a poll may see the process first.
    for _ in range(100):
        if niceness(pid) == wanted:
            break
        await asyncio.sleep(0.01)
    return wanted


async def test_a_render_runs_at_a_lower_priority_than_the_bot(binary: str) -> None:

    marker = f"/tmp/nice-{uuid.uuid4().hex}.null"
    task = asyncio.create_task(
        run_ffmpeg(endless(marker), binary=binary, timeout=30, stage="render", nice=7)
    )
    try:
        await wait_for_process(marker)
        [pid] = processes_with(marker)
        assert niceness(pid) == await lowered_to(pid, 7)
    finally:
        task.cancel()
        async with asyncio.timeout(10):  # not the child's 30 s
            with pytest.raises(asyncio.CancelledError):
                await task
    assert processes_with(marker) == []


async def test_every_ffmpeg_waits_for_a_core_and_work_made_ahead_goes_last(binary: str) -> None:
    """Fifty loudness checks at once used to be fifty processes at the bot's own priority.
    Now every ffmpeg of the process takes one of as many turns as there are cores; the checks
    run at CAPTURE_NICE; renders and checks go in the order they asked, and an encode made
    ahead (speculation) waits behind a render that asked after it."""
    slots = os.cpu_count() or 2
    held = [f"/tmp/turn-{uuid.uuid4().hex}.null" for _ in range(slots)]
    early, render = f"/tmp/ahead-{uuid.uuid4().hex}.null", f"/tmp/render-{uuid.uuid4().hex}.null"

    def analysis(marker: str) -> asyncio.Task[object]:
        return asyncio.create_task(
            capture_ffmpeg(endless(marker), binary=binary, timeout=30, stage="loudness")
        )

    tasks = [analysis(m) for m in held]
    try:
        for marker in held:
            await wait_for_process(marker)
        pid = processes_with(held[0])[0]
        assert niceness(pid) == await lowered_to(pid, CAPTURE_NICE)
        turns = ffmpeg_module._turns.get()
        with ahead():
            tasks.append(  # the task keeps the block's context
                asyncio.create_task(
                    run_ffmpeg(endless(early), binary=binary, timeout=30, stage="render")
                )
            )
        await _until_true(lambda: turns.waiting() == 1)
        tasks.append(
            asyncio.create_task(
                run_ffmpeg(endless(render), binary=binary, timeout=30, stage="render")
            )
        )
        await _until_true(lambda: turns.waiting() == 2)
        tasks[0].cancel()  # a turn frees: the render takes it, though it asked later
        await wait_for_process(render)
        assert processes_with(early) == []
        tasks[1].cancel()  # another: now the encode made ahead
        await wait_for_process(early)
        assert sum(len(processes_with(m)) for m in [*held, early, render]) == slots
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert all(processes_with(m) == [] for m in [*held, early, render])


async def test_an_encoder_using_every_core_runs_alone(binary: str) -> None:
    """A segment encode with one thread per core takes every turn: a loudness check beside it
    (35 MB more at the peak, for no speed) waits until it ends."""
    encode, check = f"/tmp/enc-{uuid.uuid4().hex}.null", f"/tmp/chk-{uuid.uuid4().hex}.null"
    cores = os.cpu_count() or 1
    encoding = asyncio.create_task(
        run_ffmpeg(endless(encode), binary=binary, timeout=30, stage="render", cores=cores)
    )
    checking: asyncio.Task[object] | None = None
    try:
        await wait_for_process(encode)
        checking = asyncio.create_task(
            capture_ffmpeg(endless(check), binary=binary, timeout=30, stage="loudness")
        )
        turns = ffmpeg_module._turns.get()
        await _until_true(lambda: turns.waiting() == 1)  # it waits for a turn...
        assert turns.held == min(cores, turns.slots) and processes_with(check) == []
        encoding.cancel()  # ...which comes when the encode ends
        await wait_for_process(check)
    finally:
        for task in (encoding, checking):
            if task is not None:
                task.cancel()
        await asyncio.gather(encoding, *([checking] if checking else []), return_exceptions=True)
    assert processes_with(encode) == processes_with(check) == []


async def test_a_killed_run_whose_pipes_another_process_holds_leaves_nothing_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrapper's child keeps ffmpeg's pipes open after the wrapper is killed: EOF does not
    come, and asyncio reports the exit only after EOF. The cancelled run used to wait for the
    child (30 s here), or leave its pipes open when the loop ended (a ResourceWarning in a
    later test); now it closes its ends and returns."""
    import gc
    import signal
    import warnings

    marker = f"held-{uuid.uuid4().hex}"
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\nsh -c "sleep 30; : {marker}" &\nexec sleep 30\n')
    wrapper.chmod(0o755)
    monkeypatch.setattr(ffmpeg_module, "_DRAIN_TIMEOUT", 0.2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = asyncio.create_task(
            run_ffmpeg(["-f", "null", "-"], binary=str(wrapper), timeout=30, stage="render")
        )
        await wait_for_process(marker)
        task.cancel()
        async with asyncio.timeout(10):  # not the child's 30 s
            with pytest.raises(asyncio.CancelledError):
                await task
        for pid in processes_with(marker):  # the child that held the pipes
            os.kill(pid, signal.SIGKILL)
        del task
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
