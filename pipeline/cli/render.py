"""``reelfactory render FILE``: a Markdown script file becomes a reel, offline."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from storage import DuplicateJob, JobRecord
from storage.jobs_queries import JobQueries

from ..app import App
from ..catalog import LANGUAGES, STYLES
from ..errors import ReelError
from ..models import JobState, Script
from ..resume import cli_deliverer, cli_key, produce_and_deliver
from ..settings import Settings
from ..stages.script import read_script_file
from .common import ProgressView, console, progress_bars, timings_table


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    render = commands.add_parser("render", help="render a Markdown script file into a reel")
    render.add_argument("file", type=Path)
    render.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    render.add_argument("--style", choices=sorted(STYLES), default=None)
    render.add_argument("--voice", default=None, help="voice name for the narration engine")
    render.add_argument("--lang", choices=LANGUAGES, default=None, help="narration language")
    render.set_defaults(run=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    language = args.lang or settings.default_language
    script = read_script_file(args.file, language=language)
    style = args.style or settings.default_style
    voice = args.voice or settings.default_voice
    out = args.out.resolve()
    # The same file, folder and options make the same job: after a crash, running the same
    # command again resumes it instead of starting over.
    key = cli_key(args.file.read_bytes(), out, style=style, voice=voice, language=language)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with await App.open(settings) as app:
        job = await _open_job(app, script, key, out, style=style, voice=voice)
        if job.state == JobState.DELIVERED:
            console.print(
                f"already rendered as job {job.id}: {out / 'reel.mp4'} "
                "(use another --out to render it again)",
                highlight=False,
            )
            return 0
        with progress_bars() as progress:
            production = await produce_and_deliver(
                app,
                job.id,
                cli_deliverer(app),
                ProgressView(progress),
                candidates=1,
                retry_unknown=True,  # a person asked again: a second copy is what they want
            )
    total = loop.time() - started
    console.print(timings_table(production.timings, total))
    console.print(
        f"[bold green]reel:[/] {out / 'reel.mp4'}  "
        f"({production.result['duration']:.1f} s, job {job.id})"
    )
    return 0


async def _open_job(
    app: App, script: Script, key: str, out: Path, *, style: str, voice: str | None
) -> JobRecord:
    try:
        job = await app.new_job(script, style=style, voice=voice, idempotency_key=key)
    except DuplicateJob as duplicate:
        job = duplicate.job
        if job.state == JobState.CANCELLED:
            raise ReelError(f"job {job.id} for this script was cancelled") from None
        if job.state != JobState.DELIVERED:
            console.print(f"resuming job {job.id} ({job.state}) from its last finished stage")
    await JobQueries(app.db).set_deliver_to(job.id, {"out": str(out)})
    return job
