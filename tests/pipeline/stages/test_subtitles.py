from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageFont

from pipeline.catalog import FONT_BOLD, STYLES, SUBTITLE_FONT_FAMILY, SubtitleStyle
from pipeline.models import WordTiming
from pipeline.stages.subtitles import (
    FONTS_DIR,
    ass_colour,
    build_ass,
    chunk_words,
    escape_ass,
    safe_margin_x,
    write_ass,
)

FPS = 30
WJ = "\u2060"
GERMAN = "Donaudampfschifffahrtsgesellschaftskapitän"  # 42 letters
URL = "https://example.com/articles/2024/a-very-long-slug-for-tests"
assert len(URL) == 60
_DIALOGUE = re.compile(
    r"^Dialogue: 0,(\d+:\d\d:\d\d\.\d\d),(\d+:\d\d:\d\d\.\d\d),Karaoke,,0,0,0,,(.*)$"
)


def timed(text: str, *, start: float = 0.0, step: float = 0.4, scene: int = 0) -> list[WordTiming]:
    return [
        WordTiming(
            text=word, start=start + i * step, end=start + i * step + step - 0.05, scene=scene
        )
        for i, word in enumerate(text.split())
    ]


def centis(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 100)


def events(script: str) -> list[tuple[int, int, str]]:
    found = [_DIALOGUE.match(line) for line in script.splitlines()]
    return [(centis(m[1]), centis(m[2]), m[3]) for m in found if m]


def grid_centis(frame: int, fps: int = FPS) -> int:
    """Where an event must start to show from ``frame`` on: half a frame early, in cs."""
    return max(0, round((frame - 0.5) / fps * 100))


def override_blocks(text: str) -> tuple[list[str], list[str]]:
    """Split event text the way libass does: (override blocks, visible text per line)."""
    blocks: list[str] = []
    lines: list[str] = []
    line, index = "", 0
    while index < len(text):
        if text.startswith(("\\{", "\\}"), index):
            line, index = line + text[index + 1], index + 2
        elif text.startswith(("\\N", "\\n"), index):
            lines, line, index = [*lines, line.replace(WJ, "")], "", index + 2
        elif text[index] == "{" and "}" in text[index:]:
            close = text.index("}", index)
            blocks.append(text[index + 1 : close])
            index = close + 1
        else:
            line, index = line + text[index], index + 1
    return blocks, [*lines, line.replace(WJ, "")]


def font_size(blocks: list[str], style: SubtitleStyle) -> int:
    sizes = [int(block[3:]) for block in blocks if block.startswith("\\fs")]
    return sizes[0] if sizes else style.font_size


@lru_cache(maxsize=32)
def _pillow_font(ass_size: int) -> ImageFont.FreeTypeFont:
    # libass sizes fonts by ascender + descender (1362 units of Noto Sans), Pillow by the em.
    path = str(FONTS_DIR / FONT_BOLD)
    ascent, descent = ImageFont.truetype(path, 1000).getmetrics()
    return ImageFont.truetype(path, ass_size * 1000 / (ascent + descent))


def rendered_width(line: str, size: int, style: SubtitleStyle) -> float:
    pad = 2 * (style.outline + style.shadow) if style.boxed else 2 * style.outline + style.shadow
    return _pillow_font(size).getlength(line) + pad


def assert_fits(script: str, style: SubtitleStyle, width: int = 720) -> None:
    safe = width - 2 * safe_margin_x(width)
    for _, _, text in events(script):
        blocks, lines = override_blocks(text)
        assert len(lines) <= 2, text
        size = font_size(blocks, style)
        for line in lines:
            assert rendered_width(line, size, style) <= safe, (line, size)


# --- escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("{", "\\{"),
        ("}", "\\}"),
        ("\\", "\\" + WJ),
        ("\\N", "\\" + WJ + "N"),
        ("\\n\\h", "\\" + WJ + "n\\" + WJ + "h"),
        ("\\{", "\\" + WJ + "\\{"),
        ("a\nb\tc", "a b c"),
        ("plain, text!", "plain, text!"),
    ],
)
def test_escape_ass(raw: str, escaped: str) -> None:
    assert escape_ass(raw) == escaped


def test_user_text_never_becomes_override_tags() -> None:
    evil = r"{\b0\c&H0000FF&}evil \N text back\ {\h} }{"
    shown: list[str] = []
    for _, _, text in events(build_ass(timed(evil), STYLES["clean-white"])):
        blocks, lines = override_blocks(text)
        assert all(re.fullmatch(r"\\1c&H[0-9A-F]{6}&", block) for block in blocks), blocks
        assert len(lines) <= 2
        if " ".join(lines) not in shown:
            shown.append(" ".join(lines))
    assert " ".join(shown) == evil


# --- chunking -------------------------------------------------------------------------------


def texts(chunks: list[list[WordTiming]]) -> list[str]:
    return [" ".join(word.text for word in chunk) for chunk in chunks]


@pytest.mark.parametrize("count", [2, 3, 5, 6, 7, 9, 13, 20])
def test_chunks_hold_two_to_four_words(count: int) -> None:
    words = timed(" ".join(f"w{i}" for i in range(count)))
    chunks = chunk_words(words, STYLES["bold-yellow"])
    assert all(2 <= len(chunk) <= 4 for chunk in chunks), texts(chunks)
    assert [word for chunk in chunks for word in chunk] == words


def test_chunks_never_cross_scenes() -> None:
    words = (
        timed("one two three four five", scene=0)
        + timed("six seven eight", start=2.0, scene=1)
        + timed("nine", start=3.2, scene=2)
        + timed("ten eleven", start=3.6, scene=3)
    )
    chunks = chunk_words(words, STYLES["bold-yellow"])
    assert all(len({word.scene for word in chunk}) == 1 for chunk in chunks)
    assert texts(chunks)[-2:] == ["nine", "ten eleven"]  # a one-word scene stays alone


def test_chunks_break_after_sentences_and_long_pauses() -> None:
    words = timed("The sky is blue. Water is wet, and ice is cold! Why is that so?")
    chunks = chunk_words(words, STYLES["clean-white"])
    for chunk in chunks:
        assert not any(word.text[-1] in ".!?" for word in chunk[:-1]), texts(chunks)

    paused = timed("one two three") + timed("four five six", start=2.0)
    assert texts(chunk_words(paused, STYLES["clean-white"])) == ["one two three", "four five six"]


def test_chunks_fit_the_safe_width() -> None:
    style = STYLES["bold-yellow"]
    words = timed(
        "Extraordinary incomprehensible circumstances overwhelmed unsuspecting bystanders"
    )
    chunks = chunk_words(words, style)
    assert all(len(chunk) <= 2 for chunk in chunks), texts(chunks)
    assert_fits(build_ass(words, style), style)


# --- timing ---------------------------------------------------------------------------------


def test_times_sit_half_a_frame_before_the_word_frame() -> None:
    words = [
        WordTiming(text="on", start=0.5, end=0.7, scene=0),  # frame 15 exactly
        WordTiming(text="off", start=0.81, end=1.2, scene=0),  # frame 24.3 -> 24
        WordTiming(text="grid", start=1.55, end=2.0, scene=0),  # 46.5 -> 47
    ]
    starts = [start for start, _, text in events(build_ass(words, STYLES["boxed"]))]
    assert starts[0] == grid_centis(15) == 48
    assert grid_centis(24) in starts
    assert grid_centis(47) in starts


def test_events_are_contiguous_on_the_grid_and_never_overlap() -> None:
    words = timed("Octopuses have three hearts. Two pump blood to the gills, one to the body.")
    words += timed("Their blood is blue because of copper.", start=7.0, step=0.33, scene=1)
    found = events(build_ass(words, STYLES["bold-yellow"]))
    grid = {grid_centis(frame) for frame in range(0, 12 * FPS)}
    for start, end, _ in found:
        assert start in grid and end in grid
        assert end > start
    for (_, end, text), (start, _, next_text) in zip(found, found[1:], strict=False):
        assert end <= start
        if override_blocks(text)[1] == override_blocks(next_text)[1]:  # same chunk
            assert end == start


def test_highlight_walks_the_chunk_and_pauses_show_it_unlit() -> None:
    style = STYLES["bold-yellow"]
    lit = "{\\1c&H00D4FF&}"
    words = [
        WordTiming(text="slow", start=0.0, end=0.3, scene=0),
        WordTiming(text="and", start=0.8, end=1.0, scene=0),  # 0.5 s gap: chunk stays, unlit
        WordTiming(text="steady", start=1.03, end=1.5, scene=0),  # 1-frame gap: stays lit
    ]
    found = events(build_ass(words, style))
    assert [text.count(lit) for _, _, text in found] == [1, 0, 1, 1]
    assert found[1][2] == "SLOW AND STEADY"
    assert found[2][2].startswith("SLOW " + lit + "AND")
    assert found[-1][1] == grid_centis(45)


# --- styles and header ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_writes_a_valid_header(name: str, tmp_path: Path) -> None:
    style = STYLES[name]
    path = write_ass(tmp_path / "sub" / "s.ass", timed("hello there"), style, title="A\nTitle")
    script = path.read_text(encoding="utf-8")
    assert script.startswith("[Script Info]\n")
    info = dict(
        line.split(": ", 1) for line in script.split("\n\n")[0].splitlines()[1:] if ": " in line
    )
    assert info["Title"] == "A Title"
    assert info["ScriptType"] == "v4.00+"
    assert (info["PlayResX"], info["PlayResY"]) == ("720", "1280")
    assert info["WrapStyle"] == "2"
    assert info["ScaledBorderAndShadow"] == "yes"
    assert info["YCbCr Matrix"] == "None"  # colours exact on BT.709 video

    lines = script.splitlines()
    names = lines[lines.index("[V4+ Styles]") + 1].removeprefix("Format: ").split(", ")
    values = lines[lines.index("[V4+ Styles]") + 2].removeprefix("Style: ").split(",")
    fields = dict(zip(names, values, strict=True))
    assert fields["Fontname"] == SUBTITLE_FONT_FAMILY
    assert fields["Bold"] == "-1"
    assert fields["PrimaryColour"] == ass_colour(style.text_colour)
    assert all(re.fullmatch(r"&H[0-9A-F]{8}", fields[key]) for key in names if "Colour" in key)
    assert float(fields["Outline"]) == style.outline
    assert fields["BorderStyle"] == ("4" if style.boxed else "1")
    if style.boxed:
        assert fields["BackColour"] == ass_colour(style.box_colour, style.box_alpha)
    assert fields["Alignment"] == "2"
    assert int(fields["MarginL"]) >= 60 and int(fields["MarginR"]) >= 60
    assert 0.70 <= 1 - int(fields["MarginV"]) / 1280 <= 0.76
    assert "[Events]" in lines and len(events(script)) == 2


def test_colours_and_geometry() -> None:
    assert ass_colour("FFD400") == "&H0000D4FF"
    assert ass_colour("#101018", 0x40) == "&H40181010"
    with pytest.raises(ValueError):
        ass_colour("red")
    script = build_ass([], STYLES["boxed"], width=1080, height=1920)
    assert "PlayResX: 1080\nPlayResY: 1920" in script
    assert events(script) == []


# --- long words and scripts ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STYLES))
@pytest.mark.parametrize("word", [GERMAN, URL, "Unverhältnismäßigkeit"])
def test_long_words_shrink_or_break_within_the_safe_width(name: str, word: str) -> None:
    style = STYLES[name]
    script = build_ass(timed(word), style)
    assert_fits(script, style)
    ((_, _, text),) = events(script)
    blocks, lines = override_blocks(text)
    size = font_size(blocks, style)
    shown = word.upper() if style.uppercase else word
    if len(lines) == 2:  # hyphenated only when 60 % of the size would not fit
        assert rendered_width(shown, int(0.6 * style.font_size), style) > 576
        assert shown in (lines[0] + lines[1], lines[0].removesuffix("-") + lines[1])
    else:
        assert lines == [shown]
        assert 0.6 * style.font_size <= size <= style.font_size


def test_cyrillic_is_uppercased_and_fits() -> None:
    style = STYLES["bold-yellow"]
    words = timed("Привет, мир! Осьминоги удивительно умные существа.")
    script = build_ass(words, style)
    assert "ПРИВЕТ, {\\1c&H00D4FF&}МИР!" in script
    assert_fits(script, style)
    assert all(2 <= len(chunk) <= 4 for chunk in chunk_words(words, style))


# --- real ffmpeg + libass --------------------------------------------------------------------


def render_frames(tmp_path: Path, script: str, frames: list[int]) -> list[Image.Image]:
    (tmp_path / "subs.ass").write_text(script, encoding="utf-8")
    select = "+".join(f"eq(n\\,{frame})" for frame in frames)
    seconds = (max(frames) + 2) / FPS
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "warning", "-f", "lavfi",
         "-i", f"color=c=0x305070:s=720x1280:r={FPS}:d={seconds:.3f}",
         "-vf", f"format=rgb24,subtitles=filename=subs.ass:fontsdir={FONTS_DIR},select='{select}'",
         "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        cwd=tmp_path, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    assert "fallback" not in result.stderr.decode()  # every glyph came from the shipped font
    size = 720 * 1280 * 3
    assert len(result.stdout) == size * len(frames)
    return [
        Image.frombytes("RGB", (720, 1280), result.stdout[i * size : (i + 1) * size])
        for i in range(len(frames))
    ]


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int32)


def coordinates(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.nonzero(mask)
    return xs, ys


@pytest.mark.slow
def test_ffmpeg_lights_the_spoken_word_from_its_first_frame(tmp_path: Path) -> None:
    words = [
        # Frames 17 and 32 fall between whole centiseconds (0.5667 s, 1.0667 s): times rounded
        # from the frame itself would land after it and light the word a frame late.
        WordTiming(text="Hello", start=0.0, end=0.5, scene=0),
        WordTiming(text="big", start=17 / FPS, end=0.95, scene=0),
        WordTiming(text="world", start=32 / FPS, end=1.9, scene=0),
    ]
    shots = render_frames(tmp_path, build_ass(words, STYLES["bold-yellow"]), [16, 17, 31, 32])
    centres = []
    for shot in shots:
        rgb = pixels(shot)
        yellow = (rgb[..., 0] > 220) & (abs(rgb[..., 1] - 0xD4) < 30) & (rgb[..., 2] < 70)
        xs, ys = coordinates(yellow)
        assert len(xs) > 300
        assert ys.min() > 1280 * 2 / 3  # lower third
        centres.append(np.array([xs.mean(), ys.mean()]))
    hello, big, big_late, world = centres
    assert np.linalg.norm(big - hello) > 50  # the highlight moved exactly on frame 17
    assert np.linalg.norm(big_late - big) < 3
    assert np.linalg.norm(world - big_late) > 50  # and on frame 32


@pytest.mark.slow
def test_ffmpeg_renders_escapes_literally_and_long_words_inside_margins(tmp_path: Path) -> None:
    style = STYLES["clean-white"]
    words = timed(r"{\b0\c&H0000FF&}evil \N text", step=0.3)
    words += timed(f"{URL} Привет", start=1.0, step=1.0, scene=1)
    shots = render_frames(tmp_path, build_ass(words, style), [5, 45, 75])
    for shot in shots:
        rgb = pixels(shot)
        red = (rgb[..., 0] > 150) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
        assert not red.any()  # the user's \c tag was not applied
        xs, ys = coordinates(abs(rgb - np.array([0x30, 0x50, 0x70])).sum(axis=2) > 60)
        assert len(xs) > 300
        assert xs.min() >= 72 and xs.max() < 720 - 72
        assert ys.max() - ys.min() < 2 * style.font_size + 20  # two lines: \N did not break
        assert ys.min() > 0.60 * 1280 and ys.max() < 0.78 * 1280
