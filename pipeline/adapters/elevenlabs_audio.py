"""ElevenLabs Music and Sound Effects: an instrumental bed and short effects, as MP3 files.

``music.compose`` (``POST /v1/music``) and ``text_to_sound_effects.convert``
(``POST /v1/sound-generation``) both answer with the audio bytes, streamed; the SDK raises
for an error status only once the stream is read, so the whole read is inside the error
translation. As in :mod:`pipeline.adapters.elevenlabs`, the SDK's own retries are switched
off (the policy retries) and the client gets an httpx client this adapter closes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.parse_error import ParsingError

from ..errors import ProviderError
from ..files import atomic_write
from ..resilience import Policy
from .elevenlabs import PROVIDER, provider_error

logger = logging.getLogger(__name__)

OUTPUT_FORMAT = "mp3_44100_128"  # every plan may ask for it
MUSIC_MODEL = "music_v1"
SFX_MODEL = "eleven_text_to_sound_v2"
MUSIC_MIN_MS, MUSIC_MAX_MS = 3_000, 600_000
SFX_MIN_S, SFX_MAX_S = 0.5, 30.0
# Shorter than any real answer (a 0.5 s MP3 is ~8 kB): an empty or cut-off body.
_MIN_AUDIO_BYTES = 256


class ElevenLabsSounds:
    """SoundMaker: ElevenLabs Music for the bed, Sound Effects for the cues."""

    name = PROVIDER

    def __init__(
        self, api_key: str, *, base_url: str | None = None, timeout: float = 60.0, attempts: int = 3
    ) -> None:
        self.policy = Policy(PROVIDER, timeout=timeout, attempts=attempts)
        self._http = httpx.AsyncClient(timeout=timeout)
        self._client = AsyncElevenLabs(
            api_key=api_key, base_url=base_url, httpx_client=self._http, timeout=timeout
        )

    def music_prompt(self, mood: str, seed: int) -> str:
        # No script text goes in: a name in a title reads as an artist, which the API refuses.
        return (
            f"Instrumental background music for a short factual video, {MOODS.get(mood, mood)}. "
            "Soft and steady, no vocals, no sudden changes, mixed to sit under a narrator."
        )

    async def music(self, prompt: str, *, mood: str, seed: int, seconds: float, out: Path) -> Path:
        length = min(max(round(seconds * 1000), MUSIC_MIN_MS), MUSIC_MAX_MS)
        stream = self._client.music.compose(
            prompt=prompt,
            music_length_ms=length,
            model_id=MUSIC_MODEL,
            force_instrumental=True,
            output_format=OUTPUT_FORMAT,
            request_options={"max_retries": 0},
        )
        return await self._save(stream, out.with_suffix(".mp3"), f"{length} ms of music")

    async def effect(self, prompt: str, *, seconds: float, out: Path) -> Path:
        stream = self._client.text_to_sound_effects.convert(
            text=prompt,
            duration_seconds=min(max(seconds, SFX_MIN_S), SFX_MAX_S),
            prompt_influence=0.5,
            model_id=SFX_MODEL,
            output_format=OUTPUT_FORMAT,
            request_options={"max_retries": 0},
        )
        return await self._save(stream, out.with_suffix(".mp3"), f"effect {prompt!r}")

    async def _save(self, stream: AsyncIterator[bytes], path: Path, what: str) -> Path:
        began = time.perf_counter()
        try:
            audio = b"".join([chunk async for chunk in stream])
        except (ApiError, ParsingError, httpx.HTTPError, TypeError, ValueError) as exc:
            raise provider_error(exc) from exc
        if len(audio) < _MIN_AUDIO_BYTES:
            # Whether the bytes are audio at all, the stage's ffmpeg run decides.
            raise ProviderError("malformed response: no audio", provider=PROVIDER)
        atomic_write(path, audio)
        logger.info(
            "elevenlabs: %s, %d kB in %.2f s", what, len(audio) // 1024, time.perf_counter() - began
        )
        return path

    async def aclose(self) -> None:
        await self._http.aclose()


MOODS = {
    "uplifting": "bright and uplifting, light acoustic and piano",
    "curious": "curious and warm, light piano and plucked strings",
    "calm": "calm and gentle, soft pads and piano",
    "serious": "serious and thoughtful, low strings and soft piano",
}
