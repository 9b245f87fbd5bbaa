"""``reelfactory daily [--date D] [--dry-run]`` and ``reelfactory summary [--date D] [--send]``:
the scheduler's work run once by hand. They post through the fronts' clients (REST only, see
``bot.channels``), so they live with the fronts, not in ``pipeline.cli``."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pipeline.adapters.trends import build_trend_chain
from pipeline.alerts import Alerter
from pipeline.app import App
from pipeline.cli.common import console
from pipeline.providers import build
from pipeline.settings import Settings
from pipeline.studio import Studio
from scheduler.daily import DailyRun, DayReport
from scheduler.service import send_summary
from storage import AlertRepository

from .channels import Posters, rest_clients

logger = logging.getLogger(__name__)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    daily = commands.add_parser(
        "daily", help="make and post the day's trending reels that are still missing"
    )
    daily.add_argument("--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
    daily.add_argument("--dry-run", action="store_true", help="print the topics it would pick")
    daily.set_defaults(run=run_daily)
    summary = commands.add_parser("summary", help="the admins' daily summary")
    summary.add_argument("--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
    summary.add_argument("--send", action="store_true", help="DM it to every admin")
    summary.set_defaults(run=run_summary)


def today(settings: Settings) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(settings.timezone)).date()


async def run_daily(args: argparse.Namespace, settings: Settings) -> int:
    day: date = args.date or today(settings)
    if not settings.daily_destinations:
        console.print(
            "[bold red]error:[/] no daily destinations: set REELFACTORY_DAILY_DESTINATIONS, "
            "e.g. telegram:-1001234567890@en,discord:112233445566778899@es",
            soft_wrap=True,
        )
        return 2
    async with await App.open(settings, build(settings)) as app:
        studio = Studio(app)
        chain = build_trend_chain(settings)
        try:
            if args.dry_run:
                report = await DailyRun(studio, Posters(), chain).preview(day)
                for language, topics in report.topics.items():
                    for topic in topics:
                        print(f"{day} {language}: {topic}")
                return 0
            async with rest_clients(settings, studio) as clients:
                alerter = Alerter.from_settings(
                    settings, AlertRepository(app.db), clients.notifiers
                )
                report = await DailyRun(studio, clients.posters, chain, alerter=alerter).run(day)
        finally:
            await chain.aclose()
    print_report(report)
    return 0 if report.complete else 1


def print_report(report: DayReport) -> None:
    for name in report.posted:
        print(f"posted {report.day} {name}")
    for name, reason in report.failed.items():
        print(f"failed {report.day} {name}: {reason}")
    print(
        f"{report.day}: {len(report.posted)} posted now, {report.already} before, "
        f"{len(report.failed)} failed"
    )


async def run_summary(args: argparse.Namespace, settings: Settings) -> int:
    day: date = args.date or today(settings)
    async with await App.open(settings) as app:
        studio = Studio(app)
        if not args.send:
            print(await send_summary(studio, None, day))
            return 0
        async with rest_clients(settings, studio) as clients:
            alerter = Alerter.from_settings(settings, AlertRepository(app.db), clients.notifiers)
            print(await send_summary(studio, alerter, day))
    return 0
