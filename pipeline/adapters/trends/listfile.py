"""The offline fallback: topics from a plain text file the operator keeps.

One topic a line; blank lines and lines starting with ``#`` are ignored. A line may start with
``[xx]`` to offer the topic only to destinations in language ``xx``, e.g. ``[es] La historia
del chocolate``; other lines suit every language. The file is read on every call, so edits
apply at the next run. Each day starts at a different line, so without a history the days
still differ; the repeat filter does the rest.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

from ...errors import ProviderError
from ...ports import Trend

NAME = "list"
MAX_LINE_CHARS = 300
_PREFIX = re.compile(r"\[([a-z]{2,3})\]\s*(.*)")


def parse_list(text: str, *, language: str) -> list[str]:
    topics: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line or line.startswith("#"):
            continue
        prefix = _PREFIX.fullmatch(line)
        if prefix:
            if prefix.group(1) != language:
                continue
            line = prefix.group(2)
        if line and len(line) <= MAX_LINE_CHARS:
            topics.append(line)
    return topics


class ListTrends:
    """The ``TrendSource`` over a text file; works with no network at all."""

    name = NAME

    def __init__(self, path: Path) -> None:
        self.path = path

    async def trends(self, day: date, *, language: str) -> list[Trend]:
        try:
            text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
        except FileNotFoundError:
            raise ProviderError(
                f"the topic list {self.path} does not exist", provider=NAME
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProviderError(
                f"the topic list {self.path} cannot be read ({type(exc).__name__})", provider=NAME
            ) from None
        topics = parse_list(text, language=language)
        if not topics:
            raise ProviderError(
                f"the topic list {self.path} has no topic for {language}", provider=NAME
            )
        start = day.toordinal() % len(topics)
        ordered = topics[start:] + topics[:start]
        return [Trend(title=topic, source=NAME, language=language) for topic in ordered]
