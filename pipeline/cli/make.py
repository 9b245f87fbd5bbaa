"""``reelfactory make TOPIC``: draft a script with an LLM, approve it, and produce the reel,
through the one hands-off path, ``Studio.make``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from storage import JobRecord

from ..app import App
from ..catalog import LANGUAGES, STYLES
from ..models import ProgressEvent
from ..providers import build, extend, preload
from ..resume import cli_deliverer
from ..settings import Settings
from ..studio import Studio
from .common import ProgressView, console, progress_bars, timings_table

CLI = "cli"  # the destination: the --out folder


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
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with await App.open(settings, providers) as app:
        studio = Studio(app)
        with progress_bars() as progress:
            view = ProgressView(progress)
            await view(ProgressEvent("script", 0.0))
            warming = asyncio.create_task(asyncio.to_thread(preload, settings, ("media",)))

            async def drafted(job: JobRecord) -> None:
                await warming
                extend(providers, settings, ("media",))
                await view(ProgressEvent("script", 1.0))

            try:
                made = await studio.make(
                    args.topic,
                    language=language,
                    destinations=[CLI],
                    deliverer=cli_deliverer(app),
                    owner="cli:make",
                    # Where `reelfactory resume` delivers it if the process dies before it ends.
                    facts={"out": str(args.out.resolve())},
                    style=args.style,
                    seconds=seconds,
                    progress=view,
                    drafted=drafted,
                )
            finally:
                if not warming.done():
                    warming.cancel()
        if made.failed:
            raise made.failed[CLI]
    job, production = made.job, made.production
    console.print(timings_table([*made.timings, *production.timings], loop.time() - started))
    grounded = "grounded" if (job.script or {}).get("grounded") else "not grounded"
    console.print(
        f"[bold green]reel:[/] {args.out / 'reel.mp4'}  ({production.result['duration']:.1f} s, "
        f"{grounded}, job {job.id})",
        soft_wrap=True,
    )
    return 0
