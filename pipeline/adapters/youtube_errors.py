"""Google's JSON errors as the pipeline's: the API's shape ``{"error": {"code", "message",
"errors": [{"reason"}]}}`` and OAuth's ``{"error", "error_description"}`` both become a
``YouTubeError`` carrying Google's ``reason`` and a locale ``code``; ``YouTubeQuota`` for
``quotaExceeded``/``uploadLimitExceeded``, ``YouTubeAuth`` for a revoked or refused
authorization."""

from __future__ import annotations

from typing import Any

import httpx

from ..errors import ProviderError

PROVIDER = "youtube"
RETRYABLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})

# Google's reasons and OAuth errors -> the locale key that explains them to a user.
CODES = {
    "quotaExceeded": "youtube.quota",
    "uploadLimitExceeded": "youtube.upload_limit",
    "invalid_grant": "youtube.revoked",
    "authError": "youtube.revoked",
    "access_denied": "youtube.denied",
    "expired_token": "youtube.expired",
    "invalid_client": "youtube.not_configured",
    "unauthorized_client": "youtube.not_configured",
}
_QUOTA = frozenset({"quotaExceeded", "uploadLimitExceeded"})
_AUTH = frozenset({"invalid_grant", "authError", "access_denied", "expired_token"})


class YouTubeError(ProviderError):
    """YouTube or Google's OAuth said no. ``reason`` is Google's (``quotaExceeded``,
    ``invalid_grant``...) or ``http_<status>`` when the body named none."""

    def __init__(
        self, message: str, *, reason: str, status: int | None = None, **extra: Any
    ) -> None:
        super().__init__(message, provider=PROVIDER, status=status, **extra)
        self.reason = reason
        self.code = CODES.get(reason, "youtube.failed")


class YouTubeQuota(YouTubeError):
    """Our project's quota or the channel's daily upload cap: retry after midnight PT."""


class YouTubeAuth(YouTubeError):
    """The user's authorization is gone (revoked, expired) or was refused."""


def error_of(response: httpx.Response) -> YouTubeError:
    """Google's JSON error (API or OAuth shape) as a YouTubeError of the right kind."""
    status = response.status_code
    reason, message = f"http_{status}", response.reason_phrase or "error"
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # the API's shape
        message = str(error.get("message") or message)
        details = error.get("errors")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            reason = str(details[0].get("reason") or reason)
        elif status == 401:
            reason = "authError"
    elif isinstance(error, str):  # OAuth's shape: {"error": "...", "error_description": ...}
        reason = error
        message = str(body.get("error_description") or error)
    elif status == 401:
        reason = "authError"
    retryable = status >= 500 or status == 429 or reason in RETRYABLE_REASONS
    retry_after = _retry_after(response.headers.get("retry-after"))
    cls = YouTubeQuota if reason in _QUOTA else YouTubeAuth if reason in _AUTH else YouTubeError
    return cls(
        f"HTTP {status} {reason}: {message[:300]}",
        reason=reason,
        status=status,
        retryable=retryable,
        retry_after=retry_after,
    )


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


__all__ = ["CODES", "PROVIDER", "YouTubeAuth", "YouTubeError", "YouTubeQuota", "error_of"]
