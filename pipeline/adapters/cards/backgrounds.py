"""Backgrounds: a gradient, one of four layouts of soft shapes, a vignette and faint grain.

Drawn at half size, then scaled up: smooth and fast.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from .palette import RGB, Palette


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
BACKGROUNDS: tuple[Painter, ...] = (_aurora, _bands, _orbit, _split)


def style_for(scene: int, variant: int) -> int:
    """The card's layout: its background painter, and the headline's font and alignment."""
    return (scene + variant) % len(BACKGROUNDS)


def background(size: tuple[int, int], p: Palette, rng: random.Random, style: int) -> Image.Image:
    half = (max(1, size[0] // 2), max(1, size[1] // 2))
    img = _linear(half, [p.base, p.deep, p.deep], rng.uniform(-25, 25))
    BACKGROUNDS[style](img, p, rng)
    # Vignette: edges sink into the deep tone, which also steadies the text's contrast.
    vignette = Image.radial_gradient("L").resize(half, Image.Resampling.BILINEAR)
    _paint(img, p.deep, vignette.point(lambda v: max(0, v - 120) * 130 // 135))
    # Grain: faint (+-4 levels) and softened by the upscale; it hides banding, not the bitrate.
    noise = Image.frombytes("L", half, rng.randbytes(half[0] * half[1])).point(lambda v: v // 32)
    img = ImageChops.add(img, noise.convert("RGB"), offset=-4)
    return img.resize(size, Image.Resampling.BICUBIC)
