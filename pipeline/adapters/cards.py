"""Offline image cards: one designed, deterministic Pillow card per scene.

Used by ``make demo`` (no network) and as the last link of the image chain. Every card of one video
shares a palette derived from its title; scenes shift the hue a little and variants change the
layout. Backgrounds are smooth gradients and soft shapes with fine, faint grain, because the
renderer pans the image and encodes at ~1.1 Mbit/s: busy texture would eat the bitrate.
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import logging
import math
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from ..catalog import FONT_BOLD, FONT_DISPLAY
from ..models import ImageCandidate, Script

logger = logging.getLogger(__name__)

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

FONTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
CARD_SIZE = (900, 1600)
# In CARD_SIZE pixels: the renderer's 720x1280 centre crop, less room for a ~120 px pan.
SAFE_BOX: Box = (130, 300, 770, 1300)
# Text keeps to the upper part (the bottom third of the frame holds subtitles) and to the middle
# 540 px: render/stills.py pans a horizontal scene across the card's whole width, scaled by
# (720 + travel) / 900, so text this narrow stays in view for scenes of up to ~6 s (180 px).
TEXT_BOX: Box = (180, 310, 720, 960)
MAX_LINES = 4
MAX_CHARS = 160
LEADING = 1.14
JPEG_QUALITY = 90


def scaled_box(box: Box, size: tuple[int, int]) -> Box:
    sx, sy = size[0] / CARD_SIZE[0], size[1] / CARD_SIZE[1]
    return (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))


# --- palette -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Palette:
    deep: RGB  # the darkest background tone
    base: RGB  # the other end of the background gradient
    mid: RGB  # large shapes
    accent: RGB  # kicker, badge, rules, highlights
    glow: RGB  # second accent for soft light
    ink: RGB  # headline text


def _hls(hue: float, light: float, sat: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, light, sat)
    return (round(r * 255), round(g * 255), round(b * 255))


def _luminance(rgb: RGB) -> float:
    """WCAG relative luminance."""
    c = [v / 255 / 12.92 if v <= 10 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in rgb]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def _legible(hue: float, light: float, sat: float, on: RGB, ratio: float = 5.0) -> RGB:
    """The colour, lightened until it reads on ``on`` (blues and violets need it most)."""
    colour = _hls(hue, light, sat)
    while (_luminance(colour) + 0.05) / (_luminance(on) + 0.05) < ratio and light < 0.9:
        light += 0.03
        colour = _hls(hue, light, sat)
    return colour


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()


_BASE_HUES = (0, 12, 150, 165, 180, 195, 210, 222, 235, 255, 285, 320, 345)


def palette_for(title: str, scene: int = 0) -> Palette:
    """The video's palette from its title; the scene nudges the hue so cards vary within it."""
    digest = _digest("palette", title.strip().casefold())
    # Dark yellows and yellow-greens turn to mud, so the base hue comes from the rest of the wheel.
    hue = (_BASE_HUES[digest[0] % len(_BASE_HUES)] + digest[1] / 255 * 12 - 6) / 360
    # Analogous, split-complementary or triadic accents: all read as one family.
    accent_shift, glow_shift = ((0.08, -0.07), (0.45, 0.55), (0.33, -0.12))[digest[2] % 3]
    hue += ((scene * 5) % 7 - 3) * 0.012
    deep = _hls(hue, 0.08, 0.55)
    return Palette(
        deep=deep,
        base=_hls(hue + 0.04, 0.22, 0.50),
        mid=_hls(hue - 0.03, 0.34, 0.55),
        accent=_legible(hue + accent_shift, 0.62, 0.85, deep),
        glow=_hls(hue + glow_shift, 0.45, 0.58),
        ink=_hls(hue, 0.97, 0.45),
    )


# --- backgrounds (drawn at half size, then scaled up: smooth and fast) -----------------------


def _colourise(mask: Image.Image, stops: list[RGB]) -> Image.Image:
    """Map an L image through evenly spaced colour stops (a gradient map)."""
    spans = len(stops) - 1
    luts: list[list[int]] = [[], [], []]
    for value in range(256):
        pos = value / 255 * spans
        i = min(int(pos), spans - 1)
        t = pos - i
        for c in range(3):
            luts[c].append(round(stops[i][c] + (stops[i + 1][c] - stops[i][c]) * t))
    return Image.merge("RGB", [mask.point(lut) for lut in luts])


def _linear(size: tuple[int, int], stops: list[RGB], angle: float) -> Image.Image:
    # A linear ramp survives upscaling intact, so it is rotated at a quarter of the size.
    small = (max(2, size[0] // 4), max(2, size[1] // 4))
    side = math.ceil(math.hypot(*small)) + 2
    ramp = Image.linear_gradient("L").resize((side, side), Image.Resampling.BILINEAR)
    ramp = ramp.rotate(angle, Image.Resampling.BILINEAR)
    left, top = (side - small[0]) // 2, (side - small[1]) // 2
    ramp = ramp.crop((left, top, left + small[0], top + small[1]))
    return _colourise(ramp.resize(size, Image.Resampling.BILINEAR), stops)


def _paint(img: Image.Image, colour: RGB, mask: Image.Image, blur: float = 0.0) -> None:
    if blur:
        mask = mask.filter(ImageFilter.GaussianBlur(blur))
    img.paste(colour, (0, 0, *img.size), mask)


def _mask(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    mask = Image.new("L", size, 0)
    return mask, ImageDraw.Draw(mask)


def _circle(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, **kw: int) -> None:
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), **kw)


def _glow(img: Image.Image, colour: RGB, cx: float, cy: float, r: float, alpha: int) -> None:
    # Drawn and blurred at a quarter of the canvas: a blur this wide loses nothing by it.
    mask, draw = _mask((max(1, img.width // 4), max(1, img.height // 4)))
    _circle(draw, cx / 4, cy / 4, r / 4, fill=alpha)
    mask = mask.filter(ImageFilter.GaussianBlur(img.width * 0.04))
    img.paste(colour, (0, 0, *img.size), mask.resize(img.size, Image.Resampling.BILINEAR))


def _glows(img: Image.Image, p: Palette, rng: random.Random, count: int) -> None:
    w, h = img.size
    for colour in [p.mid, p.glow, p.accent, p.base, p.glow][:count]:
        cx, cy, r = rng.uniform(-0.1, 1.1) * w, rng.uniform(0.05, 1) * h, rng.uniform(0.3, 0.55) * w
        _glow(img, colour, cx, cy, r, rng.randint(110, 190))


def _rings(img: Image.Image, colour: RGB, cx: float, cy: float, radii: list[float]) -> None:
    # Drawn at twice the size and reduced: Pillow's outlines are not antialiased.
    mask, draw = _mask((img.width * 2, img.height * 2))
    for i, r in enumerate(radii):
        _circle(draw, cx * 2, cy * 2, r * 2, outline=max(50, 150 - 35 * i), width=4)
    _paint(img, colour, mask.reduce(2))


def _aurora(img: Image.Image, p: Palette, rng: random.Random) -> None:
    w, h = img.size
    _glows(img, p, rng, 5)
    side = rng.choice((-0.15, 1.15))
    _rings(img, p.accent, side * w, rng.uniform(0.55, 0.8) * h, [w * 0.42, w * 0.5, w * 0.58])


def _bands(img: Image.Image, p: Palette, rng: random.Random) -> None:
    w, h = img.size
    _glows(img, p, rng, 2)
    slope = rng.uniform(0.45, 0.75) * h / w
    y = rng.uniform(0.52, 0.62) * h
    for colour, thick, alpha in ((p.mid, 0.16, 230), (p.accent, 0.025, 255), (p.glow, 0.09, 170)):
        band = thick * h
        mask, draw = _mask(img.size)
        draw.polygon(
            [(0, y), (w, y - slope * w), (w, y - slope * w + band), (0, y + band)], fill=alpha
        )
        _paint(img, colour, mask, 1.0)
        y += band + 0.02 * h
    mask, draw = _mask(img.size)
    x0, y0 = rng.choice((0.1, 0.6)) * w, 0.12 * h  # above the text, below the crop
    for i in range(3):
        for j in range(6):
            _circle(draw, x0 + j * 0.05 * w, y0 + i * 0.05 * w, 0.006 * w, fill=140)
    _paint(img, p.accent, mask, 0.5)


def _orbit(img: Image.Image, p: Palette, rng: random.Random) -> None:
    w, h = img.size
    cx, cy, r = rng.uniform(0.55, 0.95) * w, rng.uniform(0.7, 0.82) * h, rng.uniform(0.34, 0.42) * w
    _glow(img, p.glow, cx, cy, r * 1.25, 200)
    disc, draw = _mask(img.size)
    _circle(draw, cx, cy, r, fill=255)
    fill = _linear(img.size, [p.accent, p.glow, p.mid], rng.uniform(-30, 30))
    img.paste(fill, (0, 0), disc.filter(ImageFilter.GaussianBlur(0.8)))
    _rings(img, p.ink, cx, cy, [r * 1.18, r * 1.36, r * 1.58])


def _split(img: Image.Image, p: Palette, rng: random.Random) -> None:
    w, h = img.size
    _glows(img, p, rng, 3)
    top, bottom = rng.uniform(0.5, 0.6) * h, rng.uniform(0.7, 0.8) * h
    if rng.random() < 0.5:
        top, bottom = bottom, top
    mask, draw = _mask(img.size)
    draw.polygon([(0, top), (w, bottom), (w, h), (0, h)], fill=235)
    _paint(img, p.mid, mask, 1.0)
    mask, draw = _mask(img.size)
    draw.line([(0, top), (w, bottom)], fill=255, width=max(2, w // 90))
    _paint(img, p.accent, mask, 0.8)
    _rings(img, p.ink, rng.uniform(0.7, 0.9) * w, 0.16 * h, [0.2 * w])


Painter = Callable[[Image.Image, Palette, random.Random], None]
_BACKGROUNDS: tuple[Painter, ...] = (_aurora, _bands, _orbit, _split)


def _background(size: tuple[int, int], p: Palette, rng: random.Random, style: int) -> Image.Image:
    half = (max(1, size[0] // 2), max(1, size[1] // 2))
    img = _linear(half, [p.base, p.deep, p.deep], rng.uniform(-25, 25))
    _BACKGROUNDS[style](img, p, rng)
    # Vignette: edges sink into the deep tone, which also steadies the text's contrast.
    vignette = Image.radial_gradient("L").resize(half, Image.Resampling.BILINEAR)
    _paint(img, p.deep, vignette.point(lambda v: max(0, v - 120) * 130 // 135))
    # Grain: faint (+-4 levels) and softened by the upscale; it hides banding, not the bitrate.
    noise = Image.frombytes("L", half, rng.randbytes(half[0] * half[1])).point(lambda v: v // 32)
    img = ImageChops.add(img, noise.convert("RGB"), offset=-4)
    return img.resize(size, Image.Resampling.BICUBIC)


# --- text ----------------------------------------------------------------------------------

_MARKUP = re.compile(r"\{[^}]*\}|<[^>]*>")
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+|[.,]\d+)*")
_SENTENCE_END = set(".!?…¡¿:;")
# en, ru and es words too common to headline a card.
_STOP_WORDS_TEXT = """
a an the and or but if of to in on at by for with from as is are was were be been being it its
this that these those there their they them he she his her we our you your i not no so than then
also into over about after before under between which who what when where why how has have had
do does did can could will would may might must should very just more most such only other some
any each all both many much one every s и в во не что он на я с со как а то все она так его но
да ты к у же вы за бы по только ее было вот от еще нет о из ему когда даже ли если уже или ни
быть был до там потом себя может они тут где есть для мы их чем была сам без тоже под будет
тогда кто этот того потому этого этом почти тем чтобы были всех можно при после над больше тот
через эти про всего них много эту этой перед такой им более всегда между это эта свой которые
который которая el la los las un una unos unas y o pero si de del al en con por para sin sobre
entre es son fue fueron ser era eran está están este esta estos estas ese esa eso lo le les se
su sus que qué como cómo cuando muy más menos también ya ni hay tiene tienen nos mi tu
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def clean_text(text: str) -> str:
    """Printable text only: no markup, controls or symbols the shipped fonts cannot draw."""
    text = _MARKUP.sub(" ", unicodedata.normalize("NFC", text))
    kept = (
        " " if unicodedata.category(ch)[0] in "CZ" else ch
        for ch in text
        if unicodedata.category(ch) not in {"So", "Cs", "Co", "Cn", "Mn"}
    )
    return " ".join("".join(kept).split())


def _clauses(text: str) -> list[list[tuple[str, str]]]:
    """Words per clause with their kind: s(top word), n(umber), c(apitalised, a name) or w(ord)."""
    clauses: list[list[tuple[str, str]]] = [[]]
    last_end, initial = 0, True
    for match in _TOKEN.finditer(text):
        gap, word = text[last_end : match.start()], match.group()
        if gap.strip() and clauses[-1]:
            clauses.append([])
        initial = initial or any(ch in _SENTENCE_END for ch in gap)
        kind = "n" if any(ch.isdigit() for ch in word) else "c" if word[0].isupper() else "w"
        clause = clauses[-1]
        if word.casefold() in STOP_WORDS:
            kind = "s"
        elif clause and clause[-1][1] == "C":  # a sentence's first word is a name if one follows
            clause[-1] = (clause[-1][0], "c" if kind == "c" else "w")
        clause.append((word, "C" if kind == "c" and initial else kind))
        initial, last_end = False, match.end()
    return [[(w, "w" if k == "C" else k) for w, k in clause] for clause in clauses]


def _joined(clause: list[tuple[str, str]], a: int, b: int) -> bool:
    """Whether words a..b are one unit that a phrase must not cut: "14 years", "University of
    Tokyo"."""
    if a < 0 or b >= len(clause):
        return False
    return "".join(kind for _, kind in clause[a : b + 1]) in {"nw", "nc", "cc", "csc"}


_SALIENCE = {"s": -0.3, "n": 3.2, "c": 2.7, "w": 0.2}


def key_phrase(narration: str) -> str:
    """The most salient run of 1-5 words inside one clause: it starts and ends on content words,
    holds at most one stop word, keeps names and numbers whole, and prefers capitals (not
    sentence-initial), numbers and a clause's end (where the object usually sits in en/ru/es)."""
    best, best_score = "", 0.0
    for clause in _clauses(clean_text(narration)):
        for i in range(len(clause)):
            if clause[i][1] == "s" or _joined(clause, i - 1, i) or _joined(clause, i - 2, i):
                continue
            for j in range(i, min(i + 5, len(clause))):
                window = clause[i : j + 1]
                if window[-1][1] == "s" or sum(kind == "s" for _, kind in window) > 1:
                    continue
                if _joined(clause, j, j + 1) or _joined(clause, j, j + 2):
                    continue
                score = sum(_SALIENCE[k] + (k != "s") * min(len(w), 12) / 20 for w, k in window)
                score += 0.3 if j == len(clause) - 1 else 0
                if score > best_score:
                    best, best_score = " ".join(word for word, _ in window), score
    return best[:1].upper() + best[1:]


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


def _alphabets(text: str) -> set[str]:
    return {unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha()}


def headline_text(script: Script, scene: int) -> str:
    """The scene's hint, unless it is in another alphabet than the narration (the script writer
    words its search queries in English whatever the language); else the narration's key phrase;
    else the title."""
    narration, hint = script.scenes[scene].narration, clean_text(script.scenes[scene].visual_query)
    if hint and _alphabets(hint) <= (_alphabets(narration) or _alphabets(hint)):
        return hint[:1].upper() + hint[1:]
    return key_phrase(narration) or clean_text(script.title)


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
    style = (scene + variant) % len(_BACKGROUNDS)
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


def _draw_text(img: Image.Image, layout: TextLayout, p: Palette) -> None:
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


def render_card(
    script: Script, scene: int, variant: int, size: tuple[int, int] = CARD_SIZE
) -> Image.Image:
    """One card, pure and deterministic: same script, scene, variant and size, same pixels."""
    if not 0 <= scene < len(script.scenes):
        raise ValueError(f"scene {scene} is not in a script of {len(script.scenes)} scenes")
    rng = random.Random(_digest("card", script.title, scene, variant))
    palette = palette_for(script.title, scene)
    img = _background(size, palette, rng, (scene + variant) % len(_BACKGROUNDS))
    _draw_text(img, layout_text(script, scene, variant, size), palette)
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
