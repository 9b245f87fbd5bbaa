"""``reelfactory render FILE``: a Markdown script file becomes a reel, offline."""

from __future__ import annotations

import argparse
import asyncio
import shutil
from pathlib import Path

from ..app import App
from ..catalog import LANGUAGES, STYLES
from ..models import JobState
from ..runner import Production
from ..settings import Settings
from ..stages.script import read_script_file
from .common import ProgressView, console, progress_bars, timings_table

OUTPUTS = ("reel.mp4", "thumb.jpg", "subs.ass", "script.json", "timings.json")


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
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with await App.open(settings) as app:
        job = await app.new_job(script, style=style, voice=args.voice or settings.default_voice)
        with progress_bars() as progress:
            production = await app.runner.produce(job.id, ProgressView(progress), candidates=1)
        await asyncio.to_thread(_copy_outputs, production, args.out)
        await app.jobs.set_state(job.id, JobState.DELIVERED)
    total = loop.time() - started
    console.print(timings_table(production.timings, total))
    console.print(
        f"[bold green]reel:[/] {args.out / 'reel.mp4'}  "
        f"({production.result['duration']:.1f} s, job {job.id})"
    )
    return 0


def _copy_outputs(production: Production, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        shutil.copyfile(production.work / name, out / name)
