"""The card's frame and the parts of it that stay in view once the renderer crops and pans."""

from __future__ import annotations

Box = tuple[int, int, int, int]

CARD_SIZE = (900, 1600)
# In CARD_SIZE pixels: the renderer's 720x1280 centre crop, less room for a ~120 px pan.
SAFE_BOX: Box = (130, 300, 770, 1300)
# Text keeps to the upper part (the bottom third of the frame holds subtitles) and to the middle
# 540 px: render/stills.py pans a horizontal scene across the card's whole width, scaled by
# (720 + travel) / 900, so text this narrow stays in view for scenes of up to ~6 s (180 px).
TEXT_BOX: Box = (180, 310, 720, 960)


def scaled_box(box: Box, size: tuple[int, int]) -> Box:
    sx, sy = size[0] / CARD_SIZE[0], size[1] / CARD_SIZE[1]
    return (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))
