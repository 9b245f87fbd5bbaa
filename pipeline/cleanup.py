"""Disk hygiene: work folders of finished jobs, old cache entries, what a killed process left
half-written, and the lock that tells a held job's folder from a free one.

A delivered or cancelled job's folder goes after ``keep_finished_hours``; a failed job's stays
``keep_failed_hours`` for debugging. Jobs still in flight or waiting for a person are never
touched, nor is a folder whose job some process holds at this moment, except for the scene
segments a picture review left alone for ``keep_finished_hours`` had encoded ahead. The job
rows stay: they are the history, and their idempotency keys must keep working.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import Database
from storage.jobs_queries import JobQueries

from .models import JobState
from .render.segments import FOLDER as SEGMENTS
from .settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_CACHE_DAYS = 30.0
LOCK_FILE = ".lock"


@dataclass(slots=True)
class CleanupReport:
    folders: int = 0  # job work folders removed
    files: int = 0  # cache entries removed (a file, or a folder made as one)
    bytes: int = 0  # freed, both kinds
    removed: list[Path] = field(default_factory=list)


async def cleanup(
    settings: Settings,
    db: Database,
    *,
    cache_days: float = DEFAULT_CACHE_DAYS,
    now: datetime | None = None,
    dry_run: bool = False,
) -> CleanupReport:
    """Remove what has aged out; with ``dry_run``, only report what would go."""
    moment = now or datetime.now(UTC)
    report = CleanupReport()
    finished = timedelta(hours=settings.keep_finished_hours)
    cutoffs = {
        JobState.DELIVERED.value: moment - finished,
        JobState.CANCELLED.value: moment - finished,
        JobState.FAILED.value: moment - timedelta(hours=settings.keep_failed_hours),
    }
    root = settings.work_dir.resolve()
    for job in await JobQueries(db).finished_before(cutoffs):
        work = Path(job.work_dir).resolve()
        if not work.is_relative_to(root) or work == root:
            logger.warning("job %s: work folder %s is outside %s; left alone", job.id, work, root)
            continue
        if not work.is_dir():
            continue
        freed = await asyncio.to_thread(_remove_job_folder, work, dry_run)
        if freed is None:
            logger.info("job %s is held by a process; its folder stays", job.id)
            continue
        report.folders += 1
        report.bytes += freed
        report.removed.append(work)
    # A review left alone that long keeps its job, not the segments encoded ahead of a render.
    stale = {JobState.IMAGES_REVIEW.value: moment - finished}
    for job in await JobQueries(db).finished_before(stale):
        segments = Path(job.work_dir).resolve() / SEGMENTS
        if segments.is_relative_to(root) and segments.is_dir():
            report.bytes += _size(segments)
            report.removed.append(segments)
            if not dry_run:
                await asyncio.to_thread(shutil.rmtree, segments, True)
    files, freed_cache = await asyncio.to_thread(
        _prune_cache, settings.cache_dir, moment - timedelta(days=cache_days), dry_run
    )
    report.files += len(files)
    report.bytes += freed_cache
    report.removed += files
    logger.info(
        "cleanup: %d work folders, %d cache files, %.1f MB%s",
        report.folders,
        report.files,
        report.bytes / 1e6,
        " (dry run)" if dry_run else "",
    )
    return report


def _size(path: Path) -> int:
    total = 0
    for entry in path.rglob("*"):
        if entry.is_file() and not entry.is_symlink():
            total += entry.stat().st_size
    return total


def try_lock(work: Path) -> int | None:
    """Take a job's advisory lock, a file in its work folder (made if missing): the open
    descriptor (close it to let go), or None when another process or task holds it. The
    kernel lets go when the holder dies, however it dies."""
    work.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(work / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _partial(name: str) -> bool:
    return name.endswith((".part", ".tmp")) or (name.startswith(".") and name.endswith(".render"))


def sweep_partials(work: Path) -> int:
    """Remove what a killed process left half-written in a work folder: ``*.part`` and
    ``*.tmp`` files and folders, and the render's ``.*.render`` folders. Call it only while
    holding the job, when nothing else writes there. Returns how many were removed."""
    if not work.is_dir():
        return 0
    found = sorted((p for p in work.rglob("*") if _partial(p.name)), key=lambda p: len(p.parts))
    removed = 0
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink(missing_ok=True)
        else:
            continue  # inside a folder removed above
        removed += 1
    return removed


def _remove_job_folder(work: Path, dry_run: bool) -> int | None:
    """Remove ``work`` unless its job is held (see ``Runner.exclusive``); bytes freed, or None."""
    descriptor = try_lock(work)
    if descriptor is None:
        return None
    try:
        freed = _size(work)
        if not dry_run:
            shutil.rmtree(work)
        return freed
    finally:
        os.close(descriptor)


def _entries(cache: Path) -> list[Path]:
    """Cache entries: each child of a section (``tts/<key>/``, ``images/<file>``), which is
    made whole or not at all, so it goes whole too; loose files at the top count alone."""
    found: list[Path] = []
    for child in sorted(cache.iterdir()):
        if child.is_dir() and not child.is_symlink():
            found += sorted(child.iterdir())
        else:
            found.append(child)
    return found


def _newest(entry: Path) -> tuple[float, int]:
    """(newest modification time, size) of a file or a folder's files."""
    if entry.is_symlink() or not entry.is_dir():
        stat = entry.lstat()
        return stat.st_mtime, stat.st_size if not entry.is_symlink() else 0
    newest, size = entry.lstat().st_mtime, 0
    for item in entry.rglob("*"):
        stat = item.lstat()
        newest = max(newest, stat.st_mtime)
        size += stat.st_size if item.is_file() and not item.is_symlink() else 0
    return newest, size


def _prune_cache(cache: Path, cutoff: datetime, dry_run: bool) -> tuple[list[Path], int]:
    """Cache entries last written before ``cutoff``; a cache hit reads, it does not write, so
    an entry in daily use still goes once it is old, and is simply made again."""
    if not cache.is_dir():
        return [], 0
    limit = cutoff.timestamp()
    removed: list[Path] = []
    freed = 0
    for entry in _entries(cache):
        newest, size = _newest(entry)
        if newest >= limit:
            continue
        if not dry_run:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        removed.append(entry)
        freed += size
    return removed, freed
