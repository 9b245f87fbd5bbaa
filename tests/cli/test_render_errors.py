"""`reelfactory render` refuses bad scripts with one line and a non-zero exit, touching nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such script file"),
        (b"", "the script is empty"),
        (b"# Only a title\n", "no scenes"),
        (b"# T\n\n" + b"word " * 130, "scene 1 has 649 characters; the limit is 600"),
        (b"x" * 20_001, "the limit is 20000"),
        ("# Título\n\nHola".encode("latin-1"), "is not UTF-8"),
    ],
)
def test_bad_script_exits_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    reason: str,
) -> None:
    monkeypatch.setenv("REELFACTORY_DATA_DIR", str(tmp_path / "data"))
    script = tmp_path / "script.md"
    if content is not None:
        script.write_bytes(content)
    code = main(["render", str(script), "--out", str(tmp_path / "out")])
    said = capsys.readouterr().err.strip()
    assert code == 2
    assert reason in said
    assert said.count("\n") == 0
    assert not (tmp_path / "out").exists() and not (tmp_path / "data").exists()
