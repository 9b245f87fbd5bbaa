"""One logging setup for every entry point (``reelfactory ...``, ``python -m bot``).

Short commands log warnings only, so their own output stays readable; the long-running
``serve`` logs at INFO. Libraries that log a line per request or per update are held at
WARNING either way: httpx logs whole URLs (users' media URLs may carry tokens), aiogram one
line per update, discord.py every gateway event.
"""

from __future__ import annotations

import logging

__all__ = ["FORMAT", "QUIET", "setup_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("httpx", "aiogram.event", "discord.gateway", "discord.client", "discord.http")


def setup_logging(level: int = logging.WARNING) -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
