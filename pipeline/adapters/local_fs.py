"""Blob store on the local disk: the offline default."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from ..errors import ProviderError


class LocalBlobStore:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if not target.is_relative_to(self.root):
            raise ValueError(f"key escapes the store: {key!r}")
        return target

    async def put(self, key: str, path: Path, content_type: str) -> None:
        target = self._path(key)
        await asyncio.to_thread(_copy_atomic, path, target)

    async def url(self, key: str) -> str:
        return self._path(key).as_uri()

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    async def get(self, key: str, path: Path) -> None:
        source = self._path(key)
        if not source.is_file():
            raise ProviderError(f"get {key}: not in the store", provider=self.name, status=404)
        await asyncio.to_thread(_copy_atomic, source, path)


def _copy_atomic(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
