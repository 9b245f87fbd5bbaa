"""A cache in front of any SpeechSynth: the same narration in the same voice is paid for once.

Rewrites and edits often leave most of a reel's narration alone, retries of a failed render
re-run the voice stage, and daily reels repeat intros: a cloud voice costs money and seconds
every time. Entries live in ``<cache_dir>/tts/<key>/`` as the audio file plus ``voiceover.json``
(paths relative to the entry). An entry appears whole or not at all: it is built in a temporary
folder and renamed into place, so a crash or a concurrent writer never leaves half of one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from pydantic import ValidationError

from .concurrency import KeyedLocks
from .files import atomic_copy
from .models import Script, VoiceChoice, Voiceover
from .ports import SpeechSynth

logger = logging.getLogger(__name__)

VOICEOVER_JSON = "voiceover.json"
# Bump when the entry layout or the meaning of a key changes; old entries are then ignored.
_FORMAT = 1


def cache_key(provider: str, voice: VoiceChoice, narration: str) -> str:
    identity = [_FORMAT, provider, voice.voice, voice.language, voice.rate, narration]
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()


class CachedSynth:
    """A SpeechSynth that answers from the cache when it can and fills it when it cannot.

    It carries the inner synth's ``name`` and ``policy`` so chains treat it as the inner one.
    """

    def __init__(self, inner: SpeechSynth, cache_dir: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.policy = getattr(inner, "policy", None)
        self.root = cache_dir / "tts"
        # One synthesis per key at a time in this process: a second job with the same
        # narration waits and then reads the first one's entry.
        self._locks = KeyedLocks()

    async def synthesize(self, script: Script, voice: VoiceChoice, out_dir: Path) -> Voiceover:
        key = cache_key(self.name, voice, script.narration)
        async with self._locks.hold(key):
            cached = await asyncio.to_thread(_restore, self.root / key, out_dir)
            if cached is not None:
                logger.info("tts cache hit %s (%s)", key[:12], self.name)
                return cached
            voiceover = await self.inner.synthesize(script, voice, out_dir)
            try:
                await asyncio.to_thread(_store, self.root, key, voiceover)
            except OSError as exc:
                # A full or read-only disk costs a future hit, not this job.
                logger.warning("tts cache: could not store %s: %s", key[:12], exc)
            return voiceover

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


def _load(entry: Path) -> Voiceover | None:
    """A complete entry's voiceover (audio path relative to the entry), else None."""
    try:
        stored = Voiceover.model_validate_json((entry / VOICEOVER_JSON).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError) as exc:
        logger.warning("tts cache: ignoring unreadable entry %s: %s", entry.name[:12], exc)
        return None
    path = stored.audio_path
    if path.is_absolute() or len(path.parts) != 1 or not (entry / path).is_file():
        logger.warning("tts cache: entry %s has no audio; ignoring it", entry.name[:12])
        return None
    return stored


def _restore(entry: Path, out_dir: Path) -> Voiceover | None:
    """The cached voiceover with its audio copied into ``out_dir``, or None on a miss."""
    stored = _load(entry)
    if stored is None:
        return None
    source = entry / stored.audio_path
    target = out_dir / stored.audio_path.name
    try:
        atomic_copy(source, target)
    except FileNotFoundError:
        return None  # replaced by another process between the check and the copy
    return stored.model_copy(update={"audio_path": target})


def _store(root: Path, key: str, voiceover: Voiceover) -> None:
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=root, prefix=f".{key[:12]}.", suffix=".part"))
    try:
        name = voiceover.audio_path.name
        shutil.copyfile(voiceover.audio_path, building / name)
        relative = voiceover.model_copy(update={"audio_path": Path(name)})
        (building / VOICEOVER_JSON).write_text(relative.model_dump_json(indent=1))
        entry = root / key
        if entry.exists() and _load(entry) is None:
            shutil.rmtree(entry, ignore_errors=True)  # a broken entry: replace it
        try:
            os.rename(building, entry)
        except OSError:
            # Renaming onto a complete entry fails: another process got there first.
            if _load(entry) is None:
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
