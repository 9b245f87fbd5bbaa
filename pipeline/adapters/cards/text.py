"""Typesetting: fonts, wrapping and fitting the headline, and drawing it with badge, kicker
and rule."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ...catalog import FONT_BOLD, FONT_DISPLAY
from ...models import Script
from .backgrounds import style_for
from .geometry import CARD_SIZE, TEXT_BOX, Box, scaled_box
from .headline import clean_text, headline_text
from .palette import Palette

# pipeline/assets/fonts, wherever the package is installed (this file is in adapters/cards/).
FONTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
MAX_LINES = 4
MAX_CHARS = 160
LEADING = 1.14


_fonts = threading.local()


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    # Per thread: cards render in worker threads and FreeType faces are not thread-safe.
    cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = _fonts.__dict__.setdefault("cache", {})
    if (name, size) not in cache:
        cache[name, size] = ImageFont.truetype(str(FONTS_DIR / name), size)
    return cache[name, size]


def _units(text: str) -> list[str]:
    """Words, each word of 1-2 letters bound to the next: no "a" or "в" left at a line's end."""
    units: list[str] = []
    for word in reversed(text.split()):
        if units and len(word) <= 2:
            units[-1] = f"{word} {units[-1]}"
        else:
            units.append(word)
    return units[::-1]


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy wrap by advance width (TEXT_BOX's inset absorbs glyph overhangs); stops early once
    the text is known to overflow MAX_LINES."""
    lines: list[str] = []
    current, queue = "", _units(text)[::-1]
    while queue and len(lines) <= MAX_LINES:
        word = queue.pop()
        if face.getlength(word) > width:
            if " " in word:  # unbind a short word before breaking a long one
                queue.extend(reversed(word.split(" ")))
                continue
            cut = 1  # a word wider than the box is broken by characters
            while face.getlength(word[: cut + 1]) <= width:
                cut += 1
            queue.append(word[cut:])
            word = word[:cut]
        candidate = f"{current} {word}" if current else word
        if not current or face.getlength(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    return [*lines, current] if current else lines


def _ellipsize(text: str, fits: Callable[[str], bool]) -> str:
    text = text.rstrip(" .,;:-…")
    while text and not fits(text + "…"):
        text = text[:-1].rstrip(" .,;:-…")
    if " " in text[len(text) // 2 :]:  # end on a whole word when that keeps most of the text
        text = text[: text.rindex(" ")].rstrip(" .,;:-…")
    return text + "…"


def _tracked(face: ImageFont.FreeTypeFont, text: str, tracking: float) -> float:
    return face.getlength(text) + tracking * len(text)


@dataclass(frozen=True, slots=True)
class TextLayout:
    """Where each piece of a card's text goes, in pixels of the card."""

    font_name: str
    font_size: int
    lines: tuple[tuple[str, tuple[int, int]], ...]  # headline lines, each from its baseline's left
    label_size: int
    badge: str
    pill: Box
    kicker: str
    kicker_xy: tuple[int, int]  # left end of the kicker's baseline
    rule: Box


def _height(px: int, lines: int, step: int) -> int:
    """Cap height of the first line to the descenders of the last."""
    return round(px * 1.02) + (lines - 1) * step


def _fit(text: str, name: str, sizes: range, box: tuple[int, int]) -> tuple[int, list[str], int]:
    """The largest size (binary search over ``sizes``, ascending) at which the text wraps into
    MAX_LINES within box (width, height); else the smallest size, cut with an ellipsis."""
    if len(text) > MAX_CHARS:  # more than four lines can show at the smallest size anyway
        text = text[:MAX_CHARS] + "…"
    lo, hi, best = 0, len(sizes) - 1, 0
    units = _units(text)
    while lo <= hi:
        mid = (lo + hi) // 2
        face = font(name, sizes[mid])
        lines, step = _wrap(text, face, box[0]), round(sizes[mid] * LEADING)
        # A smaller size beats a broken word or a short word left at a line's end.
        whole_words = all(face.getlength(unit) <= box[0] for unit in units)
        if (
            whole_words
            and len(lines) <= MAX_LINES
            and _height(sizes[mid], len(lines), step) <= box[1]
        ):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    px = sizes[best]
    face, step = font(name, px), round(px * LEADING)
    lines = _wrap(text, face, box[0])
    if len(lines) > MAX_LINES:
        rest = _ellipsize(" ".join(lines[MAX_LINES - 1 :]), lambda t: face.getlength(t) <= box[0])
        lines = [*lines[: MAX_LINES - 1], rest]
    return px, lines, step


def layout_text(script: Script, scene: int, variant: int, size: tuple[int, int]) -> TextLayout:
    """Badge and kicker, then the headline, then a short rule, in the upper part of TEXT_BOX."""
    left, top, right, bottom = scaled_box(TEXT_BOX, size)
    width, scale = right - left, size[0] / CARD_SIZE[0]
    style = style_for(scene, variant)
    centred, name = style in (0, 3), FONT_DISPLAY if style in (0, 2) else FONT_BOLD
    label_size = max(6, round(26 * scale))
    header, gap = round(label_size * 3.3), round(label_size * 0.8)
    rule_w, rule_h = round(84 * scale), max(2, round(7 * scale))
    sizes = range(max(8, round(50 * scale)), max(10, round(104 * scale)) + 1)
    room = (width, bottom - top - header - gap - rule_h)
    px, lines, step = _fit(headline_text(script, scene), name, sizes, room)
    # Upper-middle: most of the spare height goes below the block.
    spare = room[1] - _height(px, len(lines), step)
    y = top + round(max(0, spare) * (0.35 if style % 2 else 0.25))
    label, pad = font(FONT_BOLD, label_size), label_size // 2
    badge = f"{scene + 1:02d} / {len(script.scenes):02d}"
    pill = (left, y, left + round(label.getlength(badge)) + 2 * pad, y + label_size + 2 * pad)
    kicker_x, tracking = pill[2] + 2 * pad, label_size * 0.12
    kicker = clean_text(script.title).upper()
    if _tracked(label, kicker, tracking) > right - kicker_x:
        kicker = _ellipsize(kicker, lambda t: _tracked(label, t, tracking) <= right - kicker_x)
    face, placed = font(name, px), []
    baseline = y + header + round(px * 0.74)
    for i, line in enumerate(lines):
        indent = round((width - face.getlength(line)) / 2) if centred else 0
        placed.append((line, (left + indent, baseline + i * step)))
    rule_x = left + (width - rule_w) // 2 if centred else left
    rule_y = baseline + (len(lines) - 1) * step + round(px * 0.28) + gap
    return TextLayout(
        font_name=name,
        font_size=px,
        lines=tuple(placed),
        label_size=label_size,
        badge=badge,
        pill=pill,
        kicker=kicker,
        kicker_xy=(kicker_x, y + pad + round(label_size * 0.8)),
        rule=(rule_x, rule_y, rule_x + rule_w, rule_y + rule_h),
    )


def text_layer(layout: TextLayout, p: Palette, size: tuple[int, int]) -> Image.Image:
    """The card's text on a transparent layer; ``layer.getbbox()`` is its real ink box."""
    layer = Image.new("RGBA", size, (*p.ink, 0))
    draw = ImageDraw.Draw(layer)
    face, label = font(layout.font_name, layout.font_size), font(FONT_BOLD, layout.label_size)
    for line, xy in layout.lines:
        draw.text(xy, line, p.ink, face, "ls")
    pill, baseline, x = layout.pill, layout.kicker_xy[1], float(layout.kicker_xy[0])
    draw.rounded_rectangle(pill, radius=pill[3] - pill[1], fill=p.accent)
    draw.text((pill[0] + layout.label_size // 2, baseline), layout.badge, p.deep, label, "ls")
    tracking = layout.label_size * 0.12
    for i, ch in enumerate(layout.kicker):  # letter-spaced by hand: Pillow has no tracking option
        advance = _tracked(label, layout.kicker[:i], tracking)  # keeps the font's kerning
        draw.text((x + advance, baseline), ch, p.accent, label, "ls")
    draw.rectangle(layout.rule, fill=p.accent)
    return layer


def draw_text(img: Image.Image, layout: TextLayout, p: Palette) -> None:
    layer = text_layer(layout, p, img.size)
    if (bbox := layer.getbbox()) is None:
        return
    # A soft dark halo under the text keeps it legible over any shape behind it.
    pad = layout.font_size
    region = (
        max(0, bbox[0] - pad),
        max(0, bbox[1] - pad),
        min(img.width, bbox[2] + pad),
        min(img.height, bbox[3] + pad),
    )
    halo = layer.getchannel("A").crop(region).filter(ImageFilter.GaussianBlur(pad / 5))
    img.paste(p.deep, region, halo.point(lambda v: min(255, v * 2) * 150 // 255))
    img.paste(layer, (0, 0), layer)
