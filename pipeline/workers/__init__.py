"""Render work that may run elsewhere: the render itself (``rendering``), how its files travel
(``staging``), and the configured render queue (``build_render_queue``)."""

from __future__ import annotations

from ..queue import LocalRenderQueue, RenderQueue
from ..settings import Settings


def build_render_queue(settings: Settings) -> RenderQueue:
    """``REELFACTORY_RENDER_BACKEND``: local (this process, the default) or redis (workers)."""
    if settings.render_backend == "redis":
        from ..adapters.saq_render import RedisRenderQueue

        return RedisRenderQueue.from_settings(settings)
    return LocalRenderQueue(settings.render_concurrency)


__all__ = ["build_render_queue"]
