"""Crash tests: ``reelfactory render`` killed with SIGKILL at three points, then ``resume``.

Each run renders a 3-scene script (about 8 s of narration) in a subprocess that publishes to
moto's S3 on 127.0.0.1, and is killed (a) in the voice stage, (b) while ffmpeg encodes, (c)
after the render with every other asset up but before the reel's upload. ``reelfactory resume``
must then finish the job: every asset once in the bucket, nothing else there, one delivery.
(a) and (c) use the runner's failpoint (the process kills itself there); (b) is watched from
outside, as ffmpeg's output appears in the render's temporary folder, and the whole process
group is killed, as a container stop would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

from tests.fakes.s3 import CONFIG, S3Endpoint, moto_s3, s3_server
from tests.pipeline.test_runner import ASSETS, SHORT_SCRIPT

__all__ = ["moto_s3", "s3_server"]  # fixtures, used by name

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 60.0


class Cli:
    """Runs ``python -m pipeline.cli`` with its own data folder, publishing to moto."""

    def __init__(self, tmp_path: Path, s3: S3Endpoint) -> None:
        self.cwd = tmp_path
        self.data = tmp_path / "data"
        self.out = tmp_path / "out"
        self.script = tmp_path / "facts.md"
        self.script.write_text(SHORT_SCRIPT, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELFACTORY_")}
        env.update(
            PYTHONPATH=str(ROOT),
            REELFACTORY_DATA_DIR=str(self.data),
            REELFACTORY_BLOB_STORE="r2",
            REELFACTORY_R2_ENDPOINT_URL=s3.endpoint_url,
            REELFACTORY_R2_BUCKET=s3.bucket,
            REELFACTORY_R2_ACCESS_KEY_ID=s3.access_key_id,
            REELFACTORY_R2_SECRET_ACCESS_KEY=s3.secret_access_key,
            REELFACTORY_R2_PUBLIC_BASE_URL="https://cdn.test",
        )
        self.env = env

    def start(self, *args: str, failpoint: str | None = None) -> subprocess.Popen[bytes]:
        env = dict(self.env)
        if failpoint is not None:
            env["REELFACTORY_FAILPOINT"] = failpoint
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", *args],
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ffmpeg included
        )

    def render(self, failpoint: str | None = None) -> subprocess.Popen[bytes]:
        return self.start("render", str(self.script), "--out", str(self.out), failpoint=failpoint)

    def run(self, *args: str) -> tuple[int, str]:
        proc = self.start(*args)
        output, _ = proc.communicate(timeout=DEADLINE)
        return proc.returncode, output.decode(errors="replace")

    def sql(self, query: str, *args: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data / "reelfactory.db") as conn:
            return conn.execute(query, args).fetchall()


@pytest.fixture
def cli(tmp_path: Path, s3_server: S3Endpoint) -> Cli:
    return Cli(tmp_path, s3_server)


@pytest.fixture
def bucket(s3_server: S3Endpoint) -> Iterator[Any]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key_id,
        aws_secret_access_key=s3_server.secret_access_key,
        config=CONFIG,
    )
    try:
        yield client
    finally:
        client.close()


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=DEADLINE)


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def encoding_started(data: Path) -> bool:
    return any(p.stat().st_size > 0 for p in data.glob("work/*/.reel.*.render/reel.mp4"))


def finished(cli: Cli) -> set[str]:
    return {stage for (stage,) in cli.sql("SELECT stage FROM stage_runs WHERE outcome = 'ok'")}


# Each crash returns the stages the resume must run: the rest is already done.


def killed_in_voice(cli: Cli) -> list[str]:
    proc = cli.render(failpoint="voice")
    proc.communicate(timeout=DEADLINE)
    assert proc.returncode == -signal.SIGKILL
    assert ("voice", "running") in cli.sql("SELECT stage, outcome FROM stage_runs")
    images = [] if "images" in finished(cli) else ["images"]
    return ["voice", "music", *images, "subtitles", "render", "publish"]


def killed_mid_render(cli: Cli) -> list[str]:
    proc = cli.render()
    try:
        wait_for(lambda: encoding_started(cli.data), "ffmpeg to start writing the reel")
    finally:
        kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    assert ("render", "running") in cli.sql("SELECT stage, outcome FROM stage_runs")
    assert not list(cli.data.glob("work/*/reel.mp4"))
    assert finished(cli) == {"voice", "music", "images", "subtitles"}
    return ["render", "publish"]


def killed_before_reel_upload(cli: Cli) -> list[str]:
    proc = cli.render(failpoint="before_reel_upload")
    proc.communicate(timeout=DEADLINE)
    assert proc.returncode == -signal.SIGKILL
    assert ("render", "ok") in cli.sql("SELECT stage, outcome FROM stage_runs")
    uploaded = [key for (key,) in cli.sql("SELECT key FROM uploads")]
    # Everything but the reel and its share page, which follow it.
    assert len(uploaded) == len(ASSETS) - 2
    assert not any(k.endswith(("reel.mp4", "index.html")) for k in uploaded)
    return ["publish"]


@pytest.mark.parametrize(
    "crash",
    [killed_in_voice, killed_mid_render, killed_before_reel_upload],
    ids=["voice", "mid-render", "before-reel-upload"],
)
def test_a_killed_render_resumes_and_is_published_and_delivered_once(
    cli: Cli, bucket: Any, s3_server: S3Endpoint, crash: Any
) -> None:
    left_to_do = crash(cli)
    [(job_id, state, created)] = cli.sql("SELECT id, state, created_at FROM jobs")
    assert state == "producing"
    before = cli.sql("SELECT COUNT(*) FROM stage_runs")[0][0]
    uploaded_before = {key for (key,) in cli.sql("SELECT key FROM uploads")}

    started = time.monotonic()
    code, output = cli.run("resume")
    resumed_in = time.monotonic() - started
    assert code == 0, output
    print(f"{crash.__name__}: resumed and delivered in {resumed_in:.2f} s")

    assert cli.sql("SELECT state FROM jobs") == [("delivered",)]
    assert "running" not in {outcome for (outcome,) in cli.sql("SELECT outcome FROM stage_runs")}
    ran = cli.sql("SELECT stage, outcome FROM stage_runs WHERE id > ? ORDER BY id", before)
    assert sorted(ran) == sorted((stage, "ok") for stage in left_to_do)
    assert cli.sql("SELECT target, state FROM deliveries") == [("cli", "sent")]
    prefix = f"reels/{created[:10].replace('-', '/')}/{job_id}"
    listing = bucket.list_objects_v2(Bucket=s3_server.bucket)
    objects = {item["Key"]: item["Size"] for item in listing.get("Contents", [])}
    assert sorted(objects) == sorted(f"{prefix}/{name}" for name in ASSETS)
    assert all(size > 0 for size in objects.values())
    assert not bucket.list_multipart_uploads(Bucket=s3_server.bucket).get("Uploads")
    reel = bucket.get_object(Bucket=s3_server.bucket, Key=f"{prefix}/reel.mp4")["Body"].read()
    assert reel == (cli.out / "reel.mp4").read_bytes()
    assert reel[4:8] == b"ftyp"
    ledger = dict(cli.sql("SELECT key, size FROM uploads"))
    assert ledger == objects
    if crash is killed_before_reel_upload:  # the resume sent the reel, its page, nothing else
        assert set(ledger) - uploaded_before == {f"{prefix}/reel.mp4", f"{prefix}/index.html"}

    # Nothing is left to do: a second resume runs no stage and delivers nothing.
    runs = cli.sql("SELECT COUNT(*) FROM stage_runs")
    code, output = cli.run("resume")
    assert code == 0 and "nothing to resume" in output
    assert cli.sql("SELECT COUNT(*) FROM stage_runs") == runs
    assert cli.sql("SELECT COUNT(*) FROM deliveries") == [(1,)]
