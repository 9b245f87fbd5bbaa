"""The admins' daily summary: the figures of one local day, from storage, and a plain-text
rendering of them (English; the fronts may localise later).

The day runs from midnight to midnight in ``settings.timezone``. Jobs count by the day they were
created; stage timings and fallbacks by the day each stage run started; daily reels by their run
date; alerts by when the alerter acted. Stage percentiles and the success rate come from
``pipeline.studio.stats``, the same figures ``/stats`` shows.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage import (
    AlertRepository,
    DailyPost,
    DailyPostRepository,
    Database,
    StageRunRecord,
    StageRunRepository,
    UsageRepository,
)

from .cleanup import _size as folder_size
from .destinations import parse_destinations
from .models import JobState
from .settings import Settings
from .studio.stats import Stats, build_stats

USER_MEDIA = "user"  # images the user sent: not a provider, never a fallback


@dataclass(frozen=True, slots=True)
class Fallback:
    """``runs`` stage runs of ``stage`` were served (at least partly) by ``served_by`` instead
    of the chain's first provider, ``primary``."""

    stage: str
    primary: str
    served_by: str
    runs: int


@dataclass(frozen=True, slots=True)
class DailyFigures:
    destination: str
    wanted: int  # reels the settings ask for (0 for a destination no longer configured)
    posted: int
    failed: int
    pending: int  # claimed or made, not posted yet
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Summary:
    day: date
    timezone: str
    start: datetime
    end: datetime
    stats: Stats
    served: dict[str, dict[str, int]]  # stage -> provider -> successful runs
    fallbacks: list[Fallback]
    daily: list[DailyFigures]
    alerts: dict[str, int]  # sent | muted | recovered | undelivered
    disk: dict[str, int] = field(default_factory=dict)  # bytes: work, cache, blobs

    @property
    def made(self) -> int:
        return self.stats.by_state.get(JobState.DELIVERED, 0)

    @property
    def failed(self) -> int:
        return self.stats.by_state.get(JobState.FAILED, 0)

    @property
    def cancelled(self) -> int:
        return self.stats.by_state.get(JobState.CANCELLED, 0)

    @property
    def in_progress(self) -> int:
        return self.stats.jobs - self.made - self.failed - self.cancelled


def day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight (23 or 25 hours across a DST change)."""
    zone = ZoneInfo(timezone)
    return (
        datetime.combine(day, time(), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(), tzinfo=zone),
    )


def served_by(runs: Iterable[StageRunRecord]) -> dict[str, dict[str, int]]:
    """Successful runs per stage and provider. An images run served by several sources
    ("cards+google_search") counts for each."""
    served: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for run in runs:
        if run.outcome != "ok" or not run.provider:
            continue
        for provider in run.provider.split("+"):
            served[run.stage][provider] += 1
    return {stage: dict(counts.most_common()) for stage, counts in sorted(served.items())}


def fallbacks(
    runs: Iterable[StageRunRecord], chains: Mapping[str, Sequence[str]]
) -> list[Fallback]:
    """Runs served by a provider other than the first of their stage's chain (as built:
    ``Providers.describe()``, so a provider without a key is not counted as failing)."""
    found: Counter[tuple[str, str, str]] = Counter()
    for run in runs:
        chain = chains.get(run.stage)
        if run.outcome != "ok" or not run.provider or not chain:
            continue
        for provider in set(run.provider.split("+")) - {chain[0], USER_MEDIA}:
            found[(run.stage, chain[0], provider)] += 1
    return [
        Fallback(stage, primary, provider, runs)
        for (stage, primary, provider), runs in sorted(found.items())
    ]


def daily_figures(
    posts: Iterable[DailyPost], configured: Sequence[str], per_destination: int
) -> list[DailyFigures]:
    """Per destination: the configured ones in their order, then any other that has rows."""
    grouped: defaultdict[str, list[DailyPost]] = defaultdict(list)
    for post in posts:
        grouped[post.key.destination].append(post)
    order = list(dict.fromkeys([*configured, *sorted(grouped)]))
    figures = []
    for destination in order:
        rows = grouped.get(destination, [])
        states = Counter(post.state for post in rows)
        figures.append(
            DailyFigures(
                destination=destination,
                wanted=per_destination if destination in configured else 0,
                posted=states["posted"],
                failed=states["failed"],
                pending=states["claimed"] + states["made"],
                errors=tuple(post.error for post in rows if post.state == "failed" and post.error),
            )
        )
    return figures


def _disk(settings: Settings) -> dict[str, int]:
    folders = {"work": settings.work_dir, "cache": settings.cache_dir}
    if settings.blob_store == "local":
        folders["blobs"] = settings.blobs_dir
    return {name: folder_size(path) if path.is_dir() else 0 for name, path in folders.items()}


async def build_summary(
    db: Database,
    settings: Settings,
    day: date,
    *,
    chains: Mapping[str, Sequence[str]] | None = None,
) -> Summary:
    """The figures of ``day`` (local to ``settings.timezone``). ``chains`` (stage -> provider
    names in order, e.g. ``Providers.describe()``) enables the fallback counts."""
    start, end = day_window(day, settings.timezone)
    by_state = await UsageRepository(db).job_states_since(start, end)
    runs = await StageRunRepository(db).since(start, end)
    configured = [d.key for d in parse_destinations(settings.daily_destinations)]
    posts = await DailyPostRepository(db).for_date(day)
    return Summary(
        day=day,
        timezone=settings.timezone,
        start=start,
        end=end,
        stats=build_stats(start, by_state, runs),
        served=served_by(runs),
        fallbacks=fallbacks(runs, chains or {}),
        daily=daily_figures(posts, configured, settings.daily_count),
        alerts=await AlertRepository(db).counts_between(start, end),
        disk=await asyncio.to_thread(_disk, settings),
    )


def _human(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_summary(summary: Summary) -> str:
    """Plain text, one figure a line, for a DM."""
    lines = [f"Reel Factory: daily summary for {summary.day} ({summary.timezone})"]
    rate = summary.stats.success_rate
    lines.append(
        f"Jobs: {summary.stats.jobs} in all: {summary.made} made, {summary.failed} failed, "
        f"{summary.cancelled} cancelled, {summary.in_progress} in progress; success rate "
        + (f"{rate:.0%}" if rate is not None else "n/a")
    )
    if summary.stats.stages:
        lines.append("Stage times, p50 / p95:")
        lines += [
            f"  {s.stage}: {s.p50:.1f} s / {s.p95:.1f} s ({s.runs} runs)"
            for s in summary.stats.stages
        ]
    if summary.served:
        lines.append("Served by:")
        lines += [
            f"  {stage}: " + ", ".join(f"{name} {n}" for name, n in providers.items())
            for stage, providers in summary.served.items()
        ]
    if summary.fallbacks:
        lines.append("Fallbacks:")
        lines += [f"  {f.stage}: {f.primary} -> {f.served_by} {f.runs}" for f in summary.fallbacks]
    else:
        lines.append("Fallbacks: none")
    if summary.daily:
        lines.append("Daily reels:")
        for d in summary.daily:
            line = f"  {d.destination}: {d.posted}" + (f" of {d.wanted}" if d.wanted else "")
            line += " posted"
            if d.failed:
                line += f", {d.failed} failed ({'; '.join(d.errors)[:120]})"
            if d.pending:
                line += f", {d.pending} pending"
            lines.append(line)
    alerts = summary.alerts
    lines.append(
        f"Alerts: {alerts.get('sent', 0)} sent, {alerts.get('muted', 0)} muted, "
        f"{alerts.get('recovered', 0)} recovered"
        + (f", {alerts['undelivered']} undelivered" if alerts.get("undelivered") else "")
    )
    lines.append("Disk: " + ", ".join(f"{k} {_human(v)}" for k, v in summary.disk.items()))
    return "\n".join(lines)


__all__ = [
    "DailyFigures",
    "Fallback",
    "Summary",
    "build_summary",
    "day_window",
    "format_summary",
]
