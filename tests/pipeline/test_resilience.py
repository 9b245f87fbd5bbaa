from __future__ import annotations

import asyncio
import time

import pytest

from pipeline.chain import first_success
from pipeline.errors import ProviderError, ProviderUnavailable
from pipeline.resilience import Policy


class Flaky:
    def __init__(self, name: str, failures: list[ProviderError | None]) -> None:
        self.name = name
        self.failures = failures
        self.calls = 0
        self.policy = Policy(name, timeout=0.2, attempts=3, backoff_initial=0.01, backoff_max=0.02)

    async def __call__(self) -> str:
        self.calls += 1
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        return self.name


def err(retryable: bool, retry_after: float | None = None, status: int = 500) -> ProviderError:
    return ProviderError(
        "boom", provider="x", retryable=retryable, retry_after=retry_after, status=status
    )


async def test_retries_retryable_then_succeeds() -> None:
    flaky = Flaky("a", [err(True), err(True)])
    value, attempts = await flaky.policy.call(flaky)
    assert (value, attempts, flaky.calls) == ("a", 3, 3)


async def test_honours_retry_after() -> None:
    flaky = Flaky("a", [err(True, retry_after=0.3, status=429)])
    started = time.perf_counter()
    value, attempts = await flaky.policy.call(flaky)
    assert value == "a" and attempts == 2
    assert time.perf_counter() - started >= 0.29


async def test_does_not_retry_client_errors() -> None:
    flaky = Flaky("a", [err(False, status=400)])
    with pytest.raises(ProviderError) as caught:
        await flaky.policy.call(flaky)
    assert flaky.calls == 1 and caught.value.attempts == 1


async def test_timeout_is_retryable_and_counted() -> None:
    policy = Policy("slow", timeout=0.05, attempts=2, backoff_initial=0.01, backoff_max=0.01)
    calls = 0

    async def hang() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(10)
        return "never"

    with pytest.raises(ProviderError) as caught:
        await policy.call(hang)
    assert calls == 2 and caught.value.retryable and caught.value.attempts == 2


async def test_chain_moves_on_and_counts_attempts() -> None:
    first = Flaky("first", [err(True), err(True), err(True)])
    second = Flaky("second", [])
    served = await first_success([first, second], lambda p: p(), stage="voice")
    assert (served.value, served.provider, served.attempts) == ("second", "second", 4)


async def test_chain_exhausted_names_every_failure() -> None:
    only = Flaky("only", [err(False, status=401)])
    with pytest.raises(ProviderUnavailable) as caught:
        await first_success([only], lambda p: p(), stage="script")
    assert caught.value.stage == "script" and "boom" in str(caught.value)
