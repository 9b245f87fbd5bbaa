"""The pipeline's ports. Every port has an offline adapter; cloud ones plug in beside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
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

    async def get(self, key: str, path: Path) -> None:
        """Download ``key`` to ``path`` (written atomically); raises ProviderError when the
        store cannot answer or ``key`` is not there (``status`` 404)."""
        ...


# --- trending topics (the daily run picks its topics from a chain of these)


@dataclass(frozen=True, slots=True)
class NewsItem:
    """A headline that explains why a topic trends; context for the script, never narrated."""

    title: str
    url: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Trend:
    """One trending topic as a source reported it.

    ``traffic`` is the source's own measure (Wikipedia: yesterday's page views; Google Trends:
    the approximate searches, ``traffic_label`` keeps its wording, e.g. "1000+"). ``extract``
    is a short summary, ``news`` the headlines behind it; both go to the script writer.
    """

    title: str
    source: str  # the TrendSource's name: wikipedia | google_trends | list
    language: str
    traffic: int | None = None
    traffic_label: str = ""
    extract: str = ""
    url: str = ""
    news: tuple[NewsItem, ...] = ()


class TrendSource(Protocol):
    name: str

    async def trends(self, day: date, *, language: str) -> list[Trend]:
        """Topics trending on ``day`` for readers of ``language``, most popular first.
        Raises ProviderError when the source cannot answer (the chain moves on)."""
        ...


# --- dubbing a delivered reel into another narration language (issue 11)


class Translator(Protocol):
    """Translates one scene's narration; ``max_words`` keeps it within the scene's time."""

    name: str

    async def translate(self, text: str, *, source: str, target: str, max_words: int) -> str: ...


class Dubber(Protocol):
    """Dubs a narration track into ``target``, keeping the voice's character; returns the
    dubbed track as a WAV file in ``out_dir``."""

    name: str

    async def dub(self, audio_path: Path, *, source: str, target: str, out_dir: Path) -> Path: ...


# --- moderation (issue 13): text is checked before anything is spent on it


@dataclass(frozen=True, slots=True)
class Verdict:
    """A moderator's answer. ``categories`` are Llama Guard's codes (``S1``…``S14``) or
    ``other`` when the moderator refused without naming one (Gemini's PROHIBITED_CONTENT)."""

    safe: bool
    categories: tuple[str, ...] = ()
    moderator: str = ""


class Moderator(Protocol):
    name: str

    async def check(self, text: str) -> Verdict:
        """Raises ProviderError when the moderator cannot answer (the chain moves on)."""
        ...
