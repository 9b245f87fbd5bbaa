from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import RenderError
from pipeline.render.stills import choose_direction, prepare_still

SIZE = (720, 1280)


def test_scenes_cycle_left_right_up_down(tmp_path: Path) -> None:
    src = tmp_path / "src.png"
    Image.new("RGB", (1080, 1920), (10, 20, 30)).save(src)
    motions = [
        prepare_still(src, tmp_path / f"s{i}.jpg", scene=i, frames=120, size=SIZE) for i in range(5)
    ]
    assert [m.direction for m in motions] == ["left", "right", "up", "down", "left"]
    assert [m.canvas for m in motions[:4]] == [(839, 1280), (839, 1280), (720, 1399), (720, 1399)]
    for motion in motions:
        with Image.open(motion.still) as still:
            assert still.size == motion.canvas and still.mode == "RGB"


def test_crop_offsets_move_one_pixel_a_frame_within_the_canvas(tmp_path: Path) -> None:
    src = tmp_path / "src.png"
    Image.new("RGB", (2000, 2000)).save(src)
    for scene in range(4):
        motion = prepare_still(src, tmp_path / f"s{scene}.jpg", scene=scene, frames=90, size=SIZE)
        offsets = [motion.offset_at(n) for n in range(motion.frames)]
        steps = {(b[0] - a[0], b[1] - a[1]) for a, b in zip(offsets, offsets[1:], strict=False)}
        assert len(steps) == 1 and sum(map(abs, steps.pop())) == 1
        for x, y in offsets:
            assert 0 <= x <= motion.canvas[0] - SIZE[0] and 0 <= y <= motion.canvas[1] - SIZE[1]
        x_expr, y_expr = motion.crop_offsets()
        assert "n" in x_expr + y_expr


def test_long_scene_pans_along_the_pictures_long_axis() -> None:
    # 20 s of horizontal pan over a portrait photo would keep a thin, upscaled strip.
    assert choose_direction(0, (1080, 1920), SIZE, travel=599) == "up"
    assert choose_direction(1, (1080, 1920), SIZE, travel=599) == "down"
    assert choose_direction(2, (1920, 1080), SIZE, travel=599) == "left"
    # Short scenes keep their turn in the cycle, unless the shape is badly wrong.
    assert choose_direction(0, (1080, 1920), SIZE, travel=119) == "left"
    assert choose_direction(2, (1080, 1920), SIZE, travel=119) == "up"
    assert choose_direction(2, (1920, 1080), SIZE, travel=119) == "left"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored landscape with the top half red, tagged "rotate 90 CW to display" (6):
    # displayed portrait with red on the right.
    image = Image.new("RGB", (1600, 900), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 1600, 450))
    exif = Image.Exif()
    exif[0x0112] = 6
    src = tmp_path / "rotated.jpg"
    image.save(src, exif=exif)
    motion = prepare_still(src, tmp_path / "out.jpg", scene=2, frames=30, size=SIZE)
    assert motion.direction == "up"  # portrait once rotated, so no axis swap
    with Image.open(motion.still) as still:
        width, height = still.size
        right = still.getpixel((width - 5, height // 2))
        left = still.getpixel((5, height // 2))
    assert isinstance(right, tuple) and isinstance(left, tuple)
    assert right[0] > 200 and left[2] > 200


def test_transparency_becomes_black_rgb(tmp_path: Path) -> None:
    src = tmp_path / "alpha.png"
    image = Image.new("RGBA", (800, 1400), (255, 255, 255, 0))
    image.paste((0, 200, 0, 255), (0, 700, 800, 1400))
    image.save(src)
    motion = prepare_still(src, tmp_path / "out.jpg", scene=0, frames=10, size=SIZE)
    with Image.open(motion.still) as still:
        assert still.mode == "RGB"
        top = still.getpixel((still.width // 2, 100))
        bottom = still.getpixel((still.width // 2, still.height - 100))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert max(top) < 20 and bottom[1] > 180


@pytest.mark.parametrize("size", [(64, 48), (300, 3000), (5000, 400)])
def test_any_size_and_aspect_covers_the_canvas(tmp_path: Path, size: tuple[int, int]) -> None:
    src = tmp_path / "src.jpg"
    Image.new("RGB", size, (90, 90, 90)).save(src)
    motion = prepare_still(src, tmp_path / "out.jpg", scene=1, frames=45, size=SIZE)
    with Image.open(motion.still) as still:
        assert still.size == motion.canvas


def test_unreadable_image_is_a_render_error(tmp_path: Path) -> None:
    src = tmp_path / "broken.jpg"
    src.write_bytes(b"not an image")
    with pytest.raises(RenderError) as caught:
        prepare_still(src, tmp_path / "out.jpg", scene=3, frames=30)
    assert caught.value.stage == "stills" and "scene 3" in str(caught.value)


@pytest.mark.parametrize("frames", [1, 2, 80, 91, 241])
def test_exact_fits_do_not_trip_on_rounding(tmp_path: Path, frames: int) -> None:
    # 1080x1920 onto 720x1280 (+travel) once failed with "box offset can't be negative".
    src = tmp_path / "src.png"
    Image.new("RGB", (1080, 1920)).save(src)
    for scene in range(4):
        motion = prepare_still(src, tmp_path / f"{scene}.jpg", scene=scene, frames=frames)
        assert motion.travel == frames - 1
