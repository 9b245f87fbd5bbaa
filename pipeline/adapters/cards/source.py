"""The ImageSource: cards rendered in a worker thread and written as JPEG files."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from pathlib import Path

from PIL import Image

from ...models import ImageCandidate, Script
from .backgrounds import background, style_for
from .geometry import CARD_SIZE
from .palette import digest, palette_for
from .text import draw_text, layout_text

logger = logging.getLogger(__name__)

JPEG_QUALITY = 90


def render_card(
    script: Script, scene: int, variant: int, size: tuple[int, int] = CARD_SIZE
) -> Image.Image:
    """One card, pure and deterministic: same script, scene, variant and size, same pixels."""
    if not 0 <= scene < len(script.scenes):
        raise ValueError(f"scene {scene} is not in a script of {len(script.scenes)} scenes")
    rng = random.Random(digest("card", script.title, scene, variant))
    palette = palette_for(script.title, scene)
    img = background(size, palette, rng, style_for(scene, variant))
    draw_text(img, layout_text(script, scene, variant, size), palette)
    return img


class CardSource:
    """ImageSource that never fails for want of a network: designed title cards."""

    name = "cards"

    def __init__(self, *, size: tuple[int, int] = CARD_SIZE) -> None:
        self.size = size

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        return await asyncio.to_thread(self._write, script, scene, count, out_dir)

    def _write(self, script: Script, scene: int, count: int, out_dir: Path) -> list[ImageCandidate]:
        folder = out_dir / "cards"
        folder.mkdir(parents=True, exist_ok=True)
        found = []
        for variant in range(count):
            started, path = time.perf_counter(), folder / f"{scene}-{variant}.jpg"
            partial = path.with_suffix(".part")
            card = render_card(script, scene, variant, self.size)
            card.save(partial, "JPEG", quality=JPEG_QUALITY)
            partial.replace(path)  # a resumed job never finds half a file
            elapsed = time.perf_counter() - started
            logger.debug("card %s rendered in %.0f ms", path.name, elapsed * 1e3)
            found.append(ImageCandidate(scene=scene, path=path, provider=self.name))
        return found
