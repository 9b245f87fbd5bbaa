from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.models import SceneCut, WordTiming
from pipeline.render.timeline import plan_cuts, total_frames_for

IMAGES = [Path(f"scene{i}.jpg") for i in range(5)]


def word(scene: int, start: float, end: float) -> WordTiming:
    return WordTiming(text=f"w{scene}", start=start, end=end, scene=scene)


def edges(cuts: list[SceneCut]) -> list[int]:
    return [cut.start_frame for cut in cuts] + [cuts[-1].start_frame + cuts[-1].frames]


def test_cuts_fall_in_the_middle_of_each_pause() -> None:
    words = [word(0, 0.1, 1.0), word(0, 1.1, 2.0), word(1, 2.6, 4.0), word(2, 4.5, 6.2)]
    cuts, total = plan_cuts(words, IMAGES[:3], duration=6.5)
    assert total == 195
    assert [c.scene for c in cuts] == [0, 1, 2]
    assert [c.image for c in cuts] == IMAGES[:3]
    # Pauses 2.0-2.6 and 4.0-4.5: middles 2.3 s and 4.25 s, on the frame grid.
    assert edges(cuts) == [0, 69, 128, 195]
    assert sum(c.frames for c in cuts) == total


def test_snapped_cut_stays_inside_a_pause_of_a_frame_or_more() -> None:
    words = [word(0, 0.0, 1.013), word(1, 1.061, 2.0)]
    cuts, _ = plan_cuts(words, IMAGES[:2], duration=2.0)
    cut_time = cuts[1].start_frame / 30
    assert 1.013 <= cut_time <= 1.061


def test_total_frames_ignore_float_noise() -> None:
    assert 8.3 * 30 > 249  # 249.00000000000003
    assert total_frames_for(8.3) == 249
    assert total_frames_for(8.31) == 250
    _, total = plan_cuts([], IMAGES[:1], duration=8.3)
    assert total == 249


def test_wordless_scenes_share_evenly() -> None:
    cuts, total = plan_cuts([], IMAGES[:3], duration=10.0)
    assert total == 300
    assert [c.frames for c in cuts] == [100, 100, 100]


def test_wordless_scene_in_a_short_pause_gets_a_fair_share() -> None:
    # Scene 1 has no words and the narration barely pauses: it still gets screen time,
    # taken from its neighbours, who keep at least half of their own narration.
    words = [word(0, 0.0, 5.0), word(2, 5.1, 10.0)]
    cuts, total = plan_cuts(words, IMAGES[:3], duration=10.0)
    frames = [c.frames for c in cuts]
    assert sum(frames) == total == 300
    assert frames[1] >= 90  # about a third of the reel
    assert frames[0] >= 75 and frames[2] >= 73  # half of their own 150 and 147 frames


def test_wordless_scene_in_a_long_pause_takes_the_pause() -> None:
    words = [word(0, 0.0, 2.0), word(2, 8.0, 10.0)]
    cuts, _ = plan_cuts(words, IMAGES[:3], duration=10.0)
    assert edges(cuts) == [0, 60, 240, 300]


def test_leading_and_trailing_wordless_scenes() -> None:
    words = [word(1, 2.0, 4.0), word(2, 4.4, 6.0)]
    cuts, total = plan_cuts(words, IMAGES[:4], duration=8.0)
    assert edges(cuts)[0] == 0 and edges(cuts)[-1] == total == 240
    assert all(c.frames >= 30 for c in cuts)
    # Scene 1's narration is on screen while it is spoken.
    assert cuts[1].start_frame <= 60 and cuts[2].start_frame >= 120


def test_every_scene_gets_a_frame_even_when_words_collide() -> None:
    words = [word(0, 0.0, 1.0), word(1, 1.0, 1.0), word(2, 1.0, 1.0), word(3, 1.0, 3.0)]
    cuts, total = plan_cuts(words, IMAGES[:4], duration=3.0)
    assert all(c.frames >= 1 for c in cuts)
    assert sum(c.frames for c in cuts) == total == 90
    assert edges(cuts) == sorted(set(edges(cuts)))


def test_words_past_the_end_are_clamped() -> None:
    words = [word(0, 0.0, 1.0), word(1, 1.2, 2.5), word(2, 2.9, 3.5)]
    cuts, total = plan_cuts(words, IMAGES[:3], duration=2.0)
    assert total == 60
    assert [c.frames >= 1 for c in cuts] == [True, True, True]
    assert sum(c.frames for c in cuts) == 60


@pytest.mark.parametrize(
    ("words", "images", "duration"),
    [
        ([], [], 5.0),
        ([], IMAGES[:2], 0.0),
        ([], IMAGES[:5], 0.1),  # 3 frames for 5 scenes
        ([word(7, 0.0, 1.0)], IMAGES[:2], 5.0),
    ],
)
def test_impossible_plans_raise(
    words: list[WordTiming], images: list[Path], duration: float
) -> None:
    with pytest.raises(ValueError):
        plan_cuts(words, images, duration)
