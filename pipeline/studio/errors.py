"""What the studio refuses, as ReelErrors: each has a locale ``code`` and its ``params``, so a
front explains it in the user's language without knowing the rule behind it."""

from __future__ import annotations

from ..errors import ReelError
from ..limits import LimitReached, QuotaExceeded, RateLimited


class StudioError(ReelError):
    """Root of the studio's refusals."""

    code = "error.studio"


class JobNotFound(StudioError):
    code = "error.job_missing"


class NotOwner(StudioError):
    """Someone pressed a button of another user's job. Nothing changes."""

    code = "error.not_owner"


class StaleJob(StudioError):
    """The job is finished (delivered, failed) or cancelled: its buttons do nothing."""

    code = "error.stale"


class WrongStep(StudioError):
    """The job is alive but past (or not yet at) the step this action belongs to."""

    code = "error.wrong_step"


class Rendering(WrongStep):
    """The job is queued or rendering; it can no longer be changed."""

    code = "error.rendering"


class NoWriter(StudioError):
    """No LLM is configured: the user is told about /script."""

    code = "error.no_llm"


class DraftFailed(StudioError):
    """Every script writer failed (outage, timeouts). The job is marked failed."""

    code = "error.draft_failed"


class AdminOnly(StudioError):
    code = "error.admin_only"


class UnknownOption(StudioError):
    code = "error.unknown_option"


__all__ = [
    "AdminOnly",
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
