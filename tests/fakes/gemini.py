"""A fake Gemini API (generativelanguage.googleapis.com REST) on 127.0.0.1, for the real SDK.

    async with FakeGemini(latency={"text": 4.0}) as fake:  # or latency=0.5 for every kind
        writer = GeminiScriptWriter("k", base_url=fake.base_url, timeout=5, attempts=2)
        fake.push("text", status(429, retry_after=1))    # FIFO per kind; then ok()
        ...
        fake.requests   # every request in arrival order: Recorded(kind, model, path, body)
        fake.of("tts")  # only one kind's; Recorded.prompt / .grounded / .wants_json help asserts

``fake.latency`` (seconds before each answer, per kind) may be changed at any time.

``GET /{version}/models`` lists ``fake.models`` (paged); generateContent on another id answers
404 NOT_FOUND like the real API.

Route: ``POST /{version}/models/{model}:generateContent`` (google-genai 3.4 sends ``v1``; any
version is served). A request's kind comes from ``generationConfig.responseModalities``:
``AUDIO`` -> "tts", ``IMAGE`` -> "image", otherwise "text". Each kind has a FIFO of behaviours;
an empty queue answers ``ok()``. Answers are camelCase JSON like the real API's. (Requests are
recorded as sent: the SDK passes speechConfig's inner keys through in snake_case.)

Behaviours:
    ok(text=None, sources=None, rate=24000)
        text: the model's text is ``text`` if given; else, when the request asks for JSON, a
        valid ScriptDraft for the topic, language and length found in the prompt, written in
        that language (see ``draft`` and ``tests.fakes.scripts``), otherwise research notes.
        Requests with the googleSearch tool get groundingMetadata with ``sources`` (default:
        two URLs, the first repeated; ``[]``: no groundingMetadata, as when the model did not
        search).
        tts: a quiet 440 Hz tone, mono s16le, ~2.5 words a second of the prompt, mime
        ``audio/L16;codec=pcm;rate=<rate>``.  image: a 72x128 PNG.
        ``draft(topic, language=, seconds=)`` returns the default ScriptDraft as a dict.
    status(code, message=None, retry_after=None)
        Google's error body ``{"error": {code, message, status, details}}``; with
        ``retry_after`` also a Retry-After header and a google.rpc.RetryInfo detail.
    hang()        never answers (until the fake closes).
    malformed()   HTTP 200 whose body is not JSON.
    bad_schema()  text: JSON that breaks ScriptDraft; tts: a text part and no audio;
                  image: an inlineData part whose bytes are not an image.

Moderation (kind "moderation": a request with ``safetySettings``, see
``pipeline.adapters.gemini.moderation``) answers "OK" by default; also
    blocked(reason="PROHIBITED_CONTENT", ratings=())   HTTP 200, ``promptFeedback.blockReason``
                  and no candidates; ``ratings`` are (category, probability) pairs, blocked.
    unsafe_finish(reason="SAFETY", ratings=())   a candidate with that ``finishReason`` and
                  no content.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import re
import struct
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from PIL import Image

from pipeline.scriptwriting import WORDS_PER_SECOND, scene_count

from .scripts import octopus, translation_asked

Kind = Literal["text", "tts", "image", "moderation"]
KINDS: tuple[Kind, ...] = ("text", "tts", "image", "moderation")
DEFAULT_SOURCES = (
    "https://en.wikipedia.org/wiki/Octopus",
    "https://www.britannica.com/animal/octopus-mollusk",
    "https://en.wikipedia.org/wiki/Octopus",
)
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


@dataclass(frozen=True, slots=True)
class Behaviour:
    action: str
    code: int = 200
    message: str | None = None
    retry_after: float | None = None
    text: str | None = None
    sources: tuple[str, ...] | None = None
    rate: int = 24_000
    ratings: tuple[tuple[str, str], ...] = ()


def blocked(
    reason: str = "PROHIBITED_CONTENT", ratings: tuple[tuple[str, str], ...] = ()
) -> Behaviour:
    return Behaviour("blocked", message=reason, ratings=ratings)


def unsafe_finish(reason: str = "SAFETY", ratings: tuple[tuple[str, str], ...] = ()) -> Behaviour:
    return Behaviour("unsafe_finish", message=reason, ratings=ratings)


def ok(
    *, text: str | None = None, sources: list[str] | None = None, rate: int = 24_000
) -> Behaviour:
    return Behaviour(
        "ok", text=text, sources=tuple(sources) if sources is not None else None, rate=rate
    )


def status(code: int, *, message: str | None = None, retry_after: float | None = None) -> Behaviour:
    return Behaviour("status", code=code, message=message, retry_after=retry_after)


def hang() -> Behaviour:
    return Behaviour("hang")


def malformed() -> Behaviour:
    return Behaviour("malformed")


def bad_schema() -> Behaviour:
    return Behaviour("bad_schema")


@dataclass(frozen=True, slots=True)
class Recorded:
    kind: Kind
    model: str
    path: str
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        return "".join(
            part.get("text", "")
            for content in self.body.get("contents", [])
            for part in content.get("parts", [])
        )

    @property
    def grounded(self) -> bool:
        return any("googleSearch" in tool for tool in self.body.get("tools", []))

    @property
    def wants_json(self) -> bool:
        return self.body.get("generationConfig", {}).get("responseMimeType") == "application/json"


def draft(topic: str, *, language: str = "en", seconds: int = 60) -> dict[str, Any]:
    """The ScriptDraft the fake writes by default: passes scriptwriting.validate(). Scenes are
    the sentences of ``tests.fakes.scripts.octopus(language)`` in turn (repeated when more scenes
    are asked for), each cut to the words a scene may have at this length."""
    scenes = scene_count(seconds)
    words = max(4, int(seconds * WORDS_PER_SECOND / scenes))
    sentences = octopus(language)
    narrations = [" ".join(sentences[i % len(sentences)].split()[:words]) for i in range(scenes)]
    return {
        "title": f"{topic[:60]}",
        "language": language,
        "hook": narrations[0],
        "scenes": [
            {
                "narration": narration,
                "visual_query": f"{topic[:40]} {i + 1}",
                "image_prompt": f"A cinematic picture of {topic[:60]}, part {i + 1}",
            }
            for i, narration in enumerate(narrations)
        ],
        "hashtags": ["facts", "shorts", "science"],
        "description": f"{topic[:80]}.",
        "style_bible": "Soft watercolour, muted teal and amber palette, warm morning light.",
    }


# What ``GET /{version}/models`` lists (``fake.models``); generateContent on any other id
# answers 404 NOT_FOUND, as the Gemini API does for a model it retired or never had.
MODELS = (
    "gemini-3-flash-preview",
    "gemini-3-pro-preview",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
    "gemini-2.5-flash-preview-tts",
    "gemini-2.5-flash-image",
)


class FakeGemini:
    def __init__(self, *, latency: float | Mapping[str, float] = 0.0) -> None:
        self.models = list(MODELS)
        self.listed = 0  # GET /models requests served
        self.latency = (
            dict(latency) if isinstance(latency, Mapping) else dict.fromkeys(KINDS, latency)
        )
        self.requests: list[Recorded] = []
        self._queues: dict[str, deque[Behaviour]] = {kind: deque() for kind in KINDS}
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def push(self, kind: Kind, *behaviours: Behaviour) -> None:
        self._queues[kind].extend(behaviours)

    def of(self, kind: Kind) -> list[Recorded]:
        return [r for r in self.requests if r.kind == kind]

    async def __aenter__(self) -> FakeGemini:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{version}/models/{model:[^/:]+}:generateContent", self._handle)
        app.router.add_get("/{version}/models", self._list)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _list(self, request: web.Request) -> web.Response:
        """One page of ``pageSize`` models (``pageToken`` is the next index)."""
        self.listed += 1
        size = int(request.query.get("pageSize", "50"))
        start = int(request.query.get("pageToken") or 0)
        page = self.models[start : start + size]
        body: dict[str, Any] = {
            "models": [
                {
                    "name": f"models/{model}",
                    "version": "001",
                    "displayName": model,
                    "inputTokenLimit": 1_048_576,
                    "outputTokenLimit": 65_536,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                }
                for model in page
            ]
        }
        if start + size < len(self.models):
            body["nextPageToken"] = str(start + size)
        return web.json_response(body)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        kind = _kind(body)
        recorded = Recorded(kind, request.match_info["model"], request.path, body)
        self.requests.append(recorded)
        if recorded.model not in self.models:
            version = request.match_info["version"]
            message = (
                f"models/{recorded.model} is not found for API version {version}, or is not "
                "supported for generateContent. Call ListModels to see the list of available "
                "models and their supported methods."
            )
            return _error(Behaviour("status", code=404, message=message))
        queue = self._queues[kind]
        behaviour = queue.popleft() if queue else ok()
        if behaviour.action == "hang" or self.latency.get(kind, 0.0) > 0:
            wait = None if behaviour.action == "hang" else self.latency[kind]
            try:
                await asyncio.wait_for(self._closing.wait(), wait)
                return web.json_response({"error": {"code": 503, "message": "closing"}}, status=503)
            except TimeoutError:
                pass
        if behaviour.action == "status":
            return _error(behaviour)
        if behaviour.action == "malformed":
            return web.Response(
                text='{"candidates": [{"content": ', content_type="application/json"
            )
        ratings = [
            {"category": category, "probability": probability, "blocked": True}
            for category, probability in behaviour.ratings
        ]
        usage = {"promptTokenCount": 13, "totalTokenCount": 13}
        if behaviour.action == "blocked":
            feedback = {"blockReason": behaviour.message, "safetyRatings": ratings}
            return web.json_response({"promptFeedback": feedback, "usageMetadata": usage})
        if behaviour.action == "unsafe_finish":
            unsafe = {"finishReason": behaviour.message, "index": 0, "safetyRatings": ratings}
            return web.json_response({"candidates": [unsafe], "usageMetadata": usage})
        parts = _parts(kind, recorded, behaviour)
        candidate: dict[str, Any] = {
            "content": {"role": "model", "parts": parts},
            "finishReason": "STOP",
            "index": 0,
        }
        if (
            kind == "text"
            and recorded.grounded
            and behaviour.action == "ok"
            and behaviour.sources != ()
        ):
            candidate["groundingMetadata"] = _grounding(recorded, behaviour)
        return web.json_response(
            {
                "candidates": [candidate],
                "usageMetadata": {
                    "promptTokenCount": 120,
                    "candidatesTokenCount": 480,
                    "totalTokenCount": 600,
                },
                "modelVersion": recorded.model,
                "responseId": f"fake-{len(self.requests)}",
            }
        )


def _kind(body: dict[str, Any]) -> Kind:
    if "safetySettings" in body:
        return "moderation"
    modalities = [m.upper() for m in body.get("generationConfig", {}).get("responseModalities", [])]
    return "tts" if "AUDIO" in modalities else "image" if "IMAGE" in modalities else "text"


def _error(behaviour: Behaviour) -> web.Response:
    code = behaviour.code
    error: dict[str, Any] = {
        "code": code,
        "message": behaviour.message or f"fake error {code}",
        "status": _STATUS_NAMES.get(code, "UNKNOWN"),
    }
    headers = {}
    if behaviour.retry_after is not None:
        headers["Retry-After"] = f"{behaviour.retry_after:g}"
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{behaviour.retry_after:g}s",
            }
        ]
    return web.json_response({"error": error}, status=code, headers=headers)


def _parts(kind: Kind, recorded: Recorded, behaviour: Behaviour) -> list[dict[str, Any]]:
    broken = behaviour.action == "bad_schema"
    if kind == "moderation":
        return [{"text": "OK"}]
    if kind == "tts":
        if broken:
            return [{"text": "I can only answer with text."}]
        mime = f"audio/L16;codec=pcm;rate={behaviour.rate}"
        seconds = max(1.0, len(recorded.prompt.split()) / WORDS_PER_SECOND)
        return [_inline(mime, _tone(seconds, behaviour.rate))]
    if kind == "image":
        return [
            _inline(
                "image/png",
                b"\x89PNG\r\n\x1a\n but not really" if broken else _png(len(recorded.prompt)),
            )
        ]
    if broken:
        return [{"text": json.dumps({"title": "Oops", "language": "en", "scenes": "none"})}]
    if behaviour.text is not None:
        return [{"text": behaviour.text}]
    if (translated := translation_asked(recorded.prompt)) is not None:
        return [{"text": translated}]
    topic, language, seconds = _asked(recorded.prompt)
    if recorded.wants_json:
        return [
            {
                "text": json.dumps(
                    draft(topic, language=language, seconds=seconds), ensure_ascii=False
                )
            }
        ]
    return [
        {
            "text": "\n".join(
                f"- Fact {i} about {topic} (source: Encyclopedia)." for i in range(1, 9)
            )
        }
    ]


def _asked(prompt: str) -> tuple[str, str, int]:
    topic = re.search(r"(?:about|video in [^:]+): (.+)", prompt)
    language = re.search(r"Language: [^(\n]*\((\w+)\)", prompt)
    seconds = re.search(r"(\d+)-second", prompt)
    return (
        topic.group(1).strip() if topic else "the topic",
        language.group(1) if language else "en",
        int(seconds.group(1)) if seconds else 60,
    )


def _grounding(recorded: Recorded, behaviour: Behaviour) -> dict[str, Any]:
    sources = DEFAULT_SOURCES if behaviour.sources is None else behaviour.sources
    return {
        "webSearchQueries": [_asked(recorded.prompt)[0]],
        "groundingChunks": [{"web": {"uri": uri, "title": uri.split("/")[2]}} for uri in sources],
        "groundingSupports": [],
    }


def _inline(mime: str, data: bytes) -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode("ascii")}}


def _tone(seconds: float, rate: int) -> bytes:
    # 440 whole cycles a second, so one second of samples repeats without a click.
    second = struct.pack(
        f"<{rate}h", *(round(600 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(rate))
    )
    frames = round(seconds * rate)
    return (second * (frames // rate + 1))[: frames * 2]


def _png(seed: int) -> bytes:
    colour = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    buffer = io.BytesIO()
    Image.new("RGB", (72, 128), colour).save(buffer, "PNG")
    return buffer.getvalue()
