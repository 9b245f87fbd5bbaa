"""The studio's refusals; they live in the one error tree, ``pipeline.errors``."""

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

__all__ = [
    "AdminOnly",
    "BadButton",
    "Busy",
    "DraftFailed",
    "JobNotFound",
    "LimitReached",
    "NoWriter",
    "NotOwner",
    "QuotaExceeded",
    "RateLimited",
    "Rendering",
    "StaleJob",
    "StudioError",
    "UnknownOption",
    "WrongStep",
]
