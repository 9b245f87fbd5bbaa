"""``reelfactory doctor``: which providers, fronts, trend sources and daily destinations are
configured and whether each one answers; whether the providers still serve our models; when
the scheduled runs are next."""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from rich.table import Table

from ..errors import ReelError
from ..providers import build
from ..render import resolve_ffmpeg, run_ffmpeg
from ..settings import Settings
from . import checks as more
from .checks import Check
from .common import console

DEFAULT_BASES = {
    "gemini": "https://generativelanguage.googleapis.com",
    "groq": "https://api.groq.com",
    "elevenlabs": "https://api.elevenlabs.io",
    "google_search": "https://www.googleapis.com",
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = commands.add_parser("doctor", help="say which providers are configured and reachable")
    doctor.add_argument("--timeout", type=float, default=5.0, help="seconds per reachability check")
    doctor.set_defaults(run=run)


async def _reachable(client: httpx.AsyncClient, check: Check, base: str) -> None:
    """Any HTTP answer means the service is reachable; keys are not sent anywhere."""
    started = time.perf_counter()
    try:
        response = await client.get(base)
    except httpx.HTTPError as exc:
        check.reachable, check.detail = False, type(exc).__name__
        return
    elapsed = (time.perf_counter() - started) * 1000
    check.reachable, check.detail = True, f"HTTP {response.status_code} in {elapsed:.0f} ms"


async def _offline(settings: Settings) -> list[Check]:
    checks = [Check("espeak-ng", "voice (offline)", True), Check("ffmpeg", "render", True)]
    try:
        binary = resolve_ffmpeg(settings.ffmpeg_binary)
        await run_ffmpeg(["-version"], binary=binary, timeout=10, stage="doctor")
        checks[1].reachable, checks[1].detail = True, binary
    except (ReelError, OSError) as exc:
        checks[1].reachable, checks[1].detail = False, str(exc)[:80]
    try:
        from ..adapters.espeak import EspeakSynth

        EspeakSynth()
        checks[0].reachable, checks[0].detail = True, "espeakng-loader wheel"
    except Exception as exc:  # noqa: BLE001 - the doctor reports whatever went wrong
        checks[0].reachable, checks[0].detail = False, str(exc)[:80]
    return checks


async def run(args: argparse.Namespace, settings: Settings) -> int:
    remote = [
        Check("gemini", "script, voice, images", settings.gemini_api_key is not None),
        Check("groq", "script, alignment", settings.groq_api_key is not None),
        Check("elevenlabs", "voice", settings.elevenlabs_api_key is not None),
        Check(
            "google_search",
            "images",
            settings.google_search_api_key is not None and bool(settings.google_search_cx),
        ),
    ]
    bases = {
        "gemini": settings.gemini_base_url,
        "groq": settings.groq_base_url,
        "elevenlabs": settings.elevenlabs_base_url,
        "google_search": settings.google_search_base_url,
    }
    async with httpx.AsyncClient(timeout=args.timeout, follow_redirects=False) as client:
        await asyncio.gather(
            *(
                _reachable(client, check, bases[check.provider] or DEFAULT_BASES[check.provider])
                for check in remote
                if check.configured
            )
        )
        fronts = [*await more.fronts(settings, client), await more.youtube(settings, client)]
        destinations = await more.destinations(settings, client)
    checks = [
        *remote,
        *await more.models(settings, args.timeout),
        *await _offline(settings),
        await _storage(settings),
    ]
    scheduled = [*await more.trend_sources(settings, args.timeout), *destinations]
    providers = build(settings)
    chains = providers.describe()
    await providers.aclose()
    console.print(_table(checks))
    console.print(_table(fronts, "chat fronts"))
    console.print(_table(scheduled, "daily reels: trend sources and destinations"))
    for stage, names in chains.items():
        console.print(f"[bold]{stage}[/] chain: {' -> '.join(names) or '(none)'}")
    for line in more.next_runs(settings):
        console.print(line, highlight=False)
    broken = [c for c in (*checks, *fronts, *scheduled) if c.configured and c.reachable is False]
    return 1 if broken else 0


async def _storage(settings: Settings) -> Check:
    if settings.blob_store != "r2":
        return Check("local", "storage", True, True, str(settings.blobs_dir))
    check = Check("r2", "storage", True)
    try:
        from ..adapters.r2 import R2BlobStore

        store = R2BlobStore.from_settings(settings)
        try:
            await store.exists("doctor/probe")
            check.reachable, check.detail = True, f"bucket {settings.r2_bucket}"
        finally:
            await store.aclose()
    except (ReelError, ValueError) as exc:
        check.reachable, check.detail = False, str(exc)[:80]
    return check


def _table(checks: list[Check], title: str = "providers") -> Table:
    table = Table(title=title)
    for column in ("provider", "used for", "configured", "reachable", "detail"):
        table.add_column(column)
    for check in checks:
        reachable = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[check.reachable]
        table.add_row(
            check.provider,
            check.used_for,
            "yes" if check.configured else "[dim]no[/]",
            reachable,
            check.detail,
        )
    return table
