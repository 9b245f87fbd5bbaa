"""Prometheus figures of ``serve``, read from the database and the app when scraped, so no other
module keeps counters: a ``Snapshot`` is read asynchronously (SQLite through the repositories),
then a custom prometheus-client ``Collector`` turns it into metric families.

Jobs, stage runs and alert events are kept in SQLite for good (cleanup removes files, not
rows), so the ``_total`` counters only grow, across restarts too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from pipeline.app import App
from pipeline.lag import LoopLag, percentile
from pipeline.models import JobState
from storage import AlertRepository, StageRunRecord, StageRunRepository, UsageRepository

from .health import Health

BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WAITING = (JobState.QUEUED, JobState.PRODUCING)
QUANTILES = (0.5, 0.95, 0.99)


@dataclass(slots=True)
class Snapshot:
    jobs: dict[str, int]  # state -> jobs stored
    runs: list[StageRunRecord]
    alerts: dict[str, int]  # sent | muted | recovered | undelivered
    rendering: int
    parts: dict[str, bool] = field(default_factory=dict)
    last_daily: datetime | None = None
    next_daily: datetime | None = None
    loop_lag: dict[str, float] = field(default_factory=dict)  # quantile -> seconds late
    queries: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> quantiles

    @property
    def queued(self) -> int:
        """Jobs approved and not finished: waiting for the render queue, or in it."""
        return sum(self.jobs.get(state, 0) for state in WAITING)


async def queue_length(app: App) -> int:
    jobs = await UsageRepository(app.db).job_states_since(EPOCH)
    return sum(jobs.get(state, 0) for state in WAITING)


async def snapshot(
    app: App,
    health: Health,
    *,
    last_daily: datetime | None = None,
    next_daily: datetime | None = None,
    lag: LoopLag | None = None,
) -> Snapshot:
    until = datetime.now(UTC) + timedelta(days=1)
    times = app.db.times
    queries = {
        kind: _quantiles(list(values))
        for kind, values in (("read", times.reads), ("write", times.writes))
        if values
    }
    return Snapshot(
        jobs=await UsageRepository(app.db).job_states_since(EPOCH, until),
        runs=await StageRunRepository(app.db).since(EPOCH, until),
        alerts=await AlertRepository(app.db).counts_between(EPOCH, until),
        rendering=len(app.queue.running),
        parts={name: part.up for name, part in health.parts.items()},
        last_daily=last_daily,
        next_daily=next_daily,
        loop_lag=_quantiles(list(lag.samples)) if lag is not None and lag.samples else {},
        queries=queries,
    )


def _quantiles(values: list[float]) -> dict[str, float]:
    return {str(q): percentile(values, q) for q in QUANTILES}


class SnapshotCollector(Collector):
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        snap = self.snap
        up = GaugeMetricFamily("reelfactory_up", "1 while the part is connected", labels=["part"])
        for name, is_up in sorted(snap.parts.items()):
            up.add_metric([name], 1.0 if is_up else 0.0)
        yield up
        jobs = GaugeMetricFamily("reelfactory_jobs", "Jobs stored, by state", labels=["state"])
        for state in JobState:
            jobs.add_metric([str(state)], snap.jobs.get(state, 0))
        yield jobs
        yield GaugeMetricFamily(
            "reelfactory_queue_length", "Approved jobs not finished yet", value=snap.queued
        )
        yield GaugeMetricFamily(
            "reelfactory_rendering", "Jobs holding a render slot", value=snap.rendering
        )
        yield from _stages(snap.runs)
        yield from _recent(snap)
        alerts = CounterMetricFamily(
            "reelfactory_alerts", "What the alerter did, by action", labels=["action"]
        )
        for action, count in sorted(snap.alerts.items()):
            alerts.add_metric([action], count)
        yield alerts
        for which, moment in (("last", snap.last_daily), ("next", snap.next_daily)):
            if moment is not None:
                yield GaugeMetricFamily(
                    f"reelfactory_daily_{which}_run_timestamp_seconds",
                    f"When the daily run {'last ended' if which == 'last' else 'runs next'}",
                    value=moment.timestamp(),
                )


def _stages(runs: list[StageRunRecord]) -> Iterator[Metric]:
    outcomes: Counter[tuple[str, str]] = Counter()
    durations: defaultdict[str, list[float]] = defaultdict(list)
    for run in runs:
        outcomes[(run.stage, run.outcome or "running")] += 1
        if run.outcome == "ok" and run.duration_ms is not None:
            durations[run.stage].append(run.duration_ms / 1000)
    counted = CounterMetricFamily(
        "reelfactory_stage_runs", "Stage runs, by stage and outcome", labels=["stage", "outcome"]
    )
    for (stage, outcome), count in sorted(outcomes.items()):
        counted.add_metric([stage, outcome], count)
    yield counted
    histogram = HistogramMetricFamily(
        "reelfactory_stage_duration_seconds",
        "How long successful stage runs took",
        labels=["stage"],
    )
    for stage, values in sorted(durations.items()):
        buckets = [(str(bound), sum(v <= bound for v in values)) for bound in BUCKETS]
        buckets.append(("+Inf", len(values)))
        histogram.add_metric([stage], buckets, sum_value=sum(values))
    yield histogram


def _recent(snap: Snapshot) -> Iterator[Metric]:
    """Quantiles of recent samples (a gauge each: they are not cumulative)."""
    if snap.loop_lag:
        lag = GaugeMetricFamily(
            "reelfactory_loop_lag_seconds",
            "How late the event loop ran due work, recent samples",
            labels=["quantile"],
        )
        for quantile, value in snap.loop_lag.items():
            lag.add_metric([quantile], value)
        yield lag
    if snap.queries:
        queries = GaugeMetricFamily(
            "reelfactory_db_query_seconds",
            "Database query latency (waits included), recent queries",
            labels=["kind", "quantile"],
        )
        for kind, quantiles in sorted(snap.queries.items()):
            for quantile, value in quantiles.items():
                queries.add_metric([kind, quantile], value)
        yield queries


def exposition(snap: Snapshot) -> bytes:
    """The Prometheus text format of ``snap``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snap))
    return generate_latest(registry)


__all__ = ["Snapshot", "SnapshotCollector", "exposition", "queue_length", "snapshot"]
