"""Offline image cards: one designed, deterministic Pillow card per scene.

Used by ``make demo`` (no network) and as the last link of the image chain. Every card of one video
shares a palette derived from its title; scenes shift the hue a little and variants change the
layout. Backgrounds are smooth gradients and soft shapes with fine, faint grain, because the
renderer pans the image and encodes at ~1.1 Mbit/s: busy texture would eat the bitrate.
"""

from .backgrounds import Painter
from .geometry import CARD_SIZE, SAFE_BOX, TEXT_BOX, Box, scaled_box
from .headline import STOP_WORDS, clean_text, headline_text, key_phrase
from .palette import RGB, Palette, palette_for
from .source import JPEG_QUALITY, CardSource, render_card
from .text import (
    FONTS_DIR,
    LEADING,
    MAX_CHARS,
    MAX_LINES,
    TextLayout,
    font,
    layout_text,
    text_layer,
)

__all__ = [
    "CARD_SIZE",
    "FONTS_DIR",
    "JPEG_QUALITY",
    "LEADING",
    "MAX_CHARS",
    "MAX_LINES",
    "RGB",
    "SAFE_BOX",
    "STOP_WORDS",
    "TEXT_BOX",
    "Box",
    "CardSource",
    "Painter",
    "Palette",
    "TextLayout",
    "clean_text",
    "font",
    "headline_text",
    "key_phrase",
    "layout_text",
    "palette_for",
    "render_card",
    "scaled_box",
    "text_layer",
]
