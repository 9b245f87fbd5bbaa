"""ElevenLabs Dubbing: a reel's narration track dubbed into another language, in a voice that
keeps the original's character.

Three calls (elevenlabs 2.78): ``dubbing.create`` (``POST /v1/dubbing``, multipart; answers
``{dubbing_id, expected_duration_sec}``), ``dubbing.get`` polled (``GET /v1/dubbing/{id}``:
``status`` is ``dubbed`` or ``failed`` when done; anything else, ``dubbing`` and the list
filter's ``queued``/``preparing`` too, means still working) until ``timeout`` seconds have
passed, then ``dubbing.audio.get`` (``GET /v1/dubbing/{id}/audio/{lang}``: the dubbed MP3,
streamed; an async generator, so errors come with the first chunk). The MP3 is decoded to
the 24 kHz mono WAV every voice of the pipeline writes.

The source is audio, not video: dubbing audio needs a Creator plan or above, and watermarks
exist only for video, so ``watermark`` is not sent. ``drop_background_audio``: the narration
has no background; the music is mixed under the dub later. SDK behaviours (retries, bare
httpx errors) are handled as ``pipeline.adapters.elevenlabs`` describes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import httpx
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.parse_error import ParsingError

from ..errors import ProviderError, RenderError
from ..files import atomic_write
from ..render import resolve_ffmpeg
from ..render.ffmpeg import run_ffmpeg
from .elevenlabs import PROVIDER, SAMPLE_RATE, provider_error

logger = logging.getLogger(__name__)

NAME = "elevenlabs-dubbing"
DONE, FAILED = "dubbed", "failed"
MAX_AUDIO_BYTES = 1024**3
_NO_RETRIES: Any = {"max_retries": 0}


class ElevenLabsDubber:
    """Dubber. It has no ``policy``: the chain calls it once; it keeps its own deadline
    (``timeout``) over the whole create-poll-download, which a dub can take minutes of."""

    name = NAME

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        request_timeout: float = 60.0,
        timeout: float = 300.0,
        poll_interval: float = 3.0,
        ffmpeg: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.ffmpeg = ffmpeg
        self._http = httpx.AsyncClient(timeout=request_timeout)
        self._client = AsyncElevenLabs(
            api_key=api_key, base_url=base_url, httpx_client=self._http, timeout=request_timeout
        )

    async def dub(self, audio_path: Path, *, source: str, target: str, out_dir: Path) -> Path:
        audio = await asyncio.to_thread(audio_path.read_bytes)
        if len(audio) > MAX_AUDIO_BYTES:
            raise ProviderError(f"{audio_path.name} is {len(audio)} bytes", provider=PROVIDER)
        began = time.perf_counter()
        dubbing_id = await self._create(audio_path.name, audio, source, target)
        status = "dubbing"
        try:
            async with asyncio.timeout(self.timeout):
                status = await self._wait(dubbing_id)
        except TimeoutError:
            raise ProviderError(
                f"dubbing {dubbing_id} did not finish in {self.timeout:g} s (still {status!r})",
                provider=PROVIDER,
            ) from None
        mp3 = out_dir / f"dub-{target}.mp3"
        await self._download(dubbing_id, target, mp3)
        wav = out_dir / f"dub-{target}.wav"
        await self._decode(mp3, wav)
        logger.info(
            "elevenlabs dubbed %s into %s in %.1f s", audio_path.name, target, _since(began)
        )
        return wav

    async def _create(self, name: str, audio: bytes, source: str, target: str) -> str:
        try:
            response: Any = await self._client.dubbing.create(
                file=(name, audio, "audio/wav"),
                name=f"reel narration ({source} to {target})",
                source_lang=source,
                target_lang=target,
                num_speakers=1,
                drop_background_audio=True,
                request_options=_NO_RETRIES,
            )
        except (ApiError, ParsingError, httpx.HTTPError, TypeError, ValueError) as exc:
            raise provider_error(exc) from exc
        dubbing_id = getattr(response, "dubbing_id", None)
        if not isinstance(dubbing_id, str) or not dubbing_id:
            raise ProviderError("malformed response: no dubbing_id", provider=PROVIDER)
        return dubbing_id

    async def _wait(self, dubbing_id: str) -> str:
        while True:
            try:
                meta: Any = await self._client.dubbing.get(dubbing_id, request_options=_NO_RETRIES)
            except (ApiError, ParsingError, httpx.HTTPError, TypeError, ValueError) as exc:
                error = provider_error(exc)
                if not error.retryable:
                    raise error from exc
                logger.info("dubbing %s: poll failed (%s); polling on", dubbing_id, error)
                meta = None
            status = getattr(meta, "status", None) if meta is not None else None
            if status == DONE:
                return status
            if status == FAILED:
                reason = getattr(meta, "error", None) or "no reason given"
                raise ProviderError(f"dubbing {dubbing_id} failed: {reason}", provider=PROVIDER)
            await asyncio.sleep(self.poll_interval)

    async def _download(self, dubbing_id: str, language: str, path: Path) -> None:
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in self._client.dubbing.audio.get(
                dubbing_id, language, request_options=_NO_RETRIES
            ):
                size += len(chunk)
                if size > MAX_AUDIO_BYTES:
                    raise ProviderError("the dubbed audio is too large", provider=PROVIDER)
                chunks.append(chunk)
        except (ApiError, ParsingError, httpx.HTTPError, TypeError, ValueError) as exc:
            raise provider_error(exc) from exc
        if not size:
            raise ProviderError("malformed response: the dubbed audio is empty", provider=PROVIDER)
        data = b"".join(chunks)
        await asyncio.to_thread(atomic_write, path, data)

    async def _decode(self, source: Path, target: Path) -> None:
        args = ["-y", "-i", str(source), "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le"]
        try:
            await run_ffmpeg(
                [*args, str(target)],
                binary=resolve_ffmpeg(self.ffmpeg),
                timeout=120,
                stage="dub",
            )
        except RenderError as exc:
            raise ProviderError(
                f"malformed response: the dubbed audio does not decode ({exc})", provider=PROVIDER
            ) from exc

    async def aclose(self) -> None:
        await self._http.aclose()


def _since(began: float) -> float:
    return time.perf_counter() - began
