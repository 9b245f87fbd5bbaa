from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.google_trends import FakeGoogleTrends
from tests.fakes.wikipedia import FakeWikipedia


@pytest.fixture
async def wiki() -> AsyncIterator[FakeWikipedia]:
    async with FakeWikipedia() as server:
        yield server


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogleTrends]:
    async with FakeGoogleTrends() as server:
        yield server
