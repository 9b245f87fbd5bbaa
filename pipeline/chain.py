"""Provider chains: try each provider in order; the first success serves the stage."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, Protocol, TypeVar

from .errors import ProviderError, ProviderUnavailable
from .resilience import Policy

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Named(Protocol):
    name: str


def policy_of(provider: object) -> Policy | None:
    """Remote adapters carry a ``policy``; offline ones (espeak, cards) are called once."""
    policy = getattr(provider, "policy", None)
    return policy if isinstance(policy, Policy) else None


P = TypeVar("P", bound=Named)


async def attempt(provider: object, fn: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """One provider's turn: under its policy when it has one, else a single call."""
    policy = policy_of(provider)
    if policy is not None:
        return await policy.call(fn)
    return await fn(), 1


@dataclass(frozen=True, slots=True)
class Served(Generic[T]):
    value: T
    provider: str
    attempts: int


async def first_success(
    providers: Sequence[P], call: Callable[[P], Awaitable[T]], *, stage: str
) -> Served[T]:
    """Run ``call`` on each provider until one succeeds, retrying under each provider's policy.
    ``attempts`` counts every try made, across providers."""
    attempts = 0
    failures: list[str] = []
    for provider in providers:
        try:
            value, tries = await attempt(provider, partial(call, provider))
            attempts += tries
        except ProviderError as exc:
            attempts += exc.attempts
            failures.append(str(exc))
            logger.warning("%s: %s failed, trying the next provider: %s", stage, provider.name, exc)
            continue
        return Served(value, provider.name, attempts)
    raise ProviderUnavailable(
        "; ".join(failures) or "no provider configured", provider="chain", stage=stage
    )
