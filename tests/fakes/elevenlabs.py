"""A fake ElevenLabs API on 127.0.0.1, speaking the wire format the ``elevenlabs`` SDK expects.

Usage::

    async with FakeElevenLabs(latency=0.0) as fake:
        client = AsyncElevenLabs(api_key="test", base_url=fake.base_url)
        fake.enqueue(status(500), ok())  # or fake.push("tts", ...)
        ...
        assert fake.requests[0].json["text"] == script.narration

Routes (both need an ``xi-api-key`` header, else 401):

- ``POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000``
  (route ``"tts"``): ``{audio_base64, alignment, normalized_alignment}``. ``alignment`` times
  every character of ``text`` (letters ``seconds_per_char``, pauses after punctuation and at
  ``\\n``), and the audio is a tone of exactly the alignment's length plus a short tail, in the
  requested ``pcm_<rate>`` (raw s16le mono) or ``wav_<rate>``; other formats answer 400.
  ``fake.spoken`` holds each answer's duration in seconds. ``language_code`` is accepted; with
  ``strict_language_code=True`` it is refused (400 ``unsupported_language``) for
  ``eleven_multilingual_v2``, as one report says the service does (others: ignored).

- ``POST /v1/forced-alignment`` (route ``"alignment"``): multipart ``file`` (a WAV; anything
  else answers 400) and ``text`` (missing: 422). Answers ``{characters, words, loss}``: the
  words of ``text`` spread over the WAV's duration, with ``" "`` entries between them as the
  service sends. ``malformed()`` cuts the JSON off; ``bad_schema()`` leaves out ``words``.

- ``POST /v1/music?output_format=mp3_44100_128`` (route ``"music"``), JSON ``{prompt,
  music_length_ms, model_id, force_instrumental, ...}``: the song's bytes (``audio/mpeg``), a
  two-note chord exactly ``music_length_ms`` long. As the API: 422 for a length outside
  3000..600000 ms or no prompt, 400 ``bad_prompt`` (with a ``prompt_suggestion``) for a prompt
  naming an artist (``ARTISTS``).
- ``POST /v1/sound-generation?output_format=mp3_44100_128`` (route ``"sfx"``), JSON ``{text,
  duration_seconds, prompt_influence, model_id, loop}``: a noise burst of that duration, 422 for
  a duration outside 0.5..30 s or empty text.
  Both encode MP3 with the imageio ffmpeg (``mp3_*``) or answer ``pcm_*``; others answer 400.

- Dubbing (``fake.dubbing``, routes ``"dub_create"``, ``"dub_status"``, ``"dub_audio"``):
  create, poll through ``dubbing`` to ``dubbed`` (or ``failed``, or never), download the
  dubbed MP3 per language; see ``tests.fakes.elevenlabs_dubbing``.

Behaviours are the ones of ``tests.fakes.groq`` (re-exported here), with these meanings:
``ok(body=...)`` replaces the answer; ``status(code, retry_after=...)`` answers
``{"detail": {"status": ..., "message": ...}}``; ``hang()`` never answers; ``malformed()``
a 200 whose body is cut off mid-JSON (music, sfx: a 200 ``audio/mpeg`` body that is not
audio); ``bad_schema()`` an alignment whose three lists differ in length. ``latency``
seconds pass before every answer; ``requests`` records every request.
"""

from __future__ import annotations

import array
import asyncio
import base64
import io
import math
import subprocess
import wave
from typing import Any

import imageio_ffmpeg
from aiohttp import BodyPartReader, web

from .elevenlabs_dubbing import FakeDubbing
from .groq import Behaviour, FakeServer, Recorded, bad_schema, hang, malformed, ok, spread, status

__all__ = [
    "Behaviour",
    "FakeElevenLabs",
    "Recorded",
    "bad_schema",
    "hang",
    "malformed",
    "ok",
    "status",
]

_PAUSES = {",": 0.12, ";": 0.15, ":": 0.15, ".": 0.25, "!": 0.25, "?": 0.25, "\n": 0.2}
_TAIL = 0.15
_ERROR_STATUS = {401: "invalid_api_key", 429: "too_many_concurrent_requests", 500: "internal"}
# Naming one of these is what the real Music API refuses as a "bad_prompt".
ARTISTS = ("hans zimmer", "taylor swift", "beyonce")
MUSIC_TONES = (220.0, 277.18)  # A3 and C#4: the fake song


class FakeElevenLabs(FakeServer):
    def __init__(
        self,
        *,
        latency: float = 0.0,
        seconds_per_char: float = 0.06,
        strict_language_code: bool = False,
    ) -> None:
        super().__init__(latency=latency)
        self.seconds_per_char = seconds_per_char
        self.strict_language_code = strict_language_code
        self.spoken: list[float] = []
        self.app.router.add_post("/v1/text-to-speech/{voice_id}/with-timestamps", self._tts)
        self.app.router.add_post("/v1/forced-alignment", self._forced_alignment)
        self.app.router.add_post("/v1/music", self._music)
        self.app.router.add_post("/v1/sound-generation", self._sfx)
        self._encoded: dict[tuple[str, float, str], bytes] = {}
        # Dubbing (routes "dub_create", "dub_status", "dub_audio"): see .elevenlabs_dubbing.
        self.dubbing = FakeDubbing(self)

    def _error(self, code: int, message: str, retry: Behaviour | None = None) -> web.Response:
        detail = {"status": _ERROR_STATUS.get(code, f"http_{code}"), "message": message}
        headers = self.retry_headers(retry) if retry else None
        return self.respond({"detail": detail}, code=code, headers=headers)

    async def _tts(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.record("tts", request, json=payload)
        behaviour = await self.next_behaviour("tts")
        if not request.headers.get("xi-api-key"):
            return self._error(401, "Invalid API key")
        if behaviour.kind == "status":
            return self._error(behaviour.code, f"fake status {behaviour.code}", behaviour)
        if behaviour.kind == "malformed":
            return self.respond('{"audio_base64": "AAAA", "alignment": {"characters": ["O"')
        if behaviour.body is not None:
            return self.respond(behaviour.body)
        output_format = request.query.get("output_format", "mp3_44100_128")
        codec, _, rate_text = output_format.partition("_")
        if codec not in {"pcm", "wav"} or not rate_text.isdigit():
            return self._error(400, f"the fake speaks pcm_* and wav_* only, not {output_format}")
        text = str(payload.get("text", ""))
        if not text.strip():
            return self._error(400, "text must not be empty")
        if refused := self._language_refused(payload):
            return refused
        alignment = self._align(text)
        duration = (alignment["character_end_times_seconds"] or [0.0])[-1] + _TAIL
        self.spoken.append(duration)
        audio = _tone(duration, int(rate_text), wav=codec == "wav")
        if behaviour.kind == "bad_schema":
            alignment["character_start_times_seconds"] = alignment["character_start_times_seconds"][
                :-3
            ]
        body = {
            "audio_base64": base64.b64encode(audio).decode(),
            "alignment": alignment,
            "normalized_alignment": alignment,
        }
        return self.respond(body)

    async def _forced_alignment(self, request: web.Request) -> web.Response:
        form: dict[str, list[str]] = {}
        upload: tuple[str, bytes] | None = None
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            data = bytes(await part.read())
            if part.filename:
                upload = (part.filename, data)
            else:
                form.setdefault(part.name or "", []).append(data.decode())
        self.record("alignment", request, form=form, file=upload)
        behaviour = await self.next_behaviour("alignment")
        if not request.headers.get("xi-api-key"):
            return self._error(401, "Invalid API key")
        if behaviour.kind == "status":
            return self._error(behaviour.code, f"fake status {behaviour.code}", behaviour)
        if behaviour.kind == "malformed":
            return self.respond('{"characters": [{"text": "O", "start": 0.0, "end"')
        if behaviour.body is not None:
            return self.respond(behaviour.body)
        text = (form.get("text") or [""])[0]
        if upload is None or not text.strip():
            detail = [{"loc": ["body", "file" if upload is None else "text"], "msg": "required"}]
            return self.respond({"detail": detail}, code=422)
        try:
            with wave.open(io.BytesIO(upload[1])) as reader:
                duration = reader.getnframes() / reader.getframerate()
        except (wave.Error, EOFError):
            return self._error(400, "could not read the audio file")
        body = _forced_alignment(text, duration)
        if behaviour.kind == "bad_schema":
            del body["words"]
        return self.respond(body)

    def _language_refused(self, payload: dict[str, Any]) -> web.Response | None:
        """The service ignores ``language_code`` on multilingual v2, or (one report) answers
        400; ``strict_language_code`` picks the second."""
        model, code = payload.get("model_id"), payload.get("language_code")
        if code is None or model != "eleven_multilingual_v2" or not self.strict_language_code:
            return None
        detail = {
            "code": "invalid_parameters",
            "status": "unsupported_language",
            "message": f"Model '{model}' does not support language_code '{code}'.",
            "param": "language_code",
        }
        return self.respond({"detail": detail}, code=400)

    async def _audio_request(self, route: str, request: web.Request) -> tuple[Any, Behaviour]:
        payload = await request.json()
        self.record(route, request, json=payload)
        return payload, await self.next_behaviour(route)

    def _early_answer(self, request: web.Request, behaviour: Behaviour) -> web.Response | None:
        """The answer shared by the audio routes before the work: auth, behaviours, format."""
        if not request.headers.get("xi-api-key"):
            return self._error(401, "Invalid API key")
        if behaviour.kind == "status":
            return self._error(behaviour.code, f"fake status {behaviour.code}", behaviour)
        if behaviour.kind == "malformed":
            return web.Response(body=b'{"detail": "not audio"' * 40, content_type="audio/mpeg")
        output_format = request.query.get("output_format", "mp3_44100_128")
        if output_format.partition("_")[0] not in {"mp3", "pcm"}:
            return self._error(400, f"the fake encodes mp3_* and pcm_* only, not {output_format}")
        return None

    async def _music(self, request: web.Request) -> web.Response:
        payload, behaviour = await self._audio_request("music", request)
        if (early := self._early_answer(request, behaviour)) is not None:
            return early
        prompt, length = payload.get("prompt"), payload.get("music_length_ms")
        if not isinstance(prompt, str) or not prompt.strip():
            return self._validation("prompt", "a prompt or a composition plan is required")
        if not isinstance(length, int) or not 3000 <= length <= 600_000:
            return self._validation("music_length_ms", "must be between 3000 and 600000")
        if any(artist in prompt.lower() for artist in ARTISTS):
            detail = {
                "status": "bad_prompt",
                "message": "Your prompt appears to have violated our Terms of Service. Please "
                "try again with a different prompt.",
                "data": {"prompt_suggestion": "A cinematic orchestral piece with soft strings"},
            }
            return self.respond({"detail": detail}, code=400)
        audio = await self._encode("music", length / 1000, request.query)
        return web.Response(body=audio, content_type="audio/mpeg")

    async def _sfx(self, request: web.Request) -> web.Response:
        payload, behaviour = await self._audio_request("sfx", request)
        if (early := self._early_answer(request, behaviour)) is not None:
            return early
        text, seconds = payload.get("text"), payload.get("duration_seconds")
        if not isinstance(text, str) or not text.strip():
            return self._validation("text", "text must not be empty")
        if seconds is None:
            seconds = 2.0  # the model picks
        if not isinstance(seconds, int | float) or not 0.5 <= seconds <= 30:
            return self._validation("duration_seconds", "must be between 0.5 and 30")
        audio = await self._encode("sfx", float(seconds), request.query)
        return web.Response(body=audio, content_type="audio/mpeg")

    def _validation(self, field: str, message: str) -> web.Response:
        body = {"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]}
        return self.respond(body, code=422)

    async def _encode(self, kind: str, seconds: float, query: Any) -> bytes:
        output_format = query.get("output_format", "mp3_44100_128")
        key = (kind, round(seconds, 3), output_format)
        if key not in self._encoded:
            self._encoded[key] = await asyncio.to_thread(_encode, kind, seconds, output_format)
        return self._encoded[key]

    def _align(self, text: str) -> dict[str, Any]:
        starts, ends = [], []
        cursor = 0.05
        for char in text:
            length = _PAUSES.get(char, self.seconds_per_char if not char.isspace() else 0.03)
            starts.append(round(cursor, 3))
            cursor += length
            ends.append(round(cursor, 3))
        return {
            "characters": list(text),
            "character_start_times_seconds": starts,
            "character_end_times_seconds": ends,
        }


def _tone(duration: float, rate: int, *, wav: bool) -> bytes:
    """A 220 Hz tone, built from one period repeated, so any length costs next to nothing."""
    frames = round(duration * rate)
    period = array.array(
        "h", (round(8000 * math.sin(2 * math.pi * i * 220 / rate)) for i in range(rate // 220))
    )
    repeats = frames // len(period) + 1
    pcm = (period.tobytes() * repeats)[: frames * 2]
    if not wav:
        return pcm
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return buffer.getvalue()


def _forced_alignment(text: str, duration: float) -> dict[str, Any]:
    """Words of ``text`` spread over the audio, a ``" "`` entry between each two (as the service
    answers), and every character of each word timed within it."""
    timed = spread(text.split(), duration)
    words: list[dict[str, Any]] = []
    characters: list[dict[str, Any]] = []
    for index, word in enumerate(timed):
        if index:
            gap = {"text": " ", "start": timed[index - 1]["end"], "end": word["start"]}
            words.append({**gap, "loss": 0.0})
            characters.append(gap)
        start, end, letters = word["start"], word["end"], word["word"]
        step = (end - start) / len(letters)
        characters.extend(
            {
                "text": c,
                "start": round(start + k * step, 3),
                "end": round(start + (k + 1) * step, 3),
            }
            for k, c in enumerate(letters)
        )
        words.append({"text": letters, "start": start, "end": end, "loss": 0.12})
    return {"characters": characters, "words": words, "loss": 0.12}


def _encode(kind: str, seconds: float, output_format: str) -> bytes:
    """The answer's audio, made by ffmpeg: a chord (music) or a decaying noise burst (sfx)."""
    codec, _, rest = output_format.partition("_")
    rate = rest.partition("_")[0] or "44100"
    if kind == "music":
        tones = "+".join(f"0.3*sin(2*PI*{f}*t)" for f in MUSIC_TONES)
        source = f"aevalsrc={tones}:s={rate}:d={seconds:.3f}"
    else:
        source = f"anoisesrc=d={seconds:.3f}:c=pink:r={rate}:a=0.5,afade=t=out:d={seconds:.3f}"
    out = ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"]
    if codec == "pcm":
        out = ["-f", "s16le"]
    run = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", source, "-ac", "1"]
        + [*out, "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return run.stdout
