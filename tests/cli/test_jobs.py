"""The CLI's durable side: `render` again resumes the same job, `jobs`, `resume`, `cleanup`."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.test_runner import SHORT_SCRIPT

ROOT = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, *args: str, failpoint: str | None = None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELFACTORY_")}
    env.update(PYTHONPATH=str(ROOT), REELFACTORY_DATA_DIR=str(tmp_path / "data"), COLUMNS="160")
    if failpoint is not None:
        env["REELFACTORY_FAILPOINT"] = failpoint
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout + proc.stderr


def sql(tmp_path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "data" / "reelfactory.db") as conn:
        return conn.execute(query).fetchall()


@pytest.mark.slow
def test_render_again_after_a_crash_resumes_the_same_job(tmp_path: Path) -> None:
    script = tmp_path / "facts.md"
    script.write_text(SHORT_SCRIPT, encoding="utf-8")
    render = ("render", str(script), "--out", str(tmp_path / "out"))

    code, output = cli(tmp_path, *render, failpoint="before_reel_upload")
    assert code == -signal.SIGKILL, output
    [(job_id, key)] = sql(tmp_path, "SELECT id, idempotency_key FROM jobs")
    assert isinstance(job_id, str)
    assert str(key).startswith("cli:")

    code, output = cli(tmp_path, *render)
    assert code == 0, output
    assert f"resuming job {job_id}" in output
    assert sql(tmp_path, "SELECT id, state FROM jobs") == [(job_id, "delivered")]
    assert sql(tmp_path, "SELECT target, state FROM deliveries") == [("cli", "sent")]
    assert (tmp_path / "out" / "reel.mp4").stat().st_size > 0

    code, output = cli(tmp_path, *render)
    assert code == 0 and "already rendered" in output, output
    assert len(sql(tmp_path, "SELECT id FROM jobs")) == 1

    code, output = cli(tmp_path, "jobs", "--limit", "5")
    assert code == 0, output
    assert job_id in output and "delivered" in output
    assert "interrupted" in output  # the publish run the kill cut short
    assert "render" in output and "ffmpeg" in output

    code, output = cli(tmp_path, "resume")
    assert code == 0 and "nothing to resume" in output, output

    code, output = cli(tmp_path, "cleanup", "--dry-run")
    assert code == 0 and "would remove 0 work folder(s)" in output, output


def test_jobs_on_an_empty_database(tmp_path: Path) -> None:
    code, output = cli(tmp_path, "jobs")
    assert code == 0 and "no jobs yet" in output, output
