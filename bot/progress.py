"""One progress message per render, edited in place at most once every ``interval`` seconds,
for any front: the front hands over how to edit its message, this decides when and what."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from locales import Translator
from pipeline.models import ProgressEvent

from .presenters import Markup, ProgressBoard

logger = logging.getLogger(__name__)

MIN_EDIT_INTERVAL = 2.0

Edit = Callable[[str], Awaitable[None]]
"""Replaces the progress message's text. It handles its platform's refusals itself (a message
deleted, "not modified"): a failed edit costs one update of the display, never the render."""


class ProgressMessage:
    """The runner's progress callback for one chat message.

    The callback only records the event: a single task edits the message, never sooner than
    ``interval`` after its last edit finished, always with the latest state. A slow or
    rate-limited platform therefore never slows the render.
    """

    def __init__(
        self,
        edit: Edit,
        t: Translator,
        markup: Markup,
        *,
        board: ProgressBoard | None = None,
        interval: float = MIN_EDIT_INTERVAL,
    ) -> None:
        self._edit_message, self.t, self.markup = edit, t, markup
        self.board = board or ProgressBoard()
        self.interval = interval
        self.edits = 0
        self._shown = self.text()
        self._last = time.monotonic()  # sending the message counts as its first edit
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def text(self) -> str:
        return self.board.text(self.t, self.markup)

    async def __call__(self, event: ProgressEvent) -> None:
        self.board.update(event)
        self._changed.set()
        if self._task is None:
            self._task = asyncio.create_task(self._edits(), name="progress-edits")

    async def _edits(self) -> None:
        while True:
            await self._changed.wait()
            await asyncio.sleep(max(0.0, self._last + self.interval - time.monotonic()))
            self._changed.clear()
            await self._edit(self.text())

    async def _edit(self, text: str) -> None:
        if text == self._shown:
            return
        try:
            await self._edit_message(text)
            self._shown = text
            self.edits += 1
        finally:
            self._last = time.monotonic()

    async def stop(self) -> None:
        """Stop editing, leaving the message as it is."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def close(self, final: str | None = None) -> None:
        """Stop editing; show ``final`` (or the latest state) last, still keeping the interval."""
        await self.stop()
        if final is None:
            final = self.text() if self._changed.is_set() else None
        if final is not None:
            await asyncio.sleep(max(0.0, self._last + self.interval - time.monotonic()))
            await self._edit(final)
