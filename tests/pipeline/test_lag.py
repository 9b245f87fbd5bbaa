"""The loop-lag probe (pipeline.lag) and its figures on /metrics."""

from __future__ import annotations

import asyncio
import time

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Snapshot, exposition
from pipeline.lag import LoopLag, percentile


async def test_a_held_loop_shows_as_lag() -> None:
    async with LoopLag(interval=0.005) as lag:
        while len(lag.samples) < 3:
            await asyncio.sleep(0.005)
        time.sleep(0.2)  # CPU work on the loop: the probe's next wake-up comes this late
        seen = len(lag.samples)
        while len(lag.samples) == seen:
            await asyncio.sleep(0.005)
    assert lag.worst >= 0.15
    assert lag.quantile(1.0) == lag.worst
    assert lag._task is None  # stopped on leaving


def test_percentile_is_an_observed_value() -> None:
    assert percentile([], 0.99) == 0.0
    assert percentile([0.3, 0.1, 0.2], 0.5) == 0.2
    assert percentile([0.1] * 99 + [5.0], 0.99) == 0.1
    assert percentile([0.1] * 98 + [5.0, 6.0], 0.99) == 5.0


def test_lag_and_query_latency_are_exported() -> None:
    snap = Snapshot(
        jobs={},
        runs=[],
        alerts={},
        rendering=0,
        loop_lag={"0.5": 0.001, "0.99": 0.04},
        queries={"read": {"0.99": 0.002}, "write": {"0.99": 0.01}},
    )
    families = {f.name: f for f in text_string_to_metric_families(exposition(snap).decode())}
    lag = {s.labels["quantile"]: s.value for s in families["reelfactory_loop_lag_seconds"].samples}
    assert lag == {"0.5": 0.001, "0.99": 0.04}
    queries = {
        (s.labels["kind"], s.labels["quantile"]): s.value
        for s in families["reelfactory_db_query_seconds"].samples
    }
    assert queries == {("read", "0.99"): 0.002, ("write", "0.99"): 0.01}
