"""The pipeline's ports. Every port has an offline adapter; cloud ones plug in beside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from .models import ImageCandidate, ProgressEvent, Script, VoiceChoice, Voiceover, WordTiming

ProgressCallback = Callable[[ProgressEvent], Awaitable[None]]


class ScriptWriter(Protocol):
    name: str

    async def write(self, topic: str, *, language: str, seconds: int) -> Script: ...


class ImageSource(Protocol):
    name: str

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]: ...


class SpeechSynth(Protocol):
    """Turns a script's narration into audio. ``words`` may be empty when the engine gives no
    timings; an Aligner then supplies them."""

    name: str

    async def synthesize(self, script: Script, voice: VoiceChoice, out_dir: Path) -> Voiceover: ...


class Aligner(Protocol):
    name: str

    async def align(self, audio_path: Path, script: Script, language: str) -> list[WordTiming]: ...


class BlobStore(Protocol):
    name: str

    async def put(self, key: str, path: Path, content_type: str) -> None: ...

    async def url(self, key: str) -> str: ...

    async def exists(self, key: str) -> bool: ...
