"""``reelfactory dub JOB --to es`` on a reel ``reelfactory render`` finished, as a user runs it:
the real command in a subprocess, its translations from the fake Groq served by this loop."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.cli.test_jobs import ROOT, sql
from tests.fakes.groq import FakeGroq
from tests.fakes.scripts import OCTOPUS


async def _cli(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pipeline.cli",
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.mark.slow
async def test_dub_a_finished_job_into_spanish(tmp_path: Path) -> None:
    script = tmp_path / "octopus.md"
    script.write_text("\n\n".join(["# Octopus", *OCTOPUS["en"][:3]]), encoding="utf-8")
    async with FakeGroq() as groq:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELFACTORY_")}
        env.update(
            PYTHONPATH=str(ROOT),
            COLUMNS="160",
            REELFACTORY_DATA_DIR=str(tmp_path / "data"),
            REELFACTORY_GROQ_API_KEY="gsk-test",
            REELFACTORY_GROQ_BASE_URL=groq.base_url,
            REELFACTORY_MUSIC_ENABLED="false",
        )
        code, output = await _cli(tmp_path, env, "render", str(script), "--out", "out")
        assert code == 0, output
        [(parent,)] = sql(tmp_path, "SELECT id FROM jobs")

        code, output = await _cli(tmp_path, env, "dub", str(parent), "--to", "es")
        assert code == 0, output
        assert "dubbed from job" in output
        again, output_again = await _cli(tmp_path, env, "dub", str(parent), "--to", "es")
        assert again == 0 and "already has its es dub" in output_again

        bad, refused = await _cli(tmp_path, env, "dub", "nosuchjob", "--to", "es")
        assert bad == 2 and "nosuchjob" in refused
    out = tmp_path / "out-es"
    assert (out / "reel.mp4").stat().st_size > 10_000
    spoken = [w["text"] for w in json.loads((out / "timings.json").read_text("utf-8"))]
    spanish = [w for line in OCTOPUS["es"][:3] for w in line.split()]
    assert spoken == spanish
    rows = sql(
        tmp_path, "SELECT id, language, state, idempotency_key FROM jobs ORDER BY created_at"
    )
    assert [(r[1], r[2]) for r in rows] == [("en", "delivered"), ("es", "delivered")]
    assert rows[1][3] == f"dub:{parent}:es"
    assert len(groq.of("chat")) == 4  # three scenes and the title, once: the second run made none
