"""Gemini adapters (google-genai): script writing with Google Search grounding, TTS voices and
image generation. Each takes ``(api_key, *, base_url, timeout, attempts)``, carries a ``policy``
for the chain, shares one SDK client per key and endpoint, and must be closed with ``aclose()``."""

from ._client import GeminiAdapter, available_models, translate
from .images import GeminiImages
from .script import GeminiScriptWriter
from .speech import GeminiSpeech

__all__ = [
    "GeminiAdapter",
    "available_models",
    "GeminiImages",
    "GeminiScriptWriter",
    "GeminiSpeech",
    "translate",
]
