"""Admins' figures for one UTC day: jobs by state, the success rate, stage timings."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from storage import StageRunRecord

from ..models import JobState

logger = logging.getLogger(__name__)

STAGE_ORDER = ("script", "images", "voice", "subtitles", "render", "publish")


@dataclass(frozen=True, slots=True)
class StageFigures:
    stage: str
    runs: int
    p50: float  # seconds
    p95: float


@dataclass(frozen=True, slots=True)
class Stats:
    since: datetime
    jobs: int
    by_state: dict[str, int]
    success_rate: float | None  # delivered / (delivered + failed); None before any finished
    stages: list[StageFigures]
    # Moderation refusals per category (S1..S14, other), issue 13.
    refusals: dict[str, int] = field(default_factory=dict)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (an observed value, no interpolation)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def stage_figures(runs: Iterable[StageRunRecord]) -> list[StageFigures]:
    durations: defaultdict[str, list[float]] = defaultdict(list)
    for run in runs:
        if run.outcome == "ok" and run.duration_ms is not None:
            durations[run.stage].append(run.duration_ms / 1000)
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    return [
        StageFigures(stage, len(values), percentile(values, 0.5), percentile(values, 0.95))
        for stage, values in sorted(
            durations.items(), key=lambda item: (order.get(item[0], len(order)), item[0])
        )
    ]


def build_stats(
    since: datetime,
    by_state: Mapping[str, int],
    runs: Iterable[StageRunRecord],
    *,
    refusals: Mapping[str, int] | None = None,
) -> Stats:
    delivered = by_state.get(JobState.DELIVERED, 0)
    failed = by_state.get(JobState.FAILED, 0)
    finished = delivered + failed
    return Stats(
        since=since,
        jobs=sum(by_state.values()),
        by_state=dict(by_state),
        success_rate=delivered / finished if finished else None,
        stages=stage_figures(runs),
        refusals=dict(refusals or {}),
    )
