"""Offline cards with real Pillow: files, determinism, palettes and text that never overflows."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from pipeline.adapters.cards import (
    CARD_SIZE,
    MAX_LINES,
    SAFE_BOX,
    TEXT_BOX,
    CardSource,
    clean_text,
    font,
    headline_text,
    key_phrase,
    layout_text,
    palette_for,
    render_card,
    scaled_box,
    text_layer,
)
from pipeline.catalog import FONT_BOLD, FONT_DISPLAY
from pipeline.models import Scene, Script

LONG = (
    "In the deep waters off the coast of Japan, researchers from the University of Tokyo spent "
    "fourteen years tracking a population of giant squid that nobody had filmed alive before. "
) * 4
HOSTILE = "{\\b1}<script>" + "alert('x') " * 10 + "Ü" * 190


def _script(title: str, *scenes: Scene, language: str = "en") -> Script:
    return Script(title=title, language=language, scenes=list(scenes))


EIFFEL = _script(
    "How the Eiffel Tower Was Built",
    Scene(narration="The Eiffel Tower was completed in 1889 for the World's Fair in Paris."),
    Scene(narration="Critics called it a monstrous skeleton.", visual_query="Protest of artists"),
    Scene(narration="It is repainted every seven years."),
)
OCTOPUS = _script(
    "Как устроен осьминог",
    Scene(narration="У осьминога три сердца и голубая кровь."),
    Scene(narration="Две трети нейронов находятся в щупальцах."),
    language="ru",
)
STRESS = _script(
    "¿Por qué el cielo es azul? Un título larguísimo que no cabe en una sola línea del todo",
    Scene(narration=LONG[:600]),
    Scene(narration="Осьминоги умеют открывать банки и сбегать из аквариумов."),
    Scene(narration="x", visual_query=HOSTILE),
    Scene(narration="x", visual_query="A" * 300),
    Scene(narration="", visual_query="🚀 Rayleigh, 1871 ✨\u200b\x00"),
    Scene(narration=""),
    language="es",
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_candidates_writes_count_distinct_jpegs(tmp_path: Path) -> None:
    found = await CardSource().candidates(EIFFEL, 1, 3, tmp_path)

    assert [c.path for c in found] == [tmp_path / "cards" / f"1-{v}.jpg" for v in range(3)]
    assert {(c.scene, c.provider, c.source_url) for c in found} == {(1, "cards", None)}
    for candidate in found:
        with Image.open(candidate.path) as image:
            assert (image.format, image.size, image.mode) == ("JPEG", CARD_SIZE, "RGB")
    assert len({_digest(c.path) for c in found}) == 3
    assert not list((tmp_path / "cards").glob("*.part"))


async def test_candidates_are_deterministic(tmp_path: Path) -> None:
    first = await CardSource().candidates(OCTOPUS, 0, 2, tmp_path / "a")
    second = await CardSource().candidates(OCTOPUS, 0, 2, tmp_path / "b")

    assert [_digest(c.path) for c in first] == [_digest(c.path) for c in second]


async def test_no_candidates_asked_none_written(tmp_path: Path) -> None:
    assert await CardSource().candidates(EIFFEL, 0, 0, tmp_path) == []


def test_render_card_is_pure() -> None:
    assert render_card(EIFFEL, 2, 1).tobytes() == render_card(EIFFEL, 2, 1).tobytes()


def test_render_card_rejects_a_scene_outside_the_script() -> None:
    with pytest.raises(ValueError, match="scene 3"):
        render_card(EIFFEL, 3, 0)


def test_render_card_honours_the_size() -> None:
    assert render_card(EIFFEL, 0, 0, (450, 800)).size == (450, 800)


def test_titles_give_different_palettes_and_scenes_stay_in_family() -> None:
    titles = ["Octopus", "Eiffel Tower", "Как устроен осьминог", "El cielo azul", "Black holes"]
    assert len({palette_for(title) for title in titles}) == len(titles)
    assert palette_for("Octopus") == palette_for("  octopus ")
    # Scenes nudge the hue but keep the same deep-to-ink structure.
    for scene in range(6):
        palette = palette_for("Octopus", scene)
        assert sum(palette.deep) < 120 < 600 < sum(palette.ink)


@pytest.mark.parametrize("title", [f"Title {n}" for n in range(40)])
def test_palette_text_contrast(title: str) -> None:
    def luminance(rgb: tuple[int, int, int]) -> float:
        c = [v / 255 / 12.92 if v <= 10 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    palette = palette_for(title)
    assert (luminance(palette.ink) + 0.05) / (luminance(palette.deep) + 0.05) > 7
    assert (luminance(palette.accent) + 0.05) / (luminance(palette.deep) + 0.05) >= 5


@pytest.mark.parametrize("size", [CARD_SIZE, (450, 800)])
@pytest.mark.parametrize("variant", range(4))
@pytest.mark.parametrize("scene", range(len(STRESS.scenes)))
def test_text_stays_inside_the_safe_region(scene: int, variant: int, size: tuple[int, int]) -> None:
    layout = layout_text(STRESS, scene, variant, size)
    bbox = text_layer(layout, palette_for(STRESS.title), size).getbbox()

    assert bbox is not None
    left, top, right, bottom = scaled_box(SAFE_BOX, size)
    assert left <= bbox[0] and top <= bbox[1] and bbox[2] <= right and bbox[3] <= bottom
    text_left, _, text_right, text_bottom = scaled_box(TEXT_BOX, size)
    assert bbox[3] <= text_bottom  # clear of the subtitles' third
    # Within a few pixels of the narrow band that survives the renderer's horizontal pans.
    assert text_left - 8 <= bbox[0] and bbox[2] <= text_right + 8
    assert 1 <= len(layout.lines) <= MAX_LINES


def test_overlong_headlines_are_cut_with_an_ellipsis() -> None:
    for scene in (2, 3):
        lines = [line for line, _ in layout_text(STRESS, scene, 0, CARD_SIZE).lines]
        assert len(lines) == MAX_LINES and lines[-1].endswith("…")
    kicker = layout_text(STRESS, 0, 0, CARD_SIZE).kicker
    assert kicker.startswith("¿POR QUÉ EL CIELO") and kicker.endswith("…")


def test_headline_prefers_the_hint_then_the_narration_then_the_title() -> None:
    assert headline_text(EIFFEL, 1) == "Protest of artists"
    assert headline_text(STRESS, 4) == "Rayleigh, 1871"
    assert headline_text(STRESS, 5) == clean_text(STRESS.title)
    assert "script" not in headline_text(STRESS, 2) and "{" not in headline_text(STRESS, 2)


def test_a_hint_in_another_alphabet_gives_way_to_the_narration() -> None:
    hinted = _script("Осьминог", Scene(narration="У осьминога три сердца.", visual_query="octopus"))
    assert headline_text(hinted, 0).endswith("три сердца")
    lower = _script("Octopus", Scene(narration="It has three hearts.", visual_query="three hearts"))
    assert headline_text(lower, 0) == "Three hearts"


@pytest.mark.parametrize(
    ("narration", "phrase"),
    [
        ("The Eiffel Tower was completed in 1889 for the World's Fair in Paris.", "World's Fair"),
        ("Gustave Eiffel designed it with 18,038 iron parts.", "Gustave Eiffel"),
        ("It took 18,038 iron parts.", "18,038 iron parts"),
        ("У осьминога три сердца и голубая кровь.", "Три сердца и голубая кровь"),
        ("La luz del Sol se dispersa en la atmósfera.", "Sol"),
        ("the of and", ""),
    ],
)
def test_key_phrase(narration: str, phrase: str) -> None:
    found = key_phrase(narration)
    assert phrase in found
    assert len(found.split()) <= 5


def test_clean_text_drops_markup_controls_and_symbols() -> None:
    assert clean_text("{\\b1}<i>Hi</i>\x00\tthere 🚀\u200b!") == "Hi there !"


@pytest.mark.parametrize("name", [FONT_BOLD, FONT_DISPLAY])
def test_shipped_fonts_draw_cyrillic(name: str) -> None:
    face = font(name, 40)
    missing = bytes(face.getmask("\U0010fffd"))
    for letter in "ЖжЩщЁёЙй":
        assert bytes(face.getmask(letter)) != missing


def test_card_time_is_measured(record_property: Callable[[str, object], None]) -> None:
    """Not a timing test: it records the figure (see -rA or the junit XML) for the bench."""
    render_card(EIFFEL, 0, 0)  # fonts load on first use
    started = time.perf_counter()
    for variant in range(4):
        render_card(OCTOPUS, 0, variant)
    per_card_ms = (time.perf_counter() - started) / 4 * 1e3
    record_property("card_ms", round(per_card_ms))
    print(f"one 900x1600 card: {per_card_ms:.0f} ms")
