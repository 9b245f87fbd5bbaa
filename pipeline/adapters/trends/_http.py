"""What the trend adapters share: a descriptive User-Agent, and one GET whose failures become
ProviderErrors the chain understands (429 and 5xx retryable, honouring Retry-After)."""

from __future__ import annotations

import logging
from importlib import metadata

import httpx

from ...errors import ProviderError
from ...resilience import parse_retry_after

logger = logging.getLogger(__name__)

PROJECT = "ReelFactory"
MAX_BODY_BYTES = 4 * 1024 * 1024  # the feeds are 15-200 KB; anything this big is not one


def _version() -> str:
    try:
        return metadata.version("reelfactory")
    except metadata.PackageNotFoundError:
        return "dev"


def user_agent(contact: str | None) -> str:
    """Wikimedia answers 403 to missing or generic agents (httpx's own is generic) and asks for
    a way to reach the operator: ``ReelFactory/0.1 (contact: ops@example.org) httpx/0.28.1``."""
    about = f"contact: {contact.strip()}" if contact and contact.strip() else "self-hosted bot"
    return f"{PROJECT}/{_version()} ({about}) httpx/{httpx.__version__}"


async def get(
    client: httpx.AsyncClient, url: str, *, provider: str, params: dict[str, str] | None = None
) -> bytes:
    """The body of a 200 answer, or a ProviderError: retryable for timeouts, connection
    failures, 429 and 5xx; final for other statuses and bodies too big to be a feed."""
    try:
        async with client.stream("GET", url, params=params) as response:
            status = response.status_code
            if status != 200:
                raise ProviderError(
                    f"answered {status}",
                    provider=provider,
                    retryable=status == 429 or status >= 500,
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                    status=status,
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise ProviderError(
                        f"answered more than {MAX_BODY_BYTES // 1024} KB; not a feed",
                        provider=provider,
                    )
    except httpx.TimeoutException:
        raise ProviderError("no answer in time", provider=provider, retryable=True) from None
    except httpx.HTTPError as exc:
        transient = isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
        raise ProviderError(
            f"request failed ({type(exc).__name__})", provider=provider, retryable=transient
        ) from None
    return bytes(body)
