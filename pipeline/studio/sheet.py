"""The contact sheet: one JPEG with the chosen picture of every scene, numbered, in a grid.

Sent as a single photo so a 15-scene review is one message (a media group holds at most 10
items and carries no buttons)."""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ..catalog import FONT_BOLD
from ..stages.subtitles import FONTS_DIR

logger = logging.getLogger(__name__)

TILE_W, TILE_H = 240, 426  # 9:16, like the reel
GAP = 8
BACKGROUND = (18, 18, 24)
BADGE = (255, 212, 0)
BADGE_TEXT = (0, 0, 0)
MAX_COLUMNS = 5


def columns_for(count: int) -> int:
    """Near-square grids: 1-3 in a row, 4 as 2x2, then up to 5 columns."""
    if count <= 3:
        return max(count, 1)
    if count == 4:
        return 2
    return min(MAX_COLUMNS, math.ceil(math.sqrt(count)))


def render_sheet(images: Sequence[Path], *, quality: int = 85) -> bytes:
    """Blocking (Pillow): call it through ``pipeline.cpu.run``."""
    count = len(images)
    columns = columns_for(count)
    rows = math.ceil(count / columns)
    sheet = Image.new(
        "RGB",
        (columns * TILE_W + (columns + 1) * GAP, rows * TILE_H + (rows + 1) * GAP),
        BACKGROUND,
    )
    font = ImageFont.truetype(str(FONTS_DIR / FONT_BOLD), 34)
    draw = ImageDraw.Draw(sheet)
    for index, path in enumerate(images):
        row, column = divmod(index, columns)
        left = GAP + column * (TILE_W + GAP)
        top = GAP + row * (TILE_H + GAP)
        sheet.paste(_tile(path), (left, top))
        _badge(draw, font, index + 1, left + 10, top + 10)
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _tile(path: Path) -> Image.Image:
    with Image.open(path) as image:
        # Decode at a reduced size where the format allows (JPEG): no smaller than the tile, so
        # a 900x1600 candidate decodes at 450x800 (a quarter of the memory and the work).
        image.draft("RGB", (TILE_W, TILE_H))
        ImageOps.exif_transpose(image, in_place=True)  # a copy otherwise, even upright
        return ImageOps.fit(image.convert("RGB"), (TILE_W, TILE_H), Image.Resampling.LANCZOS)


def _badge(
    draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont, number: int, x: int, y: int
) -> None:
    size = 52
    draw.ellipse((x, y, x + size, y + size), fill=BADGE, outline=BADGE_TEXT, width=2)
    draw.text((x + size / 2, y + size / 2), str(number), font=font, fill=BADGE_TEXT, anchor="mm")
