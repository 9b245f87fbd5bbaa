"""Scene stills, prepared with Pillow for a whole-pixel pan.

The motion is a pan of exactly ``PAN_STEP`` pixels per frame: frame n of a scene is the
canvas cropped at offset n * step. Every frame moves by the same integer step, so the motion
is uniform (no rounding shimmer, unlike zoompan) and ffmpeg's crop is a pointer offset, not
a resample: the cheapest motion there is. The canvas is the frame size plus the travel
along the pan's axis, cover-cropped from the source once, here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import RenderError

logger = logging.getLogger(__name__)

Direction = Literal["left", "right", "up", "down"]

# One pixel a frame is 30 px/s at 30 fps: a 720 px frame crosses its own width in 24 s.
PAN_STEP = 1
# Scenes alternate so consecutive cuts never continue the same movement.
DIRECTIONS: tuple[Direction, ...] = ("left", "right", "up", "down")
_OTHER_AXIS: dict[Direction, Direction] = {
    "left": "up",
    "up": "left",
    "right": "down",
    "down": "right",
}
# Swap to the other axis when it serves the picture this much better (a long horizontal
# pan over a portrait photo would otherwise show a narrow, upscaled strip of it).
_AXIS_SWAP_GAIN = 1.5
_EXIF_ORIENTATION = 0x0112
_ROTATED_ORIENTATIONS = {5, 6, 7, 8}
JPEG_QUALITY = 92


@dataclass(frozen=True, slots=True)
class Motion:
    """How one scene moves: the prepared still and the crop window's path across it."""

    still: Path
    direction: Direction
    frames: int
    step: int
    canvas: tuple[int, int]
    size: tuple[int, int]

    @property
    def travel(self) -> int:
        return (self.frames - 1) * self.step

    def crop_offsets(self) -> tuple[str, str]:
        """crop's x and y expressions; ``n`` is the frame number within the scene."""
        forward = f"n*{self.step}"
        backward = f"{self.travel}-n*{self.step}"
        return {
            "left": (forward, "0"),  # the window moves right, so the picture moves left
            "right": (backward, "0"),
            "up": ("0", forward),
            "down": ("0", backward),
        }[self.direction]

    def offset_at(self, frame: int) -> tuple[int, int]:
        """The crop window's top-left corner at ``frame`` (what the expressions compute)."""
        forward, backward = frame * self.step, self.travel - frame * self.step
        return {
            "left": (forward, 0),
            "right": (backward, 0),
            "up": (0, forward),
            "down": (0, backward),
        }[self.direction]


def _canvas(direction: Direction, size: tuple[int, int], travel: int) -> tuple[int, int]:
    width, height = size
    return (width + travel, height) if direction in ("left", "right") else (width, height + travel)


def _fit_score(source: tuple[int, int], canvas: tuple[int, int]) -> float:
    """How well ``source`` fills ``canvas``: the share of the picture kept by the cover
    crop, divided by the area upscaling (which blurs) when the source is too small."""
    scale = max(canvas[0] / source[0], canvas[1] / source[1])
    kept = (canvas[0] * canvas[1]) / (source[0] * source[1] * scale * scale)
    return kept / max(scale, 1.0) ** 2


def choose_direction(
    scene: int, source: tuple[int, int], size: tuple[int, int], travel: int
) -> Direction:
    """The scene's turn in the left/right/up/down cycle, unless the source's shape objects."""
    direction = DIRECTIONS[scene % len(DIRECTIONS)]
    other = _OTHER_AXIS[direction]
    score = _fit_score(source, _canvas(direction, size, travel))
    score_other = _fit_score(source, _canvas(other, size, travel))
    return other if score_other > score * _AXIS_SWAP_GAIN else direction


def _cover_box(
    source: tuple[int, int], canvas: tuple[int, int]
) -> tuple[float, float, float, float]:
    """The centred region of the source with the canvas's aspect ratio."""
    src_w, src_h = source
    scale = max(canvas[0] / src_w, canvas[1] / src_h)
    # min(): on the axis that fits exactly, float rounding must not step outside the image.
    box_w, box_h = min(canvas[0] / scale, src_w), min(canvas[1] / scale, src_h)
    left, top = (src_w - box_w) / 2, (src_h - box_h) / 2
    return (left, top, left + box_w, top + box_h)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent areas become black, not whatever colour the hidden pixels hold.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def prepare_still(
    src: Path,
    dst: Path,
    *,
    scene: int,
    frames: int,
    size: tuple[int, int] = (720, 1280),
) -> Motion:
    """Cover-crop ``src`` to the pan's canvas, write it to ``dst`` (JPEG) and describe the pan.

    Any size or aspect works; EXIF orientation is applied and the result is RGB. Raises
    :class:`RenderError` (stage ``stills``) for an unreadable image.
    """
    if frames < 1:
        raise ValueError(f"scene {scene} has {frames} frames")
    travel = (frames - 1) * PAN_STEP
    try:
        with Image.open(src) as opened:
            rotated = opened.getexif().get(_EXIF_ORIENTATION) in _ROTATED_ORIENTATIONS
            source = (opened.height, opened.width) if rotated else opened.size
            direction = choose_direction(scene, source, size, travel)
            canvas = _canvas(direction, size, travel)
            scale = max(canvas[0] / source[0], canvas[1] / source[1])
            # JPEG can decode at 1/2..1/8 scale for free; ask for no less than we need.
            need = (round(source[0] * scale), round(source[1] * scale))
            opened.draft("RGB", (need[1], need[0]) if rotated else need)
            ImageOps.exif_transpose(opened, in_place=True)  # a copy otherwise, even upright
            image = _to_rgb(opened)
            still = image.resize(
                canvas,
                Image.Resampling.LANCZOS,
                box=_cover_box(image.size, canvas),
                reducing_gap=3.0,
            )
        dst.parent.mkdir(parents=True, exist_ok=True)
        # 4:4:4 JPEG: the pan crops at odd offsets, so chroma must not be subsampled yet.
        still.save(dst, "JPEG", quality=JPEG_QUALITY, subsampling=0)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        message = f"scene {scene}: cannot use image {src.name}: {exc}"
        raise RenderError(message, stage="stills") from exc
    logger.debug("scene %d: %s %dx%d -> %s %s", scene, src.name, *source, canvas, direction)
    return Motion(
        still=dst, direction=direction, frames=frames, step=PAN_STEP, canvas=canvas, size=size
    )
