"""The chat-agnostic job service: draft, edit, rewrite, approve, swap, render, settings, stats.

Fronts (Telegram, Discord, the scheduler) call it and present what it returns or raises."""

from storage import JobRecord

from ..errors import (
    AdminOnly,
    BadButton,
    Busy,
    DraftFailed,
    JobNotFound,
    LimitReached,
    NotOwner,
    NoWriter,
    QuotaExceeded,
    RateLimited,
    Rendering,
    StaleJob,
    StudioError,
    UnknownOption,
    WrongStep,
)
from ..resume import message_key
from ..scriptwriting import MAX_SCENES
from ..stages.script import MAX_SCENE_CHARS
from .dubbing import Dub, dub_languages
from .making import SYSTEM_OWNER, Made
from .preferences import NARRATION_LANGUAGES, UI_LANGUAGES, Preferences, voice_label
from .service import CANDIDATES, MAX_TOPIC, MIN_TOPIC, Started, Studio, Swapped
from .stats import StageFigures, Stats

__all__ = [
    "MAX_SCENES",
    "MAX_SCENE_CHARS",
    "JobRecord",
    "message_key",
    "BadButton",
    "Busy",
    "CANDIDATES",
    "MAX_TOPIC",
    "MIN_TOPIC",
    "NARRATION_LANGUAGES",
    "UI_LANGUAGES",
    "AdminOnly",
    "DraftFailed",
    "Dub",
    "dub_languages",
    "JobNotFound",
    "LimitReached",
    "Made",
    "SYSTEM_OWNER",
    "NoWriter",
    "NotOwner",
    "Preferences",
    "QuotaExceeded",
    "RateLimited",
    "Rendering",
    "StageFigures",
    "StaleJob",
    "Started",
    "Stats",
    "Studio",
    "StudioError",
    "Swapped",
    "UnknownOption",
    "WrongStep",
    "voice_label",
]
