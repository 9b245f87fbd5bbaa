"""Logs: text by default, JSON with REELFACTORY_LOG_FORMAT=json; every line of a job carries
its id, stage and front (also in tasks the job starts); configured secrets never appear."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.alerts import Scrubber, secrets_of
from pipeline.logs import ContextFilter, current_context, formatter, job_context
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GROQ_KEY = "gsk_" + "Q" * 40
ODD_KEY = "my-own-proxy-secret-42"  # no known key shape: redacted because it is configured
Captured = tuple[logging.Logger, io.StringIO, "logging.StreamHandler[io.StringIO]"]


@pytest.fixture
def captured() -> Iterator[Captured]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("tests.ops.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream, handler
    logger.removeHandler(handler)
    logger.propagate = True


def lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line.strip()]


async def test_json_lines_carry_the_job_stage_and_front(captured: Captured) -> None:
    logger, stream, handler = captured
    handler.setFormatter(formatter("json"))
    logger.info("before any job")
    with job_context(job_id="j123", front="telegram"):
        logger.info("drafting %s", "octopus")
        with job_context(stage="render"):
            # A task started inside the job inherits its context.
            await asyncio.create_task(_log_in_task(logger))
        logger.warning("after the stage")
    logger.info("after the job")
    records = [json.loads(line) for line in lines(stream)]
    assert [r["message"] for r in records] == [
        "before any job",
        "drafting octopus",
        "from a task",
        "after the stage",
        "after the job",
    ]
    assert all({"time", "level", "logger"} <= r.keys() for r in records)
    assert "job_id" not in records[0] and "job_id" not in records[-1]
    assert records[1]["job_id"] == "j123" and records[1]["front"] == "telegram"
    assert "stage" not in records[1]
    assert (records[2]["job_id"], records[2]["stage"], records[2]["front"]) == (
        "j123",
        "render",
        "telegram",
    )
    assert records[3]["level"] == "WARNING" and "stage" not in records[3]
    assert current_context() == {}


async def _log_in_task(logger: logging.Logger) -> None:
    logger.info("from a task")


def test_text_lines_say_the_job_in_brackets(captured: Captured) -> None:
    logger, stream, handler = captured
    handler.setFormatter(formatter("text"))
    with job_context(job_id="j9", stage="voice", front="discord"):
        logger.info("speaking")
    logger.info("idle")
    first, second = lines(stream)
    assert first.endswith("tests.ops.logs [job=j9 stage=voice front=discord]: speaking")
    assert second.endswith("tests.ops.logs: idle")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_reach_the_log(captured: Captured, fmt: str) -> None:
    logger, stream, handler = captured
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, groq_api_key=SecretStr(GROQ_KEY), gemini_api_key=SecretStr(ODD_KEY)
    )
    handler.setFormatter(
        formatter("json" if fmt == "json" else "text", Scrubber(secrets_of(settings)))
    )
    logger.warning("calling with %s and %s", GROQ_KEY, ODD_KEY)
    try:
        raise RuntimeError(f"GET https://api.example/models?key={ODD_KEY} failed")
    except RuntimeError:
        logger.exception("the call failed")
    text = stream.getvalue()
    assert GROQ_KEY not in text and ODD_KEY not in text
    assert text.count("[redacted]") >= 3
    assert "RuntimeError" in text  # the traceback is there, scrubbed


def test_the_environment_picks_the_format(tmp_path: Path) -> None:
    """``setup_logging_for`` as the commands call it, in a fresh interpreter: JSON with the
    variable set, text without, and neither shows the configured key."""
    script = (
        "import logging\n"
        "from pipeline.logs import job_context, setup_logging_for\n"
        "from pipeline.settings import Settings\n"
        "setup_logging_for(Settings(), logging.INFO)\n"
        "with job_context(job_id='abc', stage='script', front='cli'):\n"
        f"    logging.getLogger('probe').info('key is %s', {GROQ_KEY!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELFACTORY_")}
    env.update(PYTHONPATH=str(ROOT), REELFACTORY_GROQ_API_KEY=GROQ_KEY)
    outputs = {}
    for fmt in ("json", None):
        if fmt is not None:
            env["REELFACTORY_LOG_FORMAT"] = fmt
        else:
            env.pop("REELFACTORY_LOG_FORMAT", None)
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        outputs[fmt] = done.stderr.strip()
    record = json.loads(outputs["json"])
    assert record["message"] == "key is [redacted]" and record["logger"] == "probe"
    assert (record["job_id"], record["stage"], record["front"]) == ("abc", "script", "cli")
    assert "probe [job=abc stage=script front=cli]: key is [redacted]" in outputs[None]
    assert GROQ_KEY not in outputs["json"] + outputs[None]


async def test_a_produced_jobs_lines_carry_its_id_and_each_stage(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The runner tags each stage's log lines, so a job's render can be followed in the log."""
    from pipeline.app import App
    from pipeline.stages.script import parse_script

    caplog.set_level(logging.INFO)
    seen: list[dict[str, str]] = []

    class Recording(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.name.startswith("pipeline"):
                seen.append(current_context())

    handler = Recording()
    logging.getLogger().addHandler(handler)
    try:
        async with await App.open(settings) as app:
            script = parse_script("# Hearts\n\nOctopuses have three hearts.\n\nBlue blood.")
            job = await app.new_job(script, style="boxed")
            await app.runner.produce(job.id, candidates=1)
    finally:
        logging.getLogger().removeHandler(handler)
    stages = {c.get("stage") for c in seen if c.get("job_id") == job.id}
    assert {"voice", "render"} <= stages, seen
    assert all(c.get("job_id") == job.id for c in seen if c.get("stage")), seen
