"""Render files through the blob store (R2) when the workers share no folder with the bot.

The bot puts a render's inputs (stills, voice, subtitles, the bed's sounds) under
``renders/<job>/inputs/`` in the bucket and sends the spec with those keys for paths. A worker
fetches them into its own ``data_dir`` (scratch only: it keeps nothing), renders into its
attempt's folder, puts the reel and thumbnails under ``renders/<job>/<attempt>/`` and returns
that prefix; the bot fetches the accepted attempt's files into the job's folder, where
delivery and publishing find them, then removes the keys it knows of. A lost attempt's late
upload lands under its own prefix and is never read: a lifecycle rule on ``renders/`` (a day)
sweeps those.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Any

from ..artifacts import REEL
from ..errors import RenderError
from ..models import RenderSpec
from ..ports import BlobStore
from ..uploads import content_type
from .staging import OUTPUTS, STAGING, inputs_of, with_paths

logger = logging.getLogger(__name__)


class BlobStaging:
    name = "blob"

    def __init__(self, store: BlobStore, scratch: Path) -> None:
        self.store, self.scratch = store, scratch.resolve()
        self._sent: dict[str, list[str]] = {}  # job -> keys this bot put (inputs, the outputs)

    @staticmethod
    def prefix(job_id: str) -> str:
        return f"{STAGING}/{job_id}"

    # --- the bot's side

    async def export(self, job_id: str, spec: RenderSpec) -> dict[str, Any]:
        keys: dict[str, Path] = {}
        sent = self._sent.setdefault(job_id, [])
        for name, path in inputs_of(spec):
            if not path.is_file():
                raise RenderError(f"render input missing: {path}", stage="render")
            key = f"{self.prefix(job_id)}/inputs/{name}{path.suffix.lower()}"
            await self.store.put(key, path, content_type(path))
            sent.append(key)
            keys[name] = Path(key)
        out = Path(self.prefix(job_id), "out", REEL)
        return {"spec": with_paths(spec, keys, out).model_dump(mode="json")}

    async def take(self, folder: str, files: dict[str, Path]) -> None:
        self._check(folder)
        job_id = folder.split("/")[1]
        for name, target in files.items():
            key = f"{folder}/{name}"
            await self.store.get(key, target)
            self._sent.setdefault(job_id, []).append(key)

    async def clean(self, job_id: str) -> None:
        delete = getattr(self.store, "delete", None)
        for key in self._sent.pop(job_id, []):
            if delete is None:
                break
            try:
                await delete(key)
            except Exception as exc:  # left for the bucket's lifecycle rule
                logger.warning("render %s: could not delete %s: %s", job_id, key, exc)

    # --- the worker's side

    def _attempt_dir(self, job_id: str, attempt: str) -> Path:
        folder = (self.scratch / STAGING / job_id / attempt).resolve()
        if not folder.is_relative_to(self.scratch):
            raise RenderError(f"render folder escapes the scratch folder: {job_id}", stage="render")
        return folder

    async def bring_in(self, job_id: str, parcel: dict[str, Any], attempt: str) -> RenderSpec:
        spec = RenderSpec.model_validate(parcel["spec"])
        folder = self._attempt_dir(job_id, attempt)
        paths: dict[str, Path] = {}
        for name, key in inputs_of(spec):
            self._check(str(key))
            local = folder / "inputs" / key.name
            await self.store.get(str(key), local)
            paths[name] = local
        return with_paths(spec, paths, folder / REEL)

    async def send_out(
        self, job_id: str, local: RenderSpec, names: tuple[str, ...] = OUTPUTS
    ) -> str:
        folder = local.out_path.parent
        prefix = f"{self.prefix(job_id)}/{folder.name}"
        for name in names:
            path = folder / name
            await self.store.put(f"{prefix}/{name}", path, content_type(path))
        await self.drop(local)
        return prefix

    async def drop(self, local: RenderSpec) -> None:
        await asyncio.to_thread(shutil.rmtree, local.out_path.parent, True)

    async def aclose(self) -> None:
        close = getattr(self.store, "aclose", None)
        if close is not None:
            await close()

    @staticmethod
    def _check(key: str) -> None:
        parts = key.split("/")
        if parts[0] != STAGING or len(parts) < 3 or ".." in parts or "" in parts:
            raise RenderError(f"not a render key: {key!r}", stage="render")
