"""GeminiSpeech: the narration read by a Gemini TTS prebuilt voice, saved as voice.wav.

Gemini TTS gives no word timings (``words`` stays empty; an Aligner fills it) and no pause cue, so
scenes are simply separated by blank lines. Audio arrives as raw PCM with a mime type such as
``audio/L16;codec=pcm;rate=24000``: despite the name L16 (network byte order in RFC 2586) the
bytes are little-endian, which is what Google's own samples write straight into a WAV file.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
import wave
from pathlib import Path

from google.genai import types

from ... import catalog
from ...errors import ProviderError
from ...models import Script, VoiceChoice, Voiceover
from ._client import PROVIDER, GeminiAdapter, finish_reason, first_parts

logger = logging.getLogger(__name__)

DEFAULT_RATE = 24_000
# A voice chosen for another engine falls back to the default.
VOICES = frozenset(catalog.GEMINI_VOICES)


class GeminiSpeech(GeminiAdapter):
    """SpeechSynth adapter for Gemini TTS."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None,
        timeout: float,
        attempts: int,
        model: str = catalog.GEMINI_TTS_MODEL,
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout, attempts=attempts)
        self.model = model

    async def synthesize(self, script: Script, voice: VoiceChoice, out_dir: Path) -> Voiceover:
        text = "\n\n".join(s.narration.strip() for s in script.scenes if s.narration.strip())
        if not text:
            raise ProviderError("the script has no narration to speak", provider=PROVIDER)
        name = voice_name(voice)
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=name)
                )
            ),
        )
        began = time.perf_counter()
        response = await self._generate(self.model, text, config)
        mime, audio = _audio(response)
        path = out_dir / "voice.wav"
        rate, frames = await asyncio.to_thread(write_wav, path, mime, audio)
        duration = frames / rate
        logger.info(
            "gemini voice %s spoke %.1f s of audio in %.1f s",
            name,
            duration,
            time.perf_counter() - began,
        )
        return Voiceover(
            audio_path=path, duration=duration, words=[], provider=PROVIDER, sample_rate=rate
        )


def voice_name(voice: VoiceChoice) -> str:
    if voice.voice and voice.voice in VOICES:
        return voice.voice
    if voice.voice:
        logger.info("gemini has no voice %r; using %s", voice.voice, catalog.GEMINI_DEFAULT_VOICE)
    return catalog.GEMINI_DEFAULT_VOICE


def _audio(response: types.GenerateContentResponse) -> tuple[str, bytes]:
    """The first candidate's audio: its parts concatenated, with the first part's mime type."""
    mime, chunks = "", []
    for part in first_parts(response):
        blob = part.inline_data
        if blob is not None and blob.data and (blob.mime_type or "").startswith("audio/"):
            mime = mime or (blob.mime_type or "")
            chunks.append(blob.data)
    if not chunks:
        raise ProviderError(
            f"the answer has no audio (finish reason {finish_reason(response)})",
            provider=PROVIDER,
        )
    return mime, b"".join(chunks)


def mime_params(mime: str) -> tuple[str, dict[str, str]]:
    """``audio/L16;codec=pcm;rate=24000`` -> (``audio/l16``, {"codec": "pcm", "rate": "24000"})."""
    kind, *params = (piece.strip() for piece in mime.split(";"))
    pairs = (param.partition("=") for param in params if "=" in param)
    return kind.lower(), {key.strip().lower(): value.strip() for key, _, value in pairs}


def write_wav(path: Path, mime: str, audio: bytes) -> tuple[int, int]:
    """Writes ``audio`` to ``path`` as a WAV file; returns (sample rate, frames)."""
    kind, params = mime_params(mime)
    partial = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    if audio[:4] == b"RIFF" or kind in {"audio/wav", "audio/x-wav", "audio/wave"}:
        try:
            with wave.open(io.BytesIO(audio), "rb") as wav:
                rate, frames = wav.getframerate(), wav.getnframes()
        except (wave.Error, EOFError) as exc:
            raise ProviderError(f"the WAV audio is broken: {exc}", provider=PROVIDER) from None
        partial.write_bytes(audio)
    elif kind in {"audio/l16", "audio/pcm"} or params.get("codec") == "pcm":
        try:
            rate = int(params.get("rate", DEFAULT_RATE))
            channels = int(params.get("channels", 1))
        except ValueError:
            raise ProviderError(f"unreadable audio type {mime!r}", provider=PROVIDER) from None
        if rate <= 0 or channels <= 0:
            raise ProviderError(f"unreadable audio type {mime!r}", provider=PROVIDER)
        frame_size = 2 * channels
        audio = audio[: len(audio) - len(audio) % frame_size]
        frames = len(audio) // frame_size
        with wave.open(str(partial), "wb") as wav:
            wav.setnchannels(channels)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(audio)
    else:
        raise ProviderError(f"unexpected audio type {mime!r}", provider=PROVIDER)
    if frames == 0:
        partial.unlink(missing_ok=True)
        raise ProviderError("the answer's audio is empty", provider=PROVIDER)
    # A job resumed after a crash must never find a half-written voice.wav.
    partial.replace(path)
    return rate, frames
