"""The package as the Docker image installs it: a wheel built from a ``git archive`` of the
tree (so only tracked files count), installed into a fresh venv with no dev dependencies and
run outside the source tree. ``reelfactory --help`` and an offline render of a 3-scene script
work there, which needs the fonts, migrations and locales inside the wheel. The Dockerfile
and compose.yaml are checked for what the deployment relies on."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """# Three Facts

> Hearts
An octopus has three hearts.

> Blood
Its blood is blue.

> Brains
It has nine brains.
"""


def run(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def archive(into: Path) -> Path:
    """The tracked tree as committed, with uncommitted changes to tracked files (stash create
    makes a commit of them without touching the work tree; empty when there are none)."""
    commit = run("git", "stash", "create", cwd=ROOT).stdout.strip() or "HEAD"
    tar = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True
    ).stdout
    source = into / "source"
    with tarfile.open(fileobj=io.BytesIO(tar)) as bundle:
        bundle.extractall(source, filter="data")
    return source


@pytest.mark.slow
def test_the_wheel_alone_renders_offline(tmp_path: Path) -> None:
    source = archive(tmp_path)
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, source, cwd=tmp_path)
    [wheel] = wheels.glob("reelfactory-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("pipeline/assets/fonts/") and n.endswith(".ttf") for n in names)
    assert "storage/migrations/001_initial.sql" in names
    assert "locales/en.json" in names and not any(n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path, timeout=600)
    installed = run(python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout
    for dev in ("pytest", "ruff", "mypy", "moto"):
        assert f"{dev}==" not in installed.lower()

    work = tmp_path / "elsewhere"  # not the source tree: only the installed package counts
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REELFACTORY_", "PYTHON"))}
    env["REELFACTORY_DATA_DIR"] = str(work / "data")
    help_text = run(venv / "bin" / "reelfactory", "--help", cwd=work, env=env).stdout
    for command in ("render", "serve", "daily", "doctor"):
        assert command in help_text
    where = run(python, "-c", "import pipeline; print(pipeline.__file__)", cwd=work, env=env)
    assert str(venv) in where.stdout

    (work / "facts.md").write_text(SCRIPT, encoding="utf-8")
    run(venv / "bin" / "reelfactory", "render", "facts.md", "--out", "out", cwd=work, env=env)
    reel = work / "out" / "reel.mp4"
    assert reel.stat().st_size > 10_000
    with reel.open("rb") as video:
        assert video.read(12)[4:8] == b"ftyp"


def test_the_image_and_compose_file() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER reel\n" in dockerfile and 'VOLUME ["/data"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert "[dev]" not in dockerfile and "--no-deps" in dockerfile
    compose = (ROOT / "compose.yaml").read_text()
    assert "env_file: .env" in compose and "/data" in compose
    assert "REELFACTORY_HTTP_PORT" in compose
