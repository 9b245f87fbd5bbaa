"""A fixture for tests that run discord.py: fail when it logs an error it swallowed (a failing
callback, an unparsable event), which would otherwise pass unnoticed."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert not errors, errors
