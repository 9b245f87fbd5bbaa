"""ElevenLabs: narration with per-character timestamps, turned into the script's word timings.

The voice comes back as raw 16-bit mono PCM (``pcm_24000``): the duration is exact and no
decoder is needed; it is written out as ``voice.wav``.

Things the SDK does that shape this module (elevenlabs 2.78):
- It retries 408/409/429/5xx twice by itself unless each call passes
  ``request_options={"max_retries": 0}``; the client has no switch for it.
- Network failures surface as bare ``httpx`` exceptions, not SDK ones.
- A 200 whose body is not JSON raises ``ApiError`` with ``status_code=200``; a JSON body that
  is not an object raises ``TypeError``; fields are not validated (missing ones are ``None``).
- The client owns an ``httpx.AsyncClient`` it never closes, so this adapter passes its own;
  the client's ``timeout`` (default 240 s) still overrides that one's on every request.
- ``language_code`` (ISO 639-1) fixes the language instead of guessing it from the text, but
  the multilingual v2 model does not take it (ignored, or by one report a 400): it is sent only
  to models that do (``catalog.ELEVENLABS_MODELS``). A language the model does not speak fails
  before any request, so the chain moves on to the next voice.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import re
import tempfile
import time
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from elevenlabs import VoiceSettings
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.parse_error import ParsingError

from .. import catalog
from ..alignment import words_from_characters
from ..errors import InputError, ProviderError
from ..models import Script, VoiceChoice, Voiceover, WordTiming
from ..resilience import Policy, retry_after_seconds
from ..text import script_words

logger = logging.getLogger(__name__)

PROVIDER = "elevenlabs"
OUTPUT_FORMAT = "pcm_24000"
SAMPLE_RATE = 24_000
_RETRYABLE_STATUS = frozenset({408, 425, 429})
# Voice ids are 20 letters and digits ("21m00Tcm4TlvDq8ikWAM").
_VOICE_ID = re.compile(r"[A-Za-z0-9]{20}")
# VoiceChoice.rate is words per minute; this pace is the voices' own speed (1.0).
_BASE_RATE = 165
_SPEED_MIN, _SPEED_MAX = 0.7, 1.2


class ElevenLabsSynth:
    """SpeechSynth: ElevenLabs voices with character timestamps (no aligner needed)."""

    name = PROVIDER

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 60.0,
        attempts: int = 3,
        model: str = catalog.ELEVENLABS_TTS_MODEL,
    ) -> None:
        if model not in catalog.ELEVENLABS_MODELS:
            raise ValueError(f"unknown ElevenLabs model {model!r}")
        self.model = model
        self.policy = Policy(PROVIDER, timeout=timeout, attempts=attempts)
        self._http = httpx.AsyncClient(timeout=timeout)
        # The timeout must be given again: the client sends its own (default 240 s) with
        # every request, overriding the httpx client's.
        self._client = AsyncElevenLabs(
            api_key=api_key, base_url=base_url, httpx_client=self._http, timeout=timeout
        )

    async def synthesize(self, script: Script, voice: VoiceChoice, out_dir: Path) -> Voiceover:
        if not script_words(script):
            raise InputError("the script has no narration to speak")
        began = time.perf_counter()
        # A None the SDK would send as null, overriding the voice's stored settings.
        extra: dict[str, Any] = {}
        if (settings := _settings(voice.rate)) is not None:
            extra["voice_settings"] = settings
        if (code := _language_code(self.model, voice.language)) is not None:
            extra["language_code"] = code
        try:
            response: Any = await self._client.text_to_speech.convert_with_timestamps(
                voice_id=_voice_id(voice.voice),
                text=script.narration,
                model_id=self.model,
                output_format=OUTPUT_FORMAT,
                request_options={"max_retries": 0},
                **extra,
            )
        except (ApiError, ParsingError, httpx.HTTPError, TypeError, ValueError) as exc:
            raise provider_error(exc) from exc
        pcm = _audio(response)
        words = _words(script, getattr(response, "alignment", None))
        path = out_dir / "voice.wav"
        await asyncio.to_thread(_write_wav, path, pcm)
        duration = len(pcm) / 2 / SAMPLE_RATE
        logger.info(
            "elevenlabs spoke %d words, %.1f s of audio in %.2f s",
            len(words),
            duration,
            time.perf_counter() - began,
        )
        return Voiceover(
            audio_path=path,
            duration=duration,
            words=words,
            provider=PROVIDER,
            sample_rate=SAMPLE_RATE,
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def provider_error(exc: Exception) -> ProviderError:
    """Translate an SDK or transport failure: 429/5xx/timeouts/connection retryable."""
    if isinstance(exc, ApiError | ParsingError):
        status = exc.status_code
        if status is None or 200 <= status < 300:
            return ProviderError("malformed response: not the expected JSON", provider=PROVIDER)
        return ProviderError(
            f"HTTP {status}: {_detail(exc.body)}",
            provider=PROVIDER,
            retryable=status in _RETRYABLE_STATUS or status >= 500,
            retry_after=retry_after_seconds(exc.headers or {}),
            status=status,
        )
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError("request timed out", provider=PROVIDER, retryable=True)
    if isinstance(exc, httpx.TransportError):
        return ProviderError(f"connection failed: {exc!r}", provider=PROVIDER, retryable=True)
    return ProviderError(f"malformed response: {type(exc).__name__}", provider=PROVIDER)


def _language_code(model: str, language: str) -> str | None:
    """The ``language_code`` to send, if the model takes one; fails if it cannot speak it."""
    spec = catalog.ELEVENLABS_MODELS[model]
    voices = catalog.VOICES.get(language)
    code = voices.elevenlabs_language_code if voices is not None else language
    if code not in spec.languages:
        raise ProviderError(f"{model} does not speak {language!r}", provider=PROVIDER)
    return code if spec.takes_language_code else None


def _voice_id(chosen: str | None) -> str:
    """The chosen voice if it is an ElevenLabs voice id, else the default voice.

    A voice picked for another engine ("Kore", "en-us") means nothing here, and the id goes
    into the URL path, so anything else is not sent.
    """
    if chosen and _VOICE_ID.fullmatch(chosen):
        return chosen
    if chosen:
        logger.info("elevenlabs: %r is not an ElevenLabs voice id; using the default", chosen)
    return catalog.ELEVENLABS_DEFAULT_VOICE


def _settings(rate: int) -> VoiceSettings | None:
    # Only speed is sent (the SDK drops unset fields), so the voice keeps its stored settings.
    if rate == _BASE_RATE:
        return None
    return VoiceSettings(speed=round(min(max(rate / _BASE_RATE, _SPEED_MIN), _SPEED_MAX), 2))


def _audio(response: object) -> bytes:
    encoded = getattr(response, "audio_base_64", None)
    if not isinstance(encoded, str) or not encoded:
        raise ProviderError("malformed response: no audio", provider=PROVIDER)
    try:
        pcm = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderError("malformed response: audio is not base64", provider=PROVIDER) from exc
    if len(pcm) % 2:
        raise ProviderError("malformed response: odd-length 16-bit PCM", provider=PROVIDER)
    return pcm


def _words(script: Script, alignment: object) -> list[WordTiming]:
    """Word timings from the alignment of the text as sent; none (an aligner then runs) when
    the answer has no alignment at all."""
    if alignment is None:
        logger.warning("elevenlabs: no character alignment in the answer; an aligner must run")
        return []
    characters = getattr(alignment, "characters", None)
    starts = getattr(alignment, "character_start_times_seconds", None)
    ends = getattr(alignment, "character_end_times_seconds", None)
    if not (_strings(characters) and _numbers(starts) and _numbers(ends) and len(characters or ())):
        raise ProviderError("malformed response: unreadable alignment", provider=PROVIDER)
    try:
        return words_from_characters(script, characters, starts, ends)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ProviderError(f"malformed response: {exc}", provider=PROVIDER) from exc


def _strings(value: object) -> bool:
    return isinstance(value, Sequence) and all(isinstance(item, str) for item in value)


def _numbers(value: object) -> bool:
    return isinstance(value, Sequence) and all(
        isinstance(item, int | float) and not isinstance(item, bool) for item in value
    )


def _write_wav(path: Path, pcm: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(SAMPLE_RATE)
            writer.writeframes(pcm)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _detail(body: object) -> str:
    """ElevenLabs errors read ``{"detail": {"status": ..., "message": ...}}`` (or a list)."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("status") or detail
    text = " ".join(str(detail).split())
    return text if len(text) <= 200 else text[:199] + "…"
