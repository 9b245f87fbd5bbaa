"""A fake Groq API on 127.0.0.1, speaking the wire format the real ``groq`` SDK expects.

Usage::

    async with FakeGroq(latency=0.0) as fake:
        client = AsyncGroq(api_key="test", base_url=fake.base_url, max_retries=0)
        fake.enqueue(status(429, retry_after=1), ok())  # then: ok for every other request
        ...
        assert [r.route for r in fake.requests] == ["chat", "chat"]

Routes (both need ``Authorization: Bearer <anything>``, else 401):

- ``POST /openai/v1/chat/completions`` (route ``"chat"``): a ``chat.completion``. By default
  its message is a valid ``ScriptDraft`` in the language the prompt asks for ("Language: Russian
  (ru)"), in real sentences of that language (``tests.fakes.scripts``; all seven narration
  languages). Like Groq, JSON mode answers 400 unless a message says "json".
- ``GET /openai/v1/models`` (route ``"models"``): the ids in ``fake.models``. A chat or
  transcription for a retired id answers 400 ``model_decommissioned``, for another unknown
  id 404 ``model_not_found``, as Groq does.
- ``POST /openai/v1/audio/transcriptions`` (route ``"transcriptions"``): multipart upload of a
  WAV; answers ``verbose_json`` with ``words`` [{word, start, end}] (when asked for with
  ``timestamp_granularities[]=word``) and ``segments``, spread over the WAV's duration. The words
  are ``expected_text``'s (default: a pangram); with ``mishear=True`` some are misspelled,
  merged, split or dropped (see ``mishear(words)``). Audio that is not WAV answers 400.

- ``GET /openai/v1/models`` (route ``"models"``): the account's models, ``fake.models``.
- Chat requests for a safety model (Llama Guard 4, gpt-oss-safeguard; route ``"guard"``):
  ``safe``, or ``unsafe\nS9`` when the text contains a phrase of ``fake.flagged`` (phrase ->
  categories; default: "pipe bomb" -> S9); the safeguard model answers the JSON our policy asks
  for (``{"violation": 1, "categories": ["S9"], ...}``). A model in ``fake.gone`` answers Groq's
  404 ``model_not_found``. ``malformed()`` on this route: an answer in neither format.
  The ``guard`` and ``models`` routes only take behaviours pushed for them (``fake.push``), so
  behaviours queued for any route stay with the script writer.

Helpers: ``sample_draft(language)`` is the default ScriptDraft as a dict (6 scenes, ~40 words).

Behaviours (shared with ``tests.fakes.elevenlabs``): ``fake.enqueue(*behaviours)`` queues for
any route, ``fake.push(route, *behaviours)`` for one; each request takes the first queued
behaviour whose ``route`` is None or its own; an empty queue means ``ok()``.

- ``ok(content=None, body=None)``: success; ``content`` replaces the chat message's text,
  ``body`` the whole HTTP body (JSON-encoded unless a str).
- ``status(code, retry_after=None)``: an error in the vendor's error format.
- ``hang()``: never answers (until the client gives up or the fake closes).
- ``malformed()``: chat: Groq's 400 ``json_validate_failed`` (the model wrote broken JSON);
  transcriptions: a 200 whose body is not JSON.
- ``bad_schema()``: valid JSON of the wrong shape (chat: not a ScriptDraft; transcriptions:
  no ``words``).

``latency`` seconds pass before every answer (may be changed at any time). ``requests`` records
every request in arrival order as ``Recorded(route, path, query, headers, at, json, form,
file)``; ``fake.of(route)`` only one route's.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
import wave
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Self

from aiohttp import BodyPartReader, web

from .scripts import octopus, translation_asked

Kind = Literal["ok", "status", "hang", "malformed", "bad_schema"]


@dataclass(frozen=True, slots=True)
class Behaviour:
    kind: Kind = "ok"
    code: int = 200
    retry_after: float | None = None
    content: str | None = None
    body: object = None
    route: str | None = None


def ok(content: str | None = None, *, body: object = None, route: str | None = None) -> Behaviour:
    return Behaviour("ok", content=content, body=body, route=route)


def status(code: int, *, retry_after: float | None = None, route: str | None = None) -> Behaviour:
    return Behaviour("status", code=code, retry_after=retry_after, route=route)


def hang(*, route: str | None = None) -> Behaviour:
    return Behaviour("hang", route=route)


def malformed(*, route: str | None = None) -> Behaviour:
    return Behaviour("malformed", route=route)


def bad_schema(*, route: str | None = None) -> Behaviour:
    return Behaviour("bad_schema", route=route)


@dataclass(slots=True)
class Recorded:
    route: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic()
    json: Any = None
    form: dict[str, list[str]] = field(default_factory=dict)
    file: tuple[str, bytes] | None = None  # (file name, bytes) of a multipart upload


class FakeServer:
    """The aiohttp plumbing and the behaviour queue; vendors subclass it with routes."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.requests: list[Recorded] = []
        self.queue: list[Behaviour] = []
        self.base_url = ""
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    def enqueue(self, *behaviours: Behaviour) -> None:
        self.queue.extend(behaviours)

    def push(self, route: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for one route only (the other fakes' spelling)."""
        self.queue.extend(replace(b, route=route) for b in behaviours)

    def of(self, route: str) -> list[Recorded]:
        return [r for r in self.requests if r.route == route]

    async def __aenter__(self) -> Self:
        # Cancel handlers when clients hang up; don't wait for hung ones at shutdown.
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.2, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def next_behaviour(self, route: str, *, strict: bool = False) -> Behaviour:
        """Take this request's behaviour, then wait out the latency (or forever, for hang).
        ``strict``: only a behaviour queued for this very route."""
        routes = (route,) if strict else (None, route)
        index = next((i for i, b in enumerate(self.queue) if b.route in routes), None)
        chosen = self.queue.pop(index) if index is not None else Behaviour()
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if chosen.kind == "hang":
            await self._closing.wait()
        return chosen

    def record(self, route: str, request: web.Request, **details: Any) -> None:
        query, headers = dict(request.query), dict(request.headers)
        self.requests.append(
            Recorded(route, request.path, query, headers, time.monotonic(), **details)
        )

    @staticmethod
    def respond(
        body: object, *, code: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        return web.Response(
            text=text, status=code, content_type="application/json", headers=headers
        )

    @staticmethod
    def retry_headers(behaviour: Behaviour) -> dict[str, str]:
        if behaviour.retry_after is None:
            return {}
        return {"Retry-After": f"{behaviour.retry_after:g}"}


# What Groq answers when the model's output in JSON mode is not valid JSON.
_JSON_VALIDATE_FAILED = {
    "error": {
        "message": "Failed to generate JSON. Please adjust your prompt.",
        "type": "invalid_request_error",
        "code": "json_validate_failed",
        "failed_generation": '{"title": "Octopus", "scenes": [',
    }
}
_LANGUAGE = re.compile(r"Language: [^(\n]*\((\w+)\)")


def sample_draft(language: str) -> dict[str, Any]:
    """A ScriptDraft (as JSON data) that passes ``scriptwriting.validate`` for >= 20 s: one
    scene per sentence of ``tests.fakes.scripts.octopus(language)``, in that language."""
    lines = octopus(language)
    return {
        "title": lines[0].rstrip("."),
        "language": language,
        "hook": lines[0],
        "scenes": [
            {"narration": line, "visual_query": "octopus", "image_prompt": f"octopus, scene {i}"}
            for i, line in enumerate(lines, 1)
        ],
        "hashtags": ["octopus", "ocean", "facts"],
        "description": " ".join(lines[:2]),
        "style_bible": "Underwater photography, teal and coral palette, soft light.",
    }


def mishear(words: list[str]) -> list[str]:
    """What a recogniser might make of ``words``: misspellings, merges, splits, drops."""
    heard: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if index % 11 == 8:
            pass  # dropped
        elif index % 9 == 5 and index + 1 < len(words):
            heard.append(word.rstrip(".,!?") + words[index + 1])
            index += 1
        elif index % 7 == 3 and len(word) > 3:
            heard.append(word[:-2] + word[-1] + word[-2])
        elif index % 5 == 2 and len(word) >= 5:
            heard.extend([word[:3], word[3:]])
        else:
            heard.append(word)
        index += 1
    return heard


LLAMA_GUARD = "meta-llama/llama-guard-4-12b"
SAFEGUARD = "openai/gpt-oss-safeguard-20b"
GUARD_MODELS = (LLAMA_GUARD, SAFEGUARD)
# What the service has (GET /openai/v1/models), and what it retired, as of 2026-12.
MODELS = (
    "openai/gpt-oss-120b",
    "openai/gpt-oss-20b",
    "openai/gpt-oss-safeguard-20b",
    "qwen/qwen3.6-27b",
    LLAMA_GUARD,
    "whisper-large-v3",
    "whisper-large-v3-turbo",
)
DECOMMISSIONED = (
    "meta-llama/llama-4-maverick-17b-128e-instruct",
    "moonshotai/kimi-k2-instruct-0905",
    "meta-llama/llama-4-scout-17b-16e-instruct",
    "llama-3.3-70b-versatile",
    "llama-3.1-8b-instant",
)


class FakeGroq(FakeServer):
    """``models``: the ids ``GET /openai/v1/models`` lists (route ``"models"``) and that chat
    and transcriptions serve. A request for one of ``decommissioned`` answers 400
    ``model_decommissioned``; for any other unknown id, 404 ``model_not_found`` (both in
    Groq's words)."""

    def __init__(
        self, *, latency: float = 0.0, expected_text: str | None = None, mishear: bool = False
    ) -> None:
        super().__init__(latency=latency)
        self.expected_text = expected_text
        self.mishear = mishear
        self.models: list[str] = list(MODELS)
        self.decommissioned = list(DECOMMISSIONED)
        self.gone: set[str] = set()  # safety models this account lost (404 model_not_found)
        self.flagged: dict[str, tuple[str, ...]] = {"pipe bomb": ("S9",)}
        self.app.router.add_post("/openai/v1/chat/completions", self._chat)
        self.app.router.add_post("/openai/v1/audio/transcriptions", self._transcribe)
        self.app.router.add_get("/openai/v1/models", self._models)

    async def _models(self, request: web.Request) -> web.Response:
        self.record("models", request)
        behaviour = await self.next_behaviour("models", strict=True)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self._error(Behaviour(code=401), "Invalid API Key", "invalid_request_error")
        if behaviour.kind == "status":
            return self._error(behaviour, f"fake status {behaviour.code}", "fake_error")
        if behaviour.kind == "malformed":
            return self.respond('{"object": "list", "data": [{"id": ')
        if behaviour.body is not None:
            return self.respond(behaviour.body)
        data = [
            {
                "id": model,
                "object": "model",
                "created": 1_700_000_000,
                "owned_by": model.partition("/")[0] if "/" in model else "OpenAI",
                "active": True,
                "context_window": 131_072,
                "public_apps": None,
            }
            for model in self.models
        ]
        return self.respond({"object": "list", "data": data})

    async def _guard_chat(self, request: web.Request, payload: dict[str, Any]) -> web.Response:
        self.record("guard", request, json=payload)
        behaviour = await self.next_behaviour("guard", strict=True)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self._error(Behaviour(code=401), "Invalid API Key", "invalid_request_error")
        if behaviour.kind == "status":
            return self._error(behaviour, f"fake status {behaviour.code}", "fake_error")
        model = str(payload.get("model"))
        if model in self.gone:
            message = f"The model `{model}` does not exist or you do not have access to it."
            body = {"error": {"message": message, "type": "invalid_request_error",
                              "code": "model_not_found"}}  # fmt: skip
            return self.respond(body, code=404)
        if behaviour.kind == "malformed":
            return self.respond(_completion(model, "I would rather not say."))
        if behaviour.content is not None:
            return self.respond(_completion(model, behaviour.content))
        said = str(payload["messages"][-1].get("content", "")).lower()
        found = [c for phrase, codes in self.flagged.items() if phrase in said for c in codes]
        categories = list(dict.fromkeys(found))
        if model == LLAMA_GUARD:
            answer = "unsafe\n" + ",".join(categories) if categories else "safe"
        else:
            answer = json.dumps(
                {
                    "violation": int(bool(categories)),
                    "categories": categories,
                    "rationale": "matches the policy" if categories else "informational",
                }
            )
        return self.respond(_completion(model, answer))

    def _unknown_model(self, model: str) -> web.Response | None:
        if model in self.models:
            return None
        if model in self.decommissioned:
            message = (
                f"The model `{model}` has been decommissioned and is no longer supported. "
                "Please refer to https://console.groq.com/docs/deprecations for a "
                "recommendation on which model to use instead."
            )
            code, status = "model_decommissioned", 400
        else:
            message = f"The model `{model}` does not exist or you do not have access to it."
            code, status = "model_not_found", 404
        body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
        return self.respond(body, code=status)

    def _error(self, behaviour: Behaviour, message: str, kind: str) -> web.Response:
        body = {"error": {"message": message, "type": kind, "code": f"http_{behaviour.code}"}}
        return self.respond(body, code=behaviour.code, headers=self.retry_headers(behaviour))

    async def _guard(self, request: web.Request, route: str) -> web.Response | Behaviour:
        behaviour = await self.next_behaviour(route)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self._error(Behaviour(code=401), "Invalid API Key", "invalid_request_error")
        if behaviour.kind == "status":
            return self._error(behaviour, f"fake status {behaviour.code}", "fake_error")
        return behaviour

    async def _chat(self, request: web.Request) -> web.Response:
        payload = await request.json()
        if payload.get("model") in GUARD_MODELS:
            return await self._guard_chat(request, payload)
        self.record("chat", request, json=payload)
        guarded = await self._guard(request, "chat")
        if isinstance(guarded, web.Response):
            return guarded
        unknown = self._unknown_model(str(payload.get("model", "")))
        if unknown is not None:
            return unknown
        messages = payload.get("messages", [])
        said = " ".join(str(m.get("content", "")) for m in messages)
        json_mode = (payload.get("response_format") or {}).get("type") == "json_object"
        if json_mode and "json" not in said.lower():
            message = "'messages' must contain the word 'json' in some form"
            return self._error(Behaviour(code=400), message, "invalid_request_error")
        if guarded.kind == "malformed":
            return self.respond(_JSON_VALIDATE_FAILED, code=400)
        if guarded.body is not None:
            return self.respond(guarded.body)
        if (translated := translation_asked(said)) is not None:
            content = guarded.content if guarded.content is not None else translated
            return self.respond(_completion(payload.get("model", ""), content))
        match = _LANGUAGE.search(said)
        draft: object = sample_draft(match.group(1) if match else "en")
        if guarded.kind == "bad_schema":
            draft = {"title": "Octopus", "scenes": "three hearts"}
        content = guarded.content if guarded.content is not None else json.dumps(draft)
        return self.respond(_completion(payload.get("model", ""), content))

    async def _transcribe(self, request: web.Request) -> web.Response:
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
        self.record("transcriptions", request, form=form, file=upload)
        guarded = await self._guard(request, "transcriptions")
        if isinstance(guarded, web.Response):
            return guarded
        unknown = self._unknown_model((form.get("model") or [""])[0])
        if unknown is not None:
            return unknown
        if guarded.kind == "malformed":
            return self.respond('{"text": "Octopuses have", "words": [{"word": "Oct')
        if guarded.body is not None:
            return self.respond(guarded.body)
        try:
            with wave.open(io.BytesIO(upload[1] if upload else b"")) as reader:
                duration = reader.getnframes() / reader.getframerate()
        except (wave.Error, EOFError):
            message = "could not process file - is it a valid media file?"
            return self._error(Behaviour(code=400), message, "invalid_request_error")
        text = self.expected_text or "the quick brown fox jumps over the lazy dog"
        spoken = mishear(text.split()) if self.mishear else text.split()
        words = spread(spoken, duration)
        body: dict[str, Any] = {
            "task": "transcribe",
            "language": (form.get("language") or ["en"])[0],
            "duration": round(duration, 3),
            "text": " " + " ".join(spoken),
            "segments": _segments(words),
            "x_groq": {"id": "req_fake"},
        }
        if "word" in form.get("timestamp_granularities[]", []) and guarded.kind != "bad_schema":
            body["words"] = words
        return self.respond(body)


def _completion(model: str, content: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 500, "completion_tokens": 400, "total_tokens": 900},
        "x_groq": {"id": "req_fake"},
    }


def spread(words: list[str], duration: float) -> list[dict[str, Any]]:
    """Word times over the audio, proportional to length, with a short gap between words."""
    if not words:
        return []
    lead, tail = min(0.1, duration / 10), min(0.2, duration / 10)
    total = sum(len(w) + 1 for w in words)
    per_char = max(duration - lead - tail, 0.0) / total
    cursor, spread = lead, []
    for word in words:
        length = (len(word) + 1) * per_char
        spread.append(
            {"word": word, "start": round(cursor, 3), "end": round(cursor + length * 0.85, 3)}
        )
        cursor += length
    return spread


# The fields of a Whisper segment that the fake does not vary.
_SEGMENT = {"seek": 0, "tokens": [], "temperature": 0.0, "avg_logprob": -0.2}


def _segments(words: list[dict[str, Any]], size: int = 10) -> list[dict[str, Any]]:
    chunks = [words[first : first + size] for first in range(0, len(words), size)]
    return [
        {
            **_SEGMENT,
            "id": number,
            "start": chunk[0]["start"],
            "end": chunk[-1]["end"],
            "text": " " + " ".join(w["word"] for w in chunk),
            "compression_ratio": 1.3,
            "no_speech_prob": 0.01,
        }
        for number, chunk in enumerate(chunks)
    ]
