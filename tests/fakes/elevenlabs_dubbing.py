"""The Dubbing endpoints of the fake ElevenLabs API (``FakeElevenLabs.dubbing``), in the wire
format of elevenlabs 2.78 (see ../shared/PROVIDERS.md, "1. ElevenLabs Dubbing"):

- ``POST /v1/dubbing`` (route ``"dub_create"``): multipart ``file`` plus form fields
  (``source_lang``, ``target_lang``, ``num_speakers``, ...). Answers ``{"dubbing_id",
  "expected_duration_sec"}``; 400 ``empty_target_language`` without a target, 422 without a
  file, 400 for a file that is not a WAV (the fake reads its length).
- ``GET /v1/dubbing/{id}`` (route ``"dub_status"``): ``DubbingMetadataResponse``; ``status`` is
  ``dubbing`` for the first ``polls`` polls, then ``dubbed`` (or ``failed`` with an ``error``
  when ``fail`` is set). ``polls=None``: it never finishes. 404 ``dubbing_not_found``.
- ``GET /v1/dubbing/{id}/audio/{lang}`` (route ``"dub_audio"``): the dubbed MP3 (``audio/mpeg``,
  ``stretch`` times the source's length), 425 ``dubbing_not_dubbed`` before it is done, 404
  for a language it was not dubbed into.

Behaviours queued with ``fake.push(route, ...)`` apply as on every other route.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

if TYPE_CHECKING:
    from .elevenlabs import FakeElevenLabs


@dataclass(slots=True)
class Dub:
    dubbing_id: str
    source: str
    target: str
    seconds: float
    polls_left: int | None
    status: str = "dubbing"


class FakeDubbing:
    def __init__(self, fake: FakeElevenLabs) -> None:
        self.fake = fake
        self.polls: int | None = 2
        self.fail = False
        self.stretch = 1.1  # a translation runs a little longer than its original
        self.dubs: dict[str, Dub] = {}
        self._ids = count(1)
        fake.app.router.add_post("/v1/dubbing", self._create)
        fake.app.router.add_get("/v1/dubbing/{dubbing_id}", self._status)
        fake.app.router.add_get("/v1/dubbing/{dubbing_id}/audio/{language}", self._audio)

    async def _create(self, request: web.Request) -> web.Response:
        fake = self.fake
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
        fake.record("dub_create", request, form=form, file=upload)
        behaviour = await fake.next_behaviour("dub_create")
        if (early := self._early(request, behaviour)) is not None:
            return early
        target = (form.get("target_lang") or [""])[0]
        if not target:
            empty = {"status": "empty_target_language", "message": "target_lang is required"}
            return fake.respond({"detail": empty}, code=400)
        if upload is None:
            missing = [{"loc": ["body", "file"], "msg": "file or source_url is required"}]
            return fake.respond({"detail": missing}, code=422)
        try:
            with wave.open(io.BytesIO(upload[1])) as reader:
                seconds = reader.getnframes() / reader.getframerate()
        except (wave.Error, EOFError):
            return fake._error(400, "could not read the media file")
        dubbing_id = f"dub{next(self._ids):017d}"
        source = (form.get("source_lang") or ["auto"])[0]
        self.dubs[dubbing_id] = Dub(dubbing_id, source, target, seconds, self.polls)
        return fake.respond({"dubbing_id": dubbing_id, "expected_duration_sec": seconds})

    async def _status(self, request: web.Request) -> web.Response:
        fake = self.fake
        fake.record("dub_status", request)
        behaviour = await fake.next_behaviour("dub_status")
        if (early := self._early(request, behaviour)) is not None:
            return early
        dub = self.dubs.get(request.match_info["dubbing_id"])
        if dub is None:
            return fake.respond({"detail": _detail("dubbing_not_found")}, code=404)
        if dub.status == "dubbing":
            if dub.polls_left is not None and dub.polls_left <= 0:
                dub.status = "failed" if self.fail else "dubbed"
            elif dub.polls_left is not None:
                dub.polls_left -= 1
        body: dict[str, Any] = {
            "dubbing_id": dub.dubbing_id,
            "name": "reel narration",
            "status": dub.status,
            "source_language": dub.source,
            "target_languages": [dub.target],
            "editable": False,
            "created_at": datetime.now(UTC).replace(tzinfo=None).isoformat(),
            "media_metadata": {"content_type": "audio/wav", "duration": dub.seconds},
            "error": "The audio could not be transcribed." if dub.status == "failed" else None,
        }
        return fake.respond(body)

    async def _audio(self, request: web.Request) -> web.Response:
        fake = self.fake
        fake.record("dub_audio", request)
        behaviour = await fake.next_behaviour("dub_audio")
        if (early := self._early(request, behaviour)) is not None:
            return early
        dub = self.dubs.get(request.match_info["dubbing_id"])
        if dub is None or request.match_info["language"] != dub.target:
            return fake.respond({"detail": _detail("dubbing_not_found")}, code=404)
        if dub.status != "dubbed":
            body = {"error": "dubbing_not_dubbed", "message": "Dubbing has not finished yet."}
            return fake.respond(body, code=425)
        seconds = round(dub.seconds * self.stretch, 3)
        audio = await fake._encode("music", seconds, {"output_format": "mp3_44100_128"})
        return web.Response(body=audio, content_type="audio/mpeg")

    def _early(self, request: web.Request, behaviour: Any) -> web.Response | None:
        if not request.headers.get("xi-api-key"):
            return self.fake._error(401, "Invalid API key")
        if behaviour.kind == "status":
            return self.fake._error(behaviour.code, f"fake status {behaviour.code}", behaviour)
        if behaviour.kind == "malformed":
            return self.fake.respond('{"dubbing_id": ')
        if behaviour.body is not None:
            return self.fake.respond(behaviour.body)
        return None


def _detail(status: str) -> dict[str, str]:
    return {"status": status, "message": status.replace("_", " ").capitalize() + "."}
