"""``reelfactory jobs``, ``resume`` and ``cleanup``: look at jobs, finish the ones a stopped
process left, and free the disk of finished ones."""

from __future__ import annotations

import argparse
from datetime import UTC

from rich import box
from rich.console import Console
from rich.table import Table

from storage import (
    JobRecord,
    JobRepository,
    StageRunRecord,
    StageRunRepository,
    open_database,
)

from ..app import App
from ..cleanup import DEFAULT_CACHE_DAYS, cleanup
from ..models import JobState
from ..resume import RESUMABLE, cli_deliverer, resume_jobs
from ..settings import Settings
from .common import console

stdout = Console()


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = commands.add_parser("jobs", help="list recent jobs with their stages and timings")
    jobs.add_argument("--limit", type=int, default=20, help="how many jobs (newest first)")
    jobs.set_defaults(run=run_jobs)

    resume = commands.add_parser(
        "resume", help="finish the jobs a stopped process left and deliver them"
    )
    resume.set_defaults(run=run_resume)

    clean = commands.add_parser("cleanup", help="remove old work folders and cache entries")
    clean.add_argument(
        "--cache-days",
        type=float,
        default=DEFAULT_CACHE_DAYS,
        help=f"remove cache entries older than this (default {DEFAULT_CACHE_DAYS:g})",
    )
    clean.add_argument("--dry-run", action="store_true", help="only say what would go")
    clean.set_defaults(run=run_cleanup)


async def run_jobs(args: argparse.Namespace, settings: Settings) -> int:
    async with open_database(settings.database) as db:
        jobs = await JobRepository(db).recent(max(args.limit, 1))
        runs = StageRunRepository(db)
        rows = [(job, await runs.for_job(job.id)) for job in jobs]
    if not rows:
        console.print("no jobs yet")
        return 0
    stdout.print(jobs_table(rows))
    return 0


def jobs_table(rows: list[tuple[JobRecord, list[StageRunRecord]]]) -> Table:
    table = Table(title="recent jobs (UTC)", box=box.SIMPLE_HEAD, show_lines=True, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("origin")
    table.add_column("state", min_width=9)
    table.add_column("created", no_wrap=True)
    table.add_column("stages")
    for job, stage_runs in rows:
        state = job.state if not job.error else f"{job.state}\n[dim]{job.error[:120]}[/]"
        table.add_row(
            job.id,
            job.origin,
            state,
            f"{job.created_at.astimezone(UTC):%m-%d %H:%M}",
            "\n".join(_stage_line(run) for run in stage_runs) or "-",
        )
    return table


def _stage_line(run: StageRunRecord) -> str:
    seconds = f"{run.duration_ms / 1000:.2f}s" if run.duration_ms is not None else "…"
    tries = f" ×{run.attempts}" if run.attempts > 1 else ""
    outcome = "" if run.outcome == "ok" else f" [bold]{run.outcome}[/]"
    return f"{run.stage:<9} {run.provider or '-'}{tries} {seconds}{outcome}"


async def run_resume(args: argparse.Namespace, settings: Settings) -> int:
    async with await App.open(settings) as app:
        waiting = await app.jobs.in_states(*RESUMABLE)
        mine = [job for job in waiting if job.origin == "cli"]
        if len(waiting) > len(mine):
            console.print(
                f"{len(waiting) - len(mine)} chat or scheduled job(s) wait for the server "
                "(`reelfactory serve` resumes them)"
            )
        if not mine:
            console.print("nothing to resume")
            return 0
        for job in mine:
            console.print(f"resuming job {job.id} ({job.state}): {job.topic}", highlight=False)
        delivered = set(await resume_jobs(app, {"cli": cli_deliverer(app)}))
        failures = 0
        for job in mine:
            current = await app.jobs.get(job.id)
            if job.id in delivered and current is not None:
                url = (current.result or {}).get("reel_url", "")
                console.print(f"[bold green]done:[/] job {job.id}  {url}", soft_wrap=True)
            elif current is None or current.state != JobState.DELIVERED:
                failures += 1
                state = current.state if current else "missing"
                reason = (current.error if current else None) or "held by another process"
                console.print(
                    f"[bold red]not finished:[/] job {job.id} ({state}): {reason}",
                    soft_wrap=True,
                    highlight=False,
                )
    return 1 if failures else 0


async def run_cleanup(args: argparse.Namespace, settings: Settings) -> int:
    async with open_database(settings.database) as db:
        report = await cleanup(settings, db, cache_days=args.cache_days, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    console.print(
        f"{verb} {report.folders} work folder(s) and {report.files} cache entr"
        f"{'y' if report.files == 1 else 'ies'}: {report.bytes / 1e6:.1f} MB",
        highlight=False,
    )
    return 0
