"""A cache in front of any SoundMaker: the same music or effect is generated once.

Keyed like the TTS cache (``pipeline.tts_cache``), by (provider, kind, prompt, length): the
effects' prompts never change, so a deployment pays for each effect once; a bed is paid for
once per reel mood and length. An entry is one audio file, ``<cache_dir>/sounds/<key>.<ext>``,
written atomically; a hit is copied to where the caller asked, with the entry's suffix.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from ..concurrency import KeyedLocks
from ..files import atomic_copy

logger = logging.getLogger(__name__)

_FORMAT = 1
_SUFFIXES = (".mp3", ".wav", ".m4a")


def sound_key(provider: str, kind: str, prompt: str, seconds: float) -> str:
    identity = [_FORMAT, provider, kind, prompt, round(seconds, 1)]
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()


class CachedSounds:
    """A SoundMaker answering from the cache when it can, filling it when it cannot. It
    carries the inner maker's ``name`` and ``policy`` so chains treat it as the inner one."""

    def __init__(self, inner: Any, cache_dir: Path) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.policy = getattr(inner, "policy", None)
        self.root = cache_dir / "sounds"
        self._locks = KeyedLocks()

    def music_prompt(self, mood: str, seed: int) -> str:
        prompt: str = self.inner.music_prompt(mood, seed)
        return prompt

    async def music(self, prompt: str, *, mood: str, seed: int, seconds: float, out: Path) -> Path:
        key = sound_key(self.name, "music", prompt, seconds)
        make = partial(self.inner.music, prompt, mood=mood, seed=seed, seconds=seconds, out=out)
        return await self._cached(key, out, make)

    async def effect(self, prompt: str, *, seconds: float, out: Path) -> Path:
        key = sound_key(self.name, "effect", prompt, seconds)
        make = partial(self.inner.effect, prompt, seconds=seconds, out=out)
        return await self._cached(key, out, make)

    async def _cached(self, key: str, out: Path, make: Callable[[], Awaitable[Path]]) -> Path:
        async with self._locks.hold(key):
            entry = _entry(self.root, key)
            if entry is not None:
                target = out.with_suffix(entry.suffix)
                try:
                    await asyncio.to_thread(atomic_copy, entry, target)
                except FileNotFoundError:
                    pass  # removed between the look and the copy: make it again
                else:
                    logger.info("sound cache hit %s (%s)", key[:12], self.name)
                    return target
            made: Path = await make()
            try:
                await asyncio.to_thread(atomic_copy, made, self.root / f"{key}{made.suffix}")
            except OSError as exc:
                # A full or read-only disk costs a future hit, not this job.
                logger.warning("sound cache: could not store %s: %s", key[:12], exc)
            return made

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


def _entry(root: Path, key: str) -> Path | None:
    for suffix in _SUFFIXES:
        path = root / f"{key}{suffix}"
        if path.is_file() and path.stat().st_size > 0:
            return path
    return None
