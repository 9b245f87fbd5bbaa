"""One router per feature. Each module has ``create_router()`` rather than a module-level
router: an aiogram Router can be attached to one parent only, and a process may build more
than one Dispatcher (tests, a restart in-process, several bots)."""

from __future__ import annotations

from aiogram import Router

from . import admin, drafts, dubs, errors, images, music, review, settings, start, youtube


def create_routers() -> list[Router]:
    # Review comes before drafts: its ForceReply answer is text too, matched by state.
    return [
        start.create_router(),
        settings.create_router(),
        admin.create_router(),
        review.create_router(),
        images.create_router(),
        dubs.create_router(),
        youtube.create_router(),
        music.create_router(),
        drafts.create_router(),
        errors.create_router(),
    ]
