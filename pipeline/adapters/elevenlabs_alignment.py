"""ElevenLabs Forced Alignment: the voice track plus the script's known text in, word timings out.

An Aligner for voices that give no timings (Gemini TTS). It comes before Whisper in the chain:
it aligns the text that was spoken instead of transcribing it, so no word is misheard, merged or
dropped, and names and numbers keep their place.

Wire format (elevenlabs 2.78, ``client.forced_alignment.create``): ``POST /v1/forced-alignment``,
multipart ``file`` and ``text``; the answer is ``{characters: [{text, start, end}], words:
[{text, start, end, loss}], loss}`` in seconds. ``words`` holds whitespace-only entries between
the words; they are dropped. The words are then matched to the script's words the same way a
recogniser's are (``alignment.match_recognised``), which also covers punctuation split off or
spelled differently. The SDK's behaviours (retries, bare httpx errors, unvalidated fields) are
the ones ``pipeline.adapters.elevenlabs`` describes, and are handled the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.parse_error import ParsingError

from ..alignment import match_recognised, wav_duration
from ..errors import ProviderError
from ..models import Script, WordTiming
from ..resilience import Policy
from ..text import script_words
from .elevenlabs import PROVIDER, provider_error

logger = logging.getLogger(__name__)

# The service takes up to 3 GB; older pages said 1 GB, which is kept as the safe limit.
MAX_AUDIO_BYTES = 1024**3
# Its text limit (675,000 characters) is far above any script's.
MAX_TEXT_CHARS = 675_000


class ElevenLabsAligner:
    """Aligner: ElevenLabs Forced Alignment of the voice track against the script's text."""

    name = PROVIDER

    def __init__(
        self, api_key: str, *, base_url: str | None = None, timeout: float = 60.0, attempts: int = 3
    ) -> None:
        self.policy = Policy(PROVIDER, timeout=timeout, attempts=attempts)
        self._http = httpx.AsyncClient(timeout=timeout)
        self._client = AsyncElevenLabs(
            api_key=api_key, base_url=base_url, httpx_client=self._http, timeout=timeout
        )

    async def align(self, audio_path: Path, script: Script, language: str) -> list[WordTiming]:
        if not script_words(script):
            return []
        text = script.narration
        if len(text) > MAX_TEXT_CHARS:
            raise ProviderError(f"the text has {len(text)} characters", provider=PROVIDER)
        audio = await asyncio.to_thread(audio_path.read_bytes)
        if len(audio) > MAX_AUDIO_BYTES:
            raise ProviderError(
                f"{audio_path.name} is {len(audio)} bytes; the limit is {MAX_AUDIO_BYTES}",
                provider=PROVIDER,
            )
        began = time.perf_counter()
        try:
            response: Any = await self._client.forced_alignment.create(
                file=(audio_path.name, audio, "audio/wav"),
                text=text,
                request_options={"max_retries": 0},
            )
        except (ApiError, ParsingError, httpx.HTTPError, TypeError, ValueError) as exc:
            raise provider_error(exc) from exc
        aligned = _words(response)
        logger.info(
            "elevenlabs aligned %d words (%s) in %.2f s",
            len(aligned),
            language,
            time.perf_counter() - began,
        )
        return match_recognised(script, aligned, duration=wav_duration(audio))

    async def aclose(self) -> None:
        await self._http.aclose()


def _field(item: object, name: str) -> object:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _words(response: object) -> list[tuple[str, float, float]]:
    """The answer's words as ``(text, start, end)``, whitespace entries left out."""
    words = _field(response, "words")
    if not isinstance(words, list):
        raise ProviderError("malformed response: no words", provider=PROVIDER)
    aligned: list[tuple[str, float, float]] = []
    for item in words:
        text, start, end = _field(item, "text"), _field(item, "start"), _field(item, "end")
        if not isinstance(text, str) or not _number(start) or not _number(end):
            raise ProviderError("malformed response: unreadable word", provider=PROVIDER)
        if text.strip():
            aligned.append((text, float(start), float(end)))  # type: ignore[arg-type]
    if not aligned:
        raise ProviderError("malformed response: no words", provider=PROVIDER)
    return aligned


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
