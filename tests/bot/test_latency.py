"""A button press is answered while a render runs: the render is a background task and never
holds up the handlers. How fast is measured by ``make bench``, not asserted here."""

from __future__ import annotations

import pytest

from pipeline.settings import Settings
from tests.bot.latency import measure


@pytest.mark.slow
async def test_presses_are_answered_while_rendering(settings: Settings) -> None:
    figures = await measure(settings, presses=15, scenes=6, finish=False)
    # Only presses answered while the render still held its slot are counted: a handler
    # blocked behind the render would leave none.
    assert figures.presses >= 5
