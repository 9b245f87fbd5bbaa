"""A refused download keeps nothing alive through its error (issue 15: under load, 28 kept
errors held 443 MB of bodies read up to the cap)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ProviderError
from pipeline.fetch import ImageFetcher
from tests.fakes.google_search import FakeGoogleSearch


def _buffers(error: BaseException) -> list[int]:
    """The sizes of the byte buffers the frames of ``error``'s traceback still hold."""
    sizes, tb = [], error.__traceback__
    while tb is not None:
        sizes += [
            len(value)
            for value in tb.tb_frame.f_locals.values()
            if isinstance(value, bytes | bytearray)
        ]
        tb = tb.tb_next
    return sizes


async def test_a_kept_error_holds_no_body(tmp_path: Path) -> None:
    async with (
        FakeGoogleSearch() as fake,
        ImageFetcher(
            cache_dir=tmp_path / "cache", allow_hosts=["127.0.0.1"], max_bytes=2**20, timeout=5
        ) as fetcher,
    ):
        with pytest.raises(ProviderError) as caught:
            await fetcher.fetch(fake.url("/huge"), tmp_path / "x")
    assert _buffers(caught.value)  # the body is still referenced from the frame...
    # ...but emptied: a chunk of the stream at most, not the megabyte read before the refusal.
    assert max(_buffers(caught.value)) <= 64 * 1024
