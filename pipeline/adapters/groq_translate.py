"""Groq as a Translator for dubs: ``openai/gpt-oss-120b``, one scene per call.

gpt-oss is a reasoning model: ``reasoning_effort="low"`` keeps it quick and
``include_reasoning=False`` keeps its thinking out of the answer (the two ``reasoning_*``
switches are exclusive, so ``reasoning_format`` is not sent). Failures are translated as the
script writer's are (``pipeline.adapters.groq.provider_error``); an answer that is not a usable
translation (too long for its scene, another language) gets one repair call.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import groq
from groq import AsyncGroq

from .. import catalog, language_id, translation
from ..errors import ProviderError
from ..resilience import Policy
from .groq import PROVIDER, _message, provider_error

logger = logging.getLogger(__name__)

# Groq retired the Llama chat models in 2026; gpt-oss-120b is its production replacement.
GROQ_TRANSLATE_MODEL = catalog.GROQ_TRANSLATE_MODEL
_MAX_TOKENS = 400
_TEMPERATURE = 0.3


class GroqTranslator:
    name = PROVIDER

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 60.0,
        attempts: int = 3,
        model: str = GROQ_TRANSLATE_MODEL,
    ) -> None:
        self.model = model
        self.policy = Policy(PROVIDER, timeout=timeout, attempts=attempts)
        self._client = AsyncGroq(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    async def translate(self, text: str, *, source: str, target: str, max_words: int) -> str:
        await language_id.ready()
        asked = translation.prompt(text, source=source, target=target, max_words=max_words)
        answer = await self._ask(asked)
        try:
            return translation.clean(answer, target=target, max_words=max_words)
        except translation.UnusableTranslation as first:
            logger.info("groq: unusable translation (%s); asking once more", first)
            answer = await self._ask(translation.repair_prompt(asked, str(first)))
            try:
                return translation.clean(answer, target=target, max_words=max_words)
            except translation.UnusableTranslation as second:
                raise ProviderError(
                    f"unusable translation after one repair: {second}", provider=PROVIDER
                ) from second

    async def _ask(self, user_prompt: str) -> str:
        began = time.perf_counter()
        try:
            completion: Any = await self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": "You translate narration for videos."},
                    {"role": "user", "content": user_prompt},
                ],
                temperature=_TEMPERATURE,
                max_completion_tokens=_MAX_TOKENS,
                reasoning_effort="low",
                include_reasoning=False,
            )
        except (groq.GroqError, ValueError) as exc:
            raise provider_error(exc) from exc
        content, _ = _message(completion)
        logger.info("groq: translation answered in %.2f s", time.perf_counter() - began)
        return content

    async def aclose(self) -> None:
        await self._client.close()
