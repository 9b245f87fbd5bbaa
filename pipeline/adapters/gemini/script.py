"""GeminiScriptWriter: a grounded, structured script draft from Gemini.

One call asks for the ScriptDraft JSON with Google Search grounding. Models that refuse a response
schema together with the google_search tool (Gemini 2.x answers 400) get two calls instead:
grounded research notes as text, then the schema call given those notes; the refusal is
remembered per model. A draft that does not parse or fails scriptwriting.validate() gets one
repair call; if that fails too the writer gives up with a non-retryable ProviderError, so the
chain moves on to the next writer instead of paying for the same mistake again.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

from google.genai import types
from pydantic import ValidationError

from ... import catalog, language_id, scriptwriting
from ...errors import InputError, ProviderError
from ...models import Script
from ...scriptwriting import ScriptDraft
from ._client import PROVIDER, GeminiAdapter, answer_text

logger = logging.getLogger(__name__)

NOTES_LIMIT = 8000
NOTES_HEADING = "Facts found with Google Search (make claims only from these):"
_SEARCH = types.Tool(google_search=types.GoogleSearch())
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class _Unusable(Exception):
    """The model's draft cannot be used; the message says why, for the repair prompt."""


@dataclass(slots=True)
class _Grounding:
    """Sources and whether Google Search was used, gathered over every call of one draft."""

    sources: list[str] = field(default_factory=list)
    grounded: bool = False
    calls: int = 0

    def add(self, response: types.GenerateContentResponse) -> None:
        self.calls += 1
        candidates = response.candidates or []
        metadata = candidates[0].grounding_metadata if candidates else None
        if metadata is None:
            return
        chunks = metadata.grounding_chunks or []
        # An empty groundingMetadata object means the model chose not to search.
        if chunks or metadata.web_search_queries:
            self.grounded = True
        for chunk in chunks:
            uri = chunk.web.uri if chunk.web is not None else None
            if uri and uri.startswith(("https://", "http://")) and uri not in self.sources:
                self.sources.append(uri)


class GeminiScriptWriter(GeminiAdapter):
    """ScriptWriter adapter. ``policy`` wraps the whole ``write`` (up to four calls)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None,
        timeout: float,
        attempts: int,
        model: str = catalog.GEMINI_SCRIPT_MODEL,
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout, attempts=attempts)
        self.model = model
        self._needs_notes: set[str] = set()

    async def write(self, topic: str, *, language: str, seconds: int) -> Script:
        began = time.perf_counter()
        await language_id.ready()  # the draft's language check must not load it on the loop
        found = _Grounding()
        asked, text, combined = await self._first_draft(
            topic, language=language, seconds=seconds, found=found
        )
        try:
            script = _accept(text, found, language=language, seconds=seconds)
        except _Unusable as exc:
            logger.info("gemini: the draft is unusable (%s); asking once for a repair", exc)
            repair = scriptwriting.repair_prompt(asked, str(exc))
            text = await self._draft(repair, found, grounded=combined)
            try:
                script = _accept(text, found, language=language, seconds=seconds)
            except _Unusable as again:
                raise ProviderError(
                    f"the draft is still unusable after a repair: {again}",
                    provider=PROVIDER,
                    retryable=False,
                ) from None
        logger.info(
            "gemini wrote %d scenes in %.1f s (%d calls, grounded=%s, %d sources)",
            len(script.scenes),
            time.perf_counter() - began,
            found.calls,
            script.grounded,
            len(script.sources),
        )
        return script

    async def _first_draft(
        self, topic: str, *, language: str, seconds: int, found: _Grounding
    ) -> tuple[str, str, bool]:
        """The prompt used, the model's text and whether search and schema went in one call."""
        asked = scriptwriting.prompt(topic, language=language, seconds=seconds)
        if self.model not in self._needs_notes:
            try:
                return asked, await self._draft(asked, found, grounded=True), True
            except ProviderError as exc:
                if not schema_with_search_refused(exc):
                    raise
                logger.info("gemini: %s takes no schema with google_search; two calls", self.model)
                self._needs_notes.add(self.model)
        notes = await self._notes(topic, language=language, seconds=seconds, found=found)
        if notes:
            asked = f"{asked}\n\n{NOTES_HEADING}\n{notes}"
        return asked, await self._draft(asked, found, grounded=False), False

    async def _draft(self, prompt: str, found: _Grounding, *, grounded: bool) -> str:
        config = types.GenerateContentConfig(
            tools=[_SEARCH] if grounded else None,
            response_mime_type="application/json",
            response_schema=ScriptDraft,
        )
        response = await self._generate(self.model, prompt, config)
        found.add(response)
        return answer_text(response)

    async def _notes(self, topic: str, *, language: str, seconds: int, found: _Grounding) -> str:
        name = scriptwriting.LANGUAGE_NAMES.get(language, language)
        prompt = (
            f"Research with Google Search, for a {seconds}-second factual video in {name}: "
            f"{topic}\n\nList the 8-12 most surprising facts you can verify, one per line, with "
            f"numbers and dates where they matter and the name of each fact's source. Plain text."
        )
        config = types.GenerateContentConfig(tools=[_SEARCH])
        response = await self._generate(self.model, prompt, config)
        found.add(response)
        return answer_text(response).strip()[:NOTES_LIMIT]


def schema_with_search_refused(exc: ProviderError) -> bool:
    """Gemini 2.x refuses controlled generation with the google_search tool. AI Studio words it
    "Tool use with a response mime type: 'application/json' is unsupported"; Vertex and proxies
    "controlled generation is not supported with google_search tool"."""
    message = str(exc).lower()
    return (
        exc.status == 400
        and "tool" in message
        and ("controlled generation" in message or "mime type" in message)
    )


def _accept(text: str, found: _Grounding, *, language: str, seconds: int) -> Script:
    fenced = _FENCE.match(text)
    try:
        draft = ScriptDraft.model_validate_json(fenced.group(1) if fenced else text)
    except ValidationError as exc:
        raise _Unusable(_summary(exc)) from None
    script = draft.to_script(sources=list(found.sources), grounded=found.grounded)
    try:
        return scriptwriting.validate(script, language=language, seconds=seconds)
    except InputError as exc:
        raise _Unusable(exc.message) from None


def _summary(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if any(error["type"] == "json_invalid" for error in errors):
        return "the answer is not valid JSON"
    shown = [f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in errors[:4]]
    more = f" (and {len(errors) - 4} more)" if len(errors) > 4 else ""
    return "; ".join(shown) + more
