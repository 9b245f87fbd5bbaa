"""Gemini's safety feedback as a Moderator (PROVIDERS.md 6b).

The text is sent to a small model with the safety filters set; the model is asked only to say
OK. What counts is whether Gemini refuses it:
- a blocked prompt: HTTP 200 with ``promptFeedback.blockReason`` and no candidates;
- a blocked answer: ``candidates[0].finishReason`` in SAFETY, PROHIBITED_CONTENT, BLOCKLIST,
  SPII, IMAGE_SAFETY, IMAGE_PROHIBITED_CONTENT.
A ``blockReason`` of OTHER is asked once more, then taken as a refusal. Gemini's harm
categories map onto Llama Guard's where one fits (hate speech and harassment: S10, sexually
explicit: S12); dangerous content and bare block reasons have none (``other``).
"""

from __future__ import annotations

import logging

import aiohttp
from google.genai import errors as genai_errors
from google.genai import types

from ... import catalog
from ...moderation import OTHER
from ...ports import Verdict
from ._client import GeminiAdapter, translate

logger = logging.getLogger(__name__)

MODEL = catalog.GEMINI_MODERATION_MODEL
_BLOCKING_FINISH = frozenset(
    {
        "SAFETY",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
    }
)
_CATEGORY = {
    "HARM_CATEGORY_HATE_SPEECH": "S10",
    "HARM_CATEGORY_HARASSMENT": "S10",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT": "S12",
}
_FILTERED = (
    types.HarmCategory.HARM_CATEGORY_HARASSMENT,
    types.HarmCategory.HARM_CATEGORY_HATE_SPEECH,
    types.HarmCategory.HARM_CATEGORY_SEXUALLY_EXPLICIT,
    types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT,
)
_FLAGGED = frozenset({"HIGH", "MEDIUM"})


def _config() -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        system_instruction="You read requests for short factual videos. Answer with: OK",
        # Only high-probability harm: a reel on a war or a disease must pass.
        safety_settings=[
            types.SafetySetting(
                category=category, threshold=types.HarmBlockThreshold.BLOCK_ONLY_HIGH
            )
            for category in _FILTERED
        ],
        max_output_tokens=8,
        temperature=0,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )


def _name(value: object) -> str:
    return str(getattr(value, "value", value) or "")


def _categories(ratings: list[types.SafetyRating] | None) -> tuple[str, ...]:
    """Our codes for the ratings Gemini blocked on (or rated likely), ``other`` if none maps."""
    flagged = [r for r in ratings or [] if r.blocked or _name(r.probability) in _FLAGGED]
    codes = [_CATEGORY.get(_name(r.category), OTHER) for r in flagged]
    return tuple(dict.fromkeys(codes)) or (OTHER,)


def verdict_of(response: types.GenerateContentResponse) -> Verdict | None:
    """The verdict in ``response``; None for a prompt blocked with reason OTHER (ask again)."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        if _name(feedback.block_reason) == "OTHER":
            return None
        return Verdict(False, _categories(feedback.safety_ratings), moderator="gemini")
    candidates = response.candidates or []
    if not candidates:
        return Verdict(False, (OTHER,), moderator="gemini")
    first = candidates[0]
    if _name(first.finish_reason) in _BLOCKING_FINISH:
        return Verdict(False, _categories(first.safety_ratings), moderator="gemini")
    return Verdict(True, moderator="gemini")


class GeminiModerator(GeminiAdapter):
    async def check(self, text: str) -> Verdict:
        for _ in range(2):
            verdict = verdict_of(await self._ask(text))
            if verdict is not None:
                return verdict
            logger.info("gemini moderation: blocked with reason OTHER; asking once more")
        return Verdict(False, (OTHER,), moderator="gemini")

    async def _ask(self, text: str) -> types.GenerateContentResponse:
        # Not GeminiAdapter._generate: that turns a blocked prompt into an error, and here a
        # block is the answer.
        if self._key is None:
            raise RuntimeError(f"{self!r} is closed")
        aio = await self._shared.aio()
        try:
            return await aio.models.generate_content(model=MODEL, contents=text, config=_config())
        except (genai_errors.APIError, TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise translate(exc) from exc


__all__ = ["MODEL", "GeminiModerator", "verdict_of"]
