"""How a provider call is made robust: a timeout per attempt, a rate limit, and retries with
exponential backoff and jitter for what is worth retrying (timeouts, 429 honouring Retry-After,
5xx). Other failures end the provider's turn at once so the chain moves on."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from .errors import ProviderError

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RETRY_AFTER = 60.0


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (Groq, OpenAI-style APIs) or ``retry-after``."""
    lowered = {key.lower(): value for key, value in headers.items()}
    milliseconds = parse_retry_after(lowered.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    return parse_retry_after(lowered.get("retry-after"))


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


@dataclass(slots=True)
class Policy:
    """Per-provider call policy. ``rate`` is calls per ``per`` seconds."""

    provider: str
    timeout: float = 60.0
    attempts: int = 3
    rate: float = 10.0
    per: float = 1.0
    backoff_initial: float = 0.5
    backoff_max: float = 20.0
    limiter: AsyncLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = AsyncLimiter(self.rate, self.per)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), MAX_RETRY_AFTER)
        backoff = wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max)
        return float(backoff(state))

    async def call(self, fn: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        """Run ``fn`` under the policy; returns its value and the attempts it took.

        The attempts made so far are kept on a final failure as ``exc.attempts``.
        """
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
            before_sleep=self._log,
        )

        async def once() -> T:
            nonlocal attempts
            attempts += 1
            async with self.limiter:
                try:
                    async with asyncio.timeout(self.timeout):
                        return await fn()
                except TimeoutError:
                    raise ProviderError(
                        f"no answer in {self.timeout:g} s", provider=self.provider, retryable=True
                    ) from None

        try:
            value: T = await retrying(once)
        except ProviderError as exc:
            exc.attempts = attempts
            raise
        return value, attempts

    def _log(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.info(
            "%s: attempt %d failed (%s); retrying", self.provider, state.attempt_number, exc
        )
