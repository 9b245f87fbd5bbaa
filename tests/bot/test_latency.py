"""A button press is answered fast while a render runs (the render is a background task)."""

from __future__ import annotations

import pytest

from pipeline.settings import Settings
from tests.bot.latency import measure


@pytest.mark.slow
async def test_presses_are_answered_fast_while_rendering(settings: Settings) -> None:
    figures = await measure(settings, presses=15, scenes=6, finish=False)
    print(f"press latency while rendering: p50 {figures.p50:.3f} s, p95 {figures.p95:.3f} s")
    assert figures.presses >= 5
    assert figures.p95 < 1.0
