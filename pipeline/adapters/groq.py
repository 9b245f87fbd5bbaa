"""Groq: a script writer (gpt-oss-120b in JSON mode) and an aligner (Whisper word times).

The SDK's own retries are off (``max_retries=0``): every call runs once, under the adapter's
``policy``, which the chain applies. SDK failures become ``ProviderError`` here, at the boundary.

Things the SDK does that shape this module (groq 1.7):
- In JSON mode Groq validates the model's output itself and answers a bad generation with
  400 ``{"error": {"code": "json_validate_failed", "failed_generation": ...}}``: that is a bad
  answer (repair it), not a bad request.
- JSON mode answers 400 unless some message contains the word "json".
- A 200 whose body is not JSON raises a bare ``json.JSONDecodeError`` (or, without a JSON
  content type, returns the text instead of the model); responses are built without
  validation, so missing fields read as ``None``.
- Whisper's ``words`` and ``segments`` are not fields of ``Transcription``: they arrive as
  plain dicts in ``model_extra``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from functools import cache
from pathlib import Path
from typing import Any, TypeGuard

import groq
from groq import AsyncGroq
from pydantic import ValidationError

from .. import catalog, language_id, scriptwriting
from ..alignment import match_recognised, wav_duration
from ..errors import InputError, ProviderError
from ..models import Script, WordTiming
from ..resilience import Policy, retry_after_seconds
from ..scriptwriting import ScriptDraft

logger = logging.getLogger(__name__)

PROVIDER = "groq"
# Groq's 498 is "flex tier capacity exceeded": busy now, fine later.
_RETRYABLE_STATUS = frozenset({408, 425, 429, 498})
# Whisper's upload limit on the free tier.
MAX_AUDIO_BYTES = 25 * 1024 * 1024
_MAX_TOKENS = 4096
_TEMPERATURE = 0.7


class _InvalidAnswer(Exception):
    """The model answered, but not with a usable script; worth one repair."""


@cache
def system_prompt() -> str:
    schema = json.dumps(ScriptDraft.model_json_schema(), ensure_ascii=False)
    return (
        "You write factual narration for short vertical videos. Answer with one JSON object and"
        f" nothing else. It must validate against this JSON Schema:\n{schema}"
    )


class GroqScriptWriter:
    """ScriptWriter: gpt-oss-120b on Groq, JSON mode, one repair on an unusable answer.

    Not grounded: Groq has no search tool here, so ``sources`` stay empty.
    """

    name = PROVIDER

    def __init__(
        self, api_key: str, *, base_url: str | None = None, timeout: float = 60.0, attempts: int = 3
    ) -> None:
        self.policy = Policy(PROVIDER, timeout=timeout, attempts=attempts)
        self._client = AsyncGroq(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    async def write(self, topic: str, *, language: str, seconds: int) -> Script:
        await language_id.ready()  # the draft's language check must not load it on the loop
        original = scriptwriting.prompt(topic, language=language, seconds=seconds)
        try:
            return await self._draft(original, language=language, seconds=seconds)
        except _InvalidAnswer as first:
            logger.info("groq: unusable script (%s); asking once for a repair", first)
            repair = scriptwriting.repair_prompt(original, str(first))
            try:
                return await self._draft(repair, language=language, seconds=seconds)
            except _InvalidAnswer as second:
                raise ProviderError(
                    f"unusable script after one repair: {second}", provider=PROVIDER
                ) from second

    async def _draft(self, user_prompt: str, *, language: str, seconds: int) -> Script:
        began = time.perf_counter()
        try:
            completion: Any = await self._client.chat.completions.create(
                model=catalog.GROQ_CHAT_MODEL,
                messages=[
                    {"role": "system", "content": system_prompt()},
                    {"role": "user", "content": user_prompt},
                ],
                response_format={"type": "json_object"},
                # gpt-oss reasons before it answers: a little, and not sent back to us.
                reasoning_effort="low",
                include_reasoning=False,
                temperature=_TEMPERATURE,
                max_completion_tokens=_MAX_TOKENS,
            )
        except groq.BadRequestError as exc:
            if _error_field(exc.body, "code") == "json_validate_failed":
                raise _InvalidAnswer("the answer was not valid JSON") from exc
            raise provider_error(exc) from exc
        except (groq.GroqError, ValueError) as exc:
            raise provider_error(exc) from exc
        content, finish = _message(completion)
        logger.info("groq: draft answered in %.2f s", time.perf_counter() - began)
        if finish == "length":
            raise _InvalidAnswer("the answer was cut off at the length limit; write less")
        try:
            draft = ScriptDraft.model_validate_json(content)
        except ValidationError as exc:
            raise _InvalidAnswer(_describe(exc)) from exc
        script = draft.to_script(sources=[], grounded=False)
        try:
            return scriptwriting.validate(script, language=language, seconds=seconds)
        except InputError as exc:
            raise _InvalidAnswer(exc.message) from exc

    async def aclose(self) -> None:
        await self._client.close()


class GroqWhisperAligner:
    """Aligner: Whisper on Groq hears the voice track; its words are matched to the script's."""

    name = PROVIDER

    def __init__(
        self, api_key: str, *, base_url: str | None = None, timeout: float = 60.0, attempts: int = 3
    ) -> None:
        self.policy = Policy(PROVIDER, timeout=timeout, attempts=attempts)
        self._client = AsyncGroq(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    async def align(self, audio_path: Path, script: Script, language: str) -> list[WordTiming]:
        audio = await asyncio.to_thread(audio_path.read_bytes)
        if len(audio) > MAX_AUDIO_BYTES:
            raise ProviderError(
                f"{audio_path.name} is {len(audio)} bytes; Whisper takes {MAX_AUDIO_BYTES}",
                provider=PROVIDER,
            )
        began = time.perf_counter()
        try:
            result: Any = await self._client.audio.transcriptions.create(
                model=catalog.GROQ_WHISPER_MODEL,
                file=(audio_path.name, audio),
                response_format="verbose_json",
                timestamp_granularities=["word", "segment"],
                language=language,
            )
        except (groq.GroqError, ValueError) as exc:
            raise provider_error(exc) from exc
        heard = _heard_words(result)
        logger.info(
            "groq: whisper heard %d words in %.2f s", len(heard), time.perf_counter() - began
        )
        return match_recognised(script, heard, duration=wav_duration(audio))

    async def aclose(self) -> None:
        await self._client.close()


async def available_models(
    api_key: str, *, base_url: str | None = None, timeout: float = 10.0
) -> set[str]:
    """The model ids the key may use now (``GET /openai/v1/models``); the SDK's own list of
    model names is stale (it still has decommissioned ones)."""
    async with AsyncGroq(
        api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout
    ) as client:
        try:
            listed = await client.models.list()
        except (groq.GroqError, ValueError) as exc:
            raise provider_error(exc) from exc
    return {model.id for model in listed.data if getattr(model, "active", True) is not False}


def provider_error(exc: Exception) -> ProviderError:
    """Translate an SDK failure: 429/5xx/timeouts/connection retryable, the rest not."""
    if isinstance(exc, groq.APIStatusError):
        status = exc.status_code
        detail = _error_field(exc.body, "message") or exc.response.reason_phrase
        return ProviderError(
            f"HTTP {status}: {_short(detail)}",
            provider=PROVIDER,
            retryable=status in _RETRYABLE_STATUS or status >= 500,
            retry_after=retry_after_seconds(exc.response.headers),
            status=status,
        )
    if isinstance(exc, groq.APITimeoutError):
        return ProviderError("request timed out", provider=PROVIDER, retryable=True)
    if isinstance(exc, groq.APIConnectionError):
        cause = exc.__cause__ or exc
        return ProviderError(f"connection failed: {cause!r}", provider=PROVIDER, retryable=True)
    if isinstance(exc, groq.APIResponseValidationError | ValueError):
        return ProviderError(f"malformed response: {_short(str(exc))}", provider=PROVIDER)
    return ProviderError(f"{type(exc).__name__}: {_short(str(exc))}", provider=PROVIDER)


def _message(completion: object) -> tuple[str, str | None]:
    try:
        choice = completion.choices[0]  # type: ignore[attr-defined]
        content, finish = choice.message.content, choice.finish_reason
    except (AttributeError, IndexError, TypeError, KeyError):
        content, finish = None, None
    if not isinstance(content, str):
        raise ProviderError("malformed response: no message content", provider=PROVIDER)
    return content, finish if isinstance(finish, str) else None


def _heard_words(result: object) -> list[tuple[str, float, float]]:
    extra = getattr(result, "model_extra", None) or {}
    words = extra.get("words") if isinstance(extra, dict) else None
    if not isinstance(words, list):
        raise ProviderError("malformed response: no word timestamps", provider=PROVIDER)
    heard: list[tuple[str, float, float]] = []
    for item in words:
        if not isinstance(item, dict):
            continue
        text, start, end = item.get("word"), item.get("start"), item.get("end")
        if isinstance(text, str) and _number(start) and _number(end):
            heard.append((text, float(start), float(end)))
    if words and not heard:
        raise ProviderError("malformed response: word timestamps unreadable", provider=PROVIDER)
    return heard


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _error_field(body: object, field: str) -> str | None:
    """``body`` is the decoded error JSON: ``{"error": {"message": ..., "code": ...}}``."""
    error = body.get("error") if isinstance(body, dict) else None
    value = error.get(field) if isinstance(error, dict) else None
    return value if isinstance(value, str) else None


def _describe(exc: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}"
        for error in exc.errors()[:5]
    ]
    return "; ".join(problems)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
