"""GeminiImages: generated 9:16 pictures for a scene, all in the script's one look.

Every prompt carries the script's style bible so the scenes of one video share medium, palette
and light. Candidates are separate calls made concurrently; answers are decoded with Pillow
(anything that is not an image is refused) and saved as JPEG under ``out_dir/gemini/``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from pathlib import Path

from google.genai import types
from PIL import Image

from ... import catalog
from ...errors import ProviderError
from ...models import ImageCandidate, Script
from ._client import PROVIDER, GeminiAdapter, finish_reason, first_parts

logger = logging.getLogger(__name__)

JPEG_QUALITY = 90
_CONFIG = types.GenerateContentConfig(
    response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="9:16")
)
# Pillow's own failures on bytes that are not (whole) images.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


class GeminiImages(GeminiAdapter):
    """ImageSource adapter for Gemini image generation."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None,
        timeout: float,
        attempts: int,
        model: str = catalog.GEMINI_IMAGE_MODEL,
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout, attempts=attempts)
        self.model = model

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        if count <= 0:
            return []
        prompt = image_prompt(script, scene)
        folder = out_dir / "gemini"
        began = time.perf_counter()
        results = await asyncio.gather(
            *(self._one(prompt, folder / f"{scene}-{n}.jpg") for n in range(count)),
            return_exceptions=True,
        )
        paths = [r for r in results if isinstance(r, Path)]
        failures = [r for r in results if isinstance(r, ProviderError)]
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, ProviderError):
                raise result  # a bug, not a provider failure: let it surface
        if not paths:
            raise _worst(failures)
        if failures:
            logger.info("gemini: %d of %d images for scene %d failed", len(failures), count, scene)
        logger.info(
            "gemini drew %d images for scene %d in %.1f s",
            len(paths),
            scene,
            time.perf_counter() - began,
        )
        return [ImageCandidate(scene=scene, path=path, provider=PROVIDER) for path in paths]

    async def _one(self, prompt: str, path: Path) -> Path:
        response = await self._generate(self.model, prompt, _CONFIG)
        for part in first_parts(response):
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "").startswith("image/"):
                await asyncio.to_thread(save_jpeg, blob.data, path)
                return path
        raise ProviderError(
            f"the answer has no image (finish reason {finish_reason(response)})",
            provider=PROVIDER,
        )


def image_prompt(script: Script, scene: int) -> str:
    chosen = script.scenes[scene]
    subject = chosen.image_prompt.strip() or chosen.narration.strip()
    style = script.style_bible.strip()
    parts = [subject]
    if style:
        parts.append(f"Style shared by every image of this video: {style}")
    parts.append("Vertical 9:16 frame. No text, letters, captions, logos or watermarks.")
    return "\n\n".join(parts)


def save_jpeg(data: bytes, path: Path) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            picture = image.convert("RGB")
    except _DECODE_ERRORS as exc:
        raise ProviderError(
            f"the answer is not a usable image ({type(exc).__name__})", provider=PROVIDER
        ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    picture.save(partial, "JPEG", quality=JPEG_QUALITY)
    partial.replace(path)  # a resumed job never finds half a file


def _worst(failures: list[ProviderError]) -> ProviderError:
    """The failure to report when every candidate failed: a retryable one if any (so the policy
    tries again), with the longest Retry-After."""
    retryable = [f for f in failures if f.retryable]
    if not retryable:
        return failures[0]
    return max(retryable, key=lambda f: f.retry_after or 0.0)
