"""The pipeline's error tree: one root, exceptions that carry data."""

from __future__ import annotations


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
