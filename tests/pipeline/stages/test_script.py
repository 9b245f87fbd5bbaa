from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import InputError
from pipeline.stages.script import MAX_FILE_CHARS, parse_script, read_script_file


def write(tmp_path: Path, text: str | bytes, name: str = "s.md") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_title_scenes_and_hints(tmp_path: Path) -> None:
    Image.new("RGB", (10, 10)).save(tmp_path / "mine.jpg")
    path = write(
        tmp_path,
        "# My Title\n\n> a red fox\nThe fox runs.\nIt is **fast**.\n\n"
        "> mine.jpg\nSecond scene.\n\n> https://example.org/x.png\nThird.\n",
    )
    script = read_script_file(path, language="es")
    assert script.title == "My Title"
    assert script.language == "es"
    assert [s.narration for s in script.scenes] == [
        "The fox runs. It is fast.",
        "Second scene.",
        "Third.",
    ]
    assert script.scenes[0].visual_query == "a red fox"
    assert script.scenes[0].media is None
    assert script.scenes[1].media == str((tmp_path / "mine.jpg").resolve())
    assert script.scenes[1].visual_query == ""
    assert script.scenes[2].media == "https://example.org/x.png"


def test_plain_paragraphs_get_a_title() -> None:
    script = parse_script("Cats sleep a lot. They dream too.\n\nThe end.")
    assert script.title == "Cats sleep a lot."
    assert len(script.scenes) == 2


def test_hint_only_paragraph_applies_to_next_scene() -> None:
    script = parse_script("# T\n\n> sunrise\n\nMorning comes.")
    assert script.scenes[0].visual_query == "sunrise"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read_script_file(tmp_path / "nope.md")
    assert err.value.code == "error.file_missing"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "error.script_empty"),
        ("  \n\n \t\n", "error.script_empty"),
        ("# Only a title\n", "error.no_scenes"),
        ("# T\n\n> just a hint\n", "error.no_scenes"),
        ("# T\n\n" + "word " * 130, "error.scene_too_long"),
        ("x" * (MAX_FILE_CHARS + 1), "error.script_too_long"),
    ],
)
def test_bad_input(tmp_path: Path, text: str, code: str) -> None:
    with pytest.raises(InputError) as err:
        read_script_file(write(tmp_path, text))
    assert err.value.code == code
    assert "\n" not in str(err.value)


def test_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read_script_file(write(tmp_path, "# Título\n\nHola".encode("latin-1")))
    assert err.value.code == "error.not_utf8"


def test_missing_local_image(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read_script_file(write(tmp_path, "# T\n\n> gone.png\nText."))
    assert err.value.code == "error.media_missing"


def test_hostile_text_is_cleaned() -> None:
    script = parse_script("# T\x00itle\n\nHello\x07 {\\b1}world\u200e.")
    assert script.title == "Title"
    # Control characters go; braces stay (the subtitle writer escapes them).
    assert script.scenes[0].narration == "Hello {\\b1}world."


def test_scene_limit_counts_characters_not_bytes() -> None:
    script = parse_script("# T\n\n" + "ж" * 600)
    assert len(script.scenes[0].narration) == 600


def test_a_music_line_names_the_reels_track(tmp_path: Path) -> None:
    (tmp_path / "songs").mkdir()
    (tmp_path / "songs" / "calm.mp3").write_bytes(b"ID3")
    script = read_script_file(
        write(tmp_path, "# Title\n> music: songs/calm.mp3\n\nFirst scene.\n\n> a cat\nSecond.")
    )
    assert script.music == str((tmp_path / "songs" / "calm.mp3").resolve())
    assert [s.narration for s in script.scenes] == ["First scene.", "Second."]
    assert script.scenes[1].visual_query == "a cat"  # other hints are untouched


@pytest.mark.parametrize(
    ("line", "music"),
    [
        ("> music: off", "off"),
        ("> Music:   OFF ", "off"),
        ("> music:", "off"),
        ("> music: on", None),
        ("> music: https://example.com/a.mp3", "https://example.com/a.mp3"),
        ("", None),
    ],
)
def test_music_lines_turn_it_off_or_point_at_a_url(line: str, music: str | None) -> None:
    script = parse_script(f"# T\n{line}\n\nOnly scene.")
    assert script.music == music and len(script.scenes) == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("> music: songs/missing.mp3", "music file not found"),
        ("> music: notes.txt", "not an audio file"),
    ],
)
def test_a_bad_music_line_is_a_clear_input_error(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_script_file(write(tmp_path, f"# T\n{line}\n\nOnly scene."))


def test_a_pasted_script_cannot_point_at_a_local_file() -> None:
    with pytest.raises(InputError, match="no folder"):
        parse_script("# T\n> music: song.mp3\n\nOnly scene.")
