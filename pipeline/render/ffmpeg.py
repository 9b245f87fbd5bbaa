"""Running ffmpeg: finding the binary, progress, timeouts, cancellation, errors.

Everything is started from an argument list, never a shell, so paths need no shell quoting.
Filter-graph text is another matter: :func:`escape_filter_path` quotes a path for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from pipeline.concurrency import PerLoop, to_the_end
from pipeline.errors import RenderError
from pipeline.fairshare import FairGate, Work

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float], Awaitable[None]]

# ffmpeg reports twice a second by default; a quarter second lets the callback reach ~4/s.
_STATS_PERIOD = "0.25"
_MIN_PROGRESS_INTERVAL = 0.25
_STDERR_TAIL = 25
_LOWEST = 19  # the lowest CPU priority there is
_DRAIN_TIMEOUT = 5.0  # s for a killed process's pipes to reach EOF
# Short runs whose output is read (loudness, probes) go below the picture threads of
# pipeline.cpu (+5) and above renders (+10): a contact sheet someone waits for comes first.
CAPTURE_NICE = 8
# Every ffmpeg this process starts waits for turns, one per core it keeps busy, of as many as
# there are cores: a render's segments and sound, the loudness checks of jobs being prepared,
# the encodes made ahead. Fifty jobs' checks at once were fifty processes (35 MB each) that
# starved the bot's loop; beside a render's encoder they made the peak memory. Renders and
# checks take turns in the order they ask (a render first would starve the preparation of
# the jobs queued behind it: 161 of 1,225 reels came out of order); encodes made ahead wait
# behind both.
NOW, AHEAD = 0, 1
_turns = PerLoop(lambda: FairGate(os.cpu_count() or 2))
_callers = itertools.count()
_kind: ContextVar[int] = ContextVar("ffmpeg_turn", default=NOW)


@contextmanager
def ahead() -> Iterator[None]:
    """Every ffmpeg started inside the block (its loudness checks too) is work made ahead of
    need: it waits behind every other."""
    token = _kind.set(AHEAD)
    try:
        yield
    finally:
        _kind.reset(token)


def _turn(cores: int = 1) -> AbstractAsyncContextManager[None]:
    work = Work(f"ffmpeg-{next(_callers)}", _kind.get())
    return _turns.get().slot(work, weight=cores)


def resolve_ffmpeg(configured: str | None = None) -> str:
    """The ffmpeg to run: ``configured`` (a path or a name on PATH) or the wheel's static build."""
    if configured:
        candidate = Path(configured).expanduser()
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        found = shutil.which(configured)
        if found:
            return found
        raise RenderError(f"ffmpeg binary not found: {configured}", stage="ffmpeg")
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise RenderError("imageio-ffmpeg is not installed", stage="ffmpeg") from exc
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise RenderError(f"no ffmpeg available: {exc}", stage="ffmpeg") from exc


def escape_filter_path(path: Path | str) -> str:
    """Quote a path as an option value inside filter-graph text.

    Two parsers read it: the graph parser (separators ``, ; [ ]``) and then the filter's
    option parser (separator ``:``). Backslash-escaping for both levels keeps any byte of
    the path literal, including ``' : , \\``.
    """
    value = str(path)
    for char in ("\\", "'", ":"):
        value = value.replace(char, "\\" + char)
    for char in ("\\", "'", "[", "]", ",", ";"):
        value = value.replace(char, "\\" + char)
    return value


def file_url(path: Path) -> str:
    """An input/output name ffmpeg cannot mistake for a protocol (``a:b.mp4``) or an option."""
    return "file:" + str(path.resolve())


@dataclass(slots=True)
class CompletedRun:
    returncode: int
    stderr: str
    stdout: str = ""


class _ProgressReader:
    """Turns ``-progress`` key=value blocks into throttled, non-decreasing fractions."""

    def __init__(self, total_frames: int | None, on_progress: ProgressCallback | None) -> None:
        self.total_frames = total_frames
        self.on_progress = on_progress
        self.last_sent = -1.0
        self.last_time = 0.0
        self.frame = 0

    async def consume(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            key, _, value = line.decode("utf-8", "replace").strip().partition("=")
            if key == "frame" and value.isdigit():
                self.frame = int(value)
            elif key == "progress" and value == "continue":
                await self.report(self._fraction(), final=False)

    def _fraction(self) -> float | None:
        # Without a frame total there is no fraction to give until the end.
        if not self.total_frames:
            return None
        # Never 1.0 before ffmpeg has exited cleanly: "progress=end" also ends a failed run.
        return min(self.frame / self.total_frames, 0.999)

    async def report(self, fraction: float | None, *, final: bool) -> None:
        if self.on_progress is None or fraction is None or fraction <= self.last_sent:
            return
        now = time.monotonic()
        if not final and now - self.last_time < _MIN_PROGRESS_INTERVAL:
            return
        self.last_sent, self.last_time = fraction, now
        await self.on_progress(fraction)


async def _collect_lines(stream: asyncio.StreamReader, sink: deque[str] | list[str]) -> None:
    while line := await stream.readline():
        sink.append(line.decode("utf-8", "replace").rstrip())


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


async def _supervise(
    proc: asyncio.subprocess.Process,
    readers: list[asyncio.Task[None]],
    *,
    timeout: float,
    stage: str,
) -> int:
    """Wait for ffmpeg; on timeout, cancellation or a failing reader, kill it and reap it."""
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*readers)
            return await proc.wait()
    except TimeoutError:
        raise RenderError(f"ffmpeg timed out after {timeout:g} s", stage=stage) from None
    finally:
        # Kill synchronously first, then reap to the end even if this task is cancelled again
        # meanwhile: an unreaped child outlives its loop (ResourceWarning, a zombie).
        _kill(proc)
        # The readers end at EOF, which comes once the process is gone. Waiting for them lets
        # the pipes close; cancelled, they would stay open until the loop dies.
        await to_the_end(asyncio.wait(readers, timeout=_DRAIN_TIMEOUT))
        for task in readers:
            task.cancel()
        await to_the_end(asyncio.gather(*readers, return_exceptions=True))
        # A pipe that another process still holds open (a killed wrapper's child) never reaches
        # EOF, and asyncio reports the exit only after EOF: close our ends first (a no-op once
        # they are closed). Left open, they leaked into a later test as a ResourceWarning.
        transport = getattr(proc, "_transport", None)
        if transport is not None:
            transport.close()
        if proc.returncode is None:
            await to_the_end(proc.wait())


async def _start(
    binary: str, args: list[str], stage: str, nice: int = 0
) -> asyncio.subprocess.Process:
    try:
        proc = await asyncio.create_subprocess_exec(
            binary,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise RenderError(f"cannot start {binary}: {exc}", stage=stage) from exc
    if nice > 0:
        lower(proc.pid, nice)
    return proc


def lower(pid: int, nice: int) -> None:
    """Lower process ``pid``'s CPU priority by ``nice`` from this process's own (Unix; at most
    19). Its threads start after this: ffmpeg spends its first milliseconds parsing."""
    try:
        wanted = min(os.getpriority(os.PRIO_PROCESS, 0) + nice, _LOWEST)
        os.setpriority(os.PRIO_PROCESS, pid, wanted)
    except (AttributeError, OSError) as exc:  # no such call here, or the process is gone
        logger.debug("cannot renice ffmpeg %d: %s", pid, exc)


def _failure(stage: str, returncode: int, lines: deque[str] | list[str]) -> RenderError:
    tail = "\n".join(list(lines)[-_STDERR_TAIL:]) or "(no output)"
    return RenderError(f"ffmpeg exited with code {returncode}:\n{tail}", stage=stage)


async def run_ffmpeg(
    args: list[str],
    *,
    binary: str,
    timeout: float,
    stage: str,
    total_frames: int | None = None,
    on_progress: ProgressCallback | None = None,
    nice: int = 0,
    cores: int = 1,
) -> None:
    """Run ``binary`` with ``args`` (everything after the program name).

    Progress comes from ``-progress pipe:1``; ``on_progress`` gets fractions 0..1 at most
    ~4 times a second and 1.0 at the end. On failure, timeout or cancellation ffmpeg is
    killed; failures raise :class:`RenderError` carrying ``stage`` and ffmpeg's last lines.
    ``nice`` > 0 runs it at that much lower CPU priority than this process; ``cores`` is how
    many it keeps busy (an encoder's threads): the turns it takes.
    """
    has_level = any(arg in ("-loglevel", "-v") for arg in args)
    full = [
        "-hide_banner",
        "-nostdin",
        *([] if has_level else ["-loglevel", "error"]),
        "-nostats",
        "-progress",
        "pipe:1",
        "-stats_period",
        _STATS_PERIOD,
        *args,
    ]
    logger.debug("ffmpeg[%s]: %s", stage, " ".join(full))
    tail: deque[str] = deque(maxlen=_STDERR_TAIL * 4)
    progress = _ProgressReader(total_frames, on_progress)
    async with _turn(cores):
        started = time.monotonic()
        proc = await _start(binary, full, stage, nice)
        assert proc.stdout is not None and proc.stderr is not None
        readers = [
            asyncio.create_task(progress.consume(proc.stdout)),
            asyncio.create_task(_collect_lines(proc.stderr, tail)),
        ]
        returncode = await _supervise(proc, readers, timeout=timeout, stage=stage)
    if returncode != 0:
        raise _failure(stage, returncode, tail)
    await progress.report(1.0, final=True)
    logger.debug("ffmpeg[%s] done in %.2f s", stage, time.monotonic() - started)


async def capture_ffmpeg(
    args: list[str], *, binary: str, timeout: float, stage: str
) -> CompletedRun:
    """Run ffmpeg and return its whole stderr, for callers that parse it (probe, loudness).

    The exit code is returned, not raised: ``ffmpeg -i file`` exits 1 by design.
    """
    async with _turn():
        proc = await _start(binary, ["-hide_banner", "-nostdin", *args], stage, CAPTURE_NICE)
        assert proc.stdout is not None and proc.stderr is not None
        out_lines: list[str] = []
        err_lines: list[str] = []
        readers = [
            asyncio.create_task(_collect_lines(proc.stdout, out_lines)),
            asyncio.create_task(_collect_lines(proc.stderr, err_lines)),
        ]
        returncode = await _supervise(proc, readers, timeout=timeout, stage=stage)
    return CompletedRun(returncode, "\n".join(err_lines), "\n".join(out_lines))


def raise_for_run(run: CompletedRun, stage: str) -> None:
    if run.returncode != 0:
        raise _failure(stage, run.returncode, run.stderr.splitlines())
