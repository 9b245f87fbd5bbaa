"""Script stage: a Markdown script file (or pasted text) becomes a Script.

Format: the first ``# `` line is the title; each following blank-line separated paragraph is one
scene's narration; a line starting with ``> `` is that scene's visual hint. A hint that is a path
to a local image (relative to the script) or an http(s) image URL is the user's own media.
A ``> music: path-or-URL`` line (anywhere) is the reel's music, ``> music: off`` none.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from ..chain import Served, first_success
from ..errors import InputError
from ..models import Scene, Script
from ..ports import ScriptWriter

MAX_FILE_CHARS = 20_000
MAX_SCENE_CHARS = 600
MAX_SCENES = 40
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"}
AUDIO_SUFFIXES = {".mp3", ".m4a", ".aac", ".wav", ".ogg", ".oga", ".opus", ".flac"}

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_MUSIC_LINE = re.compile(r"^\s*>\s*music\s*:(.*)$", re.IGNORECASE)
_MUSIC_OFF = {"", "off", "none", "no"}
_MUSIC_DEFAULT = {"on", "auto", "default"}
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
# Markdown emphasis is for the eye; the voice should not read asterisks.
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")


def _clean(text: str) -> str:
    """Drop control and format characters (keep newlines and tabs) so hostile bytes go nowhere."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\n\t" or not category.startswith("C"):
            kept.append(char)
    return "".join(kept).replace("\t", " ")


def read_script_file(path: Path, *, language: str = "en") -> Script:
    if not path.is_file():
        raise InputError(f"no such script file: {path}", code="error.file_missing")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not UTF-8 text (bad byte at offset {exc.start})", code="error.not_utf8"
        ) from None
    return parse_script(text, base_dir=path.parent, language=language)


def parse_script(text: str, *, base_dir: Path | None = None, language: str = "en") -> Script:
    if len(text) > MAX_FILE_CHARS:
        raise InputError(
            f"the script has {len(text)} characters; the limit is {MAX_FILE_CHARS}",
            code="error.script_too_long",
            params={"limit": MAX_FILE_CHARS, "length": len(text)},
        )
    text = _clean(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise InputError("the script is empty", code="error.script_empty")

    text, music = _take_music(text, base_dir)
    title, body = _split_title(text)
    scenes = _scenes(body, base_dir)
    if not scenes:
        raise InputError(
            "the script has no scenes: write narration paragraphs", code="error.no_scenes"
        )
    if len(scenes) > MAX_SCENES:
        raise InputError(
            f"the script has {len(scenes)} scenes; the limit is {MAX_SCENES}",
            code="error.too_many_scenes",
            params={"limit": MAX_SCENES, "count": len(scenes)},
        )
    if not title:
        title = _title_from(scenes[0].narration)
    return Script(title=title[:120], language=language, scenes=scenes, music=music)


def _take_music(text: str, base_dir: Path | None) -> tuple[str, str | None]:
    """The script without its ``> music:`` lines, and the last one's choice."""
    choice: str | None = None
    kept: list[str] = []
    for line in text.split("\n"):
        match = _MUSIC_LINE.match(line)
        if match is None:
            kept.append(line)
        else:
            choice = music_choice(match.group(1), base_dir)
            kept.append("")  # the line keeps its paragraph break
    return "\n".join(kept), choice


def music_choice(value: str, base_dir: Path | None = None) -> str | None:
    """A music choice as the pipeline stores it (``Script.music``): ``"off"``; None for the
    default (generated music); an http(s) URL; or the absolute path of an existing audio
    file, relative to ``base_dir``. The studio uses it too, for a track sent in chat."""
    value = value.strip()
    if value.lower() in _MUSIC_OFF:
        return "off"
    if value.lower() in _MUSIC_DEFAULT:
        return None
    if _URL.match(value):
        return value
    path = Path(value).expanduser()
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise InputError(
            f"music: {path.name} is not an audio file ({', '.join(sorted(AUDIO_SUFFIXES))})"
        )
    if not path.is_absolute():
        if base_dir is None:
            raise InputError(f"music: {value} is a file path, but this script has no folder")
        path = base_dir / path
    if not path.is_file():
        raise InputError(f"music file not found: {value}")
    return str(path.resolve())


def _split_title(text: str) -> tuple[str, str]:
    title = ""
    body_lines: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not title and stripped.startswith("# "):
            title = stripped[2:].strip()
        elif stripped.startswith("#"):
            # Further headings are structure for the writer, not narration.
            body_lines.append("")
        else:
            body_lines.append(line)
    return title, "\n".join(body_lines)


def _scenes(body: str, base_dir: Path | None) -> list[Scene]:
    scenes: list[Scene] = []
    pending_hint: str | None = None
    for paragraph in _PARAGRAPH_BREAK.split(body):
        narration_lines, hints = [], []
        for line in paragraph.split("\n"):
            stripped = line.strip()
            if stripped.startswith(">"):
                hints.append(stripped.lstrip(">").strip())
            elif stripped:
                narration_lines.append(stripped)
        hint = " ".join(h for h in hints if h) or None
        narration = _EMPHASIS.sub("", " ".join(narration_lines)).strip()
        if not narration:
            pending_hint = hint or pending_hint
            continue
        scenes.append(_scene(narration, hint or pending_hint, base_dir, len(scenes) + 1))
        pending_hint = None
    return scenes


def _scene(narration: str, hint: str | None, base_dir: Path | None, number: int) -> Scene:
    if len(narration) > MAX_SCENE_CHARS:
        raise InputError(
            f"scene {number} has {len(narration)} characters; the limit is {MAX_SCENE_CHARS}",
            code="error.scene_too_long",
            params={"scene": number, "limit": MAX_SCENE_CHARS, "length": len(narration)},
        )
    media = _media(hint, base_dir, number) if hint else None
    return Scene(
        narration=narration,
        visual_query="" if media else (hint or ""),
        image_prompt="" if media else (hint or ""),
        media=media,
    )


def _media(hint: str, base_dir: Path | None, number: int) -> str | None:
    if _URL.match(hint):
        return hint
    if base_dir is None or Path(hint).suffix.lower() not in IMAGE_SUFFIXES:
        return None
    candidate = (base_dir / hint).resolve()
    if not candidate.is_file():
        raise InputError(
            f"scene {number}: image not found: {hint}",
            code="error.media_missing",
            params={"scene": number, "path": hint},
        )
    return str(candidate)


def _title_from(narration: str) -> str:
    first = re.split(r"(?<=[.!?])\s", narration, maxsplit=1)[0]
    words = first.split()
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "")


MIN_TOPIC_CHARS, MAX_TOPIC_CHARS = 3, 300


def check_topic(topic: str) -> str:
    cleaned = " ".join(_clean(topic).split())
    if not MIN_TOPIC_CHARS <= len(cleaned) <= MAX_TOPIC_CHARS:
        raise InputError(
            f"a topic has {MIN_TOPIC_CHARS} to {MAX_TOPIC_CHARS} characters; this one has "
            f"{len(cleaned)}",
            code="error.topic_length",
            params={"min": MIN_TOPIC_CHARS, "max": MAX_TOPIC_CHARS, "length": len(cleaned)},
        )
    return cleaned


async def draft(
    writers: Sequence[ScriptWriter], topic: str, *, language: str, seconds: int
) -> Served[Script]:
    """A script from the first writer in the chain that delivers a valid one."""
    if not writers:
        raise InputError(
            "no script writer is configured: set REELFACTORY_GEMINI_API_KEY or "
            "REELFACTORY_GROQ_API_KEY, or write the narration yourself",
            code="error.no_llm",
        )
    topic = check_topic(topic)
    return await first_success(
        writers,
        lambda writer: writer.write(topic, language=language, seconds=seconds),
        stage="script",
    )
