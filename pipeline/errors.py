"""The pipeline's error tree: one root, exceptions that carry data.

Every error the pipeline raises on purpose is here, so a front catches ``ReelError`` and
explains it through its ``code`` (a locale key) and ``params``::

    ReelError
    ├── InputError                    the user's input cannot be used as given
    ├── ProviderError                 a provider failed (retryable, retry_after, status)
    │   └── ProviderUnavailable       every provider of a chain failed
    ├── RenderError, StageError, UploadError
    ├── JobBusy                       another process holds the job
    ├── NotSent, DeliveryInterrupted  delivery outcomes
    ├── LimitReached                  RateLimited, QuotaExceeded
    └── StudioError                   the studio's refusals: NotOwner, StaleJob, WrongStep...
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class ReelError(Exception):
    """Root of every error the pipeline raises on purpose.

    ``code`` names a locale key so fronts can explain the error in the user's language;
    ``params`` fill that message's placeholders.
    """

    code = "error.internal"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: dict[str, object] | None = None,
        stage: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.params = params or {}
        self.stage = stage

    def __str__(self) -> str:
        return f"{self.stage}: {self.message}" if self.stage else self.message


class InputError(ReelError):
    """The user's input cannot be used as given (empty, too long, not UTF-8...)."""

    code = "error.input"


class ProviderError(ReelError):
    """A remote or local provider failed. ``retryable`` says whether trying again may help."""

    code = "error.provider"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
        stage: str | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}", stage=stage)
        self.provider = provider
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.attempts = 1


class ProviderUnavailable(ProviderError):
    """Every provider of a chain failed or none is configured."""

    code = "error.provider_unavailable"


class RenderError(ReelError):
    """ffmpeg failed or timed out."""

    code = "error.render"


class StageError(ReelError):
    """A stage of a job failed; wraps the cause and names the stage."""

    code = "error.stage"


class UploadError(ReelError):
    """Some of a job's assets could not be uploaded; ``assets`` names them."""

    code = "error.upload"

    def __init__(self, assets: Sequence[str], cause: BaseException) -> None:
        names = ", ".join(assets)
        super().__init__(f"could not upload {names}: {cause}", params={"assets": names})
        self.assets = list(assets)


class JobBusy(ReelError):
    """Another process (or task) is producing or delivering this job right now."""

    code = "error.job_busy"


class NotSent(ReelError):
    """A deliverer's way to say the post surely did not go out (the platform answered with an
    error): the claim is released, so a later, deliberate retry may post."""

    code = "error.not_sent"


class DeliveryInterrupted(ReelError):
    """An earlier delivery to this target stopped half-way and there is no link to send
    instead; the video is not posted a second time."""

    code = "error.delivery_interrupted"


# --- limits


class LimitReached(ReelError):
    """A user reached a limit; ``params`` carry ``limit`` and ``reset`` (an aware datetime)."""

    code = "error.limit"

    def __init__(self, message: str, *, limit: int, reset: datetime) -> None:
        super().__init__(message, params={"limit": limit, "reset": reset})
        self.limit = limit
        self.reset = reset


class RateLimited(LimitReached):
    code = "error.rate_limited"


class QuotaExceeded(LimitReached):
    code = "error.quota"


# --- the studio's refusals: each has a locale code, so a front explains it in the user's
# language without knowing the rule behind it.


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


class Busy(StudioError):
    """The job is in the middle of a slow step (finding pictures, writing a new draft): a
    press on any of its buttons but Cancel waits for nothing and is refused at once."""

    code = "error.busy"


class NoWriter(StudioError):
    """No LLM is configured: the user is told how to send their own narration."""

    code = "error.no_llm"


class DraftFailed(StudioError):
    """Every script writer failed (outage, timeouts). The job is marked failed."""

    code = "error.draft_failed"


class AdminOnly(StudioError):
    code = "error.admin_only"


class UnknownOption(StudioError):
    code = "error.unknown_option"


class BadButton(StudioError):
    """Button data that names no job or action of ours: stale after an upgrade, or forged."""

    code = "error.bad_button"
