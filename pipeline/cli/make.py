"""``reelfactory make TOPIC``: draft a script with an LLM, approve it, and produce the reel."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from storage import JobRecord
from storage.jobs_queries import JobQueries

from ..app import App
from ..catalog import LANGUAGES, STYLES
from ..models import JobState, ProgressEvent, StageTiming
from ..providers import build, extend, preload
from ..resume import cli_deliverer, produce_and_deliver
from ..settings import Settings
from ..stages import script as script_stage
from .common import ProgressView, console, progress_bars, timings_table


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    make = commands.add_parser("make", help="draft a script about TOPIC and produce the reel")
    make.add_argument("topic")
    make.add_argument("--lang", choices=LANGUAGES, default=None, help="narration language")
    make.add_argument("--seconds", type=int, default=45, help="target length (15-90)")
    make.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    make.add_argument("--style", choices=sorted(STYLES), default=None)
    make.set_defaults(run=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    # Only the writers are needed before the LLM answers; the voice and image SDKs load in a
    # thread while it thinks (their imports cost ~0.3 s of start-up otherwise).
    providers = build(settings, parts=("script", "storage"))
    if not providers.writers:
        await providers.aclose()
        console.print(
            "[bold red]error:[/] no LLM key is configured (REELFACTORY_GEMINI_API_KEY or "
            "REELFACTORY_GROQ_API_KEY). Write the narration yourself and run "
            "`reelfactory render FILE`.",
            soft_wrap=True,
        )
        return 2
    seconds = max(15, min(90, args.seconds))
    language = args.lang or settings.default_language
    topic = script_stage.check_topic(args.topic)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with await App.open(settings, providers) as app:
        job_id = app.jobs.new_id()
        await app.jobs.create(
            JobRecord(
                id=job_id,
                state=JobState.DRAFTING,
                language=language,
                style=args.style or settings.default_style,
                voice=settings.default_voice,
                work_dir=str(app.work_dir(job_id)),
                topic=topic,
            )
        )
        # Where `reelfactory resume` delivers this job if the process dies before it ends.
        await JobQueries(app.db).set_deliver_to(job_id, {"out": str(args.out.resolve())})
        timings: list[StageTiming] = []
        with progress_bars() as progress:
            view = ProgressView(progress)
            await view(ProgressEvent("script", 0.0))
            warming = asyncio.create_task(asyncio.to_thread(preload, settings, ("media",)))
            try:
                await _draft(app, job_id, topic, language, seconds, timings)
            finally:
                await warming
            extend(providers, settings, ("media",))
            await view(ProgressEvent("script", 1.0))
            production = await produce_and_deliver(
                app, job_id, cli_deliverer(app), view, candidates=1
            )
        job = await app.jobs.get(job_id)
    assert job is not None and job.script is not None
    console.print(timings_table([*timings, *production.timings], loop.time() - started))
    grounded = "grounded" if job.script.get("grounded") else "not grounded"
    console.print(
        f"[bold green]reel:[/] {args.out / 'reel.mp4'}  ({production.result['duration']:.1f} s, "
        f"{grounded}, job {job_id})",
        soft_wrap=True,
    )
    return 0


async def _draft(
    app: App, job_id: str, topic: str, language: str, seconds: int, timings: list[StageTiming]
) -> None:
    async with app.runner.record(job_id, "script", timings) as stage_run:
        served = await script_stage.draft(
            app.providers.writers, topic, language=language, seconds=seconds
        )
        stage_run.provider, stage_run.attempts = served.provider, served.attempts
    await app.jobs.update(job_id, script=served.value.model_dump(mode="json"))
    await app.jobs.set_state(job_id, JobState.QUEUED)
