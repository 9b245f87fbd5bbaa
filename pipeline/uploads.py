"""Background uploads of one job's assets to the blob store.

The runner hands each asset over as soon as it exists (the script at once, the voice while the
images are fetched, each scene's images as they land, the subtitles and the thumbnail while or
after the reel renders); a few go up at a time, each under the store's retry policy. Every
confirmed upload is written to the upload ledger, so a resumed job does not send it again: each
asset is put once under its key, and a repeated put of the same key replaces, never adds.

The publish stage then settles: it waits for every upload, gives the failed ones one more round
(a blip during a long render should not cost the job), and only then sends the reel, last, so
the reel's link never points at a job whose other assets are missing.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import Awaitable, Callable, Collection
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from storage import UploadRepository
from storage.jobs_queries import JobQueries

from .errors import ProviderError, UploadError
from .models import ImageCandidate, Script
from .ports import BlobStore, ImageSource
from .resilience import Policy

logger = logging.getLogger(__name__)

# One attempt may carry a whole reel over a slow uplink; stuck sockets are the store's own
# read timeout's business.
UPLOAD_ATTEMPT_TIMEOUT = 600.0

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".json": "application/json",
    ".ass": "text/x-ssa; charset=utf-8",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".html": "text/html; charset=utf-8",
}

Progress = Callable[[int, int], Awaitable[None]]  # (confirmed, total)
FoundImages = Callable[[int, int, list[ImageCandidate]], None]  # (scene, first index, found)


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def _failed(task: asyncio.Task[None]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


def _error(task: asyncio.Task[None]) -> BaseException:
    if task.cancelled():
        return asyncio.CancelledError("the upload was cancelled")
    return task.exception() or RuntimeError("no error")


class Uploader:
    """Uploads one job's assets under ``prefix``; use as an async context manager, so that
    whatever is still in flight when the job stops is cancelled and awaited."""

    def __init__(
        self,
        *,
        job_id: str,
        prefix: str,
        store: BlobStore,
        ledger: UploadRepository,
        queries: JobQueries,
        concurrency: int = 4,
        policy: Policy | None = None,
    ) -> None:
        self.job_id = job_id
        self.prefix = prefix
        self.store = store
        self._ledger = ledger
        self._queries = queries
        self._limit = asyncio.Semaphore(max(concurrency, 1))
        self._policy = policy or Policy(store.name, timeout=UPLOAD_ATTEMPT_TIMEOUT, rate=100.0)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._paths: dict[str, Path] = {}
        self._confirmed: dict[str, int] = {}  # key -> size: the ledger, kept current

    async def __aenter__(self) -> Uploader:
        self._confirmed = await self._ledger.done(self.job_id)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    @property
    def confirmed(self) -> dict[str, int]:
        """Object keys known to be in the store (from earlier runs too), with their sizes."""
        return dict(self._confirmed)

    def submit(self, name: str, path: Path) -> None:
        """Start uploading ``path`` as ``name`` (relative to the prefix) unless it is already
        on its way or up. A name handed over again with another file replaces the first."""
        previous = self._tasks.get(name)
        if previous is not None and self._paths[name] == path and not _failed(previous):
            return
        self._paths[name] = path
        self._tasks[name] = asyncio.create_task(
            self._upload(name, path, previous), name=f"upload {self.key(name)}"
        )

    async def _upload(self, name: str, path: Path, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # one put per key at a time, the newest last
        key = self.key(name)
        try:
            size = path.stat().st_size
            if self._confirmed.get(key) == size:
                return
            async with self._limit:
                await self._policy.call(lambda: self.store.put(key, path, content_type(path)))
        except (ProviderError, OSError) as exc:
            logger.warning("upload of %s failed: %s", key, exc)
            raise
        await self._ledger.record(self.job_id, key, size)
        self._confirmed[key] = size

    async def forget(self, *names: str) -> None:
        """Forget earlier uploads of these names (a name ending in ``/`` is a folder) because
        the stage that makes them runs again: they are sent again once remade."""
        keys = [
            key
            for key in self._confirmed
            for name in names
            if key == self.key(name) or (name.endswith("/") and key.startswith(self.key(name)))
        ]
        if keys:
            await self._queries.forget_uploads(self.job_id, keys)
            for key in keys:
                self._confirmed.pop(key, None)

    async def prune(self, keep: Collection[str]) -> list[str]:
        """Remove objects of this job that are not among ``keep`` (names): left by an earlier
        run whose stage made other files. Stores without ``delete`` only forget them."""
        wanted = {self.key(name) for name in keep}
        mine = f"{self.prefix}/"
        stale = sorted(k for k in self._confirmed if k.startswith(mine) and k not in wanted)
        delete: Callable[[str], Awaitable[None]] | None = getattr(self.store, "delete", None)
        for key in stale:
            if delete is not None:
                await self._policy.call(partial(delete, key))
            else:
                logger.warning("%s is stale but %s cannot delete it", key, self.store.name)
        if stale:
            await self._queries.forget_uploads(self.job_id, stale)
            for key in stale:
                self._confirmed.pop(key, None)
        return stale

    async def settle(
        self, names: Collection[str] | None = None, on_progress: Progress | None = None
    ) -> None:
        """Wait until the named uploads (default: all submitted) are confirmed. Failed ones get
        one more round; if any still fails, raise UploadError naming them."""
        chosen = list(self._tasks if names is None else names)
        await self._wait(chosen, on_progress)
        failed = [name for name in chosen if _failed(self._tasks[name])]
        if not failed:
            return
        for name in failed:
            self.submit(name, self._paths[name])
        await self._wait(chosen, on_progress)
        failed = [name for name in chosen if _failed(self._tasks[name])]
        if failed:
            raise UploadError(failed, _error(self._tasks[failed[0]]))

    async def _wait(self, names: list[str], on_progress: Progress | None) -> None:
        pending = {self._tasks[name] for name in names if not self._tasks[name].done()}
        while True:
            if on_progress is not None:
                done = sum(1 for name in names if self._tasks[name].done())
                await on_progress(done, len(names))
            if not pending:
                return
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)


class AnnouncingImages:
    """An image source that reports each scene's candidates as they land, with the index the
    first of them will have in the scene's list, so they can be uploaded at once.

    The images stage asks each source for the candidates a scene still lacks, so those already
    found number ``per_scene - count``. Everything else (the source's retry ``policy``, its
    name) is the wrapped source's."""

    def __init__(self, source: ImageSource, per_scene: int, on_found: FoundImages) -> None:
        self.name = source.name
        self._source = source
        self._per_scene = per_scene
        self._on_found = on_found

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self._source, attribute)

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        found = await self._source.candidates(script, scene, count, out_dir)
        self._on_found(scene, max(self._per_scene - count, 0), found)
        return found
