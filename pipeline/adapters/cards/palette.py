"""Colour: one palette per video, derived from its title, legible text on every hue."""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass

RGB = tuple[int, int, int]


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


def digest(*parts: object) -> bytes:
    """Stable seed bytes for ``parts``: the same on every run and machine, unlike ``hash()``."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()


_BASE_HUES = (0, 12, 150, 165, 180, 195, 210, 222, 235, 255, 285, 320, 345)


def palette_for(title: str, scene: int = 0) -> Palette:
    """The video's palette from its title; the scene nudges the hue so cards vary within it."""
    seed = digest("palette", title.strip().casefold())
    # Dark yellows and yellow-greens turn to mud, so the base hue comes from the rest of the wheel.
    hue = (_BASE_HUES[seed[0] % len(_BASE_HUES)] + seed[1] / 255 * 12 - 6) / 360
    # Analogous, split-complementary or triadic accents: all read as one family.
    accent_shift, glow_shift = ((0.08, -0.07), (0.45, 0.55), (0.33, -0.12))[seed[2] % 3]
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
