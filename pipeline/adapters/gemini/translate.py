"""Gemini as a Translator for dubs: plain text, one scene per call, no grounding (the facts
are the original's). An unusable answer (too long for its scene, another language) gets one
repair call; then the chain moves on."""

from __future__ import annotations

import logging
import time

from google.genai import types

from ... import catalog, language_id, translation
from ...errors import ProviderError
from ._client import PROVIDER, GeminiAdapter, answer_text

logger = logging.getLogger(__name__)

_CONFIG = types.GenerateContentConfig(temperature=0.3, max_output_tokens=400)


class GeminiTranslator(GeminiAdapter):
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

    async def translate(self, text: str, *, source: str, target: str, max_words: int) -> str:
        await language_id.ready()
        asked = translation.prompt(text, source=source, target=target, max_words=max_words)
        began = time.perf_counter()
        answer = answer_text(await self._generate(self.model, asked, _CONFIG))
        try:
            cleaned = translation.clean(answer, target=target, max_words=max_words)
        except translation.UnusableTranslation as first:
            logger.info("gemini: unusable translation (%s); asking once more", first)
            repair = translation.repair_prompt(asked, str(first))
            answer = answer_text(await self._generate(self.model, repair, _CONFIG))
            try:
                cleaned = translation.clean(answer, target=target, max_words=max_words)
            except translation.UnusableTranslation as second:
                raise ProviderError(
                    f"unusable translation after one repair: {second}", provider=PROVIDER
                ) from second
        logger.info("gemini: translation answered in %.2f s", time.perf_counter() - began)
        return cleaned
