"""The user's own music for a reel: a track sent in chat while the reel is reviewed.

The file is checked (an audio container, within the download size cap), kept in the job's
work folder, and named in the script (``Script.music``), so the music stage plays it and the
caption credits it by its file name."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from storage import JobRecord
from storage.jobs_queries import JobQueries

from ..errors import InputError
from ..files import atomic_write
from ..models import JobState, Script
from ..stages.music import looks_like_audio, with_preference

logger = logging.getLogger(__name__)

REVIEWING = (JobState.SCRIPT_REVIEW, JobState.IMAGES_REVIEW)
_UNSAFE = re.compile(r"[^\w.\- ]+")
MB = 1024 * 1024

__all__ = ["REVIEWING", "keep_track", "reviewing", "with_preference"]


async def reviewing(queries: JobQueries, owner: str) -> JobRecord | None:
    """The owner's reel under review now, which a track sent in chat belongs to."""
    return await queries.latest_of(owner, [str(state) for state in REVIEWING])


def keep_track(job: JobRecord, script: Script, filename: str, data: bytes, limit: int) -> Script:
    """Store the track beside the job's other files; the script that plays it."""
    if len(data) > limit or not looks_like_audio(data[:16]):
        raise InputError(
            f"not a usable audio file: {filename!r}, {len(data)} bytes",
            code="error.music_file",
            params={"limit": limit // MB},
        )
    name = _UNSAFE.sub("_", Path(filename).name).strip(" .") or "track"
    path = Path(job.work_dir) / "own-music" / name
    atomic_write(path, data)
    logger.info("job %s: the user's own track %s (%d bytes)", job.id, name, len(data))
    return script.model_copy(update={"music": str(path)})
