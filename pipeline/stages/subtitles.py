"""Word-level karaoke subtitles as an ASS script for ffmpeg's libass ``subtitles`` filter.

A chunk of 2-4 words stays on screen while its words are spoken; one Dialogue event per word
interval redraws the chunk with the spoken word in the highlight colour. Chunks are laid out
here (WrapStyle 2 turns libass's own wrapping off) and measured with Pillow against the same
TTF libass loads from ``fontsdir``, so nothing runs under the platforms' overlays.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from ..catalog import FONT_BOLD, SUBTITLE_FONT_FAMILY, SubtitleStyle
from ..models import WordTiming

FONTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
_FONT_PATH = FONTS_DIR / FONT_BOLD
_STYLE_NAME = "Karaoke"

MAX_WORDS = 4
LONG_PAUSE = 0.6  # seconds of silence that end a chunk
MIN_SHRINK = 0.6  # below this fraction of the base size a long word is hyphenated instead
# A highlight that went dark for a few frames between two words reads as flicker, so gaps this
# short keep the previous word lit; a chunk also stays up through a gap this short before the next.
HOLD_HIGHLIGHT = 0.12
HOLD_CHUNK = 0.5

# Reels/TikTok/Shorts draw captions, buttons and the progress bar over the bottom ~20% and a
# column on the right: keep the text's bottom edge at 75% of the height, 10% in from the sides.
_MARGIN_X_FRACTION = 0.10
_MIN_MARGIN_X = 60
_MARGIN_BOTTOM_FRACTION = 0.25

_SENTENCE_END = frozenset(".!?…。！？")
_CLAUSE_END = frozenset(",;:，；：、")
_CLOSERS = "\"'»«”“’‘)]}›"
# Breaking a long word after one of these needs no added hyphen (URLs, paths, compounds).
_NATURAL_BREAKS = frozenset("-/_.&?=#–—")

_SIZE_COST = {1: 10.0, 2: 1.0, 3: 0.0, 4: 0.5}
_LONE_SENTENCE_COST = 3.0  # "Wow." on its own reads fine; a stranded mid-sentence word does not
_INNER_SENTENCE_END = 6.0
_INNER_CLAUSE_END = 2.5
_INNER_PAUSE = 8.0
_PHRASE_BREAK = 1.5  # ending a chunk where the text does not pause at all


def escape_ass(text: str) -> str:
    r"""Make user text render literally: no override blocks, no ``\N``/``\n``/``\h``.

    libass reads ``\{`` and ``\}`` as literal braces. A backslash gets a word joiner (U+2060,
    zero width; HarfBuzz hides it) after it, so it can never pair with the next character --
    including the ``{`` of an override tag this module appends after the word.
    """
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return cleaned.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


def ass_colour(rgb: str, alpha: int = 0) -> str:
    """``RRGGBB`` -> ``&HAABBGGRR`` (alpha 00 opaque .. FF transparent)."""
    return f"&H{alpha:02X}{_bgr(rgb)}"


def _bgr(rgb: str) -> str:
    value = rgb.removeprefix("#").upper()
    if len(value) != 6 or any(ch not in "0123456789ABCDEF" for ch in value):
        raise ValueError(f"not an RRGGBB colour: {rgb!r}")
    return value[4:6] + value[2:4] + value[0:2]


def safe_margin_x(width: int) -> int:
    return max(_MIN_MARGIN_X, round(width * _MARGIN_X_FRACTION))


@lru_cache(maxsize=64)
def _font(pixel_size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_FONT_PATH), pixel_size)


@lru_cache(maxsize=1)
def _em_per_font_size() -> float:
    # libass sizes a font by its line height (ascender + descender), not by its em as Pillow
    # does: ASS size 66 of Noto Sans is a 48.5 px em. Measured equal to libass's ink widths.
    reference = 1000
    ascent, descent = _font(reference).getmetrics()
    return reference / (ascent + descent)


def _text_width(text: str, size: float) -> float:
    return _font(size * _em_per_font_size()).getlength(text)


def _padding(style: SubtitleStyle) -> float:
    # Outline on both sides, shadow on one; BorderStyle 4 pads its box by both, all round.
    shadow = max(style.shadow, 0)
    return 2 * (style.outline + shadow) if style.boxed else 2 * style.outline + shadow


def _fit_size(text: str, style: SubtitleStyle, safe_width: float) -> int:
    """The largest font size, at most the style's, at which ``text`` fits on one line."""
    room = safe_width - _padding(style)
    size = style.font_size
    width = _text_width(text, size)
    if width <= room:
        return size
    size = max(1, math.floor(size * room / width))
    while size > 1 and _text_width(text, size) > room:
        size -= 1
    return size


@dataclass(frozen=True, slots=True)
class _Layout:
    words: tuple[str, ...]  # escaped display text; a hyphenated word carries its own \N
    break_after: int | None = None  # index of the word that ends the first line
    font_size: int | None = None  # \fs override for a word shrunk to fit


def _layout(texts: list[str], style: SubtitleStyle, safe_width: float) -> _Layout | None:
    """One line if it fits, else the most balanced two lines; None when two are not enough."""
    if len(texts) == 1:
        return _layout_word(texts[0], style, safe_width)
    room = safe_width - _padding(style)
    escaped = tuple(escape_ass(text) for text in texts)
    if _text_width(" ".join(texts), style.font_size) <= room:
        return _Layout(escaped)
    widest_line = {
        split: max(
            _text_width(" ".join(texts[:split]), style.font_size),
            _text_width(" ".join(texts[split:]), style.font_size),
        )
        for split in range(1, len(texts))
    }
    split = min(widest_line, key=widest_line.__getitem__)
    if widest_line[split] > room:
        return None
    return _Layout(escaped, break_after=split - 1)


def _layout_word(text: str, style: SubtitleStyle, safe_width: float) -> _Layout:
    size = _fit_size(text, style, safe_width)
    if size >= MIN_SHRINK * style.font_size or len(text) < 2:
        return _Layout((escape_ass(text),), font_size=None if size == style.font_size else size)
    head, tail = _hyphenate(text, style.font_size)
    size = min(_fit_size(head, style, safe_width), _fit_size(tail, style, safe_width))
    return _Layout(
        (f"{escape_ass(head)}\\N{escape_ass(tail)}",),
        font_size=None if size == style.font_size else size,
    )


def _hyphenate(text: str, size: int) -> tuple[str, str]:
    """Split a word into two lines as evenly as possible, preferring its own break points."""
    best: tuple[float, str, str] | None = None
    for index in range(1, len(text)):
        if unicodedata.combining(text[index]):
            continue  # never strand an accent from its letter
        head, tail = text[:index], text[index:]
        natural = head[-1] in _NATURAL_BREAKS
        if not natural:
            head += "-"
        widest = max(_text_width(head, size), _text_width(tail, size))
        score = widest * (0.9 if natural else 1.0)
        if best is None or score < best[0]:
            best = (score, head, tail)
    assert best is not None  # len(text) >= 2
    return best[1], best[2]


def _display(word: WordTiming, style: SubtitleStyle) -> str:
    text = word.text.strip()
    return text.upper() if style.uppercase else text


def _ends(text: str, marks: frozenset[str]) -> bool:
    stripped = text.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in marks


def _pause_after(words: list[WordTiming], index: int) -> float:
    return words[index + 1].start - words[index].end if index + 1 < len(words) else 0.0


def _chunk_cost(words: list[WordTiming], start: int, stop: int) -> float:
    size = stop - start
    cost = _SIZE_COST[size]
    lone_sentence = start == 0 or _ends(words[start - 1].text, _SENTENCE_END)
    if size == 1 and lone_sentence and _ends(words[start].text, _SENTENCE_END):
        cost = _LONE_SENTENCE_COST
    for index in range(start, stop - 1):
        if _ends(words[index].text, _SENTENCE_END):
            cost += _INNER_SENTENCE_END
        elif _ends(words[index].text, _CLAUSE_END):
            cost += _INNER_CLAUSE_END
        if _pause_after(words, index) > LONG_PAUSE:
            cost += _INNER_PAUSE
    last = stop - 1
    if stop < len(words) and not (
        _ends(words[last].text, _SENTENCE_END | _CLAUSE_END)
        or _pause_after(words, last) > LONG_PAUSE
    ):
        cost += _PHRASE_BREAK
    return cost


def _chunk_scene(
    words: list[WordTiming], style: SubtitleStyle, safe_width: float
) -> list[tuple[list[WordTiming], _Layout]]:
    """Cheapest split of one scene's words into chunks (dynamic programming from the end)."""
    texts = [_display(word, style) for word in words]
    count = len(words)
    best: list[tuple[float, int, _Layout]] = [(0.0, count, _Layout(()))] * (count + 1)
    for start in range(count - 1, -1, -1):
        options: list[tuple[float, int, _Layout]] = []
        for stop in range(start + 1, min(start + MAX_WORDS, count) + 1):
            layout = _layout(texts[start:stop], style, safe_width)
            if layout is None:
                break  # more words will not fit either
            options.append((_chunk_cost(words, start, stop) + best[stop][0], stop, layout))
        best[start] = min(options, key=lambda option: option[0])
    chunks: list[tuple[list[WordTiming], _Layout]] = []
    start = 0
    while start < count:
        _, stop, layout = best[start]
        chunks.append((words[start:stop], layout))
        start = stop
    return chunks


def _plan(
    words: list[WordTiming], style: SubtitleStyle, width: int
) -> list[tuple[list[WordTiming], _Layout]]:
    safe_width = width - 2 * safe_margin_x(width)
    spoken = [word for word in words if word.text.strip()]
    plan: list[tuple[list[WordTiming], _Layout]] = []
    for _, scene in itertools.groupby(spoken, key=lambda word: word.scene):
        plan.extend(_chunk_scene(list(scene), style, safe_width))
    return plan


def chunk_words(
    words: list[WordTiming], style: SubtitleStyle, *, width: int = 720
) -> list[list[WordTiming]]:
    """Group words into on-screen chunks: 2-4 words, never across a scene, each fitting."""
    return [chunk for chunk, _ in _plan(words, style, width)]


def _frame(seconds: float, fps: int) -> int:
    return max(0, math.floor(seconds * fps + 0.5))


def _timestamp(frame: int, fps: int) -> str:
    # Half a frame early: the filter truncates to whole ms and shows an event that starts
    # exactly on a frame one frame late. Centisecond rounding (<= 5 ms) stays inside the frame.
    seconds = max(Fraction(0), (Fraction(frame) - Fraction(1, 2)) / fps)
    centis = math.floor(seconds * 100 + Fraction(1, 2))
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def _event_text(layout: _Layout, highlight: int | None, style: SubtitleStyle) -> str:
    parts = [f"{{\\fs{layout.font_size}}}"] if layout.font_size is not None else []
    last = len(layout.words) - 1
    for index, word in enumerate(layout.words):
        if index == highlight:
            parts.append(f"{{\\1c&H{_bgr(style.highlight_colour)}&}}{word}")
            if index < last:
                parts.append(f"{{\\1c&H{_bgr(style.text_colour)}&}}")
        else:
            parts.append(word)
        if index < last:
            parts.append("\\N" if index == layout.break_after else " ")
    return "".join(parts)


def _chunk_events(
    chunk: list[WordTiming], next_start: float | None, fps: int, cursor: int
) -> list[tuple[int, int, int | None]]:
    """(start frame, end frame, highlighted word or None) for one chunk, starting >= cursor."""
    hold, linger = round(HOLD_HIGHLIGHT * fps), round(HOLD_CHUNK * fps)
    events: list[tuple[int, int, int | None]] = []
    for index, word in enumerate(chunk):
        start = max(_frame(word.start, fps), cursor)
        end = max(_frame(word.end, fps), start)
        if index + 1 < len(chunk):
            following: int | None = max(_frame(chunk[index + 1].start, fps), end)
        elif next_start is not None and _frame(next_start, fps) - end <= linger:
            following = max(_frame(next_start, fps), end)
        else:
            following = None
        if following is None:
            end = max(end, start + 1)  # the chunk's last word gets at least one frame
        elif following - end <= hold:
            end = following
        events.append((start, end, index))
        if following is not None and following > end:
            events.append((end, following, None))
        cursor = following if following is not None else end
    return [event for event in events if event[1] > event[0]]


# "YCbCr Matrix: None" keeps colours exact: without it the filter treats them as BT.601 and
# shifts them on our BT.709 video (FFD400 came out FFCA00). Kerning matches Pillow's layout.
# Style: bold, no italic/underline/strike-out, no scaling/spacing/rotation, bottom centre.
_HEADER = """\
[Script Info]
; Reel Factory karaoke subtitles
Title: {title}
ScriptType: v4.00+
PlayResX: {width}
PlayResY: {height}
WrapStyle: 2
ScaledBorderAndShadow: yes
Kerning: yes
YCbCr Matrix: None

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: {name},{font},{size},{primary},{secondary},{outline_colour},{back},-1,0,0,0,100,100,0,0,\
{border_style},{outline:g},{shadow:g},2,{margin_x},{margin_x},{margin_v},1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"""


def _header(style: SubtitleStyle, width: int, height: int, title: str) -> str:
    if style.boxed:
        # libass's BorderStyle 3 draws a box per colour run and per line, and a translucent box
        # shows every overlap as a dark seam that follows the highlight. BorderStyle 4 (libass
        # only) fills one rectangle per event with BackColour, padded by Outline; the outline
        # itself is made invisible.
        border_style, outline_colour = 4, ass_colour(style.outline_colour, 0xFF)
        back = ass_colour(style.box_colour, style.box_alpha)
    else:
        border_style, outline_colour = 1, ass_colour(style.outline_colour)
        back = ass_colour(style.outline_colour, 0x80)
    return _HEADER.format(
        title=" ".join(title.split()),  # one header line; override tags mean nothing there
        width=width,
        height=height,
        name=_STYLE_NAME,
        font=SUBTITLE_FONT_FAMILY,
        size=style.font_size,
        primary=ass_colour(style.text_colour),
        secondary=ass_colour(style.highlight_colour),
        outline_colour=outline_colour,
        back=back,
        border_style=border_style,
        outline=style.outline,
        shadow=style.shadow,
        margin_x=safe_margin_x(width),
        margin_v=round(height * _MARGIN_BOTTOM_FRACTION),
    )


def build_ass(
    words: list[WordTiming],
    style: SubtitleStyle,
    *,
    width: int = 720,
    height: int = 1280,
    fps: int = 30,
    title: str = "",
) -> str:
    """The whole ASS script: header, one style, one Dialogue event per word interval."""
    if fps <= 0 or width <= 0 or height <= 0:
        raise ValueError(f"bad frame geometry {width}x{height}@{fps}")
    plan = _plan(words, style, width)
    lines = [_header(style, width, height, title)]
    cursor = 0
    for position, (chunk, layout) in enumerate(plan):
        next_start = plan[position + 1][0][0].start if position + 1 < len(plan) else None
        for start, end, highlight in _chunk_events(chunk, next_start, fps, cursor):
            text = _event_text(layout, highlight, style)
            lines.append(
                f"Dialogue: 0,{_timestamp(start, fps)},{_timestamp(end, fps)},"
                f"{_STYLE_NAME},,0,0,0,,{text}"
            )
            cursor = end
    return "\n".join(lines) + "\n"


def write_ass(
    path: Path,
    words: list[WordTiming],
    style: SubtitleStyle,
    *,
    width: int = 720,
    height: int = 1280,
    fps: int = 30,
    title: str = "",
) -> Path:
    script = build_ass(words, style, width=width, height=height, fps=fps, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script, encoding="utf-8")
    return path
