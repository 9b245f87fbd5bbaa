"""The studio's moderation: the providers' moderators, the admins' block list, a record of
every refusal (``pipeline.moderation`` has the rules)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from storage import ModerationRepository

from ..app import App
from ..moderation import Moderation


def moderation_for(app: App, clock: Callable[[], datetime]) -> Moderation:
    return Moderation(
        app.providers.moderators,
        block=app.settings.moderation_block,
        refusals=ModerationRepository(app.db),
        clock=clock,
    )


__all__ = ["moderation_for"]
