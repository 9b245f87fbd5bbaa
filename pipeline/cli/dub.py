"""``reelfactory dub JOB --to es``: the same reel in another narration language (the "Also in …"
button's work): its pictures, its script translated, a new voice and karaoke, a new render,
copied to ``--out``. Run it again after a stop and it finishes the same dub."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from ..app import App
from ..catalog import LANGUAGES
from ..providers import build
from ..resume import cli_deliverer
from ..settings import Settings
from ..studio import Studio
from .common import ProgressView, console, progress_bars, timings_table


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dub = commands.add_parser("dub", help="make a finished reel again in another language")
    dub.add_argument("job", help="the id of a delivered reel (see `reelfactory jobs`)")
    dub.add_argument("--to", choices=LANGUAGES, required=True, help="narration language")
    dub.add_argument("--out", type=Path, default=None, help="output folder (default out-LANG)")
    dub.set_defaults(run=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    out: Path = args.out or Path(f"out-{args.to}")
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with await App.open(settings, build(settings)) as app:
        studio = Studio(app)
        dub = await studio.start_dub(
            None,
            args.job,
            args.to,
            origin="cli",
            facts={"out": str(out.resolve())},
            operator=True,
        )
        if not dub.fresh and dub.job.result is not None:
            console.print(f"job {args.job} already has its {args.to} dub: job {dub.job.id}")
        with progress_bars() as progress:
            view = ProgressView(progress)
            production = await studio.produce(dub.job.id, cli_deliverer(app), view)
    console.print(timings_table(production.timings, loop.time() - started))
    console.print(
        f"[bold green]dub:[/] {out / 'reel.mp4'}  ({production.result['duration']:.1f} s, "
        f"{args.to}, job {dub.job.id}, dubbed from job {args.job})",
        soft_wrap=True,
    )
    return 0
