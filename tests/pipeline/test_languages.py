"""Every narration language end to end: a draft from the fake Gemini through the real adapter,
espeak's voice, karaoke subtitles and a real render, checked down to the pixels of one frame.

Each reel is two scenes (the two of the drafted script with the most letters beyond ASCII), on
plain stills, so seven renders stay quick and the highlight colour is unambiguous.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from pipeline import catalog
from pipeline.adapters.espeak import EspeakSynth
from pipeline.adapters.gemini import GeminiScriptWriter
from pipeline.models import VoiceChoice, WordTiming
from pipeline.queue import LocalRenderQueue as RenderQueue
from pipeline.render import probe, resolve_ffmpeg, run_ffmpeg
from pipeline.settings import Settings
from pipeline.stages import render as render_stage
from pipeline.stages import voice as voice_stage
from pipeline.stages.base import JobContext, read_json
from pipeline.stages.subtitles import FONTS_DIR, write_ass
from tests.fakes.gemini import FakeGemini
from tests.fakes.scripts import OCTOPUS

STYLE = catalog.STYLES[catalog.DEFAULT_STYLE]  # upper-case words, yellow highlight
HIGHLIGHT = tuple(int(STYLE.highlight_colour[i : i + 2], 16) for i in (0, 2, 4))

# Every letter each language writes (lower case; upper case is checked too), not only the
# ones the fakes' scripts happen to use.
ALPHABETS = {
    "en": "abcdefghijklmnopqrstuvwxyz",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "es": "abcdefghijklmnopqrstuvwxyzáéíóúüñ¿¡",
    "de": "abcdefghijklmnopqrstuvwxyzäöüß",
    "fr": "abcdefghijklmnopqrstuvwxyzàâæçéèêëîïôœùûüÿ«»",
    "it": "abcdefghijklmnopqrstuvwxyzàèéìíîòóùú",
    "pt": "abcdefghijklmnopqrstuvwxyzáâãàçéêíóôõú",
}
# Fonts that draw text: subtitles (libass) and the offline cards.
FONTS = (catalog.FONT_BOLD, catalog.FONT_REGULAR, catalog.FONT_DISPLAY)


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


@pytest.mark.parametrize("name", FONTS)
def test_the_shipped_fonts_draw_every_letter_of_every_language(name: str) -> None:
    """Render and compare: a character the font lacks comes out as its .notdef box (tofu),
    the same bitmap as a private-use code point that no font maps."""
    font = ImageFont.truetype(str(FONTS_DIR / name), 48)
    tofu = _glyph(font, "\ue000")
    assert _glyph(font, "\U0001f419") == tofu  # the probe itself: an octopus emoji is tofu here
    letters = {c for alphabet in ALPHABETS.values() for c in alphabet + alphabet.upper()}
    letters |= {c for lines in OCTOPUS.values() for line in lines for c in line.upper() + line}
    missing = sorted(c for c in letters - {" "} if _glyph(font, c) == tofu)
    assert missing == []


def _richest_two(narrations: list[str]) -> list[int]:
    """The two scenes, in order, that together show the most distinct non-ASCII letters."""
    special = [{c for c in text if ord(c) > 127 and c.isalpha()} for text in narrations]
    pairs = [(a, b) for a in range(len(narrations)) for b in range(a + 1, len(narrations))]
    best = max(pairs, key=lambda pair: (len(special[pair[0]] | special[pair[1]]), -pair[0]))
    return list(best)


def _still(path: Path, shade: int) -> Path:
    # Dark, flat and far from yellow: any yellow in the subtitle band is the highlight.
    Image.new("RGB", (1080, 1920), (shade, shade + 6, shade + 16)).save(path, quality=92)
    return path


_DIALOGUE = re.compile(r"^Dialogue: 0,(\d+):(\d\d):(\d\d\.\d\d),(\d+):(\d\d):(\d\d\.\d\d),(.*)$")
_TAG = re.compile(r"\{[^}]*\}")


def _seconds(h: str, m: str, s: str) -> float:
    return int(h) * 3600 + int(m) * 60 + float(s)


def _event_at(ass: str, at: float) -> str:
    """The text field (with override tags) of the Dialogue shown at ``at`` seconds."""
    for line in ass.splitlines():
        if (match := _DIALOGUE.match(line)) is None:
            continue
        start, end = _seconds(*match.group(1, 2, 3)), _seconds(*match.group(4, 5, 6))
        if start <= at < end:
            return match.group(7).split(",", 6)[6]
    raise AssertionError(f"no subtitle event at {at:.2f} s")


def _highlighted(event: str) -> str:
    colour = f"{{\\1c&H{STYLE.highlight_colour[4:6]}{STYLE.highlight_colour[2:4]}"
    colour += f"{STYLE.highlight_colour[0:2]}&}}"
    after = event.split(colour, 1)[1]
    return after.split("{", 1)[0].split("\\N", 1)[0].strip()


async def _frame(video: Path, at: float, out: Path) -> np.ndarray:
    await run_ffmpeg(
        ["-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1", str(out)],
        binary=resolve_ffmpeg(),
        timeout=30,
        stage="test",
    )
    return np.asarray(Image.open(out).convert("RGB"), dtype=np.int16)


@pytest.mark.slow
@pytest.mark.parametrize("language", catalog.LANGUAGES)
async def test_a_reel_in_every_narration_language(
    language: str, settings: Settings, tmp_path: Path
) -> None:
    # 1. Draft: the fake answers in the language asked; the real adapter checks the language.
    async with FakeGemini() as gemini:
        writer = GeminiScriptWriter("gk", base_url=gemini.base_url, timeout=10, attempts=1)
        try:
            drafted = await writer.write(
                "why octopuses have three hearts", language=language, seconds=20
            )
        finally:
            await writer.aclose()
    assert drafted.language == language
    narrations = [scene.narration for scene in drafted.scenes]
    assert narrations == list(OCTOPUS[language])
    chosen = _richest_two(narrations)
    script = drafted.model_copy(update={"scenes": [drafted.scenes[i] for i in chosen]})
    expected = [word for i in chosen for word in narrations[i].split()]

    # 2. Voice (espeak, offline) and its word timings.
    work = tmp_path / "job"
    work.mkdir()
    ctx = JobContext(
        job_id=f"lang-{language}",
        script=script,
        work=work,
        voice=VoiceChoice(language=language),
        style=STYLE,
        settings=settings,
    )
    served = await voice_stage.run(ctx, [EspeakSynth()])
    assert served.provider == "espeak"
    timings = [WordTiming.model_validate(w) for w in read_json(ctx.path("timings.json"))]
    assert [w.text for w in timings] == expected  # the script's words, diacritics and all
    assert all(unicodedata.is_normalized("NFC", w.text) for w in timings)
    assert [w.scene for w in timings] == [
        i for i, n in enumerate(chosen) for _ in narrations[n].split()
    ]

    # 3. Karaoke subtitles hold every word, as displayed (upper case in this style).
    subs = write_ass(ctx.path("subs.ass"), timings, STYLE, title=script.title)
    ass = subs.read_text(encoding="utf-8")
    shown = " ".join(
        _TAG.sub("", m.group(7).split(",", 6)[6]).replace("\\N", " ")
        for line in ass.splitlines()
        if (m := _DIALOGUE.match(line))
    ).split()
    for word in expected:
        assert word.upper() in shown, word

    # 4. Render the reel.
    stills = [_still(tmp_path / f"still{i}.jpg", 24 + 10 * i) for i in range(2)]
    await render_stage.run(
        ctx, served.value, stills, voice_stage.audio_path(ctx), subs, RenderQueue(1)
    )
    info = await probe(ctx.path(render_stage.REEL), binary=resolve_ffmpeg())
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(served.value.duration, abs=0.5)

    # 5. A frame in the middle of the word richest in special letters shows it highlighted.
    known = max(timings, key=lambda w: (sum(ord(c) > 127 for c in w.text), w.end - w.start))
    at = (known.start + known.end) / 2
    event = _event_at(ass, at)
    assert _highlighted(event) == known.text.upper()
    frame = await _frame(ctx.path(render_stage.REEL), at, tmp_path / "frame.png")
    band = frame[int(0.45 * 1280) : int(0.8 * 1280)]
    distance = np.abs(band - np.array(HIGHLIGHT, dtype=np.int16)).sum(axis=2)
    ys, xs = np.nonzero(distance < 90)
    assert xs.size > 400, "no highlighted word in the subtitle band"
    assert (np.abs(frame[: int(0.45 * 1280)] - HIGHLIGHT).sum(axis=2) < 90).sum() == 0
    # The yellow run is as wide as the word's ink drawn with the shipped font at the event's
    # size: a missing glyph (a box, or nothing) would change the width. libass sizes a font by
    # its line height (ascender + descender), Pillow by its em.
    size = re.search(r"\\fs(\d+)", event)
    ascent, descent = ImageFont.truetype(str(FONTS_DIR / catalog.FONT_BOLD), 1000).getmetrics()
    em = (int(size.group(1)) if size else STYLE.font_size) * 1000 / (ascent + descent)
    font = ImageFont.truetype(str(FONTS_DIR / catalog.FONT_BOLD), round(em))
    left, _, right, _ = font.getbbox(known.text.upper())
    drawn = int(xs.max() - xs.min() + 1)
    # Measured 3-8 px narrower: the colour test drops the edge pixels that blend into the
    # black outline. A neighbour word, or none, would be far off.
    assert -12 <= drawn - (right - left) <= 4, (drawn, right - left)
