"""`reelfactory make` end to end: real SDKs against the fakes, real espeak and ffmpeg."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pytest

from pipeline.cli import make
from pipeline.render import probe, resolve_ffmpeg
from pipeline.settings import Settings
from storage import Database, JobRepository, StageRunRepository
from tests.fakes.gemini import FakeGemini
from tests.fakes.gemini import status as gemini_status
from tests.fakes.groq import FakeGroq


def args(out: Path, topic: str = "why octopuses have three hearts") -> argparse.Namespace:
    return argparse.Namespace(topic=topic, lang="en", seconds=20, out=out, style=None)


@pytest.mark.slow
async def test_make_with_gemini_down_completes_on_groq_and_espeak(
    settings: Settings, tmp_path: Path
) -> None:
    async with FakeGemini() as gemini, FakeGroq() as groq:
        for kind in ("text", "tts", "image"):
            gemini.push(kind, *(gemini_status(500) for _ in range(60)))  # type: ignore[arg-type]
        configured = settings.model_copy(
            update={
                "gemini_api_key": "gk",
                "gemini_base_url": gemini.base_url,
                "groq_api_key": "qk",
                "groq_base_url": groq.base_url,
                "provider_retries": 2,
                "provider_timeout": 10.0,
            }
        )
        configured = Settings.model_validate(configured.model_dump())
        out = tmp_path / "out"
        assert await make.run(args(out), configured) == 0

    info = await probe(out / "reel.mp4", binary=resolve_ffmpeg())
    assert (info.width, info.height) == (720, 1280)
    assert info.duration > 5
    db = await Database.open(configured.database)
    try:
        (job,) = await JobRepository(db).recent()
        assert job.state == "delivered"
        assert job.script is not None and job.script["grounded"] is False
        runs = {r.stage: r for r in await StageRunRepository(db).for_job(job.id)}
    finally:
        await db.close()
    assert runs["script"].provider == "groq"
    assert runs["script"].attempts == 3  # two tries at Gemini, one at Groq
    assert runs["voice"].provider == "espeak"
    assert runs["voice"].attempts == 3
    assert runs["images"].provider == "cards"
    assert all(r.outcome == "ok" for r in runs.values())
    # Gemini really was tried for each stage before the chain moved on.
    assert len(gemini.of("text")) == 2 and len(gemini.of("tts")) == 2
    assert gemini.of("image")


async def test_make_without_an_llm_stops_at_once(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    assert await make.run(args(tmp_path / "out"), settings) == 2
    assert time.perf_counter() - started < 2
    said = capsys.readouterr().err
    assert "no LLM key" in said and "reelfactory render" in said
    assert not (tmp_path / "out").exists()
